/// A C type as written at a use: `struct mtd_info *`, `u32`, `foo_t[4]`.
public struct TypeRef: Sendable, Hashable, Codable {
    /// How the type was named.
    public enum Kind: UInt8, Sendable, Codable {
        /// `struct NAME` (or an anonymous struct, whose name starts with `<anon`).
        case structType
        case unionType
        case enumType
        /// A typedef or other identifier naming a type.
        case named
        /// `int`, `unsigned long`, `void`, …
        case builtin
        case unknown
    }
    // The name first: the one-byte fields then share a word (24 bytes a type, not 32).
    public var name: String
    public var kind: Kind
    public var pointerDepth: UInt8 = 0
    public var isArray: Bool = false
    public var isFunctionPointer: Bool = false

    public init(kind: Kind, name: String, pointerDepth: UInt8 = 0, isArray: Bool = false, isFunctionPointer: Bool = false) {
        self.kind = kind
        self.name = name
        self.pointerDepth = pointerDepth
        self.isArray = isArray
        self.isFunctionPointer = isFunctionPointer
    }

    public static let unknown = TypeRef(kind: .unknown, name: "")

    /// Whether the type is a struct/union tag.
    public var isAggregateTag: Bool { kind == .structType || kind == .unionType }
    /// Whether a field of this type holds the object itself rather than a pointer to it.
    public var isEmbedded: Bool { pointerDepth == 0 && !isFunctionPointer }

    /// C-like spelling for messages: `struct spi_nor *`.
    public var spelling: String {
        var s: String
        switch kind {
        case .structType: s = name.hasPrefix("<anon") ? "struct (anonymous)" : "struct \(name)"
        case .unionType: s = name.hasPrefix("<anon") ? "union (anonymous)" : "union \(name)"
        case .enumType: s = "enum \(name)"
        default: s = name
        }
        if pointerDepth > 0 { s += " " + String(repeating: "*", count: Int(pointerDepth)) }
        if isArray { s += "[]" }
        return s
    }

    /// The same type with one level of pointer or array removed (`*p`, `p[0]`).
    public var dereferenced: TypeRef? {
        var t = self
        if t.isArray { t.isArray = false; return t }
        if t.pointerDepth > 0 { t.pointerDepth -= 1; return t }
        return nil
    }
}

/// A member of a struct or union.
public struct FieldDecl: Sendable, Hashable, Codable {
    public var name: String
    public var type: TypeRef
    public var line: Int32
    public var column: Int32
    public var isBitField: Bool = false
    public init(name: String, type: TypeRef, line: Int32, column: Int32, isBitField: Bool = false) {
        self.name = name; self.type = type; self.line = line; self.column = column; self.isBitField = isBitField
    }
}

/// A struct or union definition with its body.
public struct AggregateDecl: Sendable, Hashable, Codable {
    /// The tag, or a file-unique `<anon@LINE:COL>` name for anonymous ones.
    public var name: String
    public var isUnion: Bool
    public var isAnonymous: Bool
    public var fields: [FieldDecl]
    public var line: Int32
    public var column: Int32
    public init(name: String, isUnion: Bool, isAnonymous: Bool, fields: [FieldDecl], line: Int32, column: Int32) {
        self.name = name; self.isUnion = isUnion; self.isAnonymous = isAnonymous; self.fields = fields; self.line = line; self.column = column
    }
}

/// `typedef TYPE NAME;`
public struct TypedefDecl: Sendable, Hashable, Codable {
    public var name: String
    public var type: TypeRef
    public var line: Int32
    public init(name: String, type: TypeRef, line: Int32) {
        self.name = name; self.type = type; self.line = line
    }
}

/// One designated field of a static initializer: `.release = foo` gives path `release`,
/// value `foo`; `.ops = { .open = f }` gives `ops.open`, `f`; `&x` gives value `&x`.
public struct DesignatedValue: Sendable, Hashable, Codable {
    public var path: String
    public var value: String
    public var line: Int32
    public init(path: String, value: String, line: Int32) {
        self.path = path; self.value = value; self.line = line
    }
}

/// A file-scope variable, with its designated initializer fields when it has some.
public struct GlobalDecl: Sendable, Hashable, Codable {
    public var name: String
    public var type: TypeRef
    public var isStatic: Bool
    public var line: Int32
    public var column: Int32
    public var designated: [DesignatedValue]
    public init(name: String, type: TypeRef, isStatic: Bool, line: Int32, column: Int32, designated: [DesignatedValue]) {
        self.name = name; self.type = type; self.isStatic = isStatic; self.line = line; self.column = column; self.designated = designated
    }
}

/// A declared name inside a function: parameter or local.
public struct VarDecl: Sendable, Hashable, Codable {
    public var name: String
    public var type: TypeRef
    public var line: Int32
    public var column: Int32
    public init(name: String, type: TypeRef, line: Int32, column: Int32) {
        self.name = name; self.type = type; self.line = line; self.column = column
    }
}

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
/// Sixteen bytes: the kind and the text index share one word (the kind in the top byte,
/// the index in the low 24 bits), since the tree holds tens of millions of nodes. A text
/// index past 24 bits (no real file has 16 million distinct spellings) is kept as "none".
public struct ExprNode: Sendable, Hashable, Codable {
    private var kindAndText: UInt32
    public var a: Int32
    public var b: Int32
    public var c: Int32

    /// The low 24 bits that stand for text index -1 ("none").
    private static let noText: UInt32 = 0xFF_FFFF

    public var kind: ExprKind {
        @inline(__always) get { ExprKind(rawValue: UInt8(truncatingIfNeeded: kindAndText >> 24)) ?? .other }
        @inline(__always) set { kindAndText = UInt32(newValue.rawValue) << 24 | (kindAndText & ExprNode.noText) }
    }

    /// Index into the arena's `names` (identifier, member name, operator or literal), -1 for none.
    public var textID: Int32 {
        @inline(__always) get {
            let t = kindAndText & ExprNode.noText
            return t == ExprNode.noText ? -1 : Int32(t)
        }
        @inline(__always) set { kindAndText = (kindAndText & ~ExprNode.noText) | ExprNode.packed(newValue) }
    }

    @inline(__always) private static func packed(_ textID: Int32) -> UInt32 {
        textID >= 0 && UInt32(textID) < noText ? UInt32(textID) : noText
    }

    public init(kind: ExprKind, textID: Int32, a: Int32, b: Int32, c: Int32) {
        kindAndText = UInt32(kind.rawValue) << 24 | ExprNode.packed(textID)
        self.a = a; self.b = b; self.c = c
    }

    private enum CodingKeys: String, CodingKey { case kind, textID, a, b, c }

    public init(from decoder: Decoder) throws {
        let k = try decoder.container(keyedBy: CodingKeys.self)
        self.init(kind: try k.decode(ExprKind.self, forKey: .kind), textID: try k.decode(Int32.self, forKey: .textID),
                  a: try k.decode(Int32.self, forKey: .a), b: try k.decode(Int32.self, forKey: .b), c: try k.decode(Int32.self, forKey: .c))
    }

    public func encode(to encoder: Encoder) throws {
        var k = encoder.container(keyedBy: CodingKeys.self)
        try k.encode(kind, forKey: .kind); try k.encode(textID, forKey: .textID)
        try k.encode(a, forKey: .a); try k.encode(b, forKey: .b); try k.encode(c, forKey: .c)
    }
}

/// Expression trees of one function, stored flat to keep the whole-tree index small. Equal
/// subtrees may be one node (`compactedMerging`): read nodes as values.
public struct ExprArena: Sendable, Hashable, Codable {
    public var nodes: [ExprNode] = []
    public var lists: [Int32] = []
    public var types: [TypeRef] = []
    /// The file's interned strings, shared (copy-on-write) by every function of the file.
    public var names: [String] = []

    public init() {}

    /// Returned for indices that name no node (-1 for "none", or anything out of range).
    static let missingNode = ExprNode(kind: .other, textID: -1, a: -1, b: -1, c: 0)

    /// The node at `i`, or `missingNode` when `i` is not a node of this arena. Reading a
    /// tree never traps, whatever indices a damaged or hostile input left in it.
    @inline(__always)
    public subscript(i: Int32) -> ExprNode {
        i >= 0 && Int(i) < nodes.count ? nodes[Int(i)] : ExprArena.missingNode
    }

    /// The text of a node (identifier, member, operator or literal).
    @inline(__always)
    public func text(_ node: ExprNode) -> String {
        let k = Int(node.textID)
        return k >= 0 && k < names.count ? names[k] : ""
    }

    /// The text of the node at `i`.
    public func text(at i: Int32) -> String { i >= 0 && Int(i) < nodes.count ? text(self[i]) : "" }

    /// Keeps only the nodes reachable from `roots`, renumbering them in their old order and
    /// merging equal ones; returns the map from old to new indices (-1 for dropped nodes).
    public mutating func compact(roots: [Int32]) -> [Int32] {
        let (kept, map) = compacted(roots: roots)
        self = kept
        return map
    }

    /// The arena with only the nodes reachable from `roots`, renumbered in their old order
    /// with equal nodes merged (`compactedMerging`), and the map from old to new indices
    /// (-1 for dropped nodes). `self` is left as it is, so a parser can reuse its storage
    /// for the next function.
    public func compacted(roots: [Int32]) -> (ExprArena, [Int32]) {
        let reach = reachable(from: roots)
        return compactedMerging(reach) ?? compactedInOrder(reach)
    }

    /// `compacted` without merging, for arenas whose children may come after their parents:
    /// `map` marks the reachable nodes with 0 and is returned as the old-to-new map.
    func compactedInOrder(_ reach: [Int32]) -> (ExprArena, [Int32]) {
        let count = nodes.count
        var map = reach
        var newNodes: [ExprNode] = []
        var newLists: [Int32] = []
        map.withUnsafeMutableBufferPointer { map in
            var kept: Int32 = 0
            for k in 0..<count where map[k] == 0 { map[k] = kept; kept += 1 }
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
        var out = self
        out.nodes = newNodes
        out.lists = newLists.fittedToCount()
        return (out, map)
    }

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

    /// 0 for every node the roots reach, -1 for the others.
    func reachable(from roots: [Int32]) -> [Int32] {
        let count = nodes.count
        var map = [Int32](repeating: -1, count: count)
        let ordered = map.withUnsafeMutableBufferPointer { map -> Bool in
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
        return ordered ? map : reachableInAnyOrder(from: roots)
    }

    /// `reachable(from:)` by a depth-first walk, for arenas whose children may come later.
    func reachableInAnyOrder(from roots: [Int32]) -> [Int32] {
        let count = nodes.count
        var map = [Int32](repeating: -1, count: count)
        var stack: [Int32] = roots.filter { $0 >= 0 && Int($0) < count }
        @inline(__always) func push(_ x: Int32) {
            if x >= 0 && Int(x) < count && map[Int(x)] == -1 { stack.append(x) }
        }
        while let i = stack.popLast() {
            if map[Int(i)] != -1 { continue }
            map[Int(i)] = 0
            forEachChild(of: nodes[Int(i)]) { push($0) }
        }
        return map
    }

    /// Calls `body` with each child of `n` (node indices, possibly -1), in operand order.
    @inline(__always)
    func forEachChild(of n: ExprNode, _ body: (Int32) -> Void) {
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

    /// The child list of a `call` or `initList` node.
    public func list(of node: ExprNode) -> ArraySlice<Int32> {
        let s = Int(node.b), e = Int(node.b) + Int(node.c)
        guard s >= 0, e <= lists.count, s <= e else { return [] }
        return lists[s..<e]
    }

    /// The arguments of a call node.
    public func arguments(_ call: Int32) -> ArraySlice<Int32> { list(of: self[call]) }

    public func type(of node: ExprNode) -> TypeRef {
        let i = Int(node.b)
        return i >= 0 && i < types.count ? types[i] : .unknown
    }

    /// Peels casts and parentheses-free wrappers that do not change the object: casts only.
    public func strippingCasts(_ i: Int32) -> Int32 {
        var k = i
        var guardCount = 0
        while k >= 0, Int(k) < nodes.count, self[k].kind == .cast, guardCount < 64 { k = self[k].a; guardCount += 1 }
        return k
    }

    /// Short C-like rendering for messages.
    public func render(_ i: Int32, depth: Int = 0) -> String {
        guard i >= 0, Int(i) < nodes.count, depth < 12 else { return "…" }
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

/// A call inside a function body.
public struct CallSite: Sendable, Hashable, Codable {
    /// The called function's name when the callee is a plain identifier, else "".
    public var callee: String
    /// The `call` node in the function's arena.
    public var node: Int32
    public var line: Int32
    public var column: Int32
    /// Where the result goes: the lhs node of `x = call(...)`, or -1.
    public var target: Int32
    /// The target is a local declared by this statement (`T *x = call(...)`): `target`
    /// is then its identifier node. (A flag, not the name, keeps 4 million calls small.)
    public var targetIsDeclaration: Bool
    /// The call is inside an `if`, loop, `switch` or `?:` (not executed on every path).
    public var isConditional: Bool
    /// The call is an operand of `return`.
    public var isReturned: Bool
    public init(callee: String, node: Int32, line: Int32, column: Int32, target: Int32, targetIsDeclaration: Bool, isConditional: Bool, isReturned: Bool) {
        self.callee = callee; self.node = node; self.line = line; self.column = column; self.target = target; self.targetIsDeclaration = targetIsDeclaration; self.isConditional = isConditional; self.isReturned = isReturned
    }
}

/// A name or member chain tested by a condition: `if (!p->ops)`, `while (x)`.
public struct TestSite: Sendable, Hashable, Codable {
    /// The tested expression (an identifier or member node) in the function's arena.
    public var node: Int32
    public var line: Int32
    public init(node: Int32, line: Int32) {
        self.node = node; self.line = line
    }
}

/// `lhs = rhs` (or a compound assignment) inside a function body.
public struct AssignmentSite: Sendable, Hashable, Codable {
    public var lhs: Int32
    public var rhs: Int32
    public var line: Int32
    public var column: Int32
    public var isConditional: Bool
    public init(lhs: Int32, rhs: Int32, line: Int32, column: Int32, isConditional: Bool) {
        self.lhs = lhs; self.rhs = rhs; self.line = line; self.column = column; self.isConditional = isConditional
    }
}

/// A function definition with the facts of its body.
public struct FunctionDecl: Sendable, Hashable, Codable {
    public var name: String
    public var isStatic: Bool
    public var isInline: Bool
    public var returnType: TypeRef
    public var params: [VarDecl]
    public var locals: [VarDecl]
    public var calls: [CallSite]
    public var assignments: [AssignmentSite]
    public var returns: [Int32]
    public var exprs: ExprArena
    public var line: Int32
    public var column: Int32
    public var endLine: Int32
    /// Statements in the body (a rough size, used to tell empty bodies).
    public var statementCount: Int32
    /// Lines of `return`/`goto` statements executed on every path reaching them (not inside
    /// an `if`, loop or `switch`): fall-through stops there.
    public var unconditionalJumps: [Int32] = []
    /// Lines of `else`, `case` and `default`: code on either side runs on different paths.
    public var branchLines: [Int32] = []
    /// Names and member chains that `if`/`while` conditions test for being set or NULL.
    public var tests: [TestSite] = []

    /// The declared type of a parameter or local by name (locals shadow parameters).
    public func declaredType(of name: String) -> TypeRef? {
        if let v = locals.last(where: { $0.name == name }) { return v.type }
        if let p = params.first(where: { $0.name == name }) { return p.type }
        return nil
    }
    public init(name: String, isStatic: Bool, isInline: Bool, returnType: TypeRef, params: [VarDecl], locals: [VarDecl], calls: [CallSite], assignments: [AssignmentSite], returns: [Int32], exprs: ExprArena, line: Int32, column: Int32, endLine: Int32, statementCount: Int32, unconditionalJumps: [Int32] = [], branchLines: [Int32] = [], tests: [TestSite] = []) {
        self.name = name; self.isStatic = isStatic; self.isInline = isInline; self.returnType = returnType; self.params = params; self.locals = locals; self.calls = calls; self.assignments = assignments; self.returns = returns; self.exprs = exprs; self.line = line; self.column = column; self.endLine = endLine; self.statementCount = statementCount; self.unconditionalJumps = unconditionalJumps; self.branchLines = branchLines; self.tests = tests
    }
}

/// A function-like macro whose body is a single call, kept so that calls through it can be
/// followed: `#define mtd_device_register(m, p, n) mtd_device_parse_register(m, NULL, NULL, p, n)`.
public struct MacroDecl: Sendable, Hashable, Codable {
    public var name: String
    public var params: [String]
    public var exprs: ExprArena
    /// The body's call node.
    public var root: Int32
    public var line: Int32
    public init(name: String, params: [String], exprs: ExprArena, root: Int32, line: Int32) {
        self.name = name; self.params = params; self.exprs = exprs; self.root = root; self.line = line
    }

    /// The name the body calls (`f` in `#define m(x) f(x, 1)`), when the callee is a plain
    /// identifier.
    public var calledName: String? {
        guard root >= 0 else { return nil }
        let call = exprs[root]
        guard call.a >= 0, exprs[call.a].kind == .identifier else { return nil }
        return exprs.text(exprs[call.a])
    }
}

/// Everything the front end extracts from one file. Plain values, so a persistent cache can
/// store them without touching the parser.
public struct FileFacts: Sendable, Hashable, Codable {
    /// Path relative to the scanned root.
    public var path: String
    public var bytes: Int
    public var aggregates: [AggregateDecl] = []
    public var typedefs: [TypedefDecl] = []
    public var functions: [FunctionDecl] = []
    public var globals: [GlobalDecl] = []
    public var exports: [String] = []
    public var macros: [MacroDecl] = []
    /// Macros defined here whose body sets `suppress_bind_attrs`.
    public var suppressBindMacros: [String] = []
    public var includes: [IncludeDirective] = []
    public var diagnostics: [FileDiagnostic] = []
    /// Functions that look empty here but have another definition in a conditional branch
    /// that was not read (`#ifdef CONFIG_X … #else static void f(…) {} #endif`): that
    /// definition's shape, so that the analyses judge the function by all its definitions.
    public var alternateDefinitions: [AlternateDefinition] = []
    /// Functions whose body does nothing (or only calls) but holds a comment: an empty
    /// callback the author explains (`/* nothing to do: the owner frees it */`).
    public var commentedEmptyFunctions: [String] = []
    /// How many times the parser had to skip tokens to resynchronise.
    public var recoveries: Int = 0
    /// Set when the file could not be read or looks binary; the message says why.
    public var unreadable: String? = nil

    public init(path: String, bytes: Int) {
        self.path = path
        self.bytes = bytes
    }
}

/// The shape of a function's definition in a conditional branch the front end did not read.
public struct AlternateDefinition: Sendable, Hashable, Codable {
    public var name: String
    public var callees: [String]
    public var assignments: Int
    public var statementCount: Int32
    public init(name: String, callees: [String], assignments: Int, statementCount: Int32) {
        self.name = name; self.callees = callees; self.assignments = assignments; self.statementCount = statementCount
    }
}
