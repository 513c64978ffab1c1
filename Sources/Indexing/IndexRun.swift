import Facts
import CFrontend

/// The first half of the pipeline: discover files, parse them in parallel, merge.
public struct IndexRun: Sendable {
    public let tree: SourceTree
    public let index: TreeIndex
    public let timings: [Indexer.Timing]
    public let parseSeconds: Double

    /// Discovers, parses and merges everything under `paths`, reporting to `progress`.
    public init(paths: [String], excludes: [String] = [], jobs: Int, progress: ScanProgress? = nil) {
        let start = monotonicSeconds()
        progress?.begin("discovering files")
        tree = SourceTree(paths: paths, excludes: excludes)
        progress?.begin("parsing", total: tree.files.count)
        let (facts, timings) = Indexer.parseAll(tree.files, jobs: jobs, progress: progress)
        progress?.begin("indexing")
        index = TreeIndex(root: tree.root, files: facts)
        self.timings = timings
        parseSeconds = monotonicSeconds() - start
    }

    /// Diagnostics worth showing to a user: input problems and unreadable files.
    public var problems: [InputProblem] {
        var out = tree.problems
        for f in index.files { if let why = f.unreadable { out.append(InputProblem(path: f.path, message: why)) } }
        return out.sorted { ($0.path, $0.message) < ($1.path, $1.message) }
    }
}

/// Totals for `unbindcheck index`.
public struct IndexStats: Sendable {
    public var files = 0
    public var bytes = 0
    public var structs = 0
    public var unions = 0
    public var typedefs = 0
    public var functions = 0
    public var calls = 0
    public var exprNodes = 0
    public var globals = 0
    public var exports = 0
    public var recoveries = 0
    public var filesWithRecoveries = 0
    public var unreadable = 0

    public init(_ index: TreeIndex) {
        for f in index.files {
            files += 1
            bytes += f.bytes
            for a in f.aggregates where !a.isAnonymous { if a.isUnion { unions += 1 } else { structs += 1 } }
            typedefs += f.typedefs.count
            functions += f.functions.count
            for fn in f.functions { calls += fn.calls.count; exprNodes += fn.exprs.nodes.count }
            globals += f.globals.count
            exports += f.exports.count
            recoveries += f.recoveries
            if f.recoveries > 0 { filesWithRecoveries += 1 }
            if f.unreadable != nil { unreadable += 1 }
        }
    }
}
