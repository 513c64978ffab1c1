import ArgumentParser
import Facts
import Indexing
import Analysis
import Findings
import Checks
import Reporting
import Pipeline

/// `unbindcheck structs PATH`.
struct StructsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "structs",
        abstract: "List structs that embed a struct device, kobject, kref or cdev, with the chain of fields.")

    @Argument(help: "Kernel tree, or directories or files inside one (the whole tree is read; rows are listed for these paths).") var paths: [String]
    @Option(name: .long, help: "Output format.") var format: ListingFormat = .text
    @Option(name: .shortAndLong, help: "Write to FILE instead of stdout.") var output: String?
    @OptionGroup var tree: TreeOptions

    func run() throws {
        try tree.cachedOutput(paths, key: ["structs", format.rawValue], output: output) { session in
            let rows = Listings.structs(session.context).filter { session.scope.contains($0.file) }
            return CachedOutput(text: format == .json ? Listings.structsJSON(rows, root: session.run.index.root) : Listings.structsText(rows), status: 0)
        }
    }
}

/// `unbindcheck subsystems PATH`.
struct SubsystemsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "subsystems",
        abstract: "Per registered object type: register/unregister functions, release callback, protection, evidence.")

    @Argument(help: "Kernel tree, or directories or files inside one (the whole tree is read; rows are listed for these paths).") var paths: [String]
    @Option(name: .long, help: "Output format.") var format: ListingFormat = .text
    @Option(name: .shortAndLong, help: "Write to FILE instead of stdout.") var output: String?
    @Option(name: .long, help: "Rows to print in text mode.") var limit: Int = 60
    @OptionGroup var tree: TreeOptions

    func run() throws {
        try tree.cachedOutput(paths, key: ["subsystems", format.rawValue, String(limit)], output: output) { session in
            let ctx = session.context
            let rows = Listings.subsystems(ctx).filter { Listings.subsystem($0.0, touches: session.scope, ctx: ctx) }
            return CachedOutput(text: format == .json ? Listings.subsystemsJSON(rows, ctx: ctx) : Listings.subsystemsText(rows, ctx: ctx, limit: limit), status: 0)
        }
    }
}

/// `unbindcheck explain PATH --struct NAME`.
struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Why a struct matters: its chain, definitions, every allocation site and who receives its members.")

    @Argument(help: "Kernel tree, or directories or files inside one (the whole tree is read; rows are listed for these paths).") var paths: [String]
    @Option(name: .customLong("struct"), help: "The struct tag to explain.") var structName: String
    @Option(name: .long, help: "Output format.") var format: ListingFormat = .text
    @Option(name: .shortAndLong, help: "Write to FILE instead of stdout.") var output: String?
    @OptionGroup var tree: TreeOptions

    func run() throws {
        try tree.cachedOutput(paths, key: ["explain", format.rawValue, structName], output: output) { session in
            let found = Listings.explain(session.context, name: structName)
            session.endProgress()
            guard let (text, json) = found else { try fail("no struct named '\(structName)' in \(session.run.index.root)") }
            return CachedOutput(text: format == .json ? json.serialized() : text, status: 0)
        }
    }
}

/// `unbindcheck allocations PATH`.
struct AllocationsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "allocations",
        abstract: "List allocation sites (devm_* and kmalloc family) with the struct each one allocates.")

    @Argument(help: "Kernel tree, or directories or files inside one (the whole tree is read; rows are listed for these paths).") var paths: [String]
    @Option(name: .long, help: "Output format.") var format: ListingFormat = .text
    @Option(name: .shortAndLong, help: "Write to FILE instead of stdout.") var output: String?
    @Flag(name: .long, help: "Only device-managed (devm_*) allocations.") var devm = false
    @Flag(name: .long, help: "Only allocations whose type could not be resolved.") var untyped = false
    @OptionGroup var tree: TreeOptions

    func run() throws {
        let session = try tree.analyse(paths)
        let rows = Listings.allocations(session.context, devmOnly: devm, untypedOnly: untyped).filter { session.scope.contains($0.file) }
        session.endProgress()
        try emit(format == .json ? Listings.allocationsJSON(rows, root: session.run.index.root) : Listings.allocationsText(rows), to: output)
    }
}

