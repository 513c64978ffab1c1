/// JSON text: strings escaped per RFC 8259, for `JSONValue` (reports) and for the rows
/// the persistent index writes as JSON (`FactStore`'s queryable views).
public enum JSONText {
    /// Escapes per RFC 8259; every control character, DEL, U+2028/2029 and U+FFFD (the
    /// mark of a byte that was not UTF-8) become `\u` escapes.
    public static func escape(_ s: String, into out: inout String) {
        out += "\""
        // Most strings need no escape and are copied at once.
        if isPlain(s.utf8) {
            out += s
            out += "\""
            return
        }
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 || u.value == 0x7f || u.value == 0x2028 || u.value == 0x2029 || u.value == 0xFFFD {
                    let hex = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        out += "\""
    }

    /// Printable ASCII other than a quote or a backslash: bytes a JSON string holds as they
    /// are (every C identifier).
    @inlinable
    public static func isPlain<S: Sequence<UInt8>>(_ bytes: S) -> Bool {
        bytes.allSatisfy { $0 >= 0x20 && $0 < 0x7f && $0 != 34 && $0 != 92 }
    }
}
