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
        let run = IndexRun(paths: paths, excludes: tree.exclude, jobs: tree.effectiveJobs)
        reportProblems(run, quiet: tree.quiet)
        try requireInput(run)
        let ctx = AnalysisContext(index: run.index, jobs: tree.effectiveJobs)
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
        let run = IndexRun(paths: paths, excludes: tree.exclude, jobs: tree.effectiveJobs)
        reportProblems(run, quiet: tree.quiet)
        try requireInput(run)
        let ctx = AnalysisContext(index: run.index, jobs: tree.effectiveJobs)
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
        let run = IndexRun(paths: paths, excludes: tree.exclude, jobs: tree.effectiveJobs)
        reportProblems(run, quiet: tree.quiet)
        try requireInput(run)
        let ctx = AnalysisContext(index: run.index, jobs: tree.effectiveJobs)
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
        let run = IndexRun(paths: paths, excludes: tree.exclude, jobs: tree.effectiveJobs)
        reportProblems(run, quiet: tree.quiet)
        try requireInput(run)
        let ctx = AnalysisContext(index: run.index, jobs: tree.effectiveJobs)
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
