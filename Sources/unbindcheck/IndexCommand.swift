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

/// `unbindcheck index PATH`: parse everything and print what the front end extracted.
struct IndexCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "index",
        abstract: "Parse a tree and print front-end statistics (files, structs, functions, calls, recoveries).")

    @Argument(help: "Kernel tree or files to index (exactly these paths are read).")
    var paths: [String]

    @Option(name: .long, help: "Output format.")
    var format: ListingFormat = .text

    @Option(name: .shortAndLong, help: "Write the output to FILE instead of stdout.")
    var output: String?

    @Option(name: .long, help: "How many of the slowest files to list.")
    var slowest: Int = 10

    @Flag(name: .long, help: "List every parse diagnostic (gcc style) on stdout.")
    var diagnostics = false

    @Flag(name: .long, help: "List every struct, union and function definition (path:line: kind name), for cross-checks with ctags.")
    var list = false

    @OptionGroup var tree: TreeOptions

    func run() throws {
        // The front end's own statistics: exactly the given paths are read.
        let display = ProgressDisplay.onTerminal(quiet: tree.quiet)
        // It measures the front end, so it always parses (never the persistent index).
        let run = IndexRun(paths: paths, excludes: tree.exclude, jobs: tree.effectiveJobs, progress: display?.progress)
        display?.stop()
        reportProblems(run)
        if run.tree.files.isEmpty {
            try fail("no C source files (.c or .h) found in \(paths.joined(separator: ", ")): expected a kernel tree, a directory or .c/.h files")
        }
        if diagnostics {
            var out = ""
            for f in run.index.files {
                for d in f.diagnostics {
                    out += "\(sanitizeForText(f.path)):\(d.line):\(d.column): warning: \(sanitizeForText(d.message)) [parse]\n"
                }
            }
            try emit(out, to: output)
            return
        }
        if list {
            var out = ""
            for f in run.index.files {
                let p = sanitizeForText(f.path)
                for a in f.aggregates { out += "\(p):\(a.line): \(a.isUnion ? "union" : "struct") \(a.name)\n" }
                for fn in f.functions { out += "\(p):\(fn.line): function \(fn.name)\n" }
            }
            try emit(out, to: output)
            return
        }
        let stats = IndexStats(run.index)
        let slow = run.timings.sorted { ($0.seconds, $1.path) > ($1.seconds, $0.path) }.prefix(max(0, slowest))
        switch format {
        case .json:
            var fields: [(String, JSONValue)] = [
                ("tool", .object([("name", .string(UnbindCheckVersion.name)), ("version", .string(UnbindCheckVersion.string))])),
                ("root", .string(run.index.root)),
                ("stats", .object(stats.json)),
            ]
            if tree.timings {
                fields.append(("seconds", .double(run.parseSeconds)))
                fields.append(("slowest", .array(slow.map { .object([("file", .string($0.path)), ("seconds", .double($0.seconds))]) })))
            }
            try emit(JSONValue.object(fields).serialized(), to: output)
        default:
            var s = ""
            s += "files        \(stats.files)\n"
            s += "bytes        \(stats.bytes)\n"
            s += "structs      \(stats.structs)\n"
            s += "unions       \(stats.unions)\n"
            s += "typedefs     \(stats.typedefs)\n"
            s += "functions    \(stats.functions)\n"
            s += "calls        \(stats.calls)\n"
            s += "expr nodes   \(stats.exprNodes)\n"
            s += "globals      \(stats.globals)\n"
            s += "exports      \(stats.exports)\n"
            s += "recoveries   \(stats.recoveries) in \(stats.filesWithRecoveries) files\n"
            s += "unreadable   \(stats.unreadable)\n"
            s += "seconds      \(String(format2(run.parseSeconds)))\n"
            if !slow.isEmpty {
                s += "slowest files:\n"
                for t in slow { s += "  \(format2(t.seconds * 1000)) ms  \(sanitizeForText(t.path))\n" }
            }
            try emit(s, to: output)
        }
    }
}

func format2(_ d: Double) -> String {
    let v = (d * 100).rounded() / 100
    return String(v)
}
