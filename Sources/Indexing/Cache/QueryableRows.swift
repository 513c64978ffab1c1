import Facts

/// One content's rows of the queryable views (`struct_def`, `struct_member`, `call_site`),
/// as the JSON arrays (UTF-8 text) `content_rows` stores: SQLite stores one row per content
/// far faster than a row per struct, member and call (6.12 has about 950,000: 766,000
/// members, 115,000 structs, 69,000 calls), and `json_each` lists them back.
struct QueryableRows {
    /// `[[name, is_union, line], …]`
    private(set) var structs = JSONRows()
    /// `[[struct, member, type_kind, type, embedded, line], …]`
    private(set) var members = JSONRows()
    /// `[[function, callee, kind, line, column, argument], …]`: the calls `callKind` names.
    private(set) var calls = JSONRows()

    init(_ facts: FileFacts) {
        // Read in place: a copied declaration or call retains every string and array it holds.
        for a in facts.aggregates.indices {
            let name = facts.aggregates[a].name
            structs.row(name, facts.aggregates[a].isUnion ? 1 : 0, Int(facts.aggregates[a].line))
            let fields = facts.aggregates[a].fields
            for m in fields.indices {
                members.row(name, fields[m].name, FactStore.kindName(fields[m].type.kind), fields[m].type.name,
                            fields[m].type.isEmbedded ? 1 : 0, Int(fields[m].line))
            }
        }
        for f in facts.functions.indices {
            // One view of the calls a function (not one per call); most calls get no row.
            let sites = facts.functions[f].calls
            for k in sites.indices {
                guard let kind = FactStore.callKind(sites[k].callee) else { continue }
                let fn = facts.functions[f]
                let call = sites[k]
                calls.row(fn.name, call.callee, kind, Int(call.line), Int(call.column),
                          fn.exprs.arguments(call.node).first.map { fn.exprs.render($0) } ?? "")
            }
        }
        structs.close(); members.close(); calls.close()
    }
}

/// A JSON array of rows written as UTF-8 bytes, each row an array of strings and integers.
struct JSONRows {
    private(set) var bytes: [UInt8] = [UInt8(ascii: "[")]

    /// Ends the array.
    mutating func close() { bytes.append(UInt8(ascii: "]")) }

    mutating func row(_ a: String, _ n: Int, _ m: Int) {
        open(); string(a); int(n); int(m); end()
    }

    mutating func row(_ a: String, _ b: String, _ c: String, _ d: String, _ n: Int, _ m: Int) {
        open(); string(a); comma(); string(b); comma(); string(c); comma(); string(d); int(n); int(m); end()
    }

    mutating func row(_ a: String, _ b: String, _ c: String, _ n: Int, _ m: Int, _ last: String) {
        open(); string(a); comma(); string(b); comma(); string(c); int(n); int(m); comma(); string(last); end()
    }

    private mutating func open() {
        if bytes.count > 1 { bytes.append(UInt8(ascii: ",")) }
        bytes.append(UInt8(ascii: "["))
    }

    private mutating func end() { bytes.append(UInt8(ascii: "]")) }
    private mutating func comma() { bytes.append(UInt8(ascii: ",")) }

    /// A string, quoted; escaped by `JSONText` unless it needs no escape (every identifier).
    private mutating func string(_ s: String) {
        var s = s
        let plain = s.withUTF8 { p -> Bool in
            guard JSONText.isPlain(p) else { return false }
            bytes.append(34); bytes.append(contentsOf: p); bytes.append(34)
            return true
        }
        if !plain {
            var escaped = ""
            JSONText.escape(s, into: &escaped)
            bytes.append(contentsOf: escaped.utf8)
        }
    }

    /// A comma and an integer's decimal digits (lines and columns: never negative here,
    /// but a negative one is written with its sign).
    private mutating func int(_ n: Int) {
        bytes.append(UInt8(ascii: ","))
        if n < 0 { bytes.append(UInt8(ascii: "-")) }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        var v = n.magnitude
        withUnsafeMutableBytes(of: &digits) { buf in
            var k = buf.count
            repeat { k -= 1; buf[k] = UInt8(ascii: "0") + UInt8(v % 10); v /= 10 } while v > 0
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: buf[k...]))
        }
    }
}

/// The values of the queryable tables' columns: a field type's kind and a call's kind.
extension FactStore {
    static func kindName(_ k: TypeRef.Kind) -> String {
        switch k {
        case .structType: "struct"
        case .unionType: "union"
        case .enumType: "enum"
        case .named: "named"
        case .builtin: "builtin"
        case .unknown: "unknown"
        }
    }

    /// Calls worth a queryable row: device-managed allocations, registrations and
    /// unregistrations, and the driver core's lifetime calls.
    static func callKind(_ callee: String) -> String? {
        if callee.isEmpty { return nil }
        var name = callee
        return name.withUTF8 { s -> String? in
            if spells(s, "devm_", at: 0) && (contains(s, "alloc") || spells(s, "kmemdup", at: s.count - 7)) { return "devm-alloc" }
            if DriverCoreCalls.mayName(s) && DriverCoreCalls.names.contains(callee) { return "driver-core" }
            // Every "unregister" holds "register": most names, which hold neither, take one search.
            guard contains(s, "register") else { return nil }
            return contains(s, "unregister") ? "unregister" : "register"
        }
    }

    /// Whether the bytes of `s` hold `needle`.
    private static func contains(_ s: UnsafeBufferPointer<UInt8>, _ needle: StaticString) -> Bool {
        ByteSearch.contains(UnsafeRawBufferPointer(s), UnsafeRawBufferPointer(start: needle.utf8Start, count: needle.utf8CodeUnitCount))
    }

    /// Whether `needle` is spelled in `s` at byte offset `k`.
    private static func spells(_ s: UnsafeBufferPointer<UInt8>, _ needle: StaticString, at k: Int) -> Bool {
        let n = needle.utf8CodeUnitCount
        guard k >= 0, k + n <= s.count else { return false }
        let p = needle.utf8Start
        for j in 0..<n where s[k + j] != p[j] { return false }
        return true
    }
}

/// The driver core's lifetime calls recorded in `call_site` (kind `driver-core`).
enum DriverCoreCalls {
    /// A cheap test that rules out most other names before `names` hashes them: every
    /// name is 7 to 21 bytes long and starts with `de`, `cd`, `ko`, `kr`, `pu` or `ge`
    /// (most callees start with neither: `dev_`, `dma_`, `kfree`, `platform_`, …).
    static func mayName(_ s: UnsafeBufferPointer<UInt8>) -> Bool {
        guard s.count >= 7, s.count <= 21 else { return false }
        switch (s[0], s[1]) {
        case (UInt8(ascii: "d"), UInt8(ascii: "e")), (UInt8(ascii: "c"), UInt8(ascii: "d")),
             (UInt8(ascii: "k"), UInt8(ascii: "o")), (UInt8(ascii: "k"), UInt8(ascii: "r")),
             (UInt8(ascii: "p"), UInt8(ascii: "u")), (UInt8(ascii: "g"), UInt8(ascii: "e")): return true
        default: return false
        }
    }

    static let names: Set<String> = [
        "device_add", "device_register", "device_initialize", "device_del", "device_unregister", "put_device", "get_device",
        "cdev_add", "cdev_device_add", "cdev_del", "cdev_device_del", "cdev_init",
        "kobject_add", "kobject_init_and_add", "kobject_init", "kobject_put", "kobject_del",
        "kref_init", "kref_get", "kref_put",
    ]
}
