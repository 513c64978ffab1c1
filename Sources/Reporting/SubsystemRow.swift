import Facts
import Indexing
import Analysis
import Findings
import Checks

/// One registered object type, as the reports show it (plain values, no analysis types).
public struct SubsystemRow: Sendable, Hashable, Codable {
    public var name: String
    public var file: String
    public var line: Int32
    public var core: String
    public var coreField: String
    public var register: [String]
    public var unregister: [String]
    public var release: String?
    public var allocators: [String]
    public var protection: String
    public var devmAllocations: Int
    public var evidence: [FindingNote]

    /// The rows of the tree, most exposed first (as `unbindcheck subsystems` lists them),
    /// limited to the object types that touch `scope`.
    public static func rows(_ ctx: AnalysisContext, scope: ScanScope? = nil) -> [SubsystemRow] {
        Listings.subsystems(ctx).compactMap { (o, n) in
            if let scope, !Listings.subsystem(o, touches: scope, ctx: ctx) { return nil }
            let allocs = Set((ctx.subsystems.allocatorFunctions[o.aggregate] ?? []).map { ctx.index.function($0).name }).sorted()
            return SubsystemRow(
                name: o.name, file: ctx.index.path(o.aggregate.file), line: ctx.index.aggregate(o.aggregate).line,
                core: o.core, coreField: o.coreField,
                register: ctx.apiOrder(o.register), unregister: ctx.apiOrder(o.unregister),
                release: o.release?.name ?? (o.driverSuppliedRelease ? "(driver-supplied)" : nil), allocators: allocs,
                protection: o.protection.rawValue, devmAllocations: n,
                evidence: o.evidence.map { FindingNote(.protection, file: $0.file, line: $0.line, message: $0.message) })
        }
    }
}
