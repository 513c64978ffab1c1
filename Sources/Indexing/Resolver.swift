import Facts

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

    /// Include closures of the last few files asked about (analyses go back and forth
    /// between a driver and the headers it uses), each with every file's position in it.
    private var slots: [ClosureSlot] = []
    private var nextSlot = 0
    static let closureSlots = 4

    /// Files an include closure visits at most.
    static let closureLimit = 6000

    public init(index: TreeIndex) {
        self.index = index
    }

    /// Files reachable through includes from `file`, nearest first (excluding `file`).
    func includeClosure(_ file: Int32) -> [Int32] {
        slots[slot(for: file)].closure
    }

    /// The position of `other` in `file`'s include closure, or nil when `file` does not see it.
    private func closureRank(of other: Int32, from file: Int32) -> Int32? {
        slots[slot(for: file)].rank(of: other)
    }

    private func slot(for file: Int32) -> Int {
        if let k = slots.firstIndex(where: { $0.file == file }) { return k }
        if slots.count < Resolver.closureSlots {
            slots.append(ClosureSlot(fileCount: index.files.count))
            slots[slots.count - 1].fill(file, graph: index.includeGraph, limit: Resolver.closureLimit)
            return slots.count - 1
        }
        let k = nextSlot
        nextSlot = (nextSlot + 1) % Resolver.closureSlots
        slots[k].fill(file, graph: index.includeGraph, limit: Resolver.closureLimit)
        return k
    }

    /// Starts answering for `file`: the per-file caches hold only one file's answers.
    private func switchFile(_ file: Int32) {
        if cachedFile == file { return }
        cachedFile = file
        if !functionCache.isEmpty { functionCache.removeAll(keepingCapacity: true) }
        if !macroCache.isEmpty { macroCache.removeAll(keepingCapacity: true) }
        if !globalCache.isEmpty { globalCache.removeAll(keepingCapacity: true) }
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
        var best: T?
        var bestRank = Int32.max
        for c in candidates {
            if let r = closureRank(of: fileOf(c), from: file), r < bestRank { best = c; bestRank = r }
        }
        if let best { return best }
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

    private func lookUpFunction(named name: String, from file: Int32) -> FunctionID? {
        guard let cands = index.functionsByName[name], !cands.isEmpty else { return nil }
        if cands.count == 1 {
            let c = cands[cands.startIndex]
            if !index.files[Int(c.file)].functions[Int(c.index)].isStatic || c.file == file || index.isHeader[Int(c.file)] { return c }
            return nil
        }
        if let same = cands.first(where: { $0.file == file }) { return same }
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
        let r = pick(index.globalsByName[name] ?? [], fileOf: { $0.file }, from: file)
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

/// One file's include closure, with a dense position table over all files (valid where its
/// stamp is current), so that "does this file see that one, and how near" costs no hashing.
struct ClosureSlot {
    private(set) var file: Int32 = -1
    private(set) var closure: [Int32] = []
    private var positions: [Int32]
    private var stamps: [UInt32]
    private var stamp: UInt32 = 0

    init(fileCount: Int) {
        positions = Array(repeating: 0, count: fileCount)
        stamps = Array(repeating: 0, count: fileCount)
    }

    func rank(of other: Int32) -> Int32? {
        let k = Int(other)
        return k >= 0 && k < stamps.count && stamps[k] == stamp ? positions[k] : nil
    }

    /// Files reachable through includes from `file`, breadth first, at most `limit`.
    mutating func fill(_ file: Int32, graph: IncludeGraph, limit: Int) {
        self.file = file
        stamp &+= 1
        if stamp == 0 {
            for k in stamps.indices { stamps[k] = 0 }
            stamp = 1
        }
        closure.removeAll(keepingCapacity: true)
        guard file >= 0, Int(file) < graph.fileCount else { return }
        let stamp = self.stamp
        var order = closure
        closure = []
        // The stamps double as the "seen" set; the file itself is unmarked at the end. The
        // closure itself is the breadth-first queue: a file is appended when first seen.
        stamps.withUnsafeMutableBufferPointer { stamps in
            positions.withUnsafeMutableBufferPointer { positions in
                graph.offsets.withUnsafeBufferPointer { offsets in
                    graph.targets.withUnsafeBufferPointer { targets in
                        stamps[Int(file)] = stamp
                        var head = -1
                        var from = Int(file)
                        while order.count < limit {
                            var e = Int(offsets[from])
                            let end = Int(offsets[from + 1])
                            while e < end && order.count < limit {
                                let f = Int(targets[e]); e += 1
                                if stamps[f] == stamp { continue }
                                stamps[f] = stamp
                                positions[f] = Int32(order.count)
                                order.append(Int32(f))
                            }
                            head += 1
                            if head >= order.count { break }
                            from = Int(order[head])
                        }
                        stamps[Int(file)] = 0
                    }
                }
            }
        }
        closure = order
    }
}
