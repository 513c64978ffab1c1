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

/// Multi-character punctuator codes (single characters use their ASCII value).
public enum Punct {
    // Single-character punctuators, by name.
    public static let bang: Int32 = 33  // !
    public static let hash: Int32 = 35  // #
    public static let percent: Int32 = 37  // %
    public static let ampersand: Int32 = 38  // &
    public static let openParen: Int32 = 40  // (
    public static let closeParen: Int32 = 41  // )
    public static let star: Int32 = 42  // *
    public static let plus: Int32 = 43  // +
    public static let comma: Int32 = 44  // ,
    public static let minus: Int32 = 45  // -
    public static let dot: Int32 = 46  // .
    public static let slash: Int32 = 47  // /
    public static let colon: Int32 = 58  // :
    public static let semicolon: Int32 = 59  // ;
    public static let less: Int32 = 60  // <
    public static let assign: Int32 = 61  // =
    public static let greater: Int32 = 62  // >
    public static let question: Int32 = 63  // ?
    public static let openBracket: Int32 = 91  // [
    public static let closeBracket: Int32 = 93  // ]
    public static let caret: Int32 = 94  // ^
    public static let openBrace: Int32 = 123  // {
    public static let pipe: Int32 = 124  // |
    public static let closeBrace: Int32 = 125  // }
    public static let tilde: Int32 = 126  // ~
    public static let arrow: Int32 = 256       // ->
    public static let increment: Int32 = 257   // ++
    public static let decrement: Int32 = 258   // --
    public static let shiftLeft: Int32 = 259   // <<
    public static let shiftRight: Int32 = 260  // >>
    public static let lessEq: Int32 = 261      // <=
    public static let greaterEq: Int32 = 262   // >=
    public static let equal: Int32 = 263       // ==
    public static let notEqual: Int32 = 264    // !=
    public static let logicalAnd: Int32 = 265  // &&
    public static let logicalOr: Int32 = 266   // ||
    public static let ellipsis: Int32 = 267    // ...
    public static let hashHash: Int32 = 268    // ##
    /// Compound assignments: `+=` etc. encoded as 500 + ASCII of the operator's first char;
    /// `<<=` and `>>=` as 400 and 401.
    public static func compoundAssign(_ c: UInt8) -> Int32 { 500 + Int32(c) }
    public static let shiftLeftAssign: Int32 = 400
    public static let shiftRightAssign: Int32 = 401

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
    public static func isAssignment(_ code: Int32) -> Bool {
        code == 61 || code == shiftLeftAssign || code == shiftRightAssign || (code >= 500 && code < 628)
    }
}
