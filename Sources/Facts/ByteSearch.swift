#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Byte-string comparisons shared by the lexer, the source walk and the cache writer.
public enum ByteSearch {
    /// Whether `hay` holds `needle`: candidates by `memchr` on the needle's first byte, then
    /// `memcmp` (`String.contains` goes through Foundation's string search).
    public static func contains(_ hay: UnsafeRawBufferPointer, _ needle: UnsafeRawBufferPointer) -> Bool {
        guard let hb = hay.baseAddress, let nb = needle.baseAddress, !needle.isEmpty, hay.count >= needle.count else { return false }
        let first = Int32(needle[0])
        let last = hay.count - needle.count
        var k = 0
        while k <= last {
            guard let hit = memchr(hb + k, first, last - k + 1) else { return false }
            k = hb.distance(to: UnsafeRawPointer(hit))
            if memcmp(hb + k, nb, needle.count) == 0 { return true }
            k += 1
        }
        return false
    }

    /// Whether the UTF-8 bytes of `s` hold `needle` (byte for byte, unlike Foundation's
    /// `String.contains`, which compares canonically and costs a string search per call).
    public static func contains(_ s: String, _ needle: StaticString) -> Bool {
        var s = s
        return s.withUTF8 { contains(UnsafeRawBufferPointer($0), UnsafeRawBufferPointer(start: needle.utf8Start, count: needle.utf8CodeUnitCount)) }
    }

    /// `a` before `b` in byte order (`memcmp`, then the shorter first).
    public static func less(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        let n = min(a.count, b.count)
        if n > 0, let x = a.baseAddress, let y = b.baseAddress {
            let c = memcmp(x, y, n)
            if c != 0 { return c < 0 }
        }
        return a.count < b.count
    }
}
