import Facts
import Indexing

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Known findings to keep out of new reports, identified by fingerprint (no line numbers,
/// so unrelated edits do not resurrect them).
public struct Baseline: Sendable, Equatable {
    public let fingerprints: Set<String>

    /// What a baseline file was recognised as.
    public enum Kind: String, Sendable { case jsonReport = "JSON report", fingerprintList = "fingerprint list" }
    public let kind: Kind

    /// Why a file is not a baseline.
    public struct Invalid: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// What a baseline may be, for error messages.
    public static let expected = "expected a JSON report (`unbindcheck scan --format json`, pretty or compact) or a list of fingerprints, one per line (`check|file|function|struct|object|key`, `#` comments allowed), as written by `unbindcheck baseline create`"

    public init(fingerprints: Set<String>, kind: Kind = .fingerprintList) {
        self.fingerprints = fingerprints
        self.kind = kind
    }

    /// Parses a baseline, recognised by its content: a JSON object is read as a report
    /// (it must have `findings`, each with a `fingerprint`), anything else as a list of
    /// fingerprints. Empty files, other JSON (SARIF) and other text are rejected.
    public init(parsing bytes: [UInt8]) throws(Invalid) {
        guard !bytes.contains(0) else { throw Invalid(description: "binary file; " + Baseline.expected) }
        let text = String(decoding: bytes, as: UTF8.self)
        let trimmed = text.drop { $0.isWhitespace }
        guard let first = trimmed.first else { throw Invalid(description: "empty file; " + Baseline.expected) }
        if first == "{" || first == "[" {
            self = try Baseline.parseJSON(Array(bytes))
        } else {
            self = try Baseline.parseList(text)
        }
    }

    /// Convenience for text already in memory.
    public init(parsing text: String) throws(Invalid) {
        try self.init(parsing: Array(text.utf8))
    }

    private struct ReportFile: Decodable {
        struct Entry: Decodable { var fingerprint: String }
        var findings: [Entry]
    }

    private struct AnyValue: Decodable {
        init(from decoder: any Decoder) throws {}
    }

    static func parseJSON(_ bytes: [UInt8]) throws(Invalid) -> Baseline {
        let data = Data(bytes)
        let keys: [String: AnyValue]
        do {
            keys = try JSONDecoder().decode([String: AnyValue].self, from: data)
        } catch {
            throw Invalid(description: "not a JSON object (\(Baseline.reason(error))); " + Baseline.expected)
        }
        if keys["runs"] != nil || keys["$schema"] != nil {
            throw Invalid(description: "this is a SARIF file, which carries no unbindcheck fingerprints; " + Baseline.expected)
        }
        guard keys["findings"] != nil else {
            throw Invalid(description: "a JSON object without \"findings\"; " + Baseline.expected)
        }
        do {
            let report = try JSONDecoder().decode(ReportFile.self, from: data)
            return Baseline(fingerprints: Set(report.findings.map(\.fingerprint)), kind: .jsonReport)
        } catch {
            throw Invalid(description: "\"findings\" is not a list of findings with fingerprints (\(Baseline.reason(error))); " + Baseline.expected)
        }
    }

    static func reason(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): return "missing \"\(key.stringValue)\""
        case DecodingError.typeMismatch(_, let c): return "wrong type at \(c.codingPath.map(\.stringValue).joined(separator: "."))"
        case DecodingError.valueNotFound(_, let c): return "null at \(c.codingPath.map(\.stringValue).joined(separator: "."))"
        case DecodingError.dataCorrupted: return "invalid JSON"
        default: return "invalid JSON"
        }
    }

    /// Whether a line has the shape of a fingerprint: six `|`-separated fields (five in
    /// baselines written before issue 12), the first a check id (lowercase letters and
    /// dashes), the second a path.
    static func looksLikeFingerprint(_ line: Substring) -> Bool {
        let fields = line.split(separator: "|", omittingEmptySubsequences: false)
        guard fields.count == 5 || fields.count == 6, let check = fields.first, !check.isEmpty, !fields[1].isEmpty else { return false }
        return check.allSatisfy { ($0 >= "a" && $0 <= "z") || $0 == "-" }
    }

    static func parseList(_ text: String) throws(Invalid) -> Baseline {
        var set = Set<String>()
        // "\r\n" is one Character in Swift: split on both.
        for (n, line) in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).enumerated() {
            if line.allSatisfy(\.isWhitespace) || line.hasPrefix("#") { continue }
            guard looksLikeFingerprint(line) else {
                let shown = line.prefix(60)
                throw Invalid(description: "line \(n + 1) is not a fingerprint: '\(sanitizeForText(String(shown)))'; " + Baseline.expected)
            }
            set.insert(String(line))
        }
        return Baseline(fingerprints: set, kind: .fingerprintList)
    }

    /// Whether an entry names `f`: its fingerprint, or (an entry written before fingerprints
    /// had their sixth field) its first five fields.
    public func matches(_ f: Finding) -> Bool {
        fingerprints.contains(f.fingerprint) || fingerprints.contains(f.baseFingerprint)
    }

    /// Splits findings into new ones and the number suppressed.
    public func filter(_ findings: [Finding]) -> ([Finding], Int) {
        let kept = findings.filter { !matches($0) }
        return (kept, findings.count - kept.count)
    }

    /// Baseline entries in `scope` that match no current finding: fixed since the baseline.
    public func resolved(current: [Finding], scope: ScanScope) -> [String] {
        let live = Set(current.map(\.fingerprint) + current.map(\.baseFingerprint))
        return fingerprints.filter { fp in
            guard !live.contains(fp) else { return false }
            let fields = fp.split(separator: "|", omittingEmptySubsequences: false)
            return fields.count < 2 || scope.contains(String(fields[1]))
        }.sorted()
    }

    /// The fingerprint-list form of a baseline for `findings` (`baseline create`).
    public static func fingerprintList(_ findings: [Finding], root: String) -> String {
        var out = "# unbindcheck baseline: \(findings.count) finding\(findings.count == 1 ? "" : "s") in \(root)\n"
        out += "# check|file|function|struct|object|key\n"
        for fp in Set(findings.map(\.fingerprint)).sorted() { out += fp + "\n" }
        return out
    }
}
