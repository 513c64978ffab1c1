import Facts
import CFrontend
import Indexing
import Analysis
import Findings
import Checks
import Reporting

/// The files a patch touches, for `scan --diff` and `scan --since`.
public enum PatchFiles {
    /// Paths named by `+++ b/PATH` lines (and `--- a/PATH` for deleted files) of a unified
    /// diff or `git format-patch` output, without the `a/`/`b/` prefix; sorted, unique.
    public static func paths(inDiff text: String) -> [String] {
        var out = Set<String>()
        var lastMinus: String?
        for line in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            if line.hasPrefix("--- ") {
                lastMinus = name(line.dropFirst(4))
            } else if line.hasPrefix("+++ ") {
                if let n = name(line.dropFirst(4)) { out.insert(n) } else if let m = lastMinus { out.insert(m) }
                lastMinus = nil
            }
        }
        return out.sorted()
    }

    /// `b/drivers/x.c\t2024-01-01 …` → `drivers/x.c`; `/dev/null` → nil.
    static func name(_ field: Substring) -> String? {
        var s = field
        if let tab = s.firstIndex(of: "\t") { s = s[..<tab] }
        if s.hasPrefix("\""), s.hasSuffix("\""), s.count >= 2 { s = s.dropFirst().dropLast() }
        while s.hasSuffix(" ") { s = s.dropLast() }
        if s == "/dev/null" || s.isEmpty { return nil }
        if s.hasPrefix("a/") || s.hasPrefix("b/") { s = s.dropFirst(2) }
        return String(s)
    }

    /// Canonical absolute paths under `root` made relative to it; the others are dropped.
    public static func relative(_ absolute: [String], to root: String) -> Set<String> {
        guard let realRoot = ScanScope.realPath(root) else { return [] }
        let prefix = realRoot == "/" ? "/" : realRoot + "/"
        return Set(absolute.filter { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) })
    }
}
