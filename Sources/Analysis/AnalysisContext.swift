import Facts
import Indexing

/// One analysis pass: computes one result from the index and the results of the passes it
/// depends on. The pass manager (`AnalysisContext`) runs each pass once, on first use,
/// after its dependencies, and times it apart from them.
public protocol AnalysisPass: SendableMetatype {
    associatedtype Result: Sendable
    /// Shown in progress lines and in `--timings`.
    static var name: String { get }
    /// Passes whose results `run` reads.
    static var dependencies: [any AnalysisPass.Type] { get }
    static func run(_ ctx: AnalysisContext) -> Result
    /// The pass spreads its own work over `jobs` threads, so it does not run beside the
    /// name indexes (nested in their parallel loop, its own would run on one thread).
    static var usesAllJobs: Bool { get }
}

extension AnalysisPass {
    public static var usesAllJobs: Bool { false }
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
    /// It reads the callers index, so beside the name indexes it would only wait for it and
    /// then run alone on one worker: it spreads its functions over every job instead.
    public static var usesAllJobs: Bool { true }
    public static func run(_ ctx: AnalysisContext) -> Allocations { Allocations(index: ctx.index, resolver: ctx.resolver, jobs: ctx.jobs) }
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
    public static var usesAllJobs: Bool { true }
    public static func run(_ ctx: AnalysisContext) -> Summaries { Summaries(index: ctx.index, resolver: ctx.resolver, jobs: ctx.jobs) }
}

/// Registered object types and their protection, before provider revocation is known.
enum SubsystemPass: AnalysisPass {
    public static let name = "subsystem protection"
    public static var dependencies: [any AnalysisPass.Type] { [SummaryPass.self, EmbeddingPass.self, AllocationPass.self] }
    public static var usesAllJobs: Bool { true }
    public static func run(_ ctx: AnalysisContext) -> Subsystems {
        Subsystems(index: ctx.index, resolver: ctx.resolver, summaries: ctx.result(of: SummaryPass.self),
                   closure: ctx.result(of: EmbeddingPass.self), allocations: ctx.result(of: AllocationPass.self), jobs: ctx.jobs)
    }
}

/// Functions that keep a counted reference on a device they are handed, and the objects
/// whose device code outside their core hands to one (outside reference holders).
enum ReferenceKeeperPass: AnalysisPass {
    public static let name = "reference keepers"
    /// The objects whose holders are wanted, and their core files (judged by the core's own rules).
    public static var dependencies: [any AnalysisPass.Type] { [SubsystemPass.self] }
    public static func run(_ ctx: AnalysisContext) -> ReferenceKeepers {
        ReferenceKeepers(index: ctx.index, resolver: ctx.resolver, subsystems: ctx.result(of: SubsystemPass.self))
    }
}

/// Structs that live in the private area of another refcounted object, and the
/// functions that drop such owners.
enum PrivateAreaPass: AnalysisPass {
    public static let name = "private areas"
    public static var dependencies: [any AnalysisPass.Type] { [EmbeddingPass.self, SummaryPass.self] }
    public static func run(_ ctx: AnalysisContext) -> PrivateAreas {
        PrivateAreas(index: ctx.index, resolver: ctx.resolver, closure: ctx.result(of: EmbeddingPass.self), summaries: ctx.result(of: SummaryPass.self))
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
    public static var usesAllJobs: Bool { true }
    public static func run(_ ctx: AnalysisContext) -> ProviderOps {
        ProviderOps(index: ctx.index, resolver: ctx.resolver, closure: ctx.result(of: EmbeddingPass.self),
                    subsystems: ctx.result(of: SubsystemPass.self), summaries: ctx.result(of: SummaryPass.self), jobs: ctx.jobs)
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

    /// Wall seconds spent building the name indexes (`runAllPasses`), the passes that ran
    /// beside them included; nil until they are built that way.
    public private(set) var nameIndexSeconds: Double?

    /// Adds a time to `passTimes` for work that is not a pass (the checks).
    public func record(_ name: String, seconds: Double) { passTimes.append((name, seconds)) }

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

    /// Every pass, in an order that respects their dependencies.
    static let allPasses: [any AnalysisPass.Type] = [
        EmbeddingPass.self, AllocationPass.self, SummaryPass.self, ObjectFlowPass.self,
        SubsystemPass.self, ReleaseCallbackPass.self, ProviderOpsPass.self, RevocationPass.self, ReferenceKeeperPass.self,
        PrivateAreaPass.self,
    ]

    /// Runs every pass now, so that the workers of a parallel check run find their results
    /// computed. With more than one job, the name indexes are built first, with the passes
    /// that need nothing else beside them, then the rest run side by side
    /// (`runSideBySide`).
    public func runAllPasses() {
        var pending = Self.allPasses.filter { results[ObjectIdentifier($0)] == nil }
        // Most passes ask who calls what or who assigns a member: build those indexes first,
        // with every worker (a pass that built one on first use would build it on one thread).
        // The passes that need no other pass's result run beside them, on the worker done
        // first (the member index is built in half the callers index's time).
        if !pending.isEmpty {
            CrashContext.setPhase("building the name indexes")
            let early = jobs > 1 ? pending.filter { $0.dependencies.isEmpty && !$0.usesAllJobs } : []
            let indexStart = monotonicSeconds()
            defer { nameIndexSeconds = monotonicSeconds() - indexStart }
            let done = index.prepareNameIndexes(alongside: early.count) { k -> Outcome in
                Self.timed(early[k], in: AnalysisContext(sharing: self, reporting: self.reportedFiles, jobs: self.jobs))
            }
            keep(early, done)
            pending.removeAll { p in early.contains { $0 == p } }
        }
        guard jobs > 1 else {
            for p in pending { ensure(p) }
            return
        }
        runSideBySide(pending)
    }

    /// Runs `pending` (in dependency order), each pass on a thread of its own as soon as
    /// the passes it reads are done, on a worker context with its own resolver; each pass
    /// still runs once, and its result does not depend on what ran beside it. Passes that
    /// spread their own work over every job run at full width (their threads are not
    /// GCD's), beside the others, which fill the cores while they wait on their serial parts.
    private func runSideBySide(_ pending: [any AnalysisPass.Type]) {
        guard !pending.isEmpty else { return }
        CrashContext.setPhase("running the analysis passes")
        progress?.begin("analysing: " + pending.map { $0.name }.joined(separator: ", "))
        let dependencies = pending.map { p in p.dependencies.compactMap { d in pending.firstIndex { $0 == d } } }
        // What a pass may read: its dependencies and theirs (a result reads its own inputs).
        var reads: [Set<Int>] = []
        for k in pending.indices { reads.append(dependencies[k].reduce(into: Set(dependencies[k])) { $0.formUnion($1 < k ? reads[$1] : []) }) }
        let readable = reads
        let outcomes = runTaskGraph(count: pending.count, dependencies: dependencies) { k, done -> Outcome in
            // The results of the passes it reads, and no other: what it sees never depends
            // on what else happened to be done.
            var known = self.results
            for j in readable[k].sorted() { if let outcome = done[j] { known[ObjectIdentifier(pending[j])] = outcome.result } }
            return Self.timed(pending[k], in: AnalysisContext(sharing: self, results: known, reporting: self.reportedFiles, jobs: self.jobs))
        }
        keep(pending, outcomes)
    }

    private static func run<P: AnalysisPass>(_ pass: P.Type, in ctx: AnalysisContext) -> any Sendable { P.run(ctx) }

    /// Runs `pass` on the worker context `worker`, timed.
    private static func timed(_ pass: any AnalysisPass.Type, in worker: AnalysisContext) -> Outcome {
        let t = monotonicSeconds()
        let r = run(pass, in: worker)
        return Outcome(result: r, seconds: monotonicSeconds() - t)
    }

    /// Keeps the results and times of `passes`, run on workers.
    private func keep(_ passes: [any AnalysisPass.Type], _ outcomes: [Outcome]) {
        for (p, outcome) in zip(passes, outcomes) {
            results[ObjectIdentifier(p)] = outcome.result
            passTimes.append((p.name, outcome.seconds))
        }
    }

    /// A pass's result and the seconds it took, from a worker.
    private struct Outcome: Sendable {
        var result: any Sendable
        var seconds: Double
    }

    private init(sharing parent: AnalysisContext, results known: [ObjectIdentifier: Any]? = nil, reporting files: Set<Int32>?, jobs: Int = 1) {
        index = parent.index
        self.jobs = jobs
        progress = nil
        resolver = Resolver(index: parent.index)
        results = known ?? parent.results
        reportedFiles = files
        includeTests = parent.includeTests
    }

    /// A context for one worker of a parallel check run: the pass results computed so far,
    /// its own resolver (a resolver's caches are not shared between threads), and only the
    /// findings located in `files`.
    public func worker(reporting files: Set<Int32>) -> AnalysisContext {
        AnalysisContext(sharing: self, reporting: files)
    }

    public var closure: EmbeddingClosure { result(of: EmbeddingPass.self) }
    public var allocations: Allocations { result(of: AllocationPass.self) }
    public var objectFlow: ObjectFlow { result(of: ObjectFlowPass.self) }
    public var summaries: Summaries { result(of: SummaryPass.self) }
    /// The subsystem table with provider revocation applied.
    public var subsystems: Subsystems { result(of: RevocationPass.self) }
    public var releaseCallbacks: ReleaseCallbacks { result(of: ReleaseCallbackPass.self) }
    public var providerOps: ProviderOps { result(of: ProviderOpsPass.self) }
    public var referenceKeepers: ReferenceKeepers { result(of: ReferenceKeeperPass.self) }
    public var privateAreas: PrivateAreas { result(of: PrivateAreaPass.self) }
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
