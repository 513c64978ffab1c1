import Facts
import CFrontend

/// The first half of the pipeline: discover files, parse them in parallel, merge.
public struct IndexRun: Sendable {
    public let tree: SourceTree
    public let index: TreeIndex
    public let timings: [Indexer.Timing]
    public let parseSeconds: Double
    /// The part of `parseSeconds` spent merging the files' facts into the tree index.
    public let mergeSeconds: Double

    /// What the persistent index did (nil without one).
    public let cacheStats: CachedIndexer.Stats?
    /// The store used (nil without one, or when it was locked or could not be created).
    public let store: FactStore?

    /// Discovers, parses and merges everything under `paths`, reporting to `progress`.
    /// With `cachePath` (a database file) facts come from the persistent index where the
    /// content is known; problems with it are reported through `warn` in one line each.
    public init(paths: [String], excludes: [String] = [], jobs: Int, progress: ScanProgress? = nil,
                cachePath: String? = nil, warn: (String) -> Void = { _ in }) {
        progress?.begin("discovering files")
        CrashContext.setPhase("discovering files")
        let tree = SourceTree(paths: paths, excludes: excludes)
        let store = cachePath.flatMap { FactStore.openOrRebuild(path: $0, warn: warn) }
        self.init(tree: tree, jobs: jobs, progress: progress, store: store, warn: warn)
    }

    /// Parses and merges the files of `tree`, through `store` when there is one. A store
    /// found damaged while reading is reported through `warn`, rebuilt, and filled again.
    public init(tree: SourceTree, jobs: Int, progress: ScanProgress? = nil, store: FactStore?, warn: (String) -> Void = { _ in }) {
        let start = monotonicSeconds()
        self.tree = tree
        progress?.begin("parsing", total: tree.files.count)
        CrashContext.setPhase("parsing (between files)")
        var store = store
        var cached: (facts: [FileFacts], stats: CachedIndexer.Stats)?
        if let s = store {
            do {
                cached = try CachedIndexer.parseAll(tree.files, root: tree.root, store: s, jobs: jobs, progress: progress)
            } catch {
                warn("unbindcheck: cache \(s.path) \((error as? FactStore.Problem)?.description ?? "unusable (\(error))"); rebuilt")
                store = FactStore.rebuild(s)
                progress?.begin("parsing", total: tree.files.count)
                if let s2 = store { cached = try? CachedIndexer.parseAll(tree.files, root: tree.root, store: s2, jobs: jobs, progress: progress) }
            }
        }
        let facts: [FileFacts]
        if let cached {
            facts = cached.facts
            timings = []
            cacheStats = cached.stats
        } else {
            let parsed = Indexer.parseAll(tree.files, jobs: jobs, progress: progress)
            facts = parsed.facts
            timings = parsed.timings
            cacheStats = nil
        }
        self.store = cached == nil ? nil : store
        progress?.begin("indexing")
        CrashContext.setPhase("merging the tree index")
        let merge = monotonicSeconds()
        index = TreeIndex(root: tree.root, files: facts, jobs: jobs)
        mergeSeconds = monotonicSeconds() - merge
        parseSeconds = monotonicSeconds() - start
    }

    /// Diagnostics worth showing to a user: input problems and unreadable files.
    public var problems: [InputProblem] {
        var out = tree.problems
        for f in index.files { if let why = f.unreadable { out.append(InputProblem(path: f.path, message: why)) } }
        return out.sorted { ($0.path, $0.message) < ($1.path, $1.message) }
    }
}
