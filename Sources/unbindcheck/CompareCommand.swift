import ArgumentParser
import Facts
import Indexing
import Analysis
import Findings
import Checks
import Reporting
import Pipeline

/// `unbindcheck compare OLD NEW`: findings fixed, introduced and persisting between two
/// trees or two JSON reports.
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare two versions: findings fixed, introduced and persisting, by subsystem and directory.",
        discussion: """
            OLD and NEW are kernel trees (each is scanned, one after the other) or JSON reports of \
            `unbindcheck scan --format json`. Findings are matched by fingerprint, then without the \
            file (renamed files), then by check, function, struct and object.
            Exit status: 0 when the comparison was written, 2 usage or input error.
            """)

    /// What `compare` writes.
    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json, html }

    @Argument(help: "The old tree or JSON report.") var old: String
    @Argument(help: "The new tree or JSON report.") var new: String
    @Option(name: .long, help: "text, json or html (one self-contained page).") var format: Format = .text
    @Option(name: .shortAndLong, help: "Write the comparison to FILE instead of stdout.") var output: String?
    @OptionGroup var tree: TreeOptions

    /// The findings of a tree (scanned) or a JSON report (read).
    func findings(_ path: String) throws -> [ComparedFinding] {
        if isDirectory(path) {
            let session = try tree.analyse([path])
            session.phase("running checks")
            let all = ReportFilter(scope: session.scope).apply(Analyzer.findings(session.context))
            session.endProgress()
            if !tree.quiet { note("unbindcheck: \(path): \(session.filesPhrase), \(all.count) findings") }
            return all.map(ComparedFinding.init)
        }
        let (data, error) = readWholeFile(path)
        guard let bytes = data else { throw ValidationError("cannot read \(path): \(error ?? "unreadable")") }
        do { return try Comparison.findings(inReport: bytes) } catch {
            throw ValidationError("\(path) is neither a directory nor a JSON report of `unbindcheck scan --format json`")
        }
    }

    func run() throws {
        // One tree at a time: the first analysis is gone before the second starts.
        let before = try findings(old)
        let after = try findings(new)
        let c = Comparison(old: before, new: after)
        let text: String
        switch format {
        case .json: text = c.json(old: old, new: new)
        case .html: text = c.html(old: old, new: new)
        case .text: text = c.text(old: old, new: new)
        }
        try emit(text, to: output)
    }
}
