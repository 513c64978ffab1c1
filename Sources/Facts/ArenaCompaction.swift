/// The working arrays of a compaction (`ExprArena.compact(roots:into:)`), which a parser
/// keeps from one function to the next: once they have grown, compacting a body allocates
/// nothing (a whole tree has about 700,000 bodies of a few dozen nodes, and five arrays
/// made per body cost more than the work on them).
///
/// After a compaction, `nodes` and `lists` are the compacted arena's arrays and `map` takes
/// each old node index to its new one (-1 for a node no root reaches).
public struct ArenaCompaction: Sendable {
    public internal(set) var map: [Int32] = []
    public internal(set) var nodes: [ExprNode] = []
    public internal(set) var lists: [Int32] = []
    /// The open-addressing table of node sharing (`NodeSharing.swift`).
    var table: [Int32] = []
    /// The work list of `markReachableInAnyOrder`.
    var stack: [Int32] = []

    public init() {}

    /// `arena` with the compacted nodes and lists, its names and types as they are.
    public func arena(from arena: ExprArena) -> ExprArena {
        var out = arena
        out.nodes = nodes
        out.lists = lists
        return out
    }
}

extension ExprArena {
    /// The arena with only the nodes reachable from `roots`, renumbered in their old order
    /// with equal nodes merged (`mergeReachable`), and the map from old to new indices
    /// (-1 for dropped nodes). `self` is left as it is.
    public func compacted(roots: [Int32]) -> (ExprArena, [Int32]) {
        var work = ArenaCompaction()
        compact(roots: roots, into: &work)
        return (work.arena(from: self), work.map)
    }

    /// Keeps only the nodes reachable from `roots`, renumbering them in their old order and
    /// merging equal ones; returns the map from old to new indices (-1 for dropped nodes).
    public mutating func compact(roots: [Int32]) -> [Int32] {
        let (kept, map) = compacted(roots: roots)
        self = kept
        return map
    }

    /// `compacted(roots:)` into `work`'s arrays, reused from the last compaction: `self` is
    /// left as it is, so a parser can reuse its storage for the next function too.
    public func compact(roots: [Int32], into work: inout ArenaCompaction) {
        markReachable(from: roots, in: &work)
        if !mergeReachable(into: &work) { copyReachableInOrder(into: &work) }
    }

    /// Sets `work.map` to 0 for every node the roots reach and -1 for the others.
    func markReachable(from roots: [Int32], in work: inout ArenaCompaction) {
        let count = nodes.count
        work.map.removeAll(keepingCapacity: true)
        work.map.append(contentsOf: repeatElement(-1, count: count))
        let ordered = work.map.withUnsafeMutableBufferPointer { map -> Bool in
            for r in roots where r >= 0 && Int(r) < count { map[Int(r)] = 0 }
            // A parser makes children before their parents: one pass from the last node
            // down then marks everything reachable. A child at or after its parent stops it.
            var ordered = true
            @inline(__always) func mark(_ x: Int32, below i: Int) {
                guard x >= 0 && Int(x) < count else { return }
                if Int(x) >= i && map[Int(x)] != 0 { ordered = false }
                map[Int(x)] = 0
            }
            var i = count - 1
            while i >= 0 && ordered {
                if map[i] == 0 { forEachChild(of: nodes[i]) { mark($0, below: i) } }
                i -= 1
            }
            return ordered
        }
        if !ordered { markReachableInAnyOrder(from: roots, in: &work) }
    }

    /// `markReachable` by a depth-first walk, for arenas whose children may come later.
    func markReachableInAnyOrder(from roots: [Int32], in work: inout ArenaCompaction) {
        let count = nodes.count
        work.map.removeAll(keepingCapacity: true)
        work.map.append(contentsOf: repeatElement(-1, count: count))
        work.stack.removeAll(keepingCapacity: true)
        for r in roots where r >= 0 && Int(r) < count { work.stack.append(r) }
        while let i = work.stack.popLast() {
            if work.map[Int(i)] != -1 { continue }
            work.map[Int(i)] = 0
            forEachChild(of: nodes[Int(i)]) { x in
                if x >= 0 && Int(x) < count && work.map[Int(x)] == -1 { work.stack.append(x) }
            }
        }
    }

    /// The compaction without merging, for arenas whose children may come after their
    /// parents: the reachable nodes are those `work.map` gives an index of 0 or more (a
    /// merge that gave up part way numbered some of them already).
    func copyReachableInOrder(into work: inout ArenaCompaction) {
        let count = nodes.count
        work.nodes.removeAll(keepingCapacity: true)
        work.lists.removeAll(keepingCapacity: true)
        var newNodes = work.nodes, newLists = work.lists
        work.nodes = []; work.lists = []
        work.map.withUnsafeMutableBufferPointer { map in
            var kept: Int32 = 0
            for k in 0..<count where map[k] >= 0 { map[k] = kept; kept += 1 }
            @inline(__always) func m(_ x: Int32) -> Int32 { x >= 0 && Int(x) < count ? map[Int(x)] : -1 }
            newNodes.reserveCapacity(Int(kept))
            for old in 0..<count where map[old] >= 0 {
                var n = ExprArena.remappingOperands(nodes[old], m)
                if n.kind == .call || n.kind == .initList {
                    let items = list(of: nodes[old])
                    n.b = Int32(newLists.count)
                    n.c = Int32(items.count)
                    for x in items { newLists.append(m(x)) }
                }
                newNodes.append(n)
            }
        }
        work.nodes = newNodes
        work.lists = newLists
    }
}
