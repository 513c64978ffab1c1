/// The expression trees of one function or macro as kept for the analyses: the nodes,
/// lists and types of an `ExprArena`, packed into the function's one buffer (see
/// `FunctionBody`), and the file's shared name table. Read nodes as values: equal subtrees
/// may be one node.
public struct ExprTree: @unchecked Sendable, Hashable, ExprReading {
    @usableFromInline var storage: FunctionBodyStorage
    /// The file's interned strings, shared (copy-on-write) by every function of the file.
    public var names: [String]

    init(storage: FunctionBodyStorage, names: [String]) {
        self.storage = storage
        self.names = names
    }

    /// The arena's trees, packed alone (a macro's).
    public init(_ arena: ExprArena) {
        self.init(storage: .make(exprs: arena), names: arena.names)
    }

    @inlinable public var nodes: FactsSlice<ExprNode> { storage.slice(.nodes) }
    @inlinable public var lists: FactsSlice<Int32> { storage.slice(.lists) }
    @inlinable public var types: FactsSlice<TypeRef> { storage.slice(.types) }
    @inlinable public var nodeCount: Int { storage.count(.nodes) }

    /// The node at `i`, or `ExprArena.missingNode` when `i` is not a node of this tree.
    /// Reading a tree never traps, whatever indices a damaged or hostile input left in it.
    @inlinable @inline(__always)
    public subscript(i: Int32) -> ExprNode {
        storage.element(.nodes, Int(i), as: ExprNode.self) ?? ExprArena.missingNode
    }

    /// The child list of a `call` or `initList` node.
    @inlinable
    public func list(of node: ExprNode) -> FactsSlice<Int32> {
        let all = lists
        return all[node.listRange(within: all.count)]
    }

    @inlinable
    public func type(of node: ExprNode) -> TypeRef {
        storage.element(.types, Int(node.b), as: TypeRef.self) ?? .unknown
    }

    /// Rewrites every node in place, copying the buffer first if another value shares it.
    @inline(__always)
    public mutating func updateNodes(_ change: (inout ExprNode) -> Void) {
        guard nodeCount > 0 else { return }
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
        storage.updateNodes(change)
    }

    /// Gives every node's text index `t` the index `map[t]` (-1 for one outside `map`):
    /// `updateNodes` with the change written here, in this module, where its closure is
    /// inlined (from another module it would be a call per node).
    public mutating func renumberTexts(_ map: UnsafeBufferPointer<Int32>) {
        updateNodes { n in
            let t = Int(n.textID)
            n.textID = t >= 0 && t < map.count ? map[t] : -1
        }
    }

    /// Equal when the names and every array of the buffer are.
    public static func == (a: ExprTree, b: ExprTree) -> Bool { a.names == b.names && a.storage.hasSameContents(as: b.storage) }
    public func hash(into h: inout Hasher) { h.combine(names); storage.hashContents(into: &h) }
}
