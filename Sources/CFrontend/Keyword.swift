/// Identifier ids that the parser compares against. `Names` seeds them in this order, so
/// a keyword's id is its raw value.
enum Keyword: Int32, CaseIterable, Sendable {
    case kStruct, kUnion, kEnum, kTypedef, kStatic, kExtern, kInline, kConst, kVolatile
    case kSizeof, kReturn, kIf, kElse, kFor, kWhile, kDo, kSwitch, kCase, kDefault
    case kBreak, kContinue, kGoto, kAttribute, kAttribute2, kAsm, kAsm2, kAsm3
    case kTypeof, kTypeof2, kUnsigned, kSigned, kInt, kChar, kShort, kLong, kVoid
    case kFloat, kDouble, kBool, kBool2, kRegister, kRestrict, kAuto, kAlignof, kAlignof2
    case kStaticAssert, kStaticAssert2, kInline2, kInline3, kExtension, kTypeofUnqual
    case kContainerOf, kStructSize, kDefine, kUndef, kInclude

    /// The spelling of each keyword, in raw-value order.
    static let spellings: [String] = [
        "struct", "union", "enum", "typedef", "static", "extern", "inline", "const", "volatile",
        "sizeof", "return", "if", "else", "for", "while", "do", "switch", "case", "default",
        "break", "continue", "goto", "__attribute__", "__attribute", "asm", "__asm__", "__asm",
        "typeof", "__typeof__", "unsigned", "signed", "int", "char", "short", "long", "void",
        "float", "double", "_Bool", "bool", "register", "restrict", "auto", "_Alignof", "__alignof__",
        "_Static_assert", "static_assert", "__inline__", "__inline", "__extension__", "typeof_unqual",
        "container_of", "struct_size", "define", "undef", "include",
    ]
}

extension Keyword {
    /// Identifier ids below this are keywords (`kInclude` is the last case).
    @inline(__always) static var count: Int32 { kInclude.rawValue + 1 }

    /// `unsigned`, `int`, `void`, … : words that make a builtin type.
    @inline(__always) static func isBuiltin(_ c: Int32) -> Bool {
        switch c {
        case kUnsigned.rawValue, kSigned.rawValue, kInt.rawValue, kChar.rawValue, kShort.rawValue, kLong.rawValue,
             kVoid.rawValue, kFloat.rawValue, kDouble.rawValue, kBool.rawValue, kBool2.rawValue:
            return true
        default:
            return false
        }
    }

    /// Qualifiers and storage classes a declaration may carry before or after its type.
    @inline(__always) static func isQualifier(_ c: Int32) -> Bool {
        switch c {
        case kConst.rawValue, kVolatile.rawValue, kRegister.rawValue, kRestrict.rawValue, kAuto.rawValue,
             kExtension.rawValue, kExtern.rawValue:
            return true
        default:
            return false
        }
    }
}
