import ArgumentParser
import UnbindCheck
#if canImport(Glibc)
import Glibc
#endif

/// The `unbindcheck` command line.
struct UnbindCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unbindcheck",
        abstract: "Find object-lifetime hazards in Linux drivers: refcounted objects in device-managed memory and broken release callbacks.",
        discussion: "No kernel build, .config or compiler is needed: unbindcheck parses the C itself.",
        version: UnbindCheckVersion.string,
        subcommands: [ScanCommand.self, StructsCommand.self, SubsystemsCommand.self, ExplainCommand.self, AllocationsCommand.self, TriageCommand.self, IndexCommand.self]
    )
}

CrashContext.install()
UnbindCheckCommand.main()
