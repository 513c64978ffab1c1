import Facts
import Indexing
import Analysis
import Findings
import Checks

/// What every reporter receives.
public struct Report: Sendable {
    public var root: String
    public var findings: [Finding]
    public var stats: ScanStats
    /// Findings hidden by a baseline.
    public var suppressed: Int
    public var includeTimings: Bool
    /// The tree's registered object types (for the HTML report's subsystem pages).
    public var subsystems: [SubsystemRow] = []

    public init(root: String, findings: [Finding], stats: ScanStats, suppressed: Int, includeTimings: Bool) {
        self.root = root; self.findings = findings; self.stats = stats
        self.suppressed = suppressed; self.includeTimings = includeTimings
    }
}

/// Whole-scan numbers for the `stats` object.
public struct ScanStats: Sendable {
    public var files: Int
    public var bytes: Int
    public var structs: Int
    public var functions: Int
    public var seconds: Double
    public var allocations: Int
    public var devmAllocations: Int
    public var untypedDevmAllocations: Int
    /// Analysed files inside the report scope, when the report is scoped to some paths.
    public var filesInScope: Int?

    public init(files: Int, bytes: Int, structs: Int, functions: Int, seconds: Double,
                allocations: Int, devmAllocations: Int, untypedDevmAllocations: Int) {
        self.files = files; self.bytes = bytes; self.structs = structs; self.functions = functions
        self.seconds = seconds; self.allocations = allocations; self.devmAllocations = devmAllocations
        self.untypedDevmAllocations = untypedDevmAllocations
    }

    /// Gathers the numbers from an index and the analyses.
    public init(index: TreeIndex, context: AnalysisContext, seconds: Double) {
        let s = IndexStats(index, bodies: false)
        let devm = context.allocations.sites.filter { $0.isDeviceManaged }
        files = s.files; bytes = s.bytes; structs = s.structs + s.unions; functions = s.functions
        self.seconds = seconds
        allocations = context.allocations.sites.count
        devmAllocations = devm.count
        untypedDevmAllocations = devm.filter { $0.typing == .untyped }.count
    }
}

/// One output format.
public protocol Reporter {
    func render(_ report: Report) -> String
}

/// Picks the reporter for a format name.
public func reporter(for format: String) -> any Reporter {
    switch format {
    case "json": return JSONReporter()
    case "sarif": return SARIFReporter()
    case "html": return HTMLReporter()
    default: return TextReporter()
    }
}

/// gcc-style diagnostics: `path:line:col: error: message [check-id]`, notes indented.
public struct TextReporter: Reporter {
    public init() {}
    public func render(_ report: Report) -> String {
        var out = ""
        for f in report.findings {
            out += "\(sanitizeForText(f.file)):\(f.line):\(f.column): \(f.severity.rawValue): \(sanitizeForText(f.message)) [\(f.check)]\n"
            for n in f.notes {
                out += "  \(sanitizeForText(n.file)):\(n.line):\(n.column): note: \(sanitizeForText(n.message))\n"
            }
            if !f.fix.isEmpty {
                out += "  \(sanitizeForText(f.file)):\(f.line):\(f.column): note: fix: \(sanitizeForText(f.fix))\n"
            }
        }
        return out
    }
}

/// The JSON contract of DESIGN.md.
public struct JSONReporter: Reporter {
    public init() {}

    /// One finding as the JSON contract spells it.
    public static func findingJSON(_ f: Finding) -> JSONValue {
        var fields: [(String, JSONValue)] = [
            ("check", .string(f.check)), ("severity", .string(f.severity.rawValue)),
            ("file", .string(f.file)), ("line", .int(Int(f.line))), ("column", .int(Int(f.column))),
            ("function", .string(f.function)), ("struct", .string(f.structName)),
            ("chain", .array(f.chain.map { .string($0) })), ("object", .string(f.object)),
            ("protection", .string(f.protection)), ("message", .string(f.message)),
            ("fix", .string(f.fix)), ("fingerprint", .string(f.fingerprint)),
            ("notes", .array(f.notes.map { .object([("kind", .string($0.kind.rawValue)), ("file", .string($0.file)), ("line", .int(Int($0.line))), ("column", .int(Int($0.column))), ("message", .string($0.message))]) })),
        ]
        if f.inTestCode { fields.append(("test_code", .bool(true))) }
        if !f.members.isEmpty || !f.useSites.isEmpty {
            fields.append(("members", .array(f.members.map { .string($0) })))
            fields.append(("use_sites", .array(f.useSites.map {
                .object([("function", .string($0.function)), ("file", .string($0.file)), ("line", .int(Int($0.line))), ("entry", .string($0.entry))])
            })))
        }
        return .object(fields)
    }

    public func render(_ report: Report) -> String {
        var stats: [(String, JSONValue)] = [
            ("files", .int(report.stats.files)), ("bytes", .int(report.stats.bytes)),
            ("structs", .int(report.stats.structs)), ("functions", .int(report.stats.functions)),
            ("allocations", .int(report.stats.allocations)), ("devm_allocations", .int(report.stats.devmAllocations)),
            ("untyped_devm_allocations", .int(report.stats.untypedDevmAllocations)),
            ("suppressed", .int(report.suppressed)),
            ("test_findings", .int(report.findings.filter(\.inTestCode).count)),
        ]
        if let n = report.stats.filesInScope { stats.insert(("files_in_scope", .int(n)), at: 1) }
        if report.includeTimings { stats.append(("seconds", .double(report.stats.seconds))) }
        return JSONValue.object([
            ("tool", .object([("name", .string(UnbindCheckVersion.name)), ("version", .string(UnbindCheckVersion.string))])),
            ("root", .string(report.root)),
            ("findings", .array(report.findings.map(JSONReporter.findingJSON))),
            ("stats", .object(stats)),
        ]).serialized()
    }
}
