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
    public let aggregatesByName: NameMap<AggregateID>
    let typedefsByName: NameMap<EntryID>
    /// The typedef names some chain of whose definitions (any file's) ends in a struct or
    /// union tag: no other typedef name can name an aggregate, whichever definitions a file
    /// sees (`Resolver.aggregate(of:from:)` answers the others without a look-up).
    let typedefsNamingAggregates: Set<String>
    public let functionsByName: NameMap<FunctionID>
    let globalsByName: NameMap<EntryID>
    let macrosByName: NameMap<EntryID>
    /// Resolved `#include`s of each file, flat (what include closures walk).
    let includeGraph: IncludeGraph
    public let exported: Set<String>
    /// Macros (anywhere in the tree) whose body sets `suppress_bind_attrs`.
    public let suppressBindMacros: Set<String>
    /// Whether each file is a header (`.h`), and a generic kernel header (`include/linux/`).
    let isHeader: [Bool]
    let isGenericHeader: [Bool]
    /// Workers for the maps built on first use.
    let jobs: Int
    let callersCell = OnceCell<CallersIndex>()
    /// Callee name → its callers, built on first use.
    var callersIndex: CallersIndex { callersCell.get { CallersIndex(files: files, jobs: jobs) } }
    /// Which struct or typedef definition a file sees for a name, shared by every resolver.
    let sharedAggregates = Memo<ResolveKey, AggregateID?>()
    let sharedTypedefs = Memo<ResolveKey, EntryID?>()
    /// Functions picked among several definitions of a name (`Resolver.function`).
    let sharedFunctions = Memo<ResolveKey, FunctionID?>()
    let memberAssignmentCell = OnceCell<MemberAssignmentIndex>()
    /// Member name → the assignments to it, built on first use.
    var memberAssignmentIndex: MemberAssignmentIndex { memberAssignmentCell.get { MemberAssignmentIndex(files: files, jobs: jobs) } }
    /// Files by directory (the path up to its last `/`), in index order.
    public let filesByDirectory: [Substring: [Int32]]
    let holdersCell = OnceCell<[String: [AggregateID]]>()
    private let answerTables = SharedAnswerTables()
    /// The run's table of per-function answers of type `Value`, shared by every worker.
    public func sharedAnswers<Value: Sendable>(_ type: Value.Type) -> SharedFunctionAnswers<Value> { answerTables.table(of: type) }

    /// One part of the index, built by one worker of `init`.
    private enum Part: Sendable {
        case functions(NameMap<FunctionID>)
        case aggregates(NameMap<AggregateID>)
        case entries(NameMap<EntryID>, NameMap<EntryID>, NameMap<EntryID>, Set<String>)
        case includes([[Int32]])
        case names(Set<String>, Set<String>, [Substring: [Int32]])
    }

    /// Builds the maps of the whole tree, its parts side by side with `jobs` threads.
    public init(root: String, files: [FileFacts], jobs: Int = 1) {
        self.root = root
        self.files = files
        self.jobs = max(1, jobs)
        var byPath: [String: Int32] = [:]
        byPath.reserveCapacity(files.count)
        for fi in files.indices { byPath[files[fi].path] = Int32(fi) }
        let paths = byPath
        let parts = parallelMap(count: 5, jobs: jobs, makeState: { () }) { k, _ -> Part in
            switch k {
            case 0:
                return .functions(NameMap(files: files.count, { files[$0].functions.count }, { files[$0].functions[$1].name }, { FunctionID(file: $0, index: $1) }))
            case 1:
                return .includes(TreeIndex.resolveIncludes(of: files, byPath: paths))
            case 2:
                return .entries(NameMap(files: files.count, { files[$0].macros.count }, { files[$0].macros[$1].name }, { EntryID(file: $0, index: $1) }),
                                NameMap(files: files.count, { files[$0].typedefs.count }, { files[$0].typedefs[$1].name }, { EntryID(file: $0, index: $1) }),
                                NameMap(files: files.count, { files[$0].globals.count }, { files[$0].globals[$1].name }, { EntryID(file: $0, index: $1) }),
                                TreeIndex.typedefsNamingAggregates(files))
            case 3:
                return .aggregates(NameMap(files: files.count, { files[$0].aggregates.count }, { files[$0].aggregates[$1].name }, { AggregateID(file: $0, index: $1) }))
            default:
                var exported = Set<String>()
                for fi in files.indices { exported.formUnion(files[fi].exports) }
                var byDirectory: [Substring: [Int32]] = [:]
                var suppress = Set<String>()
                for fi in files.indices {
                    byDirectory[TreeIndex.directory(of: files[fi].path), default: []].append(Int32(fi))
                    suppress.formUnion(files[fi].suppressBindMacros)
                }
                return .names(exported, suppress, byDirectory)
            }
        }
        var functions: NameMap<FunctionID>?, aggregates: NameMap<AggregateID>?
        var macros: NameMap<EntryID>?, typedefs: NameMap<EntryID>?, globals: NameMap<EntryID>?, namingAggregates = Set<String>()
        var includes: [[Int32]] = [], exported = Set<String>(), suppress = Set<String>(), byDirectory: [Substring: [Int32]] = [:]
        for part in parts {
            switch part {
            case .functions(let m): functions = m
            case .aggregates(let m): aggregates = m
            case .entries(let m, let t, let g, let a): (macros, typedefs, globals, namingAggregates) = (m, t, g, a)
            case .includes(let i): includes = i
            case .names(let e, let s, let d): (exported, suppress, byDirectory) = (e, s, d)
            }
        }
        self.fileByPath = byPath
        // parallelMap returns every part.
        self.aggregatesByName = aggregates!
        self.typedefsByName = typedefs!
        self.typedefsNamingAggregates = namingAggregates
        self.functionsByName = functions!
        self.globalsByName = globals!
        self.macrosByName = macros!
        self.exported = exported
        self.suppressBindMacros = suppress
        self.filesByDirectory = byDirectory
        // By index: a closure taking a `FileFacts` would copy it (every array retained).
        self.isHeader = files.indices.map { files[$0].path.hasSuffix(".h") }
        self.isGenericHeader = files.indices.map { files[$0].path.hasSuffix(".h") && files[$0].path.hasPrefix("include/linux/") }
        self.includeGraph = IncludeGraph(includes)
    }

    /// The names in `typedefsNamingAggregates`: those defined as a struct or union tag, then
    /// those defined as a name already found, back along the definitions.
    static func typedefsNamingAggregates(_ files: [FileFacts]) -> Set<String> {
        var found = Set<String>()
        // Target name → the typedef names some definition of which names it.
        var namedAs: [String: [String]] = [:]
        for fi in files.indices {
            let typedefs = files[fi].typedefs
            for k in typedefs.indices {
                if typedefs[k].type.isAggregateTag {
                    found.insert(typedefs[k].name)
                } else if typedefs[k].type.kind == .named {
                    namedAs[typedefs[k].type.name, default: []].append(typedefs[k].name)
                }
            }
        }
        var work = Array(found)
        while let target = work.popLast() {
            for name in namedAs[target] ?? [] where found.insert(name).inserted { work.append(name) }
        }
        return found
    }

    public func aggregate(_ id: AggregateID) -> AggregateDecl { files[Int(id.file)].aggregates[Int(id.index)] }
    public func function(_ id: FunctionID) -> FunctionDecl { files[Int(id.file)].functions[Int(id.index)] }
    /// Every definition of macro `name` in the tree, whichever file sees it.
    public func macros(named name: String) -> [MacroDecl] {
        (macrosByName[name] ?? []).map { files[Int($0.file)].macros[Int($0.index)] }
    }
    public func path(_ file: Int32) -> String { files[Int(file)].path }

    /// The structs (not unions) with a member of type `struct name` held by value, in
    /// index order (built for the whole tree on first use). Only the spelling is matched:
    /// which definition of `name` a member means is the resolver's to tell.
    public func structs(holding name: String) -> [AggregateID] {
        holdersCell.get {
            var out: [String: [AggregateID]] = [:]
            for (fi, facts) in files.enumerated() {
                for (k, a) in facts.aggregates.enumerated() where !a.isUnion {
                    let id = AggregateID(file: Int32(fi), index: Int32(k))
                    // Listed once per struct: a second member of the type finds it last.
                    for field in a.fields where field.type.isEmbedded && field.type.isAggregateTag && out[field.type.name]?.last != id {
                        out[field.type.name, default: []].append(id)
                    }
                }
            }
            return out
        }[name] ?? []
    }
    /// The resolved `#include`s of `file` (file indices, in order of appearance).
    public func includes(of file: Int32) -> ArraySlice<Int32> { includeGraph.targets(of: Int(file)) }
    /// The names of the tree's function-like macros.
    public var macroNames: [String] { Array(macrosByName.names) }

    /// The directory part of a tree-relative path (empty at the top).
    public static func directory(of path: String) -> Substring {
        path.lastIndex(of: "/").map { path[..<$0] } ?? ""
    }

    // MARK: - Includes

    static func normalizePath(_ p: String) -> String {
        if isNormalPath(p) { return p }
        var out: [Substring] = []
        for comp in p.split(separator: "/") {
            if comp == "." { continue }
            if comp == ".." { if !out.isEmpty { out.removeLast() }; continue }
            out.append(comp)
        }
        return out.joined(separator: "/")
    }

    /// Whether `normalizePath` would return `p` unchanged: no empty, `.` or `..` component.
    static func isNormalPath(_ p: String) -> Bool {
        // `run`: bytes of the current component; `dots`: how many of them are leading dots
        // (counted up to two, so `run == dots` means `.` or `..`).
        var run = 0, dots = 0
        for c in p.utf8 {
            if c == 47 { // "/"
                if run == 0 || run == dots { return false }
                run = 0; dots = 0
                continue
            }
            run += 1
            if c == 46 && dots == run - 1 && run <= 2 { dots += 1 }
        }
        return run > 0 && run != dots
    }

    /// The resolved includes of every file. The answer depends only on the including
    /// file's directory (for `"quoted"` includes), its architecture and whether it is under
    /// `tools/`, so it is computed once per distinct combination: each combination is
    /// numbered once per file, and the answers are remembered by that number and the path.
    static func resolveIncludes(of files: [FileFacts], byPath: [String: Int32]) -> [[Int32]] {
        struct Context: Hashable { var dir: String; var arch: String; var tools: Bool }
        struct Key: Hashable { var context: Int32; var path: String }
        var contexts: [Context: Int32] = [:]
        func number(_ c: Context) -> Int32 {
            if let k = contexts[c] { return k }
            let k = Int32(contexts.count)
            contexts[c] = k
            return k
        }
        var memo: [Key: Int32?] = [:]
        return files.indices.map { fi in
            let (dir, arch, tools) = includeContext(of: files[fi].path)
            // A system include does not depend on the directory.
            let quoted = number(Context(dir: dir, arch: arch, tools: tools))
            let system = number(Context(dir: "\u{0}system", arch: arch, tools: tools))
            return files[fi].includes.compactMap { inc in
                let key = Key(context: inc.isSystem ? system : quoted, path: inc.path)
                if let hit = memo[key] { return hit }
                let r = resolveInclude(inc, dir: dir, arch: arch, tools: tools, byPath: byPath)
                memo[key] = r
                return r
            }
        }
    }

    /// What an include's resolution depends on besides its path: the including file's
    /// directory, its architecture (`arch/NAME/…`, else x86) and whether it is under `tools/`.
    static func includeContext(of file: String) -> (dir: String, arch: String, tools: Bool) {
        guard isNormalPath(file) else {
            let parts = file.split(separator: "/")
            return (parts.dropLast().joined(separator: "/"), parts.count > 2 && parts[0] == "arch" ? String(parts[1]) : "x86",
                    parts.first == "tools")
        }
        // No empty, . or .. component: the same answers from the positions of the slashes.
        let dir = String(directory(of: file))
        var arch = "x86"
        if file.hasPrefix("arch/") {
            let rest = file.utf8.dropFirst(5)
            // A third component (the path is normal: something follows the slash).
            if let slash = rest.firstIndex(of: 47) { arch = String(Substring(rest[..<slash])) }
        }
        return (dir, arch, file == "tools" || file.hasPrefix("tools/"))
    }

    /// Resolves an include against the tree the way the kernel's build passes `-I`.
    static func resolveInclude(_ inc: IncludeDirective, dir: String, arch: String, tools: Bool, byPath: [String: Int32]) -> Int32? {
        var candidates: [String] = []
        if !inc.isSystem { candidates.append(dir.isEmpty ? inc.path : dir + "/" + inc.path) }
        if tools { candidates.append("tools/include/" + inc.path); candidates.append("tools/include/uapi/" + inc.path) }
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

/// Each file's includes in one array: those of file `f` are `targets[offsets[f]..<offsets[f + 1]]`.
struct IncludeGraph: Sendable {
    let offsets: [Int32]
    let targets: [Int32]
    var fileCount: Int { offsets.count - 1 }

    func targets(of file: Int) -> ArraySlice<Int32> { targets[Int(offsets[file])..<Int(offsets[file + 1])] }

    init(_ includes: [[Int32]]) {
        var offsets: [Int32] = [0]
        offsets.reserveCapacity(includes.count + 1)
        var targets: [Int32] = []
        for list in includes {
            targets.append(contentsOf: list)
            offsets.append(Int32(targets.count))
        }
        self.offsets = offsets
        self.targets = targets
    }
}
