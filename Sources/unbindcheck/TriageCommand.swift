import ArgumentParser
import Facts
import Indexing
import Analysis
import Findings
import Checks
import Reporting
import Pipeline

/// `unbindcheck triage LOG --tree PATH`.
struct TriageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "triage",
        abstract: "Map a kernel oops, refcount warning or KASAN report to the findings that explain it.")

    @Argument(help: "The kernel log (dmesg, console capture, bug report text).") var log: String
    @Option(name: .long, help: "The kernel tree the log comes from, or a directory or file inside it (the whole tree is read; findings under this path are ranked).") var tree: String
    @Option(name: .long, help: "Output format.") var format: ListingFormat = .text
    @Option(name: .shortAndLong, help: "Write to FILE instead of stdout.") var output: String?
    @Option(name: .long, help: "How many matches to show.") var limit: Int = 5
    @OptionGroup var options: TreeOptions

    /// The log is read and recognised before the (long) analysis of the tree.
    func validate() throws {
        _ = try Self.load(log)
    }

    static func load(_ path: String) throws -> CrashLog {
        let (data, error) = readWholeFile(path)
        guard let bytes = data else { throw ValidationError("cannot read log \(path): \(error ?? "unreadable")") }
        guard let crash = CrashLog(kernelLog: bytes) else {
            throw ValidationError("this is not a kernel log: \(path) has no oops, WARNING, refcount_t or KASAN report and no call trace (function+0x…/0x… frames); expected dmesg, a console capture or a bug report quoting one")
        }
        return crash
    }

    func run() throws {
        let crash = try Self.load(log)
        let (logBytes, _) = readWholeFile(log)
        let logHash = (logBytes ?? []).withUnsafeBytes { ContentHash(of: $0) }
        try options.cachedOutput([tree], key: ["triage", format.rawValue, String(limit), logHash.hex], output: output) { session in
            let ctx = session.context
            session.phase("running checks")
            let findings = Analyzer.findings(ctx).filter { session.scope.contains($0.file) }
            session.endProgress()
            let matches = Triage.rank(log: crash, findings: findings, context: ctx, limit: limit)
            return CachedOutput(text: render(crash, matches), status: matches.isEmpty ? 1 : 0)
        }
    }

    func render(_ crash: CrashLog, _ matches: [TriageMatch]) -> String {
        if format == .json {
            return (JSONValue.object([
                ("log", .object([("kinds", .array(crash.kinds.map { .string($0.rawValue) })), ("title", .string(crash.title)),
                                 ("location", .string(crash.location)), ("frames", .array(crash.frames.map { .string($0.function) }))])),
                ("matches", .array(matches.map { m in .object([("score", .int(m.score)), ("reasons", .array(m.reasons.map { .string($0) })),
                                                              ("finding", JSONReporter.findingJSON(m.finding))]) })),
            ]).serialized())
        } else {
            var out = "log: \(crash.kinds.map(\.rawValue).joined(separator: ", "))\(crash.title.isEmpty ? "" : " — " + sanitizeForText(crash.title))\n"
            out += "frames: \(crash.frames.filter(\.reliable).prefix(12).map(\.function).joined(separator: " ← "))\n"
            if matches.isEmpty { out += "no finding explains this log\n" }
            for (k, m) in matches.enumerated() {
                out += "\n#\(k + 1) (score \(m.score)) " + TextReporter().render(Report(root: "", findings: [m.finding],
                    stats: ScanStats(files: 0, bytes: 0, structs: 0, functions: 0, seconds: 0, allocations: 0, devmAllocations: 0, untypedDevmAllocations: 0),
                    suppressed: 0, includeTimings: false))
                for r in m.reasons { out += "    because \(sanitizeForText(r))\n" }
            }
            return out
        }
    }
}
