import Facts

/// One lexical token. Identifiers carry an interned id (see `Lexer.Names`); punctuators
/// carry their code in `code` (ASCII for one character, `Punct.*` for longer ones).
public struct Token: Sendable {
    /// What a token is.
    public enum Kind: UInt8, Sendable {
        case identifier, number, string, character, punct, end
    }
    public var kind: Kind
    /// Identifier id or punctuator code.
    public var code: Int32
    public var start: Int32
    public var length: Int32
    public var line: Int32
    public var column: Int32
}

/// A lexer's tokens while it runs: a buffer grown by doubling and then moved into an
/// array at once. An array appended token by token checks its uniqueness and capacity
/// every time, and a file has tens of thousands of tokens. Owned by one lexer; `move`
/// frees it.
struct TokenOutput {
    private var base: UnsafeMutablePointer<Token>? = nil
    private var count = 0
    private var capacity = 0

    /// Room for at least `n` tokens.
    mutating func reserve(_ n: Int) { if n > capacity { grow(to: n) } }

    @inline(__always) mutating func append(_ token: Token) {
        if count == capacity { grow(to: Swift.max(64, 2 * capacity)) }
        (base.unsafelyUnwrapped + count).initialize(to: token)
        count &+= 1
    }

    @inline(never) private mutating func grow(to n: Int) {
        let bigger = UnsafeMutablePointer<Token>.allocate(capacity: n)
        if let old = base {
            bigger.moveInitialize(from: old, count: count)
            old.deallocate()
        }
        base = bigger
        capacity = n
    }

    /// Appends the tokens to `tokens` and frees the buffer (empty again).
    mutating func move(appendingTo tokens: inout [Token]) {
        guard let old = base else { return }
        tokens.append(contentsOf: UnsafeBufferPointer(start: old, count: count))
        old.deinitialize(count: count)
        old.deallocate()
        base = nil; count = 0; capacity = 0
    }
}

/// Multi-character punctuator codes (single characters use their ASCII value).
enum Punct {
    // Single-character punctuators, by name.
    static let bang: Int32 = 33  // !
    public static let hash: Int32 = 35  // #
    static let percent: Int32 = 37  // %
    static let ampersand: Int32 = 38  // &
    static let openParen: Int32 = 40  // (
    static let closeParen: Int32 = 41  // )
    public static let star: Int32 = 42  // *
    public static let plus: Int32 = 43  // +
    public static let comma: Int32 = 44  // ,
    static let minus: Int32 = 45  // -
    static let dot: Int32 = 46  // .
    public static let slash: Int32 = 47  // /
    static let colon: Int32 = 58  // :
    static let semicolon: Int32 = 59  // ;
    public static let less: Int32 = 60  // <
    public static let assign: Int32 = 61  // =
    static let greater: Int32 = 62  // >
    static let question: Int32 = 63  // ?
    static let openBracket: Int32 = 91  // [
    static let closeBracket: Int32 = 93  // ]
    static let caret: Int32 = 94  // ^
    static let openBrace: Int32 = 123  // {
    static let pipe: Int32 = 124  // |
    static let closeBrace: Int32 = 125  // }
    static let tilde: Int32 = 126  // ~
    public static let arrow: Int32 = 256       // ->
    public static let increment: Int32 = 257   // ++
    static let decrement: Int32 = 258   // --
    static let shiftLeft: Int32 = 259   // <<
    static let shiftRight: Int32 = 260  // >>
    static let lessEq: Int32 = 261      // <=
    static let greaterEq: Int32 = 262   // >=
    static let equal: Int32 = 263       // ==
    static let notEqual: Int32 = 264    // !=
    static let logicalAnd: Int32 = 265  // &&
    static let logicalOr: Int32 = 266   // ||
    static let ellipsis: Int32 = 267    // ...
    static let hashHash: Int32 = 268    // ##
    /// Compound assignments: `+=` etc. encoded as 500 + ASCII of the operator's first char;
    /// `<<=` and `>>=` as 400 and 401.
    static func compoundAssign(_ c: UInt8) -> Int32 { 500 + Int32(c) }
    static let shiftLeftAssign: Int32 = 400
    static let shiftRightAssign: Int32 = 401

    /// The text of a punctuator code, for expression trees and diagnostics.
    public static func text(_ code: Int32) -> String {
        switch code {
        case 0..<256: return String(UnicodeScalar(UInt8(code)))
        case arrow: return "->"
        case increment: return "++"
        case decrement: return "--"
        case shiftLeft: return "<<"
        case shiftRight: return ">>"
        case lessEq: return "<="
        case greaterEq: return ">="
        case equal: return "=="
        case notEqual: return "!="
        case logicalAnd: return "&&"
        case logicalOr: return "||"
        case ellipsis: return "..."
        case hashHash: return "##"
        case shiftLeftAssign: return "<<="
        case shiftRightAssign: return ">>="
        case 500..<628: return String(UnicodeScalar(UInt8(code - 500))) + "="
        default: return "?"
        }
    }

    /// Whether the code is an assignment operator (`=` or a compound one).
    static func isAssignment(_ code: Int32) -> Bool {
        code == 61 || code == shiftLeftAssign || code == shiftRightAssign || (code >= 500 && code < 628)
    }
}
