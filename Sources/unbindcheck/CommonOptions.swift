import ArgumentParser
import UnbindCheck
#if canImport(Glibc)
import Glibc
#endif

/// Output formats offered by the commands.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json, sarif, html
}

/// Options shared by every command that reads a tree.
struct TreeOptions: ParsableArguments {
    @Option(name: .long, help: "Worker threads for parsing (default: all cores).")
    var jobs: Int?

    @Option(name: .long, help: ArgumentHelp("Skip files or directories matching GLOB (relative to the root); repeatable.", valueName: "GLOB"))
    var exclude: [String] = []

    @Flag(name: .long, help: "Print only findings (no summary on stderr).")
    var quiet = false

    @Flag(name: .long, help: "Add wall-clock timings to JSON output (off by default so that output is reproducible).")
    var timings = false

    var effectiveJobs: Int {
        if let j = jobs, j > 0 { return j }
        return max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }
}

/// Writes to a file or stdout.
func emit(_ text: String, to output: String?) throws {
    if let path = output, path != "-" {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else {
            throw ValidationError("cannot write \(path): \(String(cString: strerror(errno)))")
        }
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

func note(_ text: String) {
    writeAll(2, text + "\n")
}

/// Prints input problems (missing paths, unreadable or binary files) to stderr.
func reportProblems(_ run: IndexRun, quiet: Bool) {
    for p in run.problems {
        note("unbindcheck: \(sanitizeForText(p.path)): \(p.message)")
    }
}

/// Exit code 2 when nothing at all could be read.
func requireInput(_ run: IndexRun) throws {
    if run.tree.files.isEmpty {
        if !run.tree.problems.isEmpty { throw ExitCode(2) }
        note("unbindcheck: no .c or .h files found")
    }
}

extension TreeOptions {
    /// Indexes `paths`, reports input problems, fails with status 2 when nothing could be
    /// read, and runs the analysis passes.
    func analyse(_ paths: [String]) throws -> (IndexRun, AnalysisContext) {
        let run = IndexRun(paths: paths, excludes: exclude, jobs: effectiveJobs)
        reportProblems(run, quiet: quiet)
        try requireInput(run)
        return (run, AnalysisContext(index: run.index, jobs: effectiveJobs))
    }
}
