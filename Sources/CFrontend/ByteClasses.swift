// Byte classes of the lexer's main loop: each a test of one or two words, no table.

/// A letter or `_`: a byte that starts an identifier.
@inline(__always) func isIdentStart(_ c: UInt8) -> Bool {
    (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c == 95
}

/// `( ) , : ; ? [ ] { } ~`: bytes that are a whole punctuator and never start a longer one.
@inline(__always) func isSingleBytePunctuator(_ c: UInt8) -> Bool {
    let low: UInt64 = 1 << 40 | 1 << 41 | 1 << 44 | 1 << 58 | 1 << 59 | 1 << 63
    let high: UInt64 = 1 << (91 - 64) | 1 << (93 - 64) | 1 << (123 - 64) | 1 << (125 - 64) | 1 << (126 - 64)
    let word = c < 64 ? low : high
    return c < 128 && (word >> UInt64(c & 63)) & 1 != 0
}

/// Identifier bytes as bits of two words (bytes 0-63, 64-127): one shift and test per
/// byte, no branch per character class (register names such as
/// `DCN_3_2_0_SH_MASK__DCCG_AUDIO_DTO0_PHASE__SHIFT` mix four of them).
@inline(__always) func isIdentByte(_ c: UInt8) -> Bool {
    let digits: UInt64 = 0x03FF_0000_0000_0000 // 48...57
    let letters: UInt64 = 0x07FF_FFFE_87FF_FFFE // 65...90, 95, 97...122 (bit = byte - 64)
    let word = c < 64 ? digits : letters
    return c < 128 && (word >> UInt64(c & 63)) & 1 != 0
}
