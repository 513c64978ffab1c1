/// Escapes text for a terminal or a gcc-style line: control characters become `\xNN`.
public func sanitizeForText(_ s: String) -> String {
    var out = ""
    out.reserveCapacity(s.utf8.count)
    for u in s.unicodeScalars {
        if u.value < 0x20 || u.value == 0x7f || (u.value >= 0x80 && u.value < 0xa0) {
            let hex = String(u.value, radix: 16)
            out += "\\x" + (hex.count < 2 ? "0" : "") + hex
        } else {
            out.unicodeScalars.append(u)
        }
    }
    return out
}
