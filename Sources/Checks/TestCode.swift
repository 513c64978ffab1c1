import Facts
import Indexing
import Findings

/// Test code and samples: KUnit suites (files that include `<kunit/test.h>`), test modules
/// (`test_*.c`, `*_test.c`, `*-kunit.c`, …), and the trees of `samples/` and `tools/testing/`.
/// Their findings demonstrate or exercise an API rather than drive hardware a user unbinds.
enum TestCode {
    static func isTestCode(path: String, includes: [IncludeDirective]) -> Bool {
        if path.hasPrefix("samples/") || path.hasPrefix("tools/testing/") || path.contains("/kunit/") || path.contains("/tests/") { return true }
        let base = path.split(separator: "/").last.map(String.init) ?? path
        let stem = base.hasSuffix(".c") || base.hasSuffix(".h") ? String(base.dropLast(2)) : base
        if stem.hasPrefix("test_") || stem.hasPrefix("test-") || stem.hasSuffix("_test") || stem.hasSuffix("-test")
            || stem.hasSuffix("_kunit") || stem.hasSuffix("-kunit") || stem.hasSuffix("_tests") || stem.hasSuffix("-tests") { return true }
        return includes.contains { $0.path == "kunit/test.h" }
    }

    /// Flags findings located in test code; unless `keepSeverity`, they become notes.
    static func mark(_ findings: [Finding], index: TreeIndex, keepSeverity: Bool) -> [Finding] {
        var cache: [String: Bool] = [:]
        return findings.map { f in
            let test: Bool
            if let t = cache[f.file] { test = t } else {
                let includes = index.fileByPath[f.file].map { index.files[Int($0)].includes } ?? []
                test = isTestCode(path: f.file, includes: includes)
                cache[f.file] = test
            }
            guard test else { return f }
            var f = f
            f.inTestCode = true
            if !keepSeverity && f.severity > .note {
                f.severity = .note
                f.message += "; in test code or a sample, so reported as a note (--include-tests keeps its severity)"
            }
            return f
        }
    }
}
