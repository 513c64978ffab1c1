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
    /// A `bool` (or `_Bool`) value, not a pointer to one.
    public var isBool: Bool { pointerDepth == 0 && !isFunctionPointer && !isArray && (name == "bool" || name == "_Bool") }
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
    /// When every element of its initializer list is an address or null (`{ &a, &b, NULL }`):
    /// the names whose address it takes. An address constant in a file-scope initializer
    /// is that of an object with static storage, so each element points at one.
    public var addressedObjects: [String]
    public init(name: String, type: TypeRef, isStatic: Bool, line: Int32, column: Int32, designated: [DesignatedValue],
                addressedObjects: [String] = []) {
        self.name = name; self.type = type; self.isStatic = isStatic; self.line = line; self.column = column; self.designated = designated
        self.addressedObjects = addressedObjects
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

/// A function definition with the facts of its body.
public struct FunctionDecl: Sendable, Hashable {
    public var name: String
    public var returnType: TypeRef
    /// The body's expression trees. Their buffer also holds the parameters, locals, calls,
    /// assignments, returns, jumps, branch lines and tests (read through the properties
    /// below).
    public var exprs: ExprTree
    public var line: Int32
    public var column: Int32
    public var endLine: Int32
    /// Statements in the body (a rough size, used to tell empty bodies).
    public var statementCount: Int32
    public var isStatic: Bool
    public var isInline: Bool

    /// The body's arrays other than the expression trees.
    @inlinable public var body: FunctionBody { FunctionBody(storage: exprs.storage) }
    @inlinable public var params: FactsSlice<VarDecl> { body.params }
    @inlinable public var locals: FactsSlice<VarDecl> { body.locals }
    @inlinable public var calls: FactsSlice<CallSite> { body.calls }
    @inlinable public var assignments: FactsSlice<AssignmentSite> { body.assignments }
    /// Operand nodes of `return` statements.
    @inlinable public var returns: FactsSlice<Int32> { body.returns }
    /// Lines of `return`/`goto` statements executed on every path reaching them (not inside
    /// an `if`, loop or `switch`): fall-through stops there.
    @inlinable public var unconditionalJumps: FactsSlice<Int32> { body.unconditionalJumps }
    /// Lines of `else`, and of `case` and `default` labels that are entered only from the
    /// `switch` (the statement before them is a `break`, `return`, `goto` or `continue`, or
    /// there is none): code on either side runs on different paths. A label that the case
    /// above falls through to joins them, so it is not listed.
    @inlinable public var branchLines: FactsSlice<Int32> { body.branchLines }
    /// Names and member chains that `if`/`while` conditions test for being set or NULL.
    @inlinable public var tests: FactsSlice<TestSite> { body.tests }
    /// `goto` statements that reach a label of the function, as pairs of lines (the
    /// `goto`'s, then the label's), in source order.
    @inlinable public var gotoEdges: FactsSlice<Int32> { body.gotoEdges }
    /// Lines where the body of an `if`, `else`, loop or `switch` ends (its `}` or, unbraced,
    /// its `;`): two calls with no block end, branch line or jump between them run one
    /// after the other.
    @inlinable public var blockEnds: FactsSlice<Int32> { body.blockEnds }
    /// Every `return` statement, in source order, as pairs: its line, then the index of its
    /// operand in `returns` (-1 for `return;`). Also those inside an `if`, loop or `switch`.
    @inlinable public var returnLines: FactsSlice<Int32> { body.returnLines }

    /// `gotoEdges` as pairs: each `goto`'s line and its label's, in source order.
    public var gotoPairs: [(goto: Int32, label: Int32)] {
        let edges = gotoEdges
        return stride(from: edges.startIndex, to: edges.endIndex - 1, by: 2).map { (edges[$0], edges[$0 + 1]) }
    }

    /// `returnLines` read back: each `return`'s line and its operand node (nil for
    /// `return;`), in source order.
    public var returnStatements: [(line: Int32, operand: Int32?)] {
        let lines = returnLines, operands = returns
        return stride(from: lines.startIndex, to: lines.endIndex - 1, by: 2).map { k in
            let i = Int(lines[k + 1])
            return (lines[k], i >= 0 && i < operands.count ? operands[operands.startIndex + i] : nil)
        }
    }

    /// The declared type of a parameter or local by name (locals shadow parameters).
    public func declaredType(of name: String) -> TypeRef? {
        if let v = locals.last(where: { $0.name == name }) { return v.type }
        if let p = params.first(where: { $0.name == name }) { return p.type }
        return nil
    }
    public init(name: String, isStatic: Bool, isInline: Bool, returnType: TypeRef, params: [VarDecl], locals: [VarDecl], calls: [CallSite], assignments: [AssignmentSite], returns: [Int32], exprs: ExprArena, line: Int32, column: Int32, endLine: Int32, statementCount: Int32, unconditionalJumps: [Int32] = [], branchLines: [Int32] = [], tests: [TestSite] = [], gotoEdges: [Int32] = [], blockEnds: [Int32] = [], returnLines: [Int32] = []) {
        self.name = name; self.isStatic = isStatic; self.isInline = isInline; self.returnType = returnType
        self.line = line; self.column = column; self.endLine = endLine; self.statementCount = statementCount
        let storage = FunctionBodyStorage.make(params: params, locals: locals, calls: calls, assignments: assignments, returns: returns,
                                               jumps: unconditionalJumps, branches: branchLines, tests: tests, gotos: gotoEdges,
                                               blockEnds: blockEnds, returnLines: returnLines, exprs: exprs)
        self.exprs = ExprTree(storage: storage, names: exprs.names)
    }
}

/// A function-like macro whose body is a single call, kept so that calls through it can be
/// followed: `#define mtd_device_register(m, p, n) mtd_device_parse_register(m, NULL, NULL, p, n)`.
public struct MacroDecl: Sendable, Hashable {
    public var name: String
    public var params: [String]
    public var exprs: ExprTree
    /// The body's call node, or its `&` node for an accessor (`&p->a.b`).
    public var root: Int32
    public var line: Int32
    public init(name: String, params: [String], exprs: ExprArena, root: Int32, line: Int32) {
        self.name = name; self.params = params; self.exprs = ExprTree(exprs); self.root = root; self.line = line
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
public struct FileFacts: Sendable, Hashable {
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
