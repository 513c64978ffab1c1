import Facts

/// What a call of a function-like macro stands for: the name its body calls and, for each
/// argument of that call, which argument of the macro call it is (-1 when none).
public struct MacroExpansion: Sendable {
    public let callee: String
    public let argumentOf: [Int32]

    /// The expanded call's arguments, given the macro call's.
    public func arguments(_ args: [Int32]) -> [Int32] {
        argumentOf.map { $0 >= 0 && Int($0) < args.count ? args[Int($0)] : -1 }
    }
}

/// A name asked from a file.
struct ResolveKey: Hashable, Sendable {
    var name: String
    var file: Int32
}

/// Name resolution over a `TreeIndex`: which definition of a name a file sees (itself,
/// then the headers it includes, nearest first). Not thread-safe: each analysis worker
/// owns one.
///
/// Lookups are memoised. Analyses walk the tree file by file, so the answers for the file
/// being read are kept until another file is asked about; struct and typedef answers, which
/// are asked from headers again and again, are kept for the whole run.
public final class Resolver {
    public let index: TreeIndex

    private var aggregateCache: [ResolveKey: AggregateID?] = [:]
    private var typedefCache: [ResolveKey: EntryID?] = [:]

    /// The file whose answers `functionCache`, `macroCache` and `globalCache` hold.
    private var cachedFile: Int32 = -1
    private var functionCache: [String: FunctionID?] = [:]
    private var macroCache: [String: EntryID?] = [:]
    private var globalCache: [String: EntryID?] = [:]
    private var expansionCache: [String: MacroExpansion?] = [:]
    /// Expansions that no file can see differently (one definition at every level), kept
    /// for the whole run.
    private var uniqueExpansions: [String: MacroExpansion?] = [:]

    /// Include closures of the last few files asked about (analyses go back and forth
    /// between a driver and the headers it uses), each with every file's position in it.
    private var slots: [ClosureSlot] = []
    private var nextSlot = 0
    static let closureSlots = 4

    /// Files an include closure visits at most.
    static let closureLimit = 6000

    /// What each function returns when it returns a path inside one of its parameters
    /// (parameter, member path), worked out by the analyses (`FunctionView.returnedPath`)
    /// and kept by this worker for the run.
    public let returnedPaths = FunctionMemo<(param: Int, fields: [String])>()

    public init(index: TreeIndex) {
        self.index = index
    }

    /// Files reachable through includes from `file`, nearest first (excluding `file`).
    func includeClosure(_ file: Int32) -> [Int32] {
        slots[slot(for: file)].closure(graph: index.includeGraph)
    }

    /// The position of `other` in `file`'s include closure, or nil when `file` does not see it.
    private func closureRank(of other: Int32, from file: Int32) -> Int32? {
        slots[slot(for: file)].rank(of: other, graph: index.includeGraph)
    }

    private func slot(for file: Int32) -> Int {
        if let k = slots.firstIndex(where: { $0.file == file }) { return k }
        if slots.count < Resolver.closureSlots {
            slots.append(ClosureSlot(fileCount: index.files.count))
            slots[slots.count - 1].start(file, graph: index.includeGraph, limit: Resolver.closureLimit)
            return slots.count - 1
        }
        let k = nextSlot
        nextSlot = (nextSlot + 1) % Resolver.closureSlots
        slots[k].start(file, graph: index.includeGraph, limit: Resolver.closureLimit)
        return k
    }

    /// Starts answering for `file`: the per-file caches hold only one file's answers.
    private func switchFile(_ file: Int32) {
        if cachedFile == file { return }
        cachedFile = file
        if !functionCache.isEmpty { functionCache.removeAll(keepingCapacity: true) }
        if !macroCache.isEmpty { macroCache.removeAll(keepingCapacity: true) }
        if !globalCache.isEmpty { globalCache.removeAll(keepingCapacity: true) }
        if !expansionCache.isEmpty { expansionCache.removeAll(keepingCapacity: true) }
    }

    /// Picks the definition `file` sees among `candidates` (by their file ids).
    func pick<C: Collection>(_ candidates: C, fileOf: (C.Element) -> Int32, from file: Int32) -> C.Element? {
        typealias T = C.Element
        if candidates.isEmpty { return nil }
        if let same = candidates.first(where: { fileOf($0) == file }) { return same }
        var headers = 0
        var lastHeader: T?
        for c in candidates where index.isHeader[Int(fileOf(c))] {
            headers += 1
            if lastHeader == nil { lastHeader = c }
        }
        // A definition in another .c file is invisible unless that file is included.
        if candidates.count == 1 && headers == 1 { return candidates.first }
        // The candidate in the nearest included file (the first listed among equals).
        let k = slot(for: file)
        if let nearest = slots[k].nearest(candidates.map(fileOf), graph: index.includeGraph),
           let best = candidates.first(where: { slots[k].knownRank(of: fileOf($0)) == nearest }) {
            return best
        }
        if headers == 1 { return lastHeader }
        // Several headers define it and none is visible: prefer the generic kernel headers.
        var generic: T?
        var genericCount = 0
        for c in candidates where index.isGenericHeader[Int(fileOf(c))] {
            genericCount += 1
            if generic == nil { generic = c }
        }
        return genericCount == 1 ? generic : nil
    }

    /// The struct/union definition a `struct NAME` use in `file` refers to.
    public func aggregate(named name: String, from file: Int32) -> AggregateID? {
        picked(name, from: file, among: index.aggregatesByName, fileOf: { $0.file }, cache: &aggregateCache, shared: index.sharedAggregates)
    }

    private func typedefEntry(named name: String, from file: Int32) -> EntryID? {
        picked(name, from: file, among: index.typedefsByName, fileOf: { $0.file }, cache: &typedefCache, shared: index.sharedTypedefs)
    }

    /// `pick` among the definitions of `name`, remembered for the whole run by (name, file):
    /// by this resolver, and for every resolver of the tree in `shared` (a pick may need an
    /// include closure, which each worker of each pass would otherwise compute again).
    private func picked<ID: Sendable>(_ name: String, from file: Int32, among byName: NameMap<ID>, fileOf: (ID) -> Int32,
                                      cache: inout [ResolveKey: ID?], shared: Memo<ResolveKey, ID?>) -> ID? {
        let key = ResolveKey(name: name, file: file)
        if let c = cache[key] { return c }
        let r = shared.get(key) { _ in pick(byName[name] ?? [], fileOf: fileOf, from: file) }
        cache[key] = r
        return r
    }

    /// Follows typedefs to the type they name; returns the type and the file it is spelled in.
    public func expandTypedef(_ type: TypeRef, from file: Int32) -> (TypeRef, Int32) {
        var t = type
        var f = file
        var hops = 0
        while t.kind == .named, hops < 12, let id = typedefEntry(named: t.name, from: f) {
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
        // Only a struct or union tag, or a typedef name that can expand to one, names an
        // aggregate (`expandTypedef` follows nothing else): most members and locals are
        // scalars (`u32`, `size_t`), answered here without a look-up per file.
        switch type.kind {
        case .structType, .unionType: break
        case .named: guard index.typedefsNamingAggregates.contains(type.name) else { return nil }
        case .enumType, .builtin, .unknown: return nil
        }
        let (t, f) = expandTypedef(type, from: file)
        guard t.isAggregateTag, !t.name.isEmpty else { return nil }
        return aggregate(named: t.name, from: f)
    }

    /// The function a call to `name` from `file` reaches: a static one in the same file or
    /// an included header first, else the global definition nearest in the tree.
    public func function(named name: String, from file: Int32) -> FunctionID? {
        switchFile(file)
        if let c = functionCache[name] { return c }
        let r = lookUpFunction(named: name, from: file)
        functionCache[name] = r
        return r
    }

    /// The functions whose calls of `id`'s name reach `id` (a same-named static function
    /// elsewhere is another one), `id` itself aside.
    public func callers(of id: FunctionID) -> [FunctionID] {
        let name = index.function(id).name
        return index.callers(of: name).filter { $0 != id && function(named: name, from: $0.file) == id }
    }

    private func lookUpFunction(named name: String, from file: Int32) -> FunctionID? {
        guard let cands = index.functionsByName[name], !cands.isEmpty else { return nil }
        if cands.count == 1 {
            let c = cands[cands.startIndex]
            if !index.files[Int(c.file)].functions[Int(c.index)].isStatic || c.file == file || index.isHeader[Int(c.file)] { return c }
            return nil
        }
        if let same = cands.first(where: { $0.file == file }) { return same }
        // The pick may walk the file's include closure: remembered for every resolver.
        return index.sharedFunctions.get(ResolveKey(name: name, file: file)) { _ in pickFunction(among: cands, from: file) }
    }

    /// The definition `file` reaches among several of a name, none of them in `file`.
    private func pickFunction(among cands: ArraySlice<FunctionID>, from file: Int32) -> FunctionID? {
        let isStatic = { (c: FunctionID) in self.index.files[Int(c.file)].functions[Int(c.index)].isStatic }
        let globals = cands.filter { !isStatic($0) }
        let headerStatics = cands.filter { isStatic($0) && index.isHeader[Int($0.file)] }
        if !headerStatics.isEmpty, let hit = pick(headerStatics, fileOf: { $0.file }, from: file),
           closureRank(of: hit.file, from: file) != nil { return hit }
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

    private func globalID(named name: String, from file: Int32) -> EntryID? {
        switchFile(file)
        if let c = globalCache[name] { return c }
        let candidates = index.globalsByName[name] ?? []
        var r = pick(candidates, fileOf: { $0.file }, from: file)
        // A header's declaration without initializer (`extern const struct class c;`)
        // stands for the one definition with an initializer that a .c file exports.
        if let d = r, index.isHeader[Int(d.file)], index.files[Int(d.file)].globals[Int(d.index)].designated.isEmpty {
            let definitions = candidates.filter {
                let g = index.files[Int($0.file)].globals[Int($0.index)]
                return !index.isHeader[Int($0.file)] && !g.isStatic && !g.designated.isEmpty
            }
            if definitions.count == 1 { r = definitions[0] }
        }
        globalCache[name] = r
        return r
    }

    /// A file-scope variable visible from `file`.
    public func global(named name: String, from file: Int32) -> GlobalDecl? {
        guard let id = globalID(named: name, from: file) else { return nil }
        return index.files[Int(id.file)].globals[Int(id.index)]
    }

    /// A file-scope variable with the file it is defined in.
    public func globalEntry(named name: String, from file: Int32) -> (GlobalDecl, Int32)? {
        guard let id = globalID(named: name, from: file) else { return nil }
        return (index.files[Int(id.file)].globals[Int(id.index)], id.file)
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
        if cands.count == 1 { return cands.first }
        switchFile(file)
        if let c = macroCache[name] { return c }
        let r = pick(cands, fileOf: { $0.file }, from: file) ?? cands.first
        macroCache[name] = r
        return r
    }

    /// The call that a call of the function-like macro `name` in `file` stands for,
    /// through up to three macro levels (each resolved from `file`), stopping at a name the
    /// tree defines as a function; nil when `name` is no single-call macro. Worked out once
    /// per name: for the whole run when every level has one definition (no file can see
    /// another), else while the file is being read (a driver calls `dev_err()` many times).
    public func macroExpansion(of asked: String, from file: Int32) -> MacroExpansion? {
        if let known = uniqueExpansions[asked] { return known }
        switchFile(file)
        if let known = expansionCache[asked] { return known }
        var name = asked
        var argumentOf: [Int32]? = nil
        var unique = true
        for _ in 0..<3 {
            if (index.macrosByName[name]?.count ?? 0) > 1 { unique = false }
            guard let m = macro(named: name, from: file), let called = m.calledName else { break }
            let body = m.exprs
            argumentOf = body.list(of: body[m.root]).map { a in
                let n = body[body.strippingCasts(a)]
                guard n.kind == .identifier, let k = m.params.firstIndex(of: body.text(n)) else { return -1 }
                guard let outer = argumentOf else { return Int32(k) }
                return k < outer.count ? outer[k] : -1
            }
            name = called
            if index.functionsByName[name] != nil { break }
        }
        let r = argumentOf.map { MacroExpansion(callee: name, argumentOf: $0) }
        if unique { uniqueExpansions[asked] = r } else { expansionCache[asked] = r }
        return r
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
}

/// One file's include closure, walked breadth first only as far as the questions asked of
/// it need, with a dense position table over all files (valid where its stamp is current),
/// so that "does this file see that one, and how near" costs no hashing. A walk stops at
/// the first file it reaches that a question asks about: the walk reaches files in rank
/// order, so the first candidate reached is the nearest one.
struct ClosureSlot {
    private(set) var file: Int32 = -1
    /// The files reached so far, in breadth-first order (the walk's queue).
    private var order: [Int32] = []
    private var positions: [Int32]
    private var stamps: [UInt32]
    private var stamp: UInt32 = 0
    private var limit = 0
    /// Where the walk stands: the queue entry whose includes are being read (-1 for the
    /// file itself), and the next and end edges of that entry.
    private var head = -1
    private var edge = 0
    private var edgeEnd = 0
    private var finished = true

    init(fileCount: Int) {
        positions = Array(repeating: 0, count: fileCount)
        stamps = Array(repeating: 0, count: fileCount)
    }

    /// Starts the closure of `file`, limited to `limit` files; nothing is walked yet.
    mutating func start(_ file: Int32, graph: IncludeGraph, limit: Int) {
        self.file = file
        self.limit = limit
        stamp &+= 1
        if stamp == 0 {
            for k in stamps.indices { stamps[k] = 0 }
            stamp = 1
        }
        order.removeAll(keepingCapacity: true)
        head = -1
        finished = !(file >= 0 && Int(file) < graph.fileCount && Int(file) < stamps.count)
        guard !finished else { return }
        // The file itself counts as seen (an include cycle does not list it), never as ranked.
        stamps[Int(file)] = stamp
        edge = Int(graph.offsets[Int(file)])
        edgeEnd = Int(graph.offsets[Int(file) + 1])
    }

    /// The rank of `other` among the files reached so far, without walking further.
    func knownRank(of other: Int32) -> Int32? {
        let k = Int(other)
        return other != file && k >= 0 && k < stamps.count && stamps[k] == stamp ? positions[k] : nil
    }

    /// The position of `other` in the closure, or nil when the file does not see it.
    mutating func rank(of other: Int32, graph: IncludeGraph) -> Int32? {
        if let r = knownRank(of: other) { return r }
        guard other != file, !finished, advance(graph: graph, until: { $0 == other }) != nil else { return nil }
        return knownRank(of: other)
    }

    /// The rank of the nearest of `files` in the closure, or nil when it holds none.
    mutating func nearest(_ files: [Int32], graph: IncludeGraph) -> Int32? {
        var best: Int32?
        for f in files { if let r = knownRank(of: f), r < best ?? .max { best = r } }
        // A file not reached yet lies further than every file reached.
        if best != nil || finished { return best }
        let me = file
        let found: Int32?
        if files.count <= 8 {
            found = advance(graph: graph, until: { g in g != me && files.contains(g) })
        } else {
            let wanted = Set(files)
            found = advance(graph: graph, until: { g in g != me && wanted.contains(g) })
        }
        return found.flatMap { knownRank(of: $0) }
    }

    /// The whole closure: files reachable through includes, breadth first, at most `limit`
    /// (excluding the file itself).
    mutating func closure(graph: IncludeGraph) -> [Int32] {
        if !finished { _ = advance(graph: graph, until: { _ in false }) }
        return order
    }

    /// Walks on until a file for which `stop` holds is reached (returned) or the closure is
    /// complete (nil).
    private mutating func advance(graph: IncludeGraph, until stop: (Int32) -> Bool) -> Int32? {
        let stamp = self.stamp, limit = self.limit
        var order = self.order
        self.order = []
        var head = self.head, edge = self.edge, edgeEnd = self.edgeEnd
        var found: Int32?
        stamps.withUnsafeMutableBufferPointer { stamps in
            positions.withUnsafeMutableBufferPointer { positions in
                graph.offsets.withUnsafeBufferPointer { offsets in
                    graph.targets.withUnsafeBufferPointer { targets in
                        walk: while order.count < limit {
                            while edge < edgeEnd && order.count < limit {
                                let f = Int(targets[edge]); edge += 1
                                if stamps[f] == stamp { continue }
                                stamps[f] = stamp
                                positions[f] = Int32(order.count)
                                order.append(Int32(f))
                                if stop(Int32(f)) { found = Int32(f); break walk }
                            }
                            if order.count >= limit { break }
                            head += 1
                            if head >= order.count { break }
                            let from = Int(order[head])
                            edge = Int(offsets[from])
                            edgeEnd = Int(offsets[from + 1])
                        }
                    }
                }
            }
        }
        self.order = order
        self.head = head; self.edge = edge; self.edgeEnd = edgeEnd
        if found == nil { finished = true }
        return found
    }
}

/// Answers worked out once per function by one worker (a resolver's), where working out
/// one answer may need others'. The answer depends only on the function: a computation
/// that meets a function already in progress (a cycle) or nests deeper than 16 answers nil
/// there and keeps none of its answers, which would depend on where it started.
public final class FunctionMemo<Value> {
    private var answers: [FunctionID: Value?] = [:]
    /// The functions being worked out, innermost last.
    private var inProgress: [FunctionID] = []
    private var truncated = false

    public init() {}

    /// The answer for `id`, computed by `compute` when not known yet.
    public func answer(for id: FunctionID, _ compute: (FunctionID) -> Value?) -> Value? {
        if let known = answers[id] { return known }
        if inProgress.contains(id) || inProgress.count >= 16 {
            truncated = true
            return nil
        }
        inProgress.append(id)
        let found = compute(id)
        inProgress.removeLast()
        if !truncated { answers[id] = .some(found) }
        if inProgress.isEmpty { truncated = false }
        return found
    }
}
