/// Everything the checks read: the index and the results of the analysis passes.
public final class AnalysisContext: @unchecked Sendable {
    public let index: TreeIndex
    public let resolver: Resolver
    public private(set) var closure: EmbeddingClosure!
    public private(set) var allocations: Allocations!
    public private(set) var objectFlow: ObjectFlow!
    public private(set) var summaries: Summaries!
    public private(set) var subsystems: Subsystems!
    public private(set) var releaseCallbacks: ReleaseCallbacks!
    public private(set) var providerOps: ProviderOps!
    /// Files whose findings are wanted (indices into `index.files`); nil for all. Checks
    /// skip other files: every finding is located in the file its loop visits, so a
    /// scoped run reports exactly the whole-tree findings of these files, sooner.
    public var reportedFiles: Set<Int32>?
    /// Keep findings in test code and samples at their own severity (`--include-tests`);
    /// by default they are notes.
    public var includeTests = false

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
        // Where devm objects leave their allocating function (returned, out-parameters):
        // needs the typed allocations and the embedding closure.
        time("object flow") { objectFlow = ObjectFlow(index: index, resolver: resolver, allocations: allocations, closure: closure) }
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

/// Runs the checks and returns sorted findings.
public enum Analyzer {
    public static func findings(_ context: AnalysisContext, checks: [any Check] = allChecks) -> [Finding] {
        var out: [Finding] = []
        for c in checks {
            CrashContext.setPhase("running the \(type(of: c)) check")
            out += c.run(context)
        }
        return finish(TestCode.mark(dedupe(out), index: context.index, keepSeverity: context.includeTests).sorted(by: Finding.ordered), context: context)
    }

    /// Numbers findings that share a fingerprint (in report order) and adds the fix texts.
    static func finish(_ sorted: [Finding], context: AnalysisContext?) -> [Finding] {
        var seen: [String: Int] = [:]
        return sorted.map { f in
            var f = f
            let n = (seen[f.fingerprint] ?? 0) + 1
            seen[f.fingerprint] = n
            f.occurrence = n
            if f.fix.isEmpty { f.fix = FixSuggestion.text(for: f, context: context) }
            return f
        }
    }

    static func dedupe(_ findings: [Finding]) -> [Finding] {
        var seen = Set<String>()
        var out: [Finding] = []
        for f in findings where seen.insert("\(f.check)|\(f.file)|\(f.line)|\(f.column)|\(f.message)").inserted { out.append(f) }
        return out
    }
}

/// Test code and samples: KUnit suites (files that include `<kunit/test.h>`), test modules
/// (`test_*.c`, `*_test.c`, `*-kunit.c`, …), and the trees of `samples/` and `tools/testing/`.
/// Their findings demonstrate or exercise an API rather than drive hardware a user unbinds.
public enum TestCode {
    public static func isTestCode(path: String, includes: [IncludeDirective]) -> Bool {
        if path.hasPrefix("samples/") || path.hasPrefix("tools/testing/") || path.contains("/kunit/") || path.contains("/tests/") { return true }
        let base = path.split(separator: "/").last.map(String.init) ?? path
        let stem = base.hasSuffix(".c") || base.hasSuffix(".h") ? String(base.dropLast(2)) : base
        if stem.hasPrefix("test_") || stem.hasPrefix("test-") || stem.hasSuffix("_test") || stem.hasSuffix("-test")
            || stem.hasSuffix("_kunit") || stem.hasSuffix("-kunit") || stem.hasSuffix("_tests") || stem.hasSuffix("-tests") { return true }
        return includes.contains { $0.path == "kunit/test.h" }
    }

    /// Flags findings located in test code; unless `keepSeverity`, they become notes.
    static func mark(_ findings: [Finding], index: TreeIndex, keepSeverity: Bool) -> [Finding] {
        var cache: [String: Bool] = [:]
        return findings.map { f in
            let test: Bool
            if let t = cache[f.file] { test = t } else {
                let includes = index.fileByPath[f.file].map { index.files[Int($0)].includes } ?? []
                test = isTestCode(path: f.file, includes: includes)
                cache[f.file] = test
            }
            guard test else { return f }
            var f = f
            f.inTestCode = true
            if !keepSeverity && f.severity > .note {
                f.severity = .note
                f.message += "; in test code or a sample, so reported as a note (--include-tests keeps its severity)"
            }
            return f
        }
    }
}
