import Facts
import CFrontend

/// Identifies a struct/union definition: file index and aggregate index in that file.
public struct AggregateID: Sendable, Hashable, Comparable {
    public var file: Int32
    public var index: Int32
    public static func < (a: AggregateID, b: AggregateID) -> Bool { (a.file, a.index) < (b.file, b.index) }
    public init(file: Int32, index: Int32) {
        self.file = file; self.index = index
    }
}

/// Identifies a function definition.
public struct FunctionID: Sendable, Hashable, Comparable {
    public var file: Int32
    public var index: Int32
    public static func < (a: FunctionID, b: FunctionID) -> Bool { (a.file, a.index) < (b.file, b.index) }
    public init(file: Int32, index: Int32) {
        self.file = file; self.index = index
    }
}

/// Identifies an entry of a file's table (typedef or global).
struct EntryID: Sendable, Hashable {
    public var file: Int32
    public var index: Int32
}

/// The whole tree merged: definitions by name, resolved includes, and name resolution that
/// prefers what a file actually sees (itself, then the headers it includes).
public final class TreeIndex: Sendable {
    public let root: String
    public let files: [FileFacts]
    public let fileByPath: [String: Int32]
    public let aggregatesByName: [String: [AggregateID]]
    let typedefsByName: [String: [EntryID]]
    public let functionsByName: [String: [FunctionID]]
    let globalsByName: [String: [EntryID]]
    let macrosByName: [String: [EntryID]]
    /// Resolved `#include`s of each file (file indices, in order of appearance).
    public let includes: [[Int32]]
    public let exported: Set<String>
    /// Macros (anywhere in the tree) whose body sets `suppress_bind_attrs`.
    public let suppressBindMacros: Set<String>
    /// Whether each file is a header (`.h`), and a generic kernel header (`include/linux/`).
    let isHeader: [Bool]
    let isGenericHeader: [Bool]
    /// Files by directory (the path up to its last `/`), in index order.
    public let filesByDirectory: [Substring: [Int32]]

    public init(root: String, files: [FileFacts]) {
        self.root = root
        self.files = files
        var byPath: [String: Int32] = [:]
        var aggs: [String: [AggregateID]] = [:]
        var tds: [String: [EntryID]] = [:]
        var fns: [String: [FunctionID]] = [:]
        var globs: [String: [EntryID]] = [:]
        var macros: [String: [EntryID]] = [:]
        var exported = Set<String>()
        for (fi, f) in files.enumerated() {
            let fid = Int32(fi)
            byPath[f.path] = fid
            for (ai, a) in f.aggregates.enumerated() { aggs[a.name, default: []].append(AggregateID(file: fid, index: Int32(ai))) }
            for (ti, t) in f.typedefs.enumerated() { tds[t.name, default: []].append(EntryID(file: fid, index: Int32(ti))) }
            for (ni, fn) in f.functions.enumerated() { fns[fn.name, default: []].append(FunctionID(file: fid, index: Int32(ni))) }
            for (gi, g) in f.globals.enumerated() { globs[g.name, default: []].append(EntryID(file: fid, index: Int32(gi))) }
            for (mi, m) in f.macros.enumerated() { macros[m.name, default: []].append(EntryID(file: fid, index: Int32(mi))) }
            exported.formUnion(f.exports)
        }
        self.fileByPath = byPath
        self.aggregatesByName = aggs
        self.typedefsByName = tds
        self.functionsByName = fns
        self.globalsByName = globs
        self.macrosByName = macros
        self.exported = exported
        self.suppressBindMacros = Set(files.flatMap(\.suppressBindMacros))
        var byDirectory: [Substring: [Int32]] = [:]
        for (fi, f) in files.enumerated() { byDirectory[TreeIndex.directory(of: f.path), default: []].append(Int32(fi)) }
        self.filesByDirectory = byDirectory
        self.isHeader = files.map { $0.path.hasSuffix(".h") }
        self.isGenericHeader = files.map { $0.path.hasSuffix(".h") && $0.path.hasPrefix("include/linux/") }
        self.includes = TreeIndex.resolveIncludes(of: files, byPath: byPath)
    }

    public func aggregate(_ id: AggregateID) -> AggregateDecl { files[Int(id.file)].aggregates[Int(id.index)] }
    public func function(_ id: FunctionID) -> FunctionDecl { files[Int(id.file)].functions[Int(id.index)] }
    public func path(_ file: Int32) -> String { files[Int(file)].path }

    /// The directory part of a tree-relative path (empty at the top).
    public static func directory(of path: String) -> Substring {
        path.lastIndex(of: "/").map { path[..<$0] } ?? ""
    }

    // MARK: - Includes

    static func normalizePath(_ p: String) -> String {
        var out: [Substring] = []
        for comp in p.split(separator: "/") {
            if comp == "." { continue }
            if comp == ".." { if !out.isEmpty { out.removeLast() }; continue }
            out.append(comp)
        }
        return out.joined(separator: "/")
    }

    /// The resolved includes of every file. The answer depends only on the including
    /// file's directory (for `"quoted"` includes), its architecture and whether it is under
    /// `tools/`, so it is computed once per distinct combination.
    static func resolveIncludes(of files: [FileFacts], byPath: [String: Int32]) -> [[Int32]] {
        struct Key: Hashable { var dir: String; var arch: String; var tools: Bool; var path: String; var system: Bool }
        var memo: [Key: Int32?] = [:]
        return files.map { f in
            let parts = f.path.split(separator: "/")
            let dir = parts.dropLast().joined(separator: "/")
            let arch = parts.count > 2 && parts[0] == "arch" ? String(parts[1]) : "x86"
            let tools = parts.first == "tools"
            return f.includes.compactMap { inc in
                let key = Key(dir: inc.isSystem ? "" : dir, arch: arch, tools: tools, path: inc.path, system: inc.isSystem)
                if let hit = memo[key] { return hit }
                let r = resolveInclude(inc, from: f.path, byPath: byPath)
                memo[key] = r
                return r
            }
        }
    }

    /// Resolves an include against the tree the way the kernel's build passes `-I`.
    static func resolveInclude(_ inc: IncludeDirective, from file: String, byPath: [String: Int32]) -> Int32? {
        let dir = file.split(separator: "/").dropLast().joined(separator: "/")
        var arch = "x86"
        let parts = file.split(separator: "/")
        if parts.count > 2 && parts[0] == "arch" { arch = String(parts[1]) }
        var candidates: [String] = []
        if !inc.isSystem { candidates.append(dir.isEmpty ? inc.path : dir + "/" + inc.path) }
        if parts.first == "tools" { candidates.append("tools/include/" + inc.path); candidates.append("tools/include/uapi/" + inc.path) }
        candidates.append("include/" + inc.path)
        candidates.append("include/uapi/" + inc.path)
        candidates.append("arch/\(arch)/include/" + inc.path)
        candidates.append("arch/\(arch)/include/uapi/" + inc.path)
        if inc.path.hasPrefix("asm/") {
            candidates.append("include/asm-generic/" + inc.path.dropFirst(4))
            candidates.append("include/uapi/asm-generic/" + inc.path.dropFirst(4))
        }
        candidates.append(inc.path)
        for c in candidates {
            if let id = byPath[normalizePath(c)] { return id }
        }
        return nil
    }
}
