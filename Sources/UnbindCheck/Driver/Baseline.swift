/// Known findings to keep out of new reports, identified by fingerprint (no line numbers,
/// so unrelated edits do not resurrect them).
public struct Baseline: Sendable {
    public let fingerprints: Set<String>

    public init(fingerprints: Set<String>) { self.fingerprints = fingerprints }

    /// Reads a baseline: a previous `--format json` report, or one fingerprint per line.
    public init(text: String) {
        var set = Set<String>()
        if text.contains("\"fingerprint\"") {
            // Our own pretty-printed JSON: one `"fingerprint": "…"` per line.
            for line in text.split(separator: "\n") {
                let t = line.drop(while: { $0 == " " })
                let key = "\"fingerprint\": \""
                guard t.hasPrefix(key) else { continue }
                var value = ""
                var escaped = false
                for ch in t.dropFirst(key.count) {
                    if escaped { value.append(ch == "n" ? "\n" : ch); escaped = false; continue }
                    if ch == "\\" { escaped = true; continue }
                    if ch == "\"" { break }
                    value.append(ch)
                }
                set.insert(value)
            }
        } else {
            for line in text.split(separator: "\n") where !line.isEmpty && !line.hasPrefix("#") { set.insert(String(line)) }
        }
        fingerprints = set
    }

    /// Splits findings into new ones and the number suppressed.
    public func filter(_ findings: [Finding]) -> ([Finding], Int) {
        let kept = findings.filter { !fingerprints.contains($0.fingerprint) }
        return (kept, findings.count - kept.count)
    }
}
