/// What an expression node is.
public enum ExprKind: UInt8, Sendable, Codable {
    case identifier      // text
    case number          // text
    case string          // text (possibly truncated)
    case member          // a = base, text = field, b = 1 for `->`
    case index           // a = base, b = subscript
    case call            // a = callee, list b..<b+c = arguments
    case unary           // text = operator (`&`, `*`, `-`, `!`, `~`, `++`, `--`), a = operand
    case postfix         // text = operator, a = operand
    case binary          // text = operator, a, b
    case assign          // text = operator, a = lhs, b = rhs
    case conditional     // a ? b : c
    case cast            // b = type index, a = operand
    case sizeofType      // b = type index
    case sizeofExpr      // a = operand
    case typeName        // b = type index (a type passed to a macro: container_of)
    case initList        // list b..<b+c
    case designated      // text = field, a = value
    case other
}

/// A node of an expression tree. Children are indices into the owning `ExprArena`.
///
/// Twelve bytes, since a tree holds tens of millions of nodes: the kind (top byte) shares a
/// word with a 24-bit field. That field is the text index for the kinds that have a text,
/// and the third operand `c` for the three kinds that have one and never a text (`call`,
/// `initList`, `conditional`). A value past 24 bits (no real file has 16 million distinct
/// spellings, or a function as many nodes) is kept as "none": text -1, `c` -1.
public struct ExprNode: Sendable, Hashable {
    private var kindAndField: UInt32
    public var a: Int32
    public var b: Int32

    /// The low 24 bits that stand for -1 ("none").
    private static let none: UInt32 = 0xFF_FFFF

    public var kind: ExprKind {
        @inline(__always) get {
            // The kinds' raw values are 0 through `.other` in order (a test checks it), so a
            // stored byte in that range is the kind itself.
            let raw = UInt8(truncatingIfNeeded: kindAndField >> 24)
            return raw <= ExprKind.other.rawValue ? unsafeBitCast(raw, to: ExprKind.self) : .other
        }
        @inline(__always) set { kindAndField = UInt32(newValue.rawValue) << 24 | (kindAndField & ExprNode.none) }
    }

    /// Whether nodes of kind `k` keep `c` (not a text) in the shared field.
    @inline(__always) static func hasThirdOperand(_ k: ExprKind) -> Bool { k == .call || k == .initList || k == .conditional }

    /// `hasThirdOperand(kind)`, from the stored byte (without decoding the kind).
    private var hasThirdOperand: Bool {
        @inline(__always) get {
            let raw = UInt8(truncatingIfNeeded: kindAndField >> 24)
            return raw == ExprKind.call.rawValue || raw == ExprKind.initList.rawValue || raw == ExprKind.conditional.rawValue
        }
    }

    /// The field as a signed value (-1 for "none").
    private var field: Int32 {
        @inline(__always) get {
            let t = kindAndField & ExprNode.none
            return t == ExprNode.none ? -1 : Int32(t)
        }
        @inline(__always) set { kindAndField = (kindAndField & ~ExprNode.none) | ExprNode.packed(newValue) }
    }

    /// Index into the arena's `names` (identifier, member name, operator or literal), -1 for
    /// none (always for calls, initializer lists and conditionals).
    public var textID: Int32 {
        @inline(__always) get { hasThirdOperand ? -1 : field }
        @inline(__always) set { if !hasThirdOperand { field = newValue } }
    }

    /// A call's or initializer list's argument count, a conditional's third operand; 0 for
    /// the other kinds.
    public var c: Int32 {
        @inline(__always) get { hasThirdOperand ? field : 0 }
        @inline(__always) set { if hasThirdOperand { field = newValue } }
    }

    /// Where a `call`'s or `initList`'s child list lies in lists of `count` elements
    /// (`b..<b+c`), or an empty range when that is not inside them.
    @inlinable @inline(__always)
    public func listRange(within count: Int) -> Range<Int> {
        let s = Int(b), e = Int(b) + Int(c)
        return s >= 0 && e <= count && s <= e ? s..<e : 0..<0
    }

    @inline(__always) private static func packed(_ value: Int32) -> UInt32 {
        value >= 0 && UInt32(value) < none ? UInt32(value) : none
    }

    public init(kind: ExprKind, textID: Int32, a: Int32, b: Int32, c: Int32) {
        kindAndField = UInt32(kind.rawValue) << 24 | ExprNode.packed(ExprNode.hasThirdOperand(kind) ? c : textID)
        self.a = a; self.b = b
    }
}

/// Expression trees of one function as a parser builds them, stored flat; a function keeps
/// them packed (`ExprTree`). Equal subtrees may be one node (`mergeReachable`): read
/// nodes as values.
public struct ExprArena: Sendable, Hashable, ExprReading {
    public var nodes: [ExprNode] = []
    public var lists: [Int32] = []
    public var types: [TypeRef] = []
    /// The file's interned strings, shared (copy-on-write) by every function of the file.
    public var names: [String] = []

    public init() {}

    /// Returned for indices that name no node (-1 for "none", or anything out of range).
    @usableFromInline static let missingNode = ExprNode(kind: .other, textID: -1, a: -1, b: -1, c: 0)

    /// The node at `i`, or `missingNode` when `i` is not a node of this arena. Reading a
    /// tree never traps, whatever indices a damaged or hostile input left in it.
    @inline(__always)
    public subscript(i: Int32) -> ExprNode {
        i >= 0 && Int(i) < nodes.count ? nodes[Int(i)] : ExprArena.missingNode
    }

    public var nodeCount: Int { nodes.count }

    /// `n` with its operands mapped through `m` (a call's callee, not its argument list).
    @inline(__always)
    static func remappingOperands(_ n: ExprNode, _ m: (Int32) -> Int32) -> ExprNode {
        var n = n
        switch n.kind {
        case .call:
            n.a = m(n.a)
        case .index, .binary, .assign:
            n.a = m(n.a); n.b = m(n.b)
        case .conditional:
            n.a = m(n.a); n.b = m(n.b); n.c = m(n.c)
        case .member, .unary, .postfix, .cast, .sizeofExpr, .designated:
            n.a = m(n.a)
        default:
            break
        }
        return n
    }

    /// The child list of a `call` or `initList` node.
    public func list(of node: ExprNode) -> ArraySlice<Int32> {
        lists[node.listRange(within: lists.count)]
    }

    public func type(of node: ExprNode) -> TypeRef {
        let i = Int(node.b)
        return i >= 0 && i < types.count ? types[i] : .unknown
    }
}

/// Reading expression trees: the arena a parser builds (`ExprArena`) and the packed tree a
/// function or macro keeps (`ExprTree`) answer alike.
public protocol ExprReading {
    associatedtype List: RandomAccessCollection<Int32> where List.Index == Int
    /// The node at `i`, or a node of kind `.other` with no operands when `i` is no node.
    subscript(i: Int32) -> ExprNode { get }
    var nodeCount: Int { get }
    /// The file's interned strings (identifiers, members, operators, literals).
    var names: [String] { get }
    /// The child list of a `call` or `initList` node.
    func list(of node: ExprNode) -> List
    /// The type of a `cast`, `sizeofType` or `typeName` node.
    func type(of node: ExprNode) -> TypeRef
}

extension ExprReading {
    /// The text of a node (identifier, member, operator or literal).
    @inlinable
    public func text(_ node: ExprNode) -> String {
        let k = Int(node.textID)
        return k >= 0 && k < names.count ? names[k] : ""
    }

    /// The text of the node at `i`.
    @inlinable
    public func text(at i: Int32) -> String { i >= 0 && Int(i) < nodeCount ? text(self[i]) : "" }

    /// The arguments of a call node.
    @inlinable
    public func arguments(_ call: Int32) -> List { list(of: self[call]) }

    /// Calls `body` with each child of `n` (node indices, possibly -1), in operand order.
    @inlinable @inline(__always)
    public func forEachChild(of n: ExprNode, _ body: (Int32) -> Void) {
        switch n.kind {
        case .call, .initList:
            if n.kind == .call { body(n.a) }
            for c in list(of: n) { body(c) }
        case .index, .binary, .assign:
            body(n.a); body(n.b)
        case .conditional:
            body(n.a); body(n.b); body(n.c)
        case .member, .unary, .postfix, .cast, .sizeofExpr, .designated:
            body(n.a)
        default: break
        }
    }

    /// Peels casts and parentheses-free wrappers that do not change the object: casts only.
    @inlinable
    public func strippingCasts(_ i: Int32) -> Int32 {
        var k = i
        var guardCount = 0
        while k >= 0, Int(k) < nodeCount, self[k].kind == .cast, guardCount < 64 { k = self[k].a; guardCount += 1 }
        return k
    }

    /// Whether node `i` (casts aside) is a null pointer constant: `NULL` or `0`.
    public func isNullPointer(_ i: Int32) -> Bool {
        let n = self[strippingCasts(i)]
        return (n.kind == .identifier && text(n) == "NULL") || isZero(i)
    }

    /// Whether node `i` (casts aside) is the constant `0`.
    public func isZero(_ i: Int32) -> Bool {
        let n = self[strippingCasts(i)]
        return n.kind == .number && text(n) == "0"
    }

    /// Whether node `i` (casts aside) clears a pointer or a flag: `NULL`, `0` or `false`.
    public func isNullOrFalse(_ i: Int32) -> Bool {
        let n = self[strippingCasts(i)]
        return isNullPointer(i) || (n.kind == .identifier && text(n) == "false")
    }

    /// Short C-like rendering for messages.
    public func render(_ i: Int32, depth: Int = 0) -> String {
        guard i >= 0, Int(i) < nodeCount, depth < 12 else { return "…" }
        let n = self[i]
        switch n.kind {
        case .identifier, .number, .string: return text(n)
        case .member: return render(n.a, depth: depth + 1) + (n.b == 1 ? "->" : ".") + text(n)
        case .index: return render(n.a, depth: depth + 1) + "[" + render(n.b, depth: depth + 1) + "]"
        case .call:
            let args = list(of: n).map { render($0, depth: depth + 1) }.joined(separator: ", ")
            return render(n.a, depth: depth + 1) + "(" + args + ")"
        case .unary: return text(n) + render(n.a, depth: depth + 1)
        case .postfix: return render(n.a, depth: depth + 1) + text(n)
        case .binary: return render(n.a, depth: depth + 1) + " " + text(n) + " " + render(n.b, depth: depth + 1)
        case .assign: return render(n.a, depth: depth + 1) + " " + text(n) + " " + render(n.b, depth: depth + 1)
        case .conditional: return render(n.a, depth: depth + 1) + " ? " + render(n.b, depth: depth + 1) + " : " + render(n.c, depth: depth + 1)
        case .cast: return "(" + type(of: n).spelling + ")" + render(n.a, depth: depth + 1)
        case .sizeofType: return "sizeof(" + type(of: n).spelling + ")"
        case .sizeofExpr: return "sizeof(" + render(n.a, depth: depth + 1) + ")"
        case .typeName: return type(of: n).spelling
        case .initList: return "{…}"
        case .designated: return "." + text(n) + " = " + render(n.a, depth: depth + 1)
        case .other: return "…"
        }
    }
}
