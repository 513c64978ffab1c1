/// A hash of a spelling's bytes, eight at a time (a byte-at-a-time hash such as FNV-1a
/// waits on one multiplication per byte; identifiers average about ten bytes). The lexer's
/// name table and the facts encoder's string table use it.
public enum SpellingHash {
    @inlinable @inline(__always)
    public static func of(_ key: UnsafeBufferPointer<UInt8>) -> UInt32 {
        let n = key.count
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(truncatingIfNeeded: n)
        guard let base = key.baseAddress, n > 0 else { return UInt32(truncatingIfNeeded: h) }
        let raw = UnsafeRawPointer(base)
        var k = 0
        while k + 8 <= n {
            h = mix(h ^ raw.loadUnaligned(fromByteOffset: k, as: UInt64.self))
            k += 8
        }
        if k < n {
            let rest = n - k
            var w: UInt64 = 0
            if n >= 8 {
                // The last eight bytes, shifted so that only the unread ones remain.
                w = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)) >> UInt64(8 * (8 - rest))
            } else {
                for j in 0..<rest { w |= UInt64(base[k + j]) << UInt64(8 * j) }
            }
            h = mix(h ^ w)
        }
        h ^= h >> 29
        h &*= 0xBF58_476D_1CE4_E5B9
        h ^= h >> 32
        return UInt32(truncatingIfNeeded: h)
    }

    @inlinable @inline(__always)
    static func mix(_ x: UInt64) -> UInt64 {
        let m = x &* 0xFF51_AFD7_ED55_8CCD
        return m ^ (m >> 32)
    }
}
