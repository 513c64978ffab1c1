import ArgumentParser
import UnbindCheck

/// `unbindcheck structs PATH`.
struct StructsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "structs",
        abstract: "List structs that embed a struct device, kobject, kref or cdev, with the chain of fields.")

    @Argument(help: "Kernel tree or files.") var paths: [String]
    @Option(name: .long, help: "text or json.") var format: OutputFormat = .text
    @Option(name: .shortAndLong, help: "Write to FILE instead of stdout.") var output: String?
    @OptionGroup var tree: TreeOptions

    func run() throws {
        let (run, ctx) = try tree.analyse(paths)
        let rows = Listings.structs(ctx)
        try emit(format == .json ? Listings.structsJSON(rows, root: run.index.root) : Listings.structsText(rows), to: output)
    }
}

/// `unbindcheck subsystems PATH`.
struct SubsystemsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "subsystems",
        abstract: "Per registered object type: register/unregister functions, release callback, protection, evidence.")

    @Argument(help: "Kernel tree or files.") var paths: [String]
    @Option(name: .long, help: "text or json.") var format: OutputFormat = .text
    @Option(name: .shortAndLong, help: "Write to FILE instead of stdout.") var output: String?
    @Option(name: .long, help: "Rows to print in text mode.") var limit: Int = 60
    @OptionGroup var tree: TreeOptions

    func run() throws {
        let (_, ctx) = try tree.analyse(paths)
        let rows = Listings.subsystems(ctx)
        try emit(format == .json ? Listings.subsystemsJSON(rows, ctx: ctx) : Listings.subsystemsText(rows, ctx: ctx, limit: limit), to: output)
    }
}

/// `unbindcheck explain PATH --struct NAME`.
struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Why a struct matters: its chain, definitions, every allocation site and who receives its members.")

    @Argument(help: "Kernel tree or files.") var paths: [String]
    @Option(name: .customLong("struct"), help: "The struct tag to explain.") var structName: String
    @Option(name: .long, help: "text or json.") var format: OutputFormat = .text
    @Option(name: .shortAndLong, help: "Write to FILE instead of stdout.") var output: String?
    @OptionGroup var tree: TreeOptions

    func run() throws {
        let (run, ctx) = try tree.analyse(paths)
        guard let (text, json) = Listings.explain(ctx, name: structName) else {
            note("unbindcheck: no struct named '\(structName)' in \(run.index.root)")
            throw ExitCode(2)
        }
        try emit(format == .json ? json.serialized() : text, to: output)
    }
}

/// `unbindcheck allocations PATH`.
struct AllocationsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "allocations",
        abstract: "List allocation sites (devm_* and kmalloc family) with the struct each one allocates.")

    @Argument(help: "Kernel tree or files.") var paths: [String]
    @Option(name: .long, help: "text or json.") var format: OutputFormat = .text
    @Option(name: .shortAndLong, help: "Write to FILE instead of stdout.") var output: String?
    @Flag(name: .long, help: "Only device-managed (devm_*) allocations.") var devm = false
    @Flag(name: .long, help: "Only allocations whose type could not be resolved.") var untyped = false
    @OptionGroup var tree: TreeOptions

    func run() throws {
        let (run, ctx) = try tree.analyse(paths)
        let rows = Listings.allocations(ctx, devmOnly: devm, untypedOnly: untyped)
        if format == .json {
            try emit(JSONValue.object([("root", .string(run.index.root)), ("allocations", .array(rows))]).serialized(), to: output)
            return
        }
        var out = ""
        for case .object(let o) in rows {
            let d = Dictionary(o, uniquingKeysWith: { a, _ in a })
            func s(_ k: String) -> String { if case .string(let v)? = d[k] { return v }; if case .int(let v)? = d[k] { return String(v) }; return "" }
            out += "\(sanitizeForText(s("file"))):\(s("line")):\(s("column")): \(s("allocator"))() in \(s("function")) → \(s("type").isEmpty ? "(untyped)" : s("type")) [\(s("typing"))]\n"
        }
        try emit(out, to: output)
    }
}

/// `unbindcheck triage LOG --tree PATH`.
struct TriageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "triage",
        abstract: "Map a kernel oops, refcount warning or KASAN report to the findings that explain it.")

    @Argument(help: "The kernel log (dmesg, console capture, bug report text).") var log: String
    @Option(name: .long, help: "The kernel tree the log comes from.") var tree: String
    @Option(name: .long, help: "text or json.") var format: OutputFormat = .text
    @Option(name: .shortAndLong, help: "Write to FILE instead of stdout.") var output: String?
    @Option(name: .long, help: "How many matches to show.") var limit: Int = 5
    @OptionGroup var options: TreeOptions

    func run() throws {
        guard let text = readTextFile(log) else { note("unbindcheck: cannot read \(log)"); throw ExitCode(2) }
        let crash = CrashLog(text: text)
        let (_, ctx) = try options.analyse([tree])
        let matches = Triage.rank(log: crash, findings: Analyzer.findings(ctx), context: ctx, limit: limit)
        if format == .json {
            try emit(JSONValue.object([
                ("log", .object([("kinds", .array(crash.kinds.map { .string($0.rawValue) })), ("title", .string(crash.title)),
                                 ("location", .string(crash.location)), ("frames", .array(crash.frames.map { .string($0.function) }))])),
                ("matches", .array(matches.map { m in .object([("score", .int(m.score)), ("reasons", .array(m.reasons.map { .string($0) })),
                                                              ("finding", JSONReporter.findingJSON(m.finding))]) })),
            ]).serialized(), to: output)
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
            try emit(out, to: output)
        }
        if matches.isEmpty { throw ExitCode(1) }
    }
}
