import Facts
import Indexing

/// One analysis pass: computes one result from the index and the results of the passes it
/// depends on. The pass manager (`AnalysisContext`) runs each pass once, on first use,
/// after its dependencies, and times it apart from them.
public protocol AnalysisPass {
    associatedtype Result
    /// Shown in progress lines and in `--timings`.
    static var name: String { get }
    /// Passes whose results `run` reads.
    static var dependencies: [any AnalysisPass.Type] { get }
    static func run(_ ctx: AnalysisContext) -> Result
}

/// Which structs hold a refcounted object at all, and through which fields.
public enum EmbeddingPass: AnalysisPass {
    public static let name = "embedding closure"
    public static var dependencies: [any AnalysisPass.Type] { [] }
    public static func run(_ ctx: AnalysisContext) -> EmbeddingClosure { EmbeddingClosure(index: ctx.index, resolver: ctx.resolver) }
}

/// Every allocation site typed, so that checks can ask "is this devm memory an S?".
public enum AllocationPass: AnalysisPass {
    public static let name = "allocation typing"
    public static var dependencies: [any AnalysisPass.Type] { [] }
    public static func run(_ ctx: AnalysisContext) -> Allocations { Allocations(index: ctx.index, resolver: ctx.resolver) }
}

/// Where devm objects leave their allocating function (returned, out-parameters).
enum ObjectFlowPass: AnalysisPass {
    public static let name = "object flow"
    public static var dependencies: [any AnalysisPass.Type] { [AllocationPass.self, EmbeddingPass.self] }
    public static func run(_ ctx: AnalysisContext) -> ObjectFlow {
        ObjectFlow(index: ctx.index, resolver: ctx.resolver, allocations: ctx.result(of: AllocationPass.self), closure: ctx.result(of: EmbeddingPass.self))
    }
}

/// Per-function effect summaries over the whole call graph.
enum SummaryPass: AnalysisPass {
    public static let name = "registration summaries"
    public static var dependencies: [any AnalysisPass.Type] { [] }
    public static func run(_ ctx: AnalysisContext) -> Summaries { Summaries(index: ctx.index, resolver: ctx.resolver, jobs: ctx.jobs) }
}

/// Registered object types and their protection, before provider revocation is known.
enum SubsystemPass: AnalysisPass {
    public static let name = "subsystem protection"
    public static var dependencies: [any AnalysisPass.Type] { [SummaryPass.self, EmbeddingPass.self, AllocationPass.self] }
    public static func run(_ ctx: AnalysisContext) -> Subsystems {
        Subsystems(index: ctx.index, resolver: ctx.resolver, summaries: ctx.result(of: SummaryPass.self),
                   closure: ctx.result(of: EmbeddingPass.self), allocations: ctx.result(of: AllocationPass.self))
    }
}

/// Release callbacks and what each does (their summaries use the free summaries).
public enum ReleaseCallbackPass: AnalysisPass {
    public static let name = "release callbacks"
    public static var dependencies: [any AnalysisPass.Type] { [SummaryPass.self] }
    public static func run(_ ctx: AnalysisContext) -> ReleaseCallbacks {
        ReleaseCallbacks(index: ctx.index, resolver: ctx.resolver, summaries: ctx.result(of: SummaryPass.self))
    }
}

/// Provider state reached by consumers through a core, and whether the core revokes it.
enum ProviderOpsPass: AnalysisPass {
    public static let name = "provider ops"
    public static var dependencies: [any AnalysisPass.Type] { [EmbeddingPass.self, SubsystemPass.self, SummaryPass.self] }
    public static func run(_ ctx: AnalysisContext) -> ProviderOps {
        ProviderOps(index: ctx.index, resolver: ctx.resolver, closure: ctx.result(of: EmbeddingPass.self),
                    subsystems: ctx.result(of: SubsystemPass.self), summaries: ctx.result(of: SummaryPass.self))
    }
}

/// The subsystem table as reported: a core found to revoke provider state is `revocation`.
enum RevocationPass: AnalysisPass {
    public static let name = "provider revocation"
    public static var dependencies: [any AnalysisPass.Type] { [SubsystemPass.self, ProviderOpsPass.self] }
    public static func run(_ ctx: AnalysisContext) -> Subsystems {
        var subsystems = ctx.result(of: SubsystemPass.self)
        for (agg, evidence) in ctx.result(of: ProviderOpsPass.self).revokingObjects.sorted(by: { $0.key < $1.key }) {
            subsystems.markRevocation(agg, evidence: evidence)
        }
        return subsystems
    }
}

/// Everything the checks read: the index and the results of the analysis passes, each
/// computed once on first use (so `structs` runs one pass, `scan` all of them).
/// Confined to one thread at a time: passes that work in parallel (`Summaries`) make a
/// `Resolver` per worker; the shared `resolver` and the result store are not locked.
public final class AnalysisContext: @unchecked Sendable {
    public let index: TreeIndex
    public let resolver: Resolver
    /// Worker threads a pass may use.
    public let jobs: Int
    /// Files whose findings are wanted (indices into `index.files`); nil for all. Checks
    /// skip other files: every finding is located in the file its loop visits, so a
    /// scoped run reports exactly the whole-tree findings of these files, sooner.
    public var reportedFiles: Set<Int32>?
    /// Keep findings in test code and samples at their own severity (`--include-tests`);
    /// by default they are notes.
    public var includeTests = false

    /// Whether findings located in file `file` are wanted.
    public func reports(_ file: Int32) -> Bool { reportedFiles?.contains(file) ?? true }

    /// (pass name, seconds), in the order the passes ran.
    public private(set) var passTimes: [(String, Double)] = []

    private let progress: ScanProgress?
    private var results: [ObjectIdentifier: Any] = [:]

    public init(index: TreeIndex, jobs: Int = 1, progress: ScanProgress? = nil) {
        self.index = index
        self.jobs = jobs
        self.progress = progress
        self.resolver = Resolver(index: index)
    }

    /// The result of pass `P`, running it (after its dependencies) the first time.
    public func result<P: AnalysisPass>(of pass: P.Type) -> P.Result {
        if let r = results[ObjectIdentifier(pass)] as? P.Result { return r }
        for d in P.dependencies { ensure(d) }
        CrashContext.setPhase("running the \(P.name) pass")
        progress?.begin("analysing: " + P.name)
        let t = monotonicSeconds()
        let r = P.run(self)
        passTimes.append((P.name, monotonicSeconds() - t))
        results[ObjectIdentifier(pass)] = r
        return r
    }

    private func ensure<P: AnalysisPass>(_ pass: P.Type) { _ = result(of: pass) }

    public var closure: EmbeddingClosure { result(of: EmbeddingPass.self) }
    public var allocations: Allocations { result(of: AllocationPass.self) }
    public var objectFlow: ObjectFlow { result(of: ObjectFlowPass.self) }
    public var summaries: Summaries { result(of: SummaryPass.self) }
    /// The subsystem table with provider revocation applied.
    public var subsystems: Subsystems { result(of: RevocationPass.self) }
    public var releaseCallbacks: ReleaseCallbacks { result(of: ReleaseCallbackPass.self) }
    public var providerOps: ProviderOps { result(of: ProviderOpsPass.self) }
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
