import ArgumentParser
import UnbindCheck
#if canImport(Glibc)
import Glibc
#endif

/// `unbindcheck scan PATH...`: all checks, gcc-style/JSON/SARIF/HTML output.
struct ScanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan",
        abstract: "Run every check over a tree and report lifetime hazards.",
        discussion: "Exit status: 0 no finding at or above --fail-on, 1 findings, 2 error.")

    @Argument(help: "Kernel tree, directories or files to scan.")
    var paths: [String]

    @Option(name: .long, help: "text (gcc-style), json, sarif or html.")
    var format: OutputFormat = .text

    @Option(name: .shortAndLong, help: "Write the report to FILE (for html, a directory gets index.html).")
    var output: String?

    @Option(name: .long, help: "Also write every format into DIR from the same analysis: report.txt, report.json, report.sarif, index.html.")
    var reports: String?

    @Option(name: .long, help: "Hide findings listed in FILE (a previous JSON report or one fingerprint per line).")
    var baseline: String?

    @Option(name: .customLong("fail-on"), help: "Lowest severity that makes the exit status 1: error, warning or note.")
    var failOn: String = "warning"

    @Option(name: .long, help: ArgumentHelp("Run only these checks (comma-separated ids).", valueName: "IDS"))
    var checks: String?

    @Flag(name: .long, help: "Print the time of each analysis pass on stderr.")
    var verbose = false

    @OptionGroup var tree: TreeOptions

    func validate() throws {
        guard Severity(rawValue: failOn) != nil else { throw ValidationError("--fail-on must be error, warning or note") }
        if let ids = checks {
            let known = Set(allChecks.map { type(of: $0).description.id })
            for id in ids.split(separator: ",") where !known.contains(String(id)) {
                throw ValidationError("unknown check '\(id)'; known: \(known.sorted().joined(separator: ", "))")
            }
        }
    }

    func run() throws {
        let start = monotonicSeconds()
        let (run, context) = try tree.analyse(paths)
        var selected = allChecks
        if let ids = checks { let want = Set(ids.split(separator: ",").map(String.init)); selected = allChecks.filter { want.contains(type(of: $0).description.id) } }
        var findings = Analyzer.findings(context, checks: selected)
        var suppressed = 0
        if let path = baseline {
            guard let text = readTextFile(path) else { note("unbindcheck: cannot read baseline \(path)"); throw ExitCode(2) }
            (findings, suppressed) = Baseline(text: text).filter(findings)
        }
        let seconds = monotonicSeconds() - start
        let stats = ScanStats(index: run.index, context: context, seconds: seconds)
        let report = Report(root: run.index.root, findings: findings, stats: stats, suppressed: suppressed, includeTimings: tree.timings)
        var target = output
        if format == .html, let o = output, isDirectory(o) || o.hasSuffix("/") {
            _ = mkdir(o, 0o755)
            target = (o.hasSuffix("/") ? o : o + "/") + "index.html"
        }
        // With --reports alone, the reports are the output.
        if reports == nil || output != nil {
            try emit(reporter(for: format.rawValue).render(report), to: target)
        }
        if let dir = reports {
            _ = mkdir(dir, 0o755)
            guard isDirectory(dir) else { throw ValidationError("cannot create directory \(dir)") }
            for (name, fmt) in [("report.txt", "text"), ("report.json", "json"), ("report.sarif", "sarif"), ("index.html", "html")] {
                try emit(reporter(for: fmt).render(report), to: dir + "/" + name)
            }
        }
        if verbose {
            note(String(format2(run.parseSeconds)) + " s  parse and index")
            for (name, t) in context.passTimes { note(String(format2(t)) + " s  " + name) }
        }
        if !tree.quiet {
            let errors = findings.filter { $0.severity == .error }.count
            let warnings = findings.filter { $0.severity == .warning }.count
            note("unbindcheck: \(run.index.files.count) files, \(errors) errors, \(warnings) warnings\(suppressed > 0 ? ", \(suppressed) suppressed" : "") in \(format2(seconds)) s\(target.map { "; report: \($0)" } ?? "")\(reports.map { "; reports in \($0)" } ?? "")")
        }
        let threshold = Severity(rawValue: failOn) ?? .warning
        if findings.contains(where: { $0.severity >= threshold }) { throw ExitCode(1) }
    }
}

func isDirectory(_ p: String) -> Bool { SourceTree.isDirectory(p) }

/// A text file for the CLI (baselines, logs); nil when it cannot be read.
func readTextFile(_ path: String) -> String? {
    readWholeFile(path).0.map { String(decoding: $0, as: UTF8.self) }
}
