import ArgumentParser
import Facts
import Indexing
import Analysis
import Findings
import Checks
import Reporting
import Pipeline

/// `unbindcheck baseline …`: known findings, by fingerprint.
struct BaselineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "baseline",
        abstract: "Record the current findings as a baseline for `scan --baseline`.",
        subcommands: [BaselineCreateCommand.self])
}

/// `unbindcheck baseline create PATH -o FILE`.
struct BaselineCreateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Write the current findings under PATH as a baseline (a JSON report or a fingerprint list).",
        discussion: "Exit status: 0 when the baseline was written (whatever it holds), 2 usage or input error.")

    /// What `baseline create` writes.
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case json, fingerprints
    }

    @Argument(help: "Kernel tree, directories or .c/.h files (as for scan).")
    var paths: [String]

    @Option(name: .shortAndLong, help: "Write the baseline to FILE instead of stdout.")
    var output: String?

    @Option(name: .long, help: "json (a scan report) or fingerprints (one per line).")
    var format: Format = .json

    @OptionGroup var tree: TreeOptions

    func run() throws {
        let session = try tree.analyse(paths)
        session.phase("running checks")
        let findings = ReportFilter(scope: session.scope).apply(Analyzer.findings(session.context))
        session.endProgress()
        var stats = ScanStats(index: session.run.index, context: session.context, seconds: 0)
        if session.scope.prefixes != nil { stats.filesInScope = session.filesInScope }
        let root = session.run.index.root
        let text = format == .json
            ? JSONReporter().render(Report(root: root, findings: findings, stats: stats, suppressed: 0, includeTimings: false))
            : Baseline.fingerprintList(findings, root: root)
        try emit(text, to: output)
        if !tree.quiet {
            note("unbindcheck: baseline of \(findings.count) finding\(findings.count == 1 ? "" : "s") (\(session.filesPhrase))\(output.map { " written to \($0)" } ?? "")")
        }
    }
}
