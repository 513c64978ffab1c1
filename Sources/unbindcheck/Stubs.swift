import ArgumentParser
struct ScanCommand: ParsableCommand { static let configuration = CommandConfiguration(commandName: "scan") }
struct StructsCommand: ParsableCommand { static let configuration = CommandConfiguration(commandName: "structs") }
struct SubsystemsCommand: ParsableCommand { static let configuration = CommandConfiguration(commandName: "subsystems") }
struct ExplainCommand: ParsableCommand { static let configuration = CommandConfiguration(commandName: "explain") }
