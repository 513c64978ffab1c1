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

/// Formats of `scan`.
enum ReportFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json, sarif, html
}

/// Formats of the listing commands (`structs`, `subsystems`, `explain`, `allocations`,
/// `triage`, `index`).
enum ListingFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

/// `--fail-on`: the lowest severity that makes the exit status 1.
enum FailOn: String, ExpressibleByArgument, CaseIterable {
    case error, warning, note
    var severity: Severity {
        switch self { case .error: .error; case .warning: .warning; case .note: .note }
    }
}

/// Options shared by every command that reads a tree.
struct TreeOptions: ParsableArguments {
    @Option(name: [.customShort("j"), .long], help: "Worker threads for parsing (default: all cores).")
    var jobs: Int?

    @Option(name: .long, help: ArgumentHelp("The kernel tree to index; by default the nearest directory above the paths with Kbuild or Makefile, include/linux/ and drivers/.", valueName: "DIR"))
    var root: String?

    @Option(name: .long, help: ArgumentHelp("Skip files or directories matching GLOB (relative to the root); repeatable.", valueName: "GLOB"))
    var exclude: [String] = []

    @Flag(name: .customLong("all-directories"), help: "Also read the top-level directories the kernel's Kbuild and Makefile never build (tools/, scripts/, Documentation/: userspace and host programs), skipped by default (index reads exactly its paths).")
    var allDirectories = false

    @Flag(name: .long, help: "No summary and no progress line on stderr.")
    var quiet = false

    @Flag(name: .long, help: "Add wall-clock timings to JSON output (off by default so that output is reproducible).")
    var timings = false

    @Option(name: .long, help: ArgumentHelp("The persistent index: a directory (gets index.sqlite) or a database file (default: $XDG_CACHE_HOME/unbindcheck/, else ~/.cache/unbindcheck/).", valueName: "PATH"))
    var cache: String?

    @Flag(name: .customLong("no-cache"), help: "Parse every file; neither read nor write the persistent index.")
    var noCache = false

    func validate() throws {
        if let j = jobs, j < 1 { throw ValidationError("--jobs must be at least 1") }
        if noCache && cache != nil { throw ValidationError("--cache and --no-cache cannot be combined") }
    }

    /// The database file of the persistent index, or nil with --no-cache.
    var cacheDatabase: String? {
        if noCache { return nil }
        return FactStore.databasePath(forCacheArgument: cache ?? FactStore.defaultCacheDirectory())
    }

    var effectiveJobs: Int {
        if let j = jobs, j > 0 { return j }
        return max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }
}

/// Everything a command needs after indexing: what is reported (scope) and what is known.
struct Session {
    let scope: ScanScope
    let run: IndexRun
    let context: AnalysisContext
    let display: ProgressDisplay?
    /// Indexed files inside the report scope.
    let filesInScope: Int

    /// Shows the next phase on the progress line, if one is shown.
    func phase(_ name: String) { display?.progress.begin(name) }

    /// Clears the progress line; call before printing anything.
    func endProgress() { display?.stop() }

    /// The scope in words for summaries (see `filesPhrase(total:inScope:scope:)`).
    var filesPhrase: String { unbindcheck.filesPhrase(total: run.index.files.count, inScope: filesInScope, scope: scope) }
}

/// The scope in words for summaries: `59932 files analysed, 284 in scope (drivers/mtd)`.
func filesPhrase(total: Int, inScope: Int, scope: ScanScope) -> String {
    if scope.prefixes == nil { return "\(total) files analysed" }
    return "\(total) files analysed, \(inScope) in scope (\(scope.label))"
}

/// A run's inputs before any parsing: the scope, the walked tree and the persistent index.
struct Prepared {
    let scope: ScanScope
    let tree: SourceTree
    let store: FactStore?
    /// What left files out of the tree, for the keys of stored results: the `--exclude`
    /// patterns and the skipped top-level directories.
    let leftOut: [String]
}

extension TreeOptions {
    /// The persistent index (nil with --no-cache, or when it is locked); problems with it
    /// are reported in one line and it is rebuilt.
    func openStore() -> FactStore? {
        cacheDatabase.flatMap { FactStore.openOrRebuild(path: $0, warn: { note($0) }) }
    }

    /// Resolves the scope of `paths`, walks the tree and opens the persistent index.
    func prepare(_ paths: [String]) throws -> Prepared {
        let scope: ScanScope
        do { scope = try ScanScope.resolve(paths: paths, root: root, allDirectories: allDirectories) } catch { try fail(error.description) }
        // The store's manifest is read while the tree is walked.
        let store = openStore()
        store?.prefetch(root: CachedIndexer.canonicalRoot(SourceTree.root(of: scope.indexPaths)))
        let tree = SourceTree(paths: scope.indexPaths, excludes: exclude, skipping: Set(scope.skippedDirectories))
        return Prepared(scope: scope, tree: tree, store: store, leftOut: exclude + scope.skippedDirectories.map { "skipped:" + $0 })
    }

    /// Resolves the scope of `paths` (whole kernel tree indexed, report scoped to the
    /// paths), indexes, checks the inputs, and runs the analysis passes. Input errors
    /// exit with status 2 and a message.
    func analyse(_ paths: [String]) throws -> Session {
        try analyse(paths, prepared: prepare(paths))
    }

    func analyse(_ paths: [String], prepared: Prepared) throws -> Session {
        let scope = prepared.scope
        let display = ProgressDisplay.onTerminal(quiet: quiet)
        let run = IndexRun(tree: prepared.tree, jobs: effectiveJobs, progress: display?.progress, store: prepared.store, warn: { note($0) })
        reportProblems(run)
        let explicit = Set(paths.map { SourceTree.normalize($0) })
        let fatal = run.tree.problems.filter { explicit.contains($0.path) }
        if !fatal.isEmpty {
            display?.stop()
            try fail("nothing to analyse in \(fatal.map { sanitizeForText($0.path) }.joined(separator: ", ")): expected a kernel tree, a directory or .c/.h files")
        }
        let inScope = run.index.files.indices.filter { scope.contains(run.index.files[$0].path) }.count
        if run.tree.files.isEmpty || inScope == 0 {
            display?.stop()
            let under = scope.prefixes.map { " under \($0.joined(separator: ", "))" } ?? ""
            try fail("no C source files (.c or .h) found in \(paths.joined(separator: ", "))\(under): expected a kernel tree, a directory or .c/.h files")
        }
        display?.progress.begin("analysing")
        let context = AnalysisContext(index: run.index, jobs: effectiveJobs, progress: display?.progress)
        // The analysis lives until the process exits: freeing its millions of small
        // objects one by one took seconds and changes nothing (one command per process).
        _ = Unmanaged.passRetained(context)
        // Checks only visit the files in scope: the same findings there, sooner.
        if scope.prefixes != nil {
            context.reportedFiles = Set(run.index.files.indices.filter { scope.contains(run.index.files[$0].path) }.map { Int32($0) })
        }
        return Session(scope: scope, run: run, context: context, display: display, filesInScope: inScope)
    }

    /// Runs a command whose output depends only on the tree and its options: on an
    /// unchanged tree the output of the last run with the same options is read back from
    /// the persistent index; otherwise `body` runs on the analysed session and its output
    /// is kept. The output is emitted to `output` and a non-zero status ends the command.
    func cachedOutput(_ paths: [String], key parts: [String], output: String?, _ body: (Session) throws -> CachedOutput) throws {
        let prepared = try prepare(paths)
        let keyParts = parts + [CachedIndexer.canonicalRoot(prepared.tree.root), prepared.scope.prefixes?.joined(separator: ",") ?? ""] + prepared.leftOut
        var result: CachedOutput?
        if let store = prepared.store, let manifest = ResultCache.unchangedManifest(tree: prepared.tree, store: store) {
            result = ResultCache.load(CachedOutput.self, key: ResultCache.key(keyParts, manifest: manifest), store: store)
        }
        if result == nil {
            let session = try analyse(paths, prepared: prepared)
            let out = try body(session)
            session.endProgress()
            if let store = prepared.store, let manifest = session.run.cacheStats?.manifestHash {
                ResultCache.save(out, key: ResultCache.key(keyParts, manifest: manifest), store: store)
            }
            result = out
        }
        guard let result else { return }
        try emit(result.text, to: output)
        if result.status != 0 { throw ExitCode(result.status) }
    }
}

/// Prints `unbindcheck: error: MESSAGE` and ends the command with status 2 (input errors).
func fail(_ message: String) throws -> Never {
    note("unbindcheck: error: \(message)")
    throw ExitCode(2)
}

/// Writes to a file or stdout.
func emit(_ text: String, to output: String?) throws {
    if let path = output, path != "-" {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { try fail("cannot write \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        writeAll(fd, text)
    } else {
        writeAll(1, text)
    }
}

func writeAll(_ fd: Int32, _ text: String) {
    var s = text
    s.withUTF8 { buf in
        var off = 0
        while off < buf.count {
            let r = write(fd, buf.baseAddress! + off, buf.count - off)
            if r <= 0 { if errno == EINTR { continue }; return }
            off += r
        }
    }
}

/// A line on stderr (clearing the progress line first, if one is shown).
func note(_ text: String) {
    ProgressDisplay.console.write(text + "\n")
}

/// Prints input problems (missing paths, unreadable or binary files) to stderr.
func reportProblems(_ run: IndexRun) {
    for p in run.problems {
        note("unbindcheck: \(sanitizeForText(p.path)): \(p.message)")
    }
}

func isDirectory(_ p: String) -> Bool { SourceTree.isDirectory(p) }
