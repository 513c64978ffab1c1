extension ExprArena {
    /// The compaction with equal nodes stored once: a reachable node equal in kind, text
    /// and (already merged) children to an earlier one is replaced by it, so `dev` or
    /// `priv->dev` spelled ten times in a function is one node. About two fifths of a
    /// tree's nodes repeat an earlier one. The analyses read nodes as values (none asks
    /// which occurrence a node is), so their answers do not change. Call and initializer
    /// nodes own their argument lists and stay apart. `work.map` marks the reachable nodes
    /// with 0 (`markReachable`); false, with `work` part done, when a child comes at or
    /// after its parent (not made by a parser).
    func mergeReachable(into work: inout ArenaCompaction) -> Bool {
        var reachable = 0
        for r in work.map where r == 0 { reachable += 1 }
        var size = 16
        while size < 2 * reachable { size <<= 1 }
        let mask = size - 1
        work.table.removeAll(keepingCapacity: true)
        work.table.append(contentsOf: repeatElement(-1, count: size))
        // Written through buffers: an array appended node by node would check its
        // uniqueness and capacity every time, and no more than `reachable` are kept.
        work.nodes.removeAll(keepingCapacity: true)
        work.nodes.append(contentsOf: repeatElement(ExprArena.missingNode, count: reachable))
        work.lists.removeAll(keepingCapacity: true)
        var kept = 0
        var ordered = true
        var newLists = work.lists
        work.lists = []
        work.nodes.withUnsafeMutableBufferPointer { merged in
            work.map.withUnsafeMutableBufferPointer { map in
                work.table.withUnsafeMutableBufferPointer { table in
                    nodes.withUnsafeBufferPointer { nodes in
                        lists.withUnsafeBufferPointer { lists in
                            ordered = ExprArena.merge(nodes, lists, into: merged, count: &kept, map: map, table: table, mask: mask, newLists: &newLists)
                        }
                    }
                }
            }
        }
        work.nodes.removeLast(reachable - kept)
        work.lists = newLists
        return ordered
    }

    /// The loop of `mergeReachable` over the reachable nodes of `nodes` (those `map`
    /// marks with 0), in order: each one's operands remapped, then stored in `merged` or
    /// found there. False when a child comes at or after its parent.
    @inline(__always)
    private static func merge(_ nodes: UnsafeBufferPointer<ExprNode>, _ lists: UnsafeBufferPointer<Int32>,
                              into merged: UnsafeMutableBufferPointer<ExprNode>, count kept: inout Int,
                              map: UnsafeMutableBufferPointer<Int32>, table: UnsafeMutableBufferPointer<Int32>,
                              mask: Int, newLists: inout [Int32]) -> Bool {
        let count = nodes.count
        let outOfOrder = Int32.min
        for old in 0..<count where map[old] >= 0 {
            // A child's new index: children come first, so theirs is known (`outOfOrder`
            // otherwise).
            @inline(__always) func m(_ x: Int32) -> Int32 {
                guard x >= 0 && Int(x) < count else { return -1 }
                return Int(x) < old ? map[Int(x)] : outOfOrder
            }
            let node = nodes[old]
            let n = ExprArena.remappingOperands(node, m)
            // (`c` keeps 24 bits, so a conditional's is checked before the remap.)
            if n.a == outOfOrder || n.b == outOfOrder || m(node.c) == outOfOrder && node.kind == .conditional { return false }
            guard kept < merged.count else { return false }
            if n.kind == .call || n.kind == .initList {
                // Each owns its argument list, so none is merged.
                var owner = n
                let items = UnsafeBufferPointer(rebasing: lists[node.listRange(within: lists.count)])
                owner.b = Int32(newLists.count)
                owner.c = Int32(items.count)
                for x in items {
                    let y = m(x)
                    if y == outOfOrder { return false }
                    newLists.append(y)
                }
                map[old] = Int32(kept)
                merged.initializeElement(at: kept, to: owner)
                kept += 1
                continue
            }
            var slot = Int(truncatingIfNeeded: ExprArena.hash(n)) & mask
            while true {
                let e = table[slot]
                if e < 0 {
                    table[slot] = Int32(kept)
                    map[old] = Int32(kept)
                    merged.initializeElement(at: kept, to: n)
                    kept += 1
                    break
                }
                if merged[Int(e)] == n { map[old] = e; break }
                slot = (slot &+ 1) & mask
            }
        }
        return true
    }

    @inline(__always)
    private static func hash(_ n: ExprNode) -> UInt64 {
        let x = (UInt64(n.kind.rawValue) << 56 | UInt64(UInt32(bitPattern: n.textID))) &* 0x9E37_79B9_7F4A_7C15
        let y = (UInt64(UInt32(bitPattern: n.a)) | UInt64(UInt32(bitPattern: n.b)) << 32) &* 0xFF51_AFD7_ED55_8CCD
        let z = UInt64(UInt32(bitPattern: n.c)) &* 0xC4CE_B9FE_1A85_EC53
        let h = x ^ y ^ z
        return h ^ (h >> 29)
    }
}
