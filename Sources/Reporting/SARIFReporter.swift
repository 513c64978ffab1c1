import Facts
import Indexing
import Analysis
import Findings
import Checks

/// SARIF 2.1.0 for CI code scanning: one rule per check with help and a `helpUri`, the
/// evidence chain as a `codeFlows` thread flow (notes in order, then the finding), the notes
/// also as related locations, the fix in the message and `properties.fix`, and
/// `partialFingerprints` from the finding's fingerprint (unique, no line numbers).
public struct SARIFReporter: Reporter {
    public init() {}

    static func location(_ file: String, _ line: Int32, _ col: Int32, message: String? = nil) -> [(String, JSONValue)] {
        var o: [(String, JSONValue)] = [("physicalLocation", .object([
            ("artifactLocation", .object([("uri", .string(SARIFReporter.uri(file))), ("uriBaseId", .string("SRCROOT"))])),
            ("region", .object([("startLine", .int(Int(max(1, line)))), ("startColumn", .int(Int(max(1, col))))])),
        ]))]
        if let message { o.append(("message", .object([("text", .string(message))]))) }
        return o
    }

    static func rule(_ d: CheckDescription) -> JSONValue {
        let help = RuleHelp.of(d.id)
        return .object([
            ("id", .string(d.id)),
            ("name", .string(d.id.split(separator: "-").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined())),
            ("shortDescription", .object([("text", .string(d.summary))])),
            ("fullDescription", .object([("text", .string(d.rationale))])),
            ("helpUri", .string(UnbindCheckVersion.checkDocumentationURL(d.id))),
            ("help", .object([("text", .string(help.text(rationale: d.rationale))), ("markdown", .string(help.markdown(rationale: d.rationale)))])),
            ("defaultConfiguration", .object([("level", .string(d.severity.sarifLevel))])),
            ("properties", .object([("confidence", .string(d.confidence)), ("tags", .array([.string("lifetime"), .string("linux-kernel")]))])),
        ])
    }

    static func result(_ f: Finding, ruleIndex: Int) -> JSONValue {
        var related: [JSONValue] = []
        for (k, n) in f.notes.enumerated() {
            related.append(.object([("id", .int(k + 1))] + location(n.file, n.line, n.column, message: n.message)))
        }
        // The evidence chain, in order, ending at the finding: what code-scanning UIs show as a path.
        var steps: [JSONValue] = f.notes.map { n in
            .object([("location", .object(location(n.file, n.line, n.column, message: n.message))), ("kinds", .array([.string(n.kind.rawValue)])),
                     ("importance", .string("important"))])
        }
        steps.append(.object([("location", .object(location(f.file, f.line, f.column, message: f.message))), ("importance", .string("essential"))]))
        var props: [(String, JSONValue)] = [
            ("struct", .string(f.structName)), ("chain", .array(f.chain.map { .string($0) })),
            ("object", .string(f.object)), ("protection", .string(f.protection)), ("function", .string(f.function)),
            ("fix", .string(f.fix)), ("fingerprint", .string(f.fingerprint)),
        ]
        if !f.members.isEmpty { props.append(("members", .array(f.members.map { .string($0) }))) }
        return .object([
            ("ruleId", .string(f.check)),
            ("ruleIndex", .int(ruleIndex)),
            ("level", .string(f.severity.sarifLevel)),
            ("message", .object([("text", .string(f.fix.isEmpty ? f.message : f.message + "\nFix: " + f.fix))])),
            ("locations", .array([.object(location(f.file, f.line, f.column))])),
            ("codeFlows", .array([.object([
                ("message", .object([("text", .string("evidence chain: \(f.notes.count) step\(f.notes.count == 1 ? "" : "s") to the finding"))])),
                ("threadFlows", .array([.object([("locations", .array(steps))])])),
            ])])),
            ("relatedLocations", .array(related)),
            ("partialFingerprints", .object([("unbindcheck/v2", .string(f.fingerprint))])),
            ("properties", .object(props)),
        ])
    }

    public func render(_ report: Report) -> String {
        let checks = allChecks.map { type(of: $0).description }
        let results: [JSONValue] = report.findings.map { f in
            SARIFReporter.result(f, ruleIndex: checks.firstIndex(where: { $0.id == f.check }) ?? 0)
        }
        return JSONValue.object([
            ("$schema", .string("https://json.schemastore.org/sarif-2.1.0.json")),
            ("version", .string("2.1.0")),
            ("runs", .array([.object([
                ("tool", .object([("driver", .object([
                    ("name", .string(UnbindCheckVersion.name)), ("version", .string(UnbindCheckVersion.string)),
                    ("informationUri", .string(UnbindCheckVersion.repositoryURL)), ("rules", .array(checks.map(SARIFReporter.rule))),
                ]))])),
                ("originalUriBaseIds", .object([("SRCROOT", .object([("uri", .string(SARIFReporter.uri(report.root.hasSuffix("/") ? report.root : report.root + "/")))]))])),
                ("results", .array(results)),
            ])])),
        ]).serialized()
    }

    /// Percent-encodes a relative path for a SARIF URI.
    static func uri(_ path: String) -> String {
        var out = ""
        for b in path.utf8 {
            let c = Character(UnicodeScalar(b))
            if (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || "-._~/".contains(c) {
                out.append(c)
            } else {
                let h = String(b, radix: 16, uppercase: true)
                out += "%" + (h.count < 2 ? "0" : "") + h
            }
        }
        return out
    }
}

extension Severity {
    var sarifLevel: String { self == .note ? "note" : rawValue }
}
