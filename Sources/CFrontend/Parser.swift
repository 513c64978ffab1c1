import Facts

/// A tolerant parser for kernel C. It understands declarations, struct/union bodies,
/// typedefs, designated initializers and function bodies well enough to extract
/// `FileFacts`, and resynchronises at `;` and `}` on anything else. Nesting is bounded by
/// explicit depth limits; balanced regions past the limits are skipped iteratively.
struct Parser {
    let toks: [Token]
    /// Returned for reads past the last token (the lexer always ends the stream with one).
    let endToken: Token
    var names: Names
    let bytes: UnsafeBufferPointer<UInt8>
    var p = 0
    public internal(set) var facts: FileFacts

    // Per-function state.
    var arena = ExprArena()
    /// The arrays a body's compaction works in, kept from one function to the next.
    var compaction = ArenaCompaction()
    var calls: [CallSite] = []
    var assigns: [AssignmentSite] = []
    var returns: [Int32] = []
    var tests: [TestSite] = []
    /// Parameters of the function being parsed (for typing tested names).
    var currentParams: [VarDecl] = []
    var locals: [VarDecl] = []
    var jumps: [Int32] = []
    var branches: [Int32] = []
    /// Lines where the body of an `if`, `else`, loop or `switch` ends.
    var blockEnds: [Int32] = []
    /// Every `return` of the function being parsed, as pairs (line, index in `returns` or -1).
    var returnLines: [Int32] = []
    /// The statement just parsed was a `break`, `continue`, `return` or `goto`, or a `switch`
    /// body has just been entered: a `case` label here is not reached by falling through.
    var afterJump = true
    /// The current function's labels and `goto`s: (the label's spelling id, line).
    var labels: [(Int32, Int32)] = []
    var gotos: [(Int32, Int32)] = []
    var conditionalDepth = 0
    var statementCount: Int32 = 0
    var exprDepth = 0
    var blockDepth = 0
    var aggregateDepth = 0
    /// Children of the calls and initializer lists being parsed (innermost last).
    var pending: [Int32] = []
    /// Interned texts of punctuators by code (-1 until first used).
    var punctIDs = [Int32](repeating: -1, count: 640)

    static let maxExprDepth = 160
    static let maxBlockDepth = 160
    static let maxAggregateDepth = 48

    /// Every string the expression trees refer to.
    var internedNames: [String] { names.strings }

    public init(tokens: [Token], names: Names, bytes: UnsafeBufferPointer<UInt8>, facts: FileFacts) {
        self.toks = tokens
        let last = tokens.last
        self.endToken = Token(kind: .end, code: 0, start: Int32(clamping: bytes.count), length: 0, line: last?.line ?? 1, column: last?.column ?? 1)
        self.names = names
        self.bytes = bytes
        self.facts = facts
    }

    // MARK: - Token helpers

    /// The token at `k`, clamped into the stream: before the start reads the first token,
    /// past the end reads the end token. Every token read goes through here.
    @inline(__always) func token(_ k: Int) -> Token {
        if k >= 0 && k < toks.count { return toks[k] }
        return k < 0 && !toks.isEmpty ? toks[0] : endToken
    }
    @inline(__always) var tok: Token { token(p) }
    @inline(__always) func peek(_ k: Int = 1) -> Token { token(p &+ k) }
    @inline(__always) var atEnd: Bool { token(p).kind == .end }
    @inline(__always) func isPunct(_ t: Token, _ c: Int32) -> Bool { t.kind == .punct && t.code == c }
    @inline(__always) func isPunct(_ c: Int32) -> Bool { isPunct(tok, c) }
    @inline(__always) func isKeyword(_ t: Token, _ k: Keyword) -> Bool { t.kind == .identifier && t.code == k.rawValue }
    @inline(__always) func isKeyword(_ k: Keyword) -> Bool { isKeyword(tok, k) }
    @inline(__always) func text(_ t: Token) -> String { t.kind == .identifier ? names[t.code] : "" }
    /// Moves `n` tokens ahead, never past the end token.
    @inline(__always) mutating func advance(by n: Int) {
        for _ in 0..<max(0, n) where !atEnd { p += 1 }
    }

    func literalText(_ t: Token) -> String {
        let s = Int(t.start), e = min(Int(t.start + t.length), bytes.count, s + 200)
        guard s >= 0, s <= e else { return "" }
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[s..<e]), as: UTF8.self)
    }

    /// From an opening bracket, moves past its matching closer (counting all bracket kinds).
    /// Unbalanced input resynchronises the kernel way: a `}` in column 1 ends a top-level
    /// construct, and a `static`/`typedef`/`extern` in column 1 starts a new declaration;
    /// skipping stops before either.
    mutating func skipBalanced() {
        var depth = 0
        let startLine = tok.line
        repeat {
            let t = tok
            if t.kind == .end { return }
            if t.column == 1 && t.line != startLine && depth > 0 {
                if t.kind == .punct && t.code == Punct.closeBrace && depth > 1 {
                    // Leave the brace for the construct that owns it.
                    recover("unbalanced brackets")
                    return
                }
                if t.kind == .identifier && (t.code == Keyword.kStatic.rawValue || t.code == Keyword.kTypedef.rawValue || t.code == Keyword.kExtern.rawValue) {
                    recover("unbalanced brackets")
                    return
                }
            }
            if t.kind == .punct {
                switch t.code {
                case Punct.openParen, 91, 123: depth += 1
                case Punct.closeParen, 93, 125: depth -= 1
                default: break
                }
            }
            p += 1
        } while depth > 0
    }

    /// Tokens that begin a file-scope declaration when they stand in column 1.
    func startsDeclarationAtColumnOne(_ t: Token) -> Bool {
        guard t.column == 1, t.kind == .identifier else { return false }
        switch Keyword(rawValue: t.code) {
        case .kStruct, .kUnion, .kEnum, .kStatic, .kTypedef, .kExtern, .kInt, .kVoid, .kUnsigned, .kConst, .kChar, .kLong, .kBool, .kBool2:
            return true
        default:
            return false
        }
    }

    /// Skips to just past the next `;` at depth 0, or stops before an unmatched `}`. At file
    /// scope it also stops before a declaration keyword in column 1 on a later line.
    mutating func skipToSemicolon(resyncAtColumnOne: Bool = false) {
        let startLine = tok.line
        while !atEnd {
            let t = tok
            if resyncAtColumnOne && t.line != startLine && startsDeclarationAtColumnOne(t) { return }
            if t.kind == .punct {
                if t.code == Punct.semicolon { p += 1; return }
                if t.code == Punct.closeBrace { return }
                if t.code == Punct.openParen || t.code == Punct.openBracket || t.code == Punct.openBrace { skipBalanced(); continue }
            }
            p += 1
        }
    }

    mutating func recover(_ message: String) {
        facts.recoveries += 1
        if facts.diagnostics.count < 50 {
            facts.diagnostics.append(FileDiagnostic(line: tok.line, column: tok.column, message: message))
        }
    }

    /// Parses a macro body as one expression; returns its root node if it is one call, or
    /// the address of a member (`&p->a.b`).
    mutating func parseMacroBody() -> Int32? {
        let e = parseExpression()
        let root = arena.strippingCasts(e)
        guard root >= 0 else { return nil }
        let isCall = arena[root].kind == .call && arena[arena[root].a].kind == .identifier
        let isAccessor = arena[root].kind == .unary && arena[root].textID >= 0 && names[arena[root].textID] == "&"
            && arena[root].a >= 0 && arena[arena.strippingCasts(arena[root].a)].kind == .member
        guard isCall || isAccessor else { return nil }
        let map = arena.compact(roots: [root])
        let r = Int(root) < map.count ? map[Int(root)] : -1
        return r >= 0 ? r : nil
    }

    // MARK: - File level

    /// Parses the whole token stream.
    public mutating func parseFile() {
        while !atEnd {
            let before = p
            parseExternal()
            if p == before { recover("unexpected token"); p += 1 }
        }
    }

    mutating func parseExternal() {
        let t = tok
        if t.kind == .punct {
            switch t.code {
            case Punct.semicolon: p += 1; return                      // ;
            case Punct.closeBrace: recover("unmatched '}'"); p += 1; return
            case Punct.openBrace: recover("block outside a function"); skipBalanced(); return
            default: break
            }
        }
        if isKeyword(.kTypedef) { p += 1; parseDeclaration(context: .typedef); return }
        if isKeyword(.kStaticAssert) || isKeyword(.kStaticAssert2) { skipToSemicolon(); return }
        if isKeyword(.kAsm) || isKeyword(.kAsm2) || isKeyword(.kAsm3) { skipToSemicolon(); return }
        if isKeyword(.kExtern) && peek().kind == .string {
            advance(by: 2)
            if isPunct(Punct.openBrace) { p += 1 }
            return
        }
        if t.kind == .identifier, isPunct(peek(), Punct.openParen), text(t).hasPrefix("EXPORT_SYMBOL") {
            advance(by: 2)
            if tok.kind == .identifier { facts.exports.append(text(tok)) }
            skipToSemicolon()
            return
        }
        parseDeclaration(context: .file)
    }
}
