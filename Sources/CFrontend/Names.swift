import Facts

/// Interns identifier spellings of one file; keywords come first with fixed ids.
///
/// Spellings are looked up by their UTF-8 bytes in an open-addressing table (hashed eight bytes at a time), so an
/// identifier costs no allocation once its spelling has been seen; the `String` is made only
/// the first time. The ids are exactly those a `[String: Int32]` dictionary would give:
/// Swift compares strings by canonical equivalence, so once a non-ASCII spelling arrives
/// (only string literals have one) a by-value dictionary is kept as well and consulted on
/// every miss, and a new byte spelling of an equivalent string gets the existing id.
public struct Names: Sendable {
    public private(set) var strings: [String]
    /// Per id: whether the spelling is a declaration annotation (`Parser.annotations`).
    private var annotations: [Bool] = []

    /// One byte spelling in the table: its hash, the id it stands for, and where its bytes
    /// lie in `pool`.
    private struct Key: Sendable {
        var hash: UInt32
        var id: Int32
        var start: Int
        var length: Int
    }
    private var keys: [Key] = []
    /// Indices into `keys`, -1 for an empty slot; the count is a power of two.
    private var slots: [Int32]
    private var pool: [UInt8] = []
    /// Every spelling by value, kept from the first non-ASCII one on (see above).
    private var byValue: [String: Int32]? = nil

    /// Whether new spellings are checked against `Parser.annotations` (not in that table itself).
    private var classifies = true

    /// The keywords, interned once; every file's table starts as a copy of it.
    private static let seeded: Names = {
        var n = Names(empty: ())
        for s in Keyword.spellings { _ = n.intern(s) }
        return n
    }()

    /// `Parser.annotations` by their bytes.
    private static let annotationTable: Names = {
        var n = Names(empty: ())
        n.classifies = false
        for s in Parser.annotations.sorted() { _ = n.intern(s) }
        return n
    }()

    private init(empty: ()) {
        strings = []
        slots = [Int32](repeating: -1, count: 256)
    }

    public init() { self = Names.seeded }

    /// Moves the table out of `names`, leaving a fresh one, so that the caller's copy is the
    /// only reference and interning into it never duplicates the storage.
    @inline(__always)
    static func take(_ names: inout Names) -> Names {
        var out = Names.seeded
        swap(&out, &names)
        return out
    }

    /// A hash of the bytes (`SpellingHash`).
    @inline(__always)
    static func hash(_ key: UnsafeBufferPointer<UInt8>) -> UInt32 { SpellingHash.of(key) }

    /// The id of the spelling `key` (as `String(decoding: key, as: UTF8.self)`).
    @inline(__always)
    mutating func intern(_ key: UnsafeBufferPointer<UInt8>) -> Int32 {
        intern(key, hash: Names.hash(key))
    }

    /// The same, with `h == Names.hash(key)` already computed; a new spelling keeps
    /// `spelled` (a string of exactly these bytes) when given instead of decoding a copy.
    @inline(__always)
    mutating func intern(_ key: UnsafeBufferPointer<UInt8>, hash h: UInt32, spelled: String? = nil) -> Int32 {
        let (found, slot) = find(key, hash: h)
        if found >= 0 { return found }
        return insert(key, hash: h, slot: slot, spelled: spelled)
    }

    /// The id of `key` and its slot, or -1 and the empty slot where it would go.
    @inline(__always)
    private func find(_ key: UnsafeBufferPointer<UInt8>, hash h: UInt32) -> (Int32, Int) {
        let mask = slots.count &- 1
        var slot = Int(truncatingIfNeeded: h) & mask
        while true {
            let k = Int(slots[slot])
            if k < 0 { return (-1, slot) }
            let e = keys[k]
            if e.hash == h && e.length == key.count && poolEquals(e.start, key) { return (e.id, slot) }
            slot = (slot &+ 1) & mask
        }
    }

    /// The id of `s`, interned if new (keeping `s` itself, not a copy of its bytes).
    public mutating func intern(_ s: String) -> Int32 {
        var bytes = s
        return bytes.withUTF8 { intern($0, hash: Names.hash($0), spelled: s) }
    }

    public func lookup(_ s: String) -> Int32? {
        var s = s
        let found = s.withUTF8 { find($0, hash: Names.hash($0)).0 }
        if found >= 0 { return found }
        if let byValue { return byValue[s] }
        return s.utf8.allSatisfy({ $0 < 128 }) ? nil : strings.firstIndex(of: s).map { Int32(clamping: $0) }
    }

    @inline(__always)
    public subscript(id: Int32) -> String { id >= 0 && Int(id) < strings.count ? strings[Int(id)] : "" }

    private func poolEquals(_ start: Int, _ key: UnsafeBufferPointer<UInt8>) -> Bool {
        pool.withUnsafeBufferPointer { p in
            guard start >= 0, start + key.count <= p.count else { return false }
            guard let a = p.baseAddress, let b = key.baseAddress else { return key.isEmpty }
            // Eight bytes at a time, then the rest one by one.
            let x = UnsafeRawPointer(a + start), y = UnsafeRawPointer(b)
            var k = 0
            while k &+ 8 <= key.count {
                if x.loadUnaligned(fromByteOffset: k, as: UInt64.self) != y.loadUnaligned(fromByteOffset: k, as: UInt64.self) { return false }
                k &+= 8
            }
            while k < key.count {
                if a[start &+ k] != b[k] { return false }
                k &+= 1
            }
            return true
        }
    }

    /// A spelling not in the table: a new id, or, for a canonically equivalent spelling of
    /// an existing string, that string's id.
    @inline(never)
    private mutating func insert(_ key: UnsafeBufferPointer<UInt8>, hash h: UInt32, slot: Int, spelled existing: String? = nil) -> Int32 {
        let ascii = key.allSatisfy { $0 < 128 }
        let s = existing ?? String(decoding: key, as: UTF8.self)
        var id = Int32(clamping: strings.count)
        if !ascii || byValue != nil {
            var table = byValue ?? Dictionary(strings.enumerated().map { ($1, Int32(clamping: $0)) }, uniquingKeysWith: { a, _ in a })
            byValue = nil
            if let existing = table[s] { id = existing } else { append(s, key, h); table[s] = id }
            byValue = table
        } else {
            append(s, key, h)
        }
        keys.append(Key(hash: h, id: id, start: pool.count, length: key.count))
        pool.append(contentsOf: key)
        slots[slot] = Int32(clamping: keys.count - 1)
        if keys.count * 2 > slots.count { grow() }
        return id
    }

    /// A new string, spelled `key` (whose hash is `h`).
    private mutating func append(_ s: String, _ key: UnsafeBufferPointer<UInt8>, _ h: UInt32) {
        strings.append(s)
        guard classifies else { return }
        // The annotations are ASCII: a spelling is one exactly when its bytes are.
        annotations.append(Names.annotationTable.find(key, hash: h).0 >= 0)
    }

    /// Whether the spelling with this id is one of `Parser.annotations`.
    @inline(__always)
    func isAnnotation(_ id: Int32) -> Bool { id >= 0 && Int(id) < annotations.count && annotations[Int(id)] }

    private mutating func grow() {
        let size = slots.count * 2
        var table = [Int32](repeating: -1, count: size)
        let mask = size - 1
        for (k, e) in keys.enumerated() {
            var slot = Int(truncatingIfNeeded: e.hash) & mask
            while table[slot] >= 0 { slot = (slot &+ 1) & mask }
            table[slot] = Int32(clamping: k)
        }
        slots = table
    }
}
