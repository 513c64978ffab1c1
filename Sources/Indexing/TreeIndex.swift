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
        self.includes = files.map { f in
            f.includes.compactMap { TreeIndex.resolveInclude($0, from: f.path, byPath: byPath) }
        }
    }

    public func aggregate(_ id: AggregateID) -> AggregateDecl { files[Int(id.file)].aggregates[Int(id.index)] }
    public func function(_ id: FunctionID) -> FunctionDecl { files[Int(id.file)].functions[Int(id.index)] }
    public func path(_ file: Int32) -> String { files[Int(file)].path }

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

/// Name resolution over a `TreeIndex`, with memoised include closures. Not thread-safe:
/// each analysis owns one.
public final class Resolver {
    public let index: TreeIndex
    private var closures: [Int32: [Int32]] = [:]
    private var aggregateCache: [ResolveKey: AggregateID?] = [:]

    private struct ResolveKey: Hashable {
        var name: String
        var file: Int32
        var typedef: Bool
    }

    public init(index: TreeIndex) { self.index = index }

    /// Files reachable through includes from `file`, nearest first (excluding `file`).
    func includeClosure(_ file: Int32) -> [Int32] {
        if let c = closures[file] { return c }
        var seen: Set<Int32> = [file]
        var order: [Int32] = []
        var queue = index.includes[Int(file)]
        var head = 0
        while head < queue.count && order.count < 6000 {
            let f = queue[head]; head += 1
            if !seen.insert(f).inserted { continue }
            order.append(f)
            queue.append(contentsOf: index.includes[Int(f)])
        }
        closures[file] = order
        return order
    }

    /// Picks the definition `file` sees among `candidates` (by their file ids).
    func pick<T>(_ candidates: [T], fileOf: (T) -> Int32, from file: Int32) -> T? {
        if candidates.isEmpty { return nil }
        if let same = candidates.first(where: { fileOf($0) == file }) { return same }
        let inHeaders = candidates.filter { index.path(fileOf($0)).hasSuffix(".h") }
        if candidates.count == 1 {
            // A definition in another .c file is invisible unless that file is included.
            if inHeaders.count == 1 { return candidates[0] }
        }
        let closure = includeClosure(file)
        if !closure.isEmpty {
            let byFile = Dictionary(grouping: candidates, by: fileOf)
            for f in closure { if let hit = byFile[f]?.first { return hit } }
        }
        if inHeaders.count == 1 { return inHeaders[0] }
        // Several headers define it and none is visible: prefer the generic kernel headers.
        let generic = inHeaders.filter { index.path(fileOf($0)).hasPrefix("include/linux/") }
        if generic.count == 1 { return generic[0] }
        return nil
    }

    /// The struct/union definition a `struct NAME` use in `file` refers to.
    public func aggregate(named name: String, from file: Int32) -> AggregateID? {
        let key = ResolveKey(name: name, file: file, typedef: false)
        if let c = aggregateCache[key] { return c }
        let r = pick(index.aggregatesByName[name] ?? [], fileOf: { $0.file }, from: file)
        aggregateCache[key] = r
        return r
    }

    /// Follows typedefs to the type they name; returns the type and the file it is spelled in.
    public func expandTypedef(_ type: TypeRef, from file: Int32) -> (TypeRef, Int32) {
        var t = type
        var f = file
        var hops = 0
        while t.kind == .named, hops < 12, let id = pick(index.typedefsByName[t.name] ?? [], fileOf: { $0.file }, from: f) {
            let td = index.files[Int(id.file)].typedefs[Int(id.index)]
            var next = td.type
            next.pointerDepth &+= t.pointerDepth
            next.isArray = next.isArray || t.isArray
            next.isFunctionPointer = next.isFunctionPointer || t.isFunctionPointer
            if next.name == t.name && next.kind == t.kind { break }
            t = next
            f = id.file
            hops += 1
        }
        return (t, f)
    }

    /// The aggregate a type names (through typedefs), ignoring pointer depth.
    public func aggregate(of type: TypeRef, from file: Int32) -> AggregateID? {
        let (t, f) = expandTypedef(type, from: file)
        guard t.isAggregateTag, !t.name.isEmpty else { return nil }
        return aggregate(named: t.name, from: f)
    }

    /// The function a call to `name` from `file` reaches: a static one in the same file or
    /// an included header first, else the global definition nearest in the tree.
    public func function(named name: String, from file: Int32) -> FunctionID? {
        guard let cands = index.functionsByName[name], !cands.isEmpty else { return nil }
        if cands.count == 1 {
            let c = cands[0]
            let f = index.function(c)
            if !f.isStatic || c.file == file || index.path(c.file).hasSuffix(".h") { return c }
            return nil
        }
        if let same = cands.first(where: { $0.file == file }) { return same }
        let globals = cands.filter { !index.function($0).isStatic }
        let headerStatics = cands.filter { index.function($0).isStatic && index.path($0.file).hasSuffix(".h") }
        if !headerStatics.isEmpty, let hit = pick(headerStatics, fileOf: { $0.file }, from: file),
           includeClosure(file).contains(hit.file) { return hit }
        if globals.count == 1 { return globals[0] }
        if globals.isEmpty { return headerStatics.first }
        // Nearest by path: longest common directory prefix.
        let me = index.path(file).split(separator: "/")
        var best = globals[0], bestScore = -1
        for g in globals {
            let other = index.path(g.file).split(separator: "/")
            var k = 0
            while k < me.count && k < other.count && me[k] == other[k] { k += 1 }
            if k > bestScore { best = g; bestScore = k }
        }
        return best
    }

    /// A file-scope variable visible from `file`.
    public func global(named name: String, from file: Int32) -> GlobalDecl? {
        guard let id = pick(index.globalsByName[name] ?? [], fileOf: { $0.file }, from: file) else { return nil }
        return index.files[Int(id.file)].globals[Int(id.index)]
    }

    /// A single-call function-like macro visible from `file`.
    public func macro(named name: String, from file: Int32) -> MacroDecl? {
        guard let id = macroEntry(named: name, from: file) else { return nil }
        return index.files[Int(id.file)].macros[Int(id.index)]
    }

    public func macroFile(named name: String, from file: Int32) -> Int32? {
        macroEntry(named: name, from: file)?.file
    }

    private func macroEntry(named name: String, from file: Int32) -> EntryID? {
        guard let cands = index.macrosByName[name] else { return nil }
        if cands.count == 1 { return cands[0] }
        return pick(cands, fileOf: { $0.file }, from: file) ?? cands.first
    }

    /// A field by name in an aggregate, looking through anonymous members; returns its type
    /// and the file the type is spelled in.
    public func field(named name: String, in agg: AggregateID, depth: Int = 0) -> (TypeRef, Int32)? {
        guard depth < 8 else { return nil }
        let a = index.aggregate(agg)
        if let f = a.fields.first(where: { $0.name == name }) { return (f.type, agg.file) }
        for f in a.fields where f.name.isEmpty && f.type.isAggregateTag {
            if let inner = aggregate(of: f.type, from: agg.file), let hit = field(named: name, in: inner, depth: depth + 1) { return hit }
        }
        return nil
    }

    /// A file-scope variable with the file it is defined in.
    public func globalEntry(named name: String, from file: Int32) -> (GlobalDecl, Int32)? {
        guard let id = pick(index.globalsByName[name] ?? [], fileOf: { $0.file }, from: file) else { return nil }
        return (index.files[Int(id.file)].globals[Int(id.index)], id.file)
    }
}
