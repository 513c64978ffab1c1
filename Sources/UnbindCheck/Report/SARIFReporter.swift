/// SARIF 2.1.0 for CI code-scanning: one rule per check, related locations for notes.
public struct SARIFReporter: Reporter {
    public init() {}

    public func render(_ report: Report) -> String {
        let checks = allChecks.map { type(of: $0).description }
        let rules: [JSONValue] = checks.map { d in
            .object([
                ("id", .string(d.id)),
                ("shortDescription", .object([("text", .string(d.summary))])),
                ("fullDescription", .object([("text", .string(d.rationale))])),
                ("defaultConfiguration", .object([("level", .string(d.severity.sarifLevel))])),
                ("properties", .object([("confidence", .string(d.confidence))])),
            ])
        }
        func location(_ file: String, _ line: Int32, _ col: Int32) -> JSONValue {
            .object([("physicalLocation", .object([
                ("artifactLocation", .object([("uri", .string(SARIFReporter.uri(file))), ("uriBaseId", .string("SRCROOT"))])),
                ("region", .object([("startLine", .int(Int(max(1, line)))), ("startColumn", .int(Int(max(1, col))))])),
            ]))])
        }
        let results: [JSONValue] = report.findings.map { f in
            var related: [JSONValue] = []
            for (k, n) in f.notes.enumerated() {
                guard case .object(var o) = location(n.file, n.line, n.column) else { continue }
                o.insert(("id", .int(k + 1)), at: 0)
                o.append(("message", .object([("text", .string(n.message))])))
                related.append(.object(o))
            }
            return .object([
                ("ruleId", .string(f.check)),
                ("ruleIndex", .int(checks.firstIndex(where: { $0.id == f.check }) ?? 0)),
                ("level", .string(f.severity.sarifLevel)),
                ("message", .object([("text", .string(f.message))])),
                ("locations", .array([location(f.file, f.line, f.column)])),
                ("relatedLocations", .array(related)),
                ("partialFingerprints", .object([("unbindcheck/v1", .string(f.fingerprint))])),
                ("properties", .object([("struct", .string(f.structName)), ("chain", .array(f.chain.map { .string($0) })),
                                         ("object", .string(f.object)), ("protection", .string(f.protection)), ("function", .string(f.function))])),
            ])
        }
        return JSONValue.object([
            ("$schema", .string("https://json.schemastore.org/sarif-2.1.0.json")),
            ("version", .string("2.1.0")),
            ("runs", .array([.object([
                ("tool", .object([("driver", .object([
                    ("name", .string(UnbindCheckVersion.name)), ("version", .string(UnbindCheckVersion.string)),
                    ("informationUri", .string("https://example.invalid/unbindcheck")), ("rules", .array(rules)),
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
