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

/// The `unbindcheck` command line.
struct UnbindCheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unbindcheck",
        abstract: "Find object-lifetime hazards in Linux drivers: refcounted objects in device-managed memory and broken release callbacks.",
        discussion: "No kernel build, .config or compiler is needed: unbindcheck parses the C itself. Exit status: 0 clean, 1 findings at or above --fail-on, 2 usage or input error.",
        version: UnbindCheckVersion.string,
        subcommands: [ScanCommand.self, StructsCommand.self, SubsystemsCommand.self, ExplainCommand.self, AllocationsCommand.self,
                      TriageCommand.self, BaselineCommand.self, CompareCommand.self, IndexCommand.self]
    )
}

/// Levenshtein distance, for "did you mean".
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    var row = Array(0...b.count)
    for i in 1...max(1, a.count) where !a.isEmpty {
        var prev = row[0]
        row[0] = i
        for j in stride(from: 1, through: b.count, by: 1) {
            let cur = row[j]
            row[j] = min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] == b[j - 1] ? 0 : 1))
            prev = cur
        }
    }
    return a.isEmpty ? b.count : row[b.count]
}

/// A message for an argument in subcommand position that names no subcommand (at the top
/// level, or after a command group such as `baseline`), with the nearest name.
func unknownSubcommandMessage(_ args: [String], command: any ParsableCommand.Type = UnbindCheckCommand.self, prefix: String = "unbindcheck") -> String? {
    let subcommands = command.configuration.subcommands
    guard !subcommands.isEmpty, let first = args.first, !first.hasPrefix("-") else { return nil }
    if let sub = subcommands.first(where: { $0._commandName == first }) {
        return unknownSubcommandMessage(Array(args.dropFirst()), command: sub, prefix: prefix + " " + first)
    }
    let names = subcommands.map { $0._commandName } + (command == UnbindCheckCommand.self ? ["help"] : [])
    if names.contains(first) { return nil }
    let best = names.map { ($0, editDistance(first.lowercased(), $0)) }.min { $0.1 < $1.1 }
    var text = "Error: unknown command '\(first)'."
    if let (name, d) = best, d <= max(2, name.count / 3) || name.hasPrefix(first.lowercased()) { text += " Did you mean '\(name)'?" }
    text += "\nCommands: \(subcommands.map { $0._commandName }.joined(separator: ", ")). See '\(prefix) --help'."
    return text
}

/// Parses and runs the command; usage errors exit with 2, as documented (ArgumentParser's
/// default is 64), other errors with their own code.
func runMain(_ arguments: [String]) async -> Never {
    if let message = unknownSubcommandMessage(arguments) {
        note(message)
        exit(2)
    }
    do {
        var command = try UnbindCheckCommand.parseAsRoot(arguments)
        if var asyncCommand = command as? any AsyncParsableCommand {
            try await asyncCommand.run()
        } else {
            try command.run()
        }
    } catch {
        if UnbindCheckCommand.exitCode(for: error) == .validationFailure {
            note(UnbindCheckCommand.fullMessage(for: error))
            exit(2)
        }
        UnbindCheckCommand.exit(withError: error)
    }
    exit(0)
}

CrashContext.install()
#if canImport(Glibc)
/// glibc's `mallopt` (declared in `<malloc.h>`, which the Glibc module leaves out).
@_silgen_name("mallopt") private func mallopt(_ parameter: Int32, _ value: Int32) -> Int32

/// The whole tree's facts are about 1.4 GB of small allocations made by worker threads.
/// By default glibc grows a thread's heap one mprotect(2) at a time, just as far as each
/// allocation needs: about 220,000 calls in a cached rescan of linux-6.12, a fifth of its
/// system time. With 64 MB of top padding (`M_TOP_PAD`) every heap is made writable in
/// large steps; untouched pages cost no memory.
private func padHeapGrowth() {
    let topPad: Int32 = -2 // M_TOP_PAD
    _ = mallopt(topPad, 64 << 20)
}
padHeapGrowth()
#endif

await runMain(Array(CommandLine.arguments.dropFirst()))
