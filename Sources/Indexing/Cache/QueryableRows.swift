import Facts

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
    /// name starts with c, d, g, k or p and is 7 to 21 bytes long.
    static func mayName(_ s: UnsafeBufferPointer<UInt8>) -> Bool {
        guard s.count >= 7, s.count <= 21 else { return false }
        switch s[0] {
        case UInt8(ascii: "c"), UInt8(ascii: "d"), UInt8(ascii: "g"), UInt8(ascii: "k"), UInt8(ascii: "p"): return true
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
