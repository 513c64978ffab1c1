import ArgumentParser
import Facts
import Indexing
import Analysis
import Findings
import Checks
import Reporting
import Pipeline

#if canImport(Glibc)
import Glibc
#endif

/// `unbindcheck scan PATH...`: all checks, gcc-style/JSON/SARIF/HTML output.
struct ScanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan",
        abstract: "Run every check over a tree and report lifetime hazards.",
        discussion: """
            A PATH inside a kernel tree scopes the report, not the knowledge: the whole tree is \
            indexed and only findings located under the PATHs are reported, with the same paths \
            and fingerprints as a whole-tree scan.
            Exit status: 0 no finding at or above --fail-on, 1 findings, 2 usage or input error.
            """)

    @Argument(help: "Kernel tree, directories or .c/.h files to report on (default with --since/--diff: the current directory).")
    var paths: [String] = []

    @Option(name: .long, help: "Output format.")
    var format: ReportFormat = .text

    @Option(name: .shortAndLong, help: "Write the report to FILE (for html, a directory gets index.html).")
    var output: String?

    @Option(name: .long, help: "Also write every format into DIR from the same analysis: report.txt, report.json, report.sarif, index.html.")
    var reports: String?

    @Option(name: .long, help: "Hide findings listed in FILE (a JSON report, pretty or compact, or one fingerprint per line).")
    var baseline: String?

    @Option(name: .long, help: ArgumentHelp("Patch mode: only findings whose location or evidence is in a file changed since REV (git diff REV, plus untracked files).", valueName: "REV"))
    var since: String?

    @Option(name: .long, help: ArgumentHelp("Patch mode: only findings whose location or evidence is in a file the patch FILE touches (unified diff or git format-patch).", valueName: "FILE"))
    var diff: String?

    @Option(name: .customLong("fail-on"), help: "Lowest severity that makes the exit status 1.")
    var failOn: FailOn = .warning

    @Option(name: .long, help: ArgumentHelp("Run only these checks (comma-separated ids).", valueName: "IDS"))
    var checks: String?

    @Flag(name: .customLong("include-tests"), help: "Keep findings in test code and samples (KUnit tests, samples/, tools/testing/) at their severity instead of reporting them as notes.")
    var includeTests = false

    @Flag(name: .long, help: "Print the time of each analysis pass and of the checks on stderr.")
    var verbose = false

    @Flag(name: .long, help: "Run the analysis even when a result stored for the same files or facts would answer (the facts still come from the persistent index).")
    var reanalyse = false

    @OptionGroup var tree: TreeOptions

    func validate() throws {
        if paths.isEmpty && since == nil && diff == nil {
            throw ValidationError("Missing expected argument '<paths> ...': a kernel tree, a directory or .c/.h files")
        }
        if since != nil && diff != nil { throw ValidationError("--since and --diff cannot be combined") }
        if let ids = checks {
            let known = Set(allChecks.map { type(of: $0).description.id })
            for id in ids.split(separator: ",") where !known.contains(String(id)) {
                throw ValidationError("unknown check '\(id)'; known: \(known.sorted().joined(separator: ", "))")
            }
        }
        // Inputs are checked before the (long) analysis.
        if let path = baseline { _ = try Self.loadBaseline(path) }
        if let path = diff { _ = try Self.loadPatch(path) }
    }

    static func loadBaseline(_ path: String) throws -> Baseline {
        let (data, error) = readWholeFile(path)
        guard let bytes = data else { throw ValidationError("cannot read baseline \(path): \(error ?? "unreadable")") }
        do { return try Baseline(parsing: bytes) } catch { throw ValidationError("baseline \(path) is not a baseline: \(error.description)") }
    }

    static func loadPatch(_ path: String) throws -> Set<String> {
        let (data, error) = readWholeFile(path)
        guard let bytes = data else { throw ValidationError("cannot read patch \(path): \(error ?? "unreadable")") }
        let files = PatchFiles.paths(inDiff: String(decoding: bytes, as: UTF8.self))
        guard !files.isEmpty else {
            throw ValidationError("\(path) is not a patch: no '+++ b/PATH' lines; expected a unified diff (git diff, git format-patch)")
        }
        return Set(files)
    }

    /// Writes the HTML site (index.html, findings/, subsystems/) into `dir`.
    func writeSite(_ report: Report, to dir: String) throws {
        let base = dir.hasSuffix("/") ? dir : dir + "/"
        for sub in ["", "findings", "subsystems"] { _ = mkdir(base + sub, 0o755) }
        guard isDirectory(base + "findings") else { try fail("cannot create directory \(dir)") }
        var site = HTMLSite(report: report)
        for (path, html) in site.pages() { try emit(html, to: base + path) }
    }

    var effectivePaths: [String] { paths.isEmpty ? ["."] : paths }

    mutating func run() async throws {
        let start = monotonicSeconds()
        let prepared = try tree.prepare(effectivePaths)
        var timings = Timings(walk: monotonicSeconds() - start)
        let scope = prepared.scope
        var filter = ReportFilter(scope: scope)
        if let path = diff { filter.changed = try Self.loadPatch(path) }
        let wantsRows = format == .html || reports != nil
        // A whole-tree result of this unchanged tree answers any scope, format and filter
        // (subsystem rows of a scoped HTML report need the analysis).
        let (result, session) = try analyseOrLoad(prepared, wantsRows: wantsRows, timings: &timings)
        if let rev = since {
            do {
                let changed = try await Git.changedFiles(since: rev, around: effectivePaths[0])
                filter.changed = PatchFiles.relative(changed, to: prepared.tree.root)
            } catch {
                session?.endProgress()
                try fail(error.description)
            }
        }
        // Everything from here on is filtering the findings and writing the reports.
        let outputStart = monotonicSeconds()
        let selectedIDs = checks.map { Set($0.split(separator: ",").map(String.init)) }
        let all = selectedIDs.map { ids in result.findings.filter { ids.contains($0.check) } } ?? result.findings
        session?.endProgress()
        var findings = filter.apply(all)
        var suppressed = 0
        var resolved: [String] = []
        if let path = baseline {
            let base = try Self.loadBaseline(path)
            (findings, suppressed) = base.filter(findings)
            resolved = base.resolved(current: all, scope: scope)
        }
        let filesInScope = prepared.tree.files.filter { scope.contains($0.relativePath) }.count
        let seconds = monotonicSeconds() - start
        var stats = result.stats(seconds: seconds)
        if scope.prefixes != nil { stats.filesInScope = filesInScope }
        var report = Report(root: prepared.tree.root, findings: findings, stats: stats, suppressed: suppressed, includeTimings: tree.timings)
        if wantsRows {
            if let s = session {
                report.subsystems = SubsystemRow.rows(s.context, scope: scope.prefixes == nil ? nil : scope)
            } else {
                report.subsystems = result.subsystems
            }
        }
        var target = output
        // With --reports alone, the reports are the output.
        if format == .html, let o = output, isDirectory(o) || o.hasSuffix("/") {
            try writeSite(report, to: o)
            target = (o.hasSuffix("/") ? o : o + "/") + "index.html"
        } else if reports == nil || output != nil {
            try emit(reporter(for: format.rawValue).render(report), to: target)
        }
        if let dir = reports { try writeReports(report, to: dir, session: session, scope: scope, stored: result.listings) }
        if verbose {
            timings.output = monotonicSeconds() - outputStart
            timings.total = monotonicSeconds() - start
            Self.printTimings(session, timings, skipped: prepared.scope.skippedDirectories)
        }
        if !tree.quiet {
            if let path = baseline {
                note("unbindcheck: baseline \(path): \(suppressed) finding\(suppressed == 1 ? "" : "s") suppressed, \(resolved.count) baseline entr\(resolved.count == 1 ? "y" : "ies") resolved")
                for fp in resolved { note("  resolved: \(sanitizeForText(fp))") }
            }
            let errors = findings.filter { $0.severity == .error }.count
            let warnings = findings.filter { $0.severity == .warning }.count
            let tests = findings.filter(\.inTestCode).count
            let patch = filter.changed.map { ", \($0.count) changed file\($0.count == 1 ? "" : "s")" } ?? ""
            let phrase = filesPhrase(total: prepared.tree.files.count, inScope: filesInScope, scope: scope)
            note("unbindcheck: \(phrase)\(patch), \(errors) errors, \(warnings) warnings\(tests > 0 ? ", \(tests) in test code\(includeTests ? "" : " (as notes)")" : "")\(suppressed > 0 ? ", \(suppressed) suppressed" : "") in \(format2(seconds)) s\(target.map { "; report: \($0)" } ?? "")\(reports.map { "; reports in \($0)" } ?? "")")
        }
        if findings.contains(where: { $0.severity >= failOn.severity }) { throw ExitCode(1) }
    }

    /// The whole scan's result: read from the persistent index when the tree is unchanged
    /// (and the report needs no scoped subsystem rows), else analysed, and stored.
    func analyseOrLoad(_ prepared: Prepared, wantsRows: Bool, timings: inout Timings) throws -> (CachedScan, Session?) {
        let keyParts = ["scan", CachedIndexer.canonicalRoot(prepared.tree.root), includeTests ? "include-tests" : "tests-as-notes"] + prepared.leftOut
        let factsKeyParts = keyParts + ["facts"]
        if let store = prepared.store, !reanalyse, !(wantsRows && prepared.scope.prefixes != nil) {
            if let manifest = ResultCache.unchangedManifest(tree: prepared.tree, store: store),
               let stored = ResultCache.load(CachedScan.self, key: ResultCache.key(keyParts, manifest: manifest), store: store) {
                return (stored, nil)
            }
            // Files changed, but perhaps no fact did (a comment, a touched file): the result
            // stored for the same facts answers, with the new total size.
            if let facts = FactsManifest.compute(prepared.tree.files, root: prepared.tree.root, store: store) {
                facts.commit(to: store)
                if verbose && facts.filesRead > 0 {
                    note("changed files: \(facts.filesRead) read and hashed, \(facts.filesParsed) of them parsed (new content, now stored)")
                }
                if var stored = ResultCache.load(CachedScan.self, key: ResultCache.key(factsKeyParts, manifest: facts.hash), store: store) {
                    stored.bytes = facts.bytes
                    return (stored, nil)
                }
            }
        }
        let s = try tree.analyse(effectivePaths, prepared: prepared)
        // With the persistent index the whole tree's findings are kept, so that any
        // later scope or filter is answered from them.
        if prepared.store != nil { s.context.reportedFiles = nil }
        s.context.includeTests = includeTests
        s.phase("running checks")
        let all = Analyzer.findings(s.context)
        let stats = ScanStats(index: s.run.index, context: s.context, seconds: 0)
        guard let store = prepared.store, let manifest = s.run.cacheStats?.manifestHash else {
            return (CachedScan(findings: all, stats: stats, subsystems: [], listings: [:]), s)
        }
        s.phase("writing the result cache")
        let saveStart = monotonicSeconds()
        defer { timings.save = monotonicSeconds() - saveStart }
        let value = CachedScan(findings: all, stats: stats, subsystems: SubsystemRow.rows(s.context), listings: Self.listings(s.context))
        // Under the tree's manifest and under its facts manifest (which a comment-only edit keeps).
        var keys = [ResultCache.key(keyParts, manifest: manifest)]
        if let facts = s.run.cacheStats?.factsManifestHash { keys.append(ResultCache.key(factsKeyParts, manifest: facts)) }
        ResultCache.save(value, keys: keys, store: store)
        return (value, s)
    }

    /// Wall seconds of the parts of a scan that are not analysis passes (`--verbose`).
    struct Timings {
        /// Resolving the paths, walking the tree and opening the persistent index.
        var walk: Double
        /// Storing the result in the persistent index (0 without one, or when it answered).
        var save = 0.0
        /// Filtering the findings (scope, patch, baseline) and rendering and writing the
        /// reports; a `--since` run's `git diff` comes before and is only in `total`.
        var output = 0.0
        var total = 0.0
    }

    /// `--verbose`: where the time went (or that the stored result answered), in the order
    /// the phases ran; the passes that ran side by side overlap, so their times add up to
    /// more than the wall time between the phases around them.
    static func printTimings(_ session: Session?, _ timings: Timings, skipped: [String]) {
        let line = { (seconds: Double, what: String) in note(String(format2(seconds)) + " s  " + what) }
        line(timings.walk, "walking the tree")
        if !skipped.isEmpty {
            note("  skipped: \(skipped.map { $0 + "/" }.joined(separator: ", ")) (never built into the kernel; --all-directories reads them)")
        }
        if let s = session {
            let merge = s.run.mergeSeconds
            line(s.run.parseSeconds, "parse and index (\(format2(s.run.parseSeconds - merge)) s \(s.run.cacheStats == nil ? "parsing" : "parsing or loading facts"), \(format2(merge)) s merging the tree index)")
            if let c = s.run.cacheStats {
                note("  cache: \(c.files) files: \(c.unchanged) unchanged, \(c.hashed) hashed, \(c.parsed) parsed, \(c.loaded) loaded from the index")
            }
            if let t = s.context.nameIndexSeconds { line(t, "name indexes (callers, member assignments; the passes beside them are listed next)") }
            for (name, t) in s.context.passTimes { line(t, name) }
            if timings.save > 0 { line(timings.save, "writing the result to the persistent index") }
        } else {
            note("cache: no file's facts changed, the whole scan's result read from the persistent index")
        }
        line(timings.output, "writing the reports")
        line(timings.total, "in all")
    }

    /// `--reports DIR`: every format and the listings of the same analysis.
    func writeReports(_ report: Report, to dir: String, session: Session?, scope: ScanScope, stored: [String: String]) throws {
        _ = mkdir(dir, 0o755)
        guard isDirectory(dir) else { try fail("cannot create directory \(dir)") }
        for (name, fmt) in [("report.txt", "text"), ("report.json", "json"), ("report.sarif", "sarif")] {
            try emit(reporter(for: fmt).render(report), to: dir + "/" + name)
        }
        try writeSite(report, to: dir)
        // The listings of the same analysis (whole tree, or the rows under the scope).
        let listings = session.map { Self.listings($0.context, scope: scope) } ?? (scope.prefixes == nil ? stored : [:])
        for (name, text) in listings.sorted(by: { $0.key < $1.key }) { try emit(text, to: dir + "/" + name) }
    }

    /// The subsystems and structs listings (text and JSON) of one analysis, limited to the
    /// rows that touch `scope` when it is given.
    static func listings(_ ctx: AnalysisContext, scope: ScanScope? = nil) -> [String: String] {
        let scoped = scope?.prefixes == nil ? nil : scope
        let subsystems = Listings.subsystems(ctx).filter { row in scoped.map { Listings.subsystem(row.0, touches: $0, ctx: ctx) } ?? true }
        let structs = Listings.structs(ctx).filter { row in scoped?.contains(row.file) ?? true }
        return [
            "subsystems.txt": Listings.subsystemsText(subsystems, ctx: ctx, limit: Int.max),
            "subsystems.json": Listings.subsystemsJSON(subsystems, ctx: ctx),
            "structs.txt": Listings.structsText(structs),
            "structs.json": Listings.structsJSON(structs, root: ctx.index.root),
        ]
    }
}
