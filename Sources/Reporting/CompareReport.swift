import Facts
import Indexing
import Analysis
import Findings
import Checks

/// The text and JSON renderings of `compare`.
extension Comparison {
    /// The text report: totals, by subsystem, by directory, then the findings fixed and introduced.
    public func text(old: String, new: String, limit: Int = 25) -> String {
        let moved = persisting.filter { $0.old.file != $0.new.file }.count
        var out = "unbindcheck compare: \(sanitizeForText(old)) → \(sanitizeForText(new)): \(fixed.count) fixed, \(introduced.count) introduced, \(persisting.count) persisting (\(moved) in renamed files)\n"
        for (title, rows) in [("by subsystem", counts { $0.subsystem }), ("by directory", counts { $0.area })] {
            out += "\n\(title) (fixed / introduced / persisting):\n"
            for (name, f, i, p) in rows.prefix(limit) { out += "  \(sanitizeForText(name)): \(f) / \(i) / \(p)\n" }
            if rows.count > limit { out += "  … \(rows.count - limit) more\n" }
        }
        for (title, list) in [("fixed", fixed), ("introduced", introduced)] {
            out += "\n\(title):\n"
            for (sub, group) in Dictionary(grouping: list, by: \.subsystem).sorted(by: { $0.key < $1.key }) {
                out += "  \(sanitizeForText(sub)):\n"
                for f in group.sorted(by: { ($0.file, $0.line) < ($1.file, $1.line) }) {
                    out += "    \(sanitizeForText(f.file)):\(f.line): \(f.severity): \(sanitizeForText(f.message)) [\(f.check)]\n"
                }
            }
        }
        return out
    }

    /// The JSON report.
    public func json(old: String, new: String) -> String {
        func item(_ f: ComparedFinding) -> JSONValue {
            .object([("check", .string(f.check)), ("severity", .string(f.severity)), ("file", .string(f.file)), ("line", .int(f.line)),
                     ("function", .string(f.function)), ("struct", .string(f.structName)), ("object", .string(f.object)),
                     ("subsystem", .string(f.subsystem)), ("message", .string(f.message)), ("fingerprint", .string(f.fingerprint))])
        }
        func table(_ rows: [(String, Int, Int, Int)], _ key: String) -> JSONValue {
            .array(rows.map { .object([(key, .string($0.0)), ("fixed", .int($0.1)), ("introduced", .int($0.2)), ("persisting", .int($0.3))]) })
        }
        return JSONValue.object([
            ("tool", .object([("name", .string(UnbindCheckVersion.name)), ("version", .string(UnbindCheckVersion.string))])),
            ("old", .string(old)), ("new", .string(new)),
            ("summary", .object([("fixed", .int(fixed.count)), ("introduced", .int(introduced.count)), ("persisting", .int(persisting.count)),
                                 ("moved", .int(persisting.filter { $0.old.file != $0.new.file }.count))])),
            ("by_subsystem", table(counts { $0.subsystem }, "subsystem")),
            ("by_directory", table(counts { $0.area }, "directory")),
            ("fixed", .array(fixed.map(item))),
            ("introduced", .array(introduced.map(item))),
            ("persisting", .array(persisting.map { p in
                .object([("old_file", .string(p.old.file)), ("old_line", .int(p.old.line)), ("old_fingerprint", .string(p.old.fingerprint)),
                         ("new", item(p.new))])
            })),
        ]).serialized()
    }
}
