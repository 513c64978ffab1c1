import Testing
@testable import Facts
@testable import CFrontend

/// The byte-keyed name table must give exactly the ids a `[String: Int32]` dictionary gave.
@Suite struct NamesTests {
    /// Ids as the old dictionary-based table assigned them.
    static func dictionaryIDs(_ words: [String]) -> [Int32] {
        var strings = Keyword.spellings
        var ids = Dictionary(uniqueKeysWithValues: Keyword.spellings.enumerated().map { ($1, Int32($0)) })
        return words.map { w in
            if let id = ids[w] { return id }
            let id = Int32(strings.count)
            strings.append(w)
            ids[w] = id
            return id
        }
    }

    @Test func keywordsKeepTheirIdsAndCount() {
        let names = Names()
        #expect(Keyword.count == Int32(Keyword.allCases.count))
        for k in Keyword.allCases { #expect(names[k.rawValue] == Keyword.spellings[Int(k.rawValue)]) }
        #expect(names.lookup("struct") == Keyword.kStruct.rawValue)
        #expect(names.lookup("no_such_name") == nil)
    }

    @Test func idsMatchADictionaryIncludingCanonicalEquivalence() {
        // NFC and NFD spellings of "é", the Kelvin sign and "K": equal as Swift strings.
        let words = ["dev", "\"caf\u{E9}\"", "probe", "dev", "\"cafe\u{301}\"", "\"\u{212A}\"", "\"K\"",
                     "static", "x", "\"K\"", "y", "\"\u{212A}\"", "probe"]
        var names = Names()
        let got = words.map { names.intern($0) }
        #expect(got == NamesTests.dictionaryIDs(words))
        #expect(names.lookup("\"cafe\u{301}\"") == got[1])
        // Byte keys intern as their decoded string, invalid UTF-8 included.
        var bytes = Names()
        let raw: [[UInt8]] = [[0x64, 0x65, 0x76], [0xFF, 0x41], [0xFE, 0x41], [0x64, 0x65, 0x76]]
        let ids = raw.map { r in r.withUnsafeBufferPointer { bytes.intern($0) } }
        #expect(ids == NamesTests.dictionaryIDs(raw.map { String(decoding: $0, as: UTF8.self) }))
    }

    @Test func manyNamesSurviveGrowth() {
        var names = Names()
        let words = (0..<5000).map { "name_\($0 % 3000)" }
        let got = words.map { names.intern($0) }
        #expect(got == NamesTests.dictionaryIDs(words))
    }

    @Test func annotationsAreFlaggedByTheirIds() {
        var names = Names()
        let initID = names.intern("__init")
        let plain = names.intern("probe")
        let iomem = names.intern("__iomem")
        #expect(names.isAnnotation(initID))
        #expect(names.isAnnotation(iomem))
        #expect(!names.isAnnotation(plain))
        #expect(!names.isAnnotation(-1))
        #expect(!names.isAnnotation(1_000_000))
    }

    /// A spelling hashes the same wherever its bytes lie (the hash reads eight bytes at a
    /// time and the last ones through an overlapping load), and only its bytes count.
    @Test func hashDependsOnTheSpellingOnly() {
        for length in 0...24 {
            let word = (0..<length).map { UInt8(97 + ($0 * 7) % 26) }
            let alone = word.withUnsafeBufferPointer { Names.hash($0) }
            for pad in 0..<9 {
                for filler: UInt8 in [0, 0x5A, 0xFF] {
                    let buffer = [UInt8](repeating: filler, count: pad) + word + [UInt8](repeating: filler, count: 9)
                    let inside = buffer.withUnsafeBufferPointer { Names.hash(UnsafeBufferPointer(rebasing: $0[pad..<(pad + length)])) }
                    #expect(inside == alone, "length \(length), offset \(pad), filler \(filler)")
                }
            }
        }
        // Spellings that differ in one byte, or only in length, hash apart (over a small set).
        let spellings = ["a", "b", "ab", "ba", "abcdefgh", "abcdefgi", "abcdefghi", "abcdefghij", "abcdefgh\u{0}", "dev", "devm_kzalloc", "devm_kcalloc"]
        var hashes = Set<UInt32>()
        for w in spellings { var s = w; hashes.insert(s.withUTF8 { Names.hash($0) }) }
        #expect(hashes.count == spellings.count)
    }
}
