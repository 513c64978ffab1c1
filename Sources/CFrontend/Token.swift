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
