import Facts
import Indexing

/// Everything the checks read: the index and the results of the analysis passes.
public final class AnalysisContext: @unchecked Sendable {
    public let index: TreeIndex
    public let resolver: Resolver
    public private(set) var closure: EmbeddingClosure!
    public private(set) var allocations: Allocations!
    public private(set) var summaries: Summaries!
    public private(set) var subsystems: Subsystems!
    public private(set) var releaseCallbacks: ReleaseCallbacks!
    public private(set) var providerOps: ProviderOps!
    /// Files whose findings are wanted (indices into `index.files`); nil for all. Checks
    /// skip other files: every finding is located in the file its loop visits, so a
    /// scoped run reports exactly the whole-tree findings of these files, sooner.
    public var reportedFiles: Set<Int32>?

    /// Whether findings located in file `file` are wanted.
    public func reports(_ file: Int32) -> Bool { reportedFiles?.contains(file) ?? true }

    /// (pass name, seconds), in order.
    public private(set) var passTimes: [(String, Double)] = []

    private let progress: ScanProgress?

    /// Runs the analysis passes in order. Each pass only reads what earlier ones produced.
    public init(index: TreeIndex, jobs: Int = 1, progress: ScanProgress? = nil) {
        self.index = index
        self.progress = progress
        self.resolver = Resolver(index: index)
        // Embeddings first: which structs hold a refcounted object at all.
        time("embedding closure") { closure = EmbeddingClosure(index: index, resolver: resolver) }
        // Allocations are typed next, so that checks can ask "is this devm memory an S?".
        time("allocation typing") { allocations = Allocations(index: index, resolver: resolver) }
        // Summaries need the whole call graph; subsystems need summaries and embeddings.
        time("registration summaries") { summaries = Summaries(index: index, resolver: resolver, jobs: jobs) }
        time("subsystem protection") { subsystems = Subsystems(index: index, resolver: resolver, summaries: summaries, closure: closure, allocations: allocations) }
        // Release callbacks last: their summaries use the free summaries.
        time("release callbacks") { releaseCallbacks = ReleaseCallbacks(index: index, resolver: resolver, summaries: summaries) }
        // Provider state needs the register/unregister functions; a core found to revoke it
        // is `revocation` in the subsystem table.
        time("provider ops") {
            providerOps = ProviderOps(index: index, resolver: resolver, closure: closure, subsystems: subsystems, summaries: summaries)
            for (agg, evidence) in providerOps.revokingObjects.sorted(by: { $0.key < $1.key }) { subsystems.markRevocation(agg, evidence: evidence) }
        }
    }

    private func time(_ name: String, _ body: () -> Void) {
        CrashContext.setPhase("running the \(name) pass")
        progress?.begin("analysing: " + name)
        let t = monotonicSeconds()
        body()
        passTimes.append((name, monotonicSeconds() - t))
    }
}

extension AnalysisContext {
    /// Names of the functions `ids`, exported ones first, then the rest, by name.
    public func apiOrder(_ ids: [FunctionID]) -> [String] {
        let names = Set(ids.map { index.function($0).name })
        return names.sorted { a, b in
            let ea = index.exported.contains(a), eb = index.exported.contains(b)
            return ea != eb ? ea : a < b
        }
    }
}
