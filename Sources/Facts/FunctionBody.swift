/// The per-body arrays of one function (parameters, locals, calls, assignments, returns,
/// unconditional jumps, branch lines, tests, goto edges, block ends, return lines), read from the buffer the function shares
/// with its expression tree (`ExprTree`).
///
/// A whole tree has about 700,000 functions and 5 million non-empty arrays of these kinds
/// and of expression nodes, lists and types, most of them a few elements long: as Swift
/// arrays each costs a 32-byte header and a heap chunk of its own. Here all fourteen arrays of
/// a function are one buffer, and a function with none shares one empty buffer with every
/// other. The buffer is immutable once its function is built (so sharing it between
/// threads is safe); readers get `FactsSlice` views of it.
public struct FunctionBody: @unchecked Sendable, Hashable {
    @usableFromInline let storage: FunctionBodyStorage

    @inlinable init(storage: FunctionBodyStorage) { self.storage = storage }

    /// A body with these arrays and an empty expression tree.
    public init(params: [VarDecl] = [], locals: [VarDecl] = [], calls: [CallSite] = [], assignments: [AssignmentSite] = [],
                returns: [Int32] = [], unconditionalJumps: [Int32] = [], branchLines: [Int32] = [], tests: [TestSite] = [],
                gotoEdges: [Int32] = [], blockEnds: [Int32] = [], returnLines: [Int32] = []) {
        storage = FunctionBodyStorage.make(params: params, locals: locals, calls: calls, assignments: assignments, returns: returns,
                                           jumps: unconditionalJumps, branches: branchLines, tests: tests, gotos: gotoEdges,
                                           blockEnds: blockEnds, returnLines: returnLines, exprs: ExprArena())
    }

    @inlinable public var params: FactsSlice<VarDecl> { storage.slice(.params) }
    @inlinable public var locals: FactsSlice<VarDecl> { storage.slice(.locals) }
    @inlinable public var calls: FactsSlice<CallSite> { storage.slice(.calls) }
    @inlinable public var assignments: FactsSlice<AssignmentSite> { storage.slice(.assignments) }
    @inlinable public var returns: FactsSlice<Int32> { storage.slice(.returns) }
    @inlinable public var unconditionalJumps: FactsSlice<Int32> { storage.slice(.unconditionalJumps) }
    @inlinable public var branchLines: FactsSlice<Int32> { storage.slice(.branchLines) }
    @inlinable public var tests: FactsSlice<TestSite> { storage.slice(.tests) }
    @inlinable public var gotoEdges: FactsSlice<Int32> { storage.slice(.gotoEdges) }
    @inlinable public var blockEnds: FactsSlice<Int32> { storage.slice(.blockEnds) }
    @inlinable public var returnLines: FactsSlice<Int32> { storage.slice(.returnLines) }

    /// Equal when every array of the buffer is (the expression regions too).
    public static func == (a: FunctionBody, b: FunctionBody) -> Bool { a.storage.hasSameContents(as: b.storage) }
    public func hash(into h: inout Hasher) { storage.hashContents(into: &h) }
}

/// The regions of a `FunctionBodyStorage`, in buffer order: the 8-byte aligned kinds (whose
/// strides are multiples of 8) first, so no region needs padding and a region's count is
/// its length over its stride.
@usableFromInline
enum FunctionBodyRegion: Int, CaseIterable, Sendable {
    case params, locals, calls, types, nodes, assignments, tests, lists, returns, unconditionalJumps, branchLines, gotoEdges, blockEnds, returnLines

    /// The last region: its end is the buffer's used length.
    @usableFromInline static let last = FunctionBodyRegion.returnLines

    @inlinable var stride: Int {
        switch self {
        case .params, .locals: MemoryLayout<VarDecl>.stride
        case .calls: MemoryLayout<CallSite>.stride
        case .types: MemoryLayout<TypeRef>.stride
        case .nodes: MemoryLayout<ExprNode>.stride
        case .assignments: MemoryLayout<AssignmentSite>.stride
        case .tests: MemoryLayout<TestSite>.stride
        case .lists, .returns, .unconditionalJumps, .branchLines, .gotoEdges, .blockEnds, .returnLines: MemoryLayout<Int32>.stride
        }
    }
}

/// One buffer: a header with each region's start (a byte offset) and the end of the last,
/// then the regions' elements.
@usableFromInline
final class FunctionBodyStorage: ManagedBuffer<SIMD16<Int32>, UInt64> {
    /// The storage of a function or macro with no elements at all.
    nonisolated(unsafe) static let empty: FunctionBodyStorage = build(SIMD16<Int32>(repeating: 0), bytes: 0) { _ in }

    /// At most this many bytes a region: the header's 32-bit offsets then always fit, and an
    /// absurd input (a single function of hundreds of megabytes) keeps the first part of
    /// each array instead of trapping. A real function is a few hundred kilobytes at most.
    static let maxRegionBytes = 1 << 27

    static func make(params: [VarDecl] = [], locals: [VarDecl] = [], calls: [CallSite] = [], assignments: [AssignmentSite] = [],
                     returns: [Int32] = [], jumps: [Int32] = [], branches: [Int32] = [], tests: [TestSite] = [],
                     gotos: [Int32] = [], blockEnds: [Int32] = [], returnLines: [Int32] = [], exprs: ExprArena) -> FunctionBodyStorage {
        // In `FunctionBodyRegion` order.
        let counts = (params.count, locals.count, calls.count, exprs.types.count, exprs.nodes.count, assignments.count,
                      tests.count, exprs.lists.count, returns.count, jumps.count, branches.count, gotos.count, blockEnds.count,
                      returnLines.count)
        var header = SIMD16<Int32>(repeating: 0)
        var offset = 0
        func add(_ r: FunctionBodyRegion, _ count: Int) {
            header[r.rawValue] = Int32(offset)
            offset += min(count, maxRegionBytes / r.stride) * r.stride
        }
        add(.params, counts.0); add(.locals, counts.1); add(.calls, counts.2); add(.types, counts.3); add(.nodes, counts.4)
        add(.assignments, counts.5); add(.tests, counts.6); add(.lists, counts.7); add(.returns, counts.8)
        add(.unconditionalJumps, counts.9); add(.branchLines, counts.10); add(.gotoEdges, counts.11)
        add(.blockEnds, counts.12); add(.returnLines, counts.13)
        header[FunctionBodyRegion.last.rawValue + 1] = Int32(offset)
        if offset == 0 { return empty }
        return build(header, bytes: offset) { raw in
            @inline(__always) func put<T>(_ a: [T], _ r: FunctionBodyRegion) {
                let count = min(a.count, maxRegionBytes / r.stride)
                guard count > 0 else { return }
                let p = (raw + Int(header[r.rawValue])).bindMemory(to: T.self, capacity: count)
                a.withUnsafeBufferPointer { p.initialize(from: $0.baseAddress!, count: count) }
            }
            put(params, .params); put(locals, .locals); put(calls, .calls); put(exprs.types, .types); put(exprs.nodes, .nodes)
            put(assignments, .assignments); put(tests, .tests); put(exprs.lists, .lists); put(returns, .returns)
            put(jumps, .unconditionalJumps); put(branches, .branchLines); put(gotos, .gotoEdges)
            put(blockEnds, .blockEnds); put(returnLines, .returnLines)
        }
    }

    private static func build(_ header: SIMD16<Int32>, bytes: Int, fill: (UnsafeMutableRawPointer) -> Void) -> FunctionBodyStorage {
        let buffer = create(minimumCapacity: (bytes + 7) / 8) { _ in header }
        let storage = unsafeDowncast(buffer, to: FunctionBodyStorage.self)
        storage.withUnsafeMutablePointerToElements { fill(UnsafeMutableRawPointer($0)) }
        return storage
    }

    /// Where region `r` starts and how many elements it has.
    @inlinable @inline(__always)
    func bounds(_ r: FunctionBodyRegion, _ h: UnsafeMutablePointer<SIMD16<Int32>>) -> (start: Int, count: Int) {
        let start = Int(h.pointee[r.rawValue])
        return (start, (Int(h.pointee[r.rawValue + 1]) - start) / r.stride)
    }

    @inlinable @inline(__always)
    func slice<T>(_ r: FunctionBodyRegion) -> FactsSlice<T> {
        withUnsafeMutablePointers { h, e in
            let (start, count) = bounds(r, h)
            guard count > 0 else { return FactsSlice() }
            let p = UnsafeRawPointer(e).advanced(by: start).assumingMemoryBound(to: T.self)
            return FactsSlice(owner: self, base: p, count: count)
        }
    }

    /// Element `i` of region `r`, or nil when `i` is out of its range (no view is made).
    @inlinable @inline(__always)
    func element<T>(_ r: FunctionBodyRegion, _ i: Int, as _: T.Type) -> T? {
        withUnsafeMutablePointers { h, e in
            let (start, count) = bounds(r, h)
            guard i >= 0 && i < count else { return nil }
            return UnsafeRawPointer(e).advanced(by: start).assumingMemoryBound(to: T.self)[i]
        }
    }

    /// The bytes the regions take (the end of the last).
    var usedBytes: Int { withUnsafeMutablePointers { h, _ in Int(h.pointee[FunctionBodyRegion.last.rawValue + 1]) } }

    /// The number of elements of region `r`.
    @inlinable @inline(__always)
    func count(_ r: FunctionBodyRegion) -> Int { withUnsafeMutablePointers { h, _ in bounds(r, h).count } }

    /// A new buffer with the same contents.
    func copy() -> FunctionBodyStorage {
        var exprs = ExprArena()
        exprs.nodes = Array(slice(.nodes) as FactsSlice<ExprNode>)
        exprs.lists = Array(slice(.lists) as FactsSlice<Int32>)
        exprs.types = Array(slice(.types) as FactsSlice<TypeRef>)
        return FunctionBodyStorage.make(params: Array(slice(.params)), locals: Array(slice(.locals)), calls: Array(slice(.calls)),
                                        assignments: Array(slice(.assignments)), returns: Array(slice(.returns)),
                                        jumps: Array(slice(.unconditionalJumps)), branches: Array(slice(.branchLines)),
                                        tests: Array(slice(.tests)), gotos: Array(slice(.gotoEdges)),
                                        blockEnds: Array(slice(.blockEnds)), returnLines: Array(slice(.returnLines)), exprs: exprs)
    }

    /// Rewrites every expression node in place (the buffer must not be shared yet).
    @inline(__always)
    func updateNodes(_ change: (inout ExprNode) -> Void) {
        withUnsafeMutablePointers { h, e in
            let (start, count) = bounds(.nodes, h)
            let p = UnsafeMutableRawPointer(e).advanced(by: start).assumingMemoryBound(to: ExprNode.self)
            for k in 0..<count { change(&p[k]) }
        }
    }

    func hasSameContents(as other: FunctionBodyStorage) -> Bool {
        if self === other { return true }
        return (slice(.params) as FactsSlice<VarDecl>) == other.slice(.params) && (slice(.locals) as FactsSlice<VarDecl>) == other.slice(.locals)
            && (slice(.calls) as FactsSlice<CallSite>) == other.slice(.calls) && (slice(.types) as FactsSlice<TypeRef>) == other.slice(.types)
            && (slice(.nodes) as FactsSlice<ExprNode>) == other.slice(.nodes)
            && (slice(.assignments) as FactsSlice<AssignmentSite>) == other.slice(.assignments)
            && (slice(.tests) as FactsSlice<TestSite>) == other.slice(.tests) && (slice(.lists) as FactsSlice<Int32>) == other.slice(.lists)
            && (slice(.returns) as FactsSlice<Int32>) == other.slice(.returns)
            && (slice(.unconditionalJumps) as FactsSlice<Int32>) == other.slice(.unconditionalJumps)
            && (slice(.branchLines) as FactsSlice<Int32>) == other.slice(.branchLines)
            && (slice(.gotoEdges) as FactsSlice<Int32>) == other.slice(.gotoEdges)
            && (slice(.blockEnds) as FactsSlice<Int32>) == other.slice(.blockEnds)
            && (slice(.returnLines) as FactsSlice<Int32>) == other.slice(.returnLines)
    }

    func hashContents(into h: inout Hasher) {
        h.combine(slice(.params) as FactsSlice<VarDecl>); h.combine(slice(.locals) as FactsSlice<VarDecl>)
        h.combine(slice(.calls) as FactsSlice<CallSite>); h.combine(slice(.types) as FactsSlice<TypeRef>)
        h.combine(slice(.nodes) as FactsSlice<ExprNode>); h.combine(slice(.assignments) as FactsSlice<AssignmentSite>)
        h.combine(slice(.tests) as FactsSlice<TestSite>); h.combine(slice(.lists) as FactsSlice<Int32>)
        h.combine(slice(.returns) as FactsSlice<Int32>); h.combine(slice(.unconditionalJumps) as FactsSlice<Int32>)
        h.combine(slice(.branchLines) as FactsSlice<Int32>); h.combine(slice(.gotoEdges) as FactsSlice<Int32>)
        h.combine(slice(.blockEnds) as FactsSlice<Int32>); h.combine(slice(.returnLines) as FactsSlice<Int32>)
    }

    deinit {
        // Only these regions hold references (strings); the others are plain integers.
        withUnsafeMutablePointers { h, e in
            func clear<T>(_ r: FunctionBodyRegion, _: T.Type) {
                let (start, count) = bounds(r, h)
                if count > 0 { (UnsafeMutableRawPointer(e) + start).assumingMemoryBound(to: T.self).deinitialize(count: count) }
            }
            clear(.params, VarDecl.self); clear(.locals, VarDecl.self); clear(.calls, CallSite.self); clear(.types, TypeRef.self)
        }
    }
}
