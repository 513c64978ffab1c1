import Facts
import Indexing

/// The parameter flows the summaries' fixed points need, found bottom-up from the driver
/// core's own calls instead of extracted from every function of the tree.
///
/// A function ends with an effect only if one of its flows has it directly (a call of
/// `device_add`, `put_device`, `kfree`, …) or passes on the effect of a callee that has
/// one. So the search starts from the callers of the driver core's calls, extracts their
/// flows, keeps those that can have an effect by either way (per rule, from the rule's
/// own `EffectShape`), and goes on with the callers of their names, to a fixed point. The
/// kept set is a superset of the functions that have an effect, and the fixed point over
/// its flows gives exactly the whole tree's answer: a function outside it never gains an
/// effect, so it never changes a caller's.
enum EffectCandidates {
    /// The flows of every function that can have an effect, in `FunctionID` order.
    static func flows(index: TreeIndex, shapes: [EffectShape], jobs: Int) -> [(FunctionID, [Summaries.Flow])] {
        let callers = callersByName(index: index, jobs: jobs)
        var flowsOf: [FunctionID: [Summaries.Flow]] = [:]
        var kept = Array(repeating: Set<FunctionID>(), count: shapes.count)
        var frontier = DriverCore.effectCalls
        var evaluated = Set<FunctionID>()
        while !frontier.isEmpty {
            var candidates = Set<FunctionID>()
            for name in frontier { candidates.formUnion(callers[name] ?? []) }
            let fresh = candidates.subtracting(evaluated).sorted()
            evaluated.formUnion(fresh)
            for (id, list) in extract(fresh, index: index, jobs: jobs) { flowsOf[id] = list }
            var next = Set<String>()
            for id in candidates.sorted() {
                guard let list = flowsOf[id] else { continue }
                for (r, shape) in shapes.enumerated() where !kept[r].contains(id) {
                    let joins = list.contains { flow in
                        if shape.hasDirect(flow) { return true }
                        guard let callee = flow.callee, callee != id else { return false }
                        return kept[r].contains(callee) && shape.mayPass(flow)
                    }
                    if joins {
                        kept[r].insert(id)
                        next.insert(index.function(id).name)
                    }
                }
            }
            frontier = next
        }
        let all = kept.reduce(into: Set<FunctionID>()) { $0.formUnion($1) }
        return all.sorted().compactMap { id in flowsOf[id].map { (id, $0) } }
    }

    /// The flows of `ids` (sorted), file by file, in parallel with one resolver per worker.
    private static func extract(_ ids: [FunctionID], index: TreeIndex, jobs: Int) -> [(FunctionID, [Summaries.Flow])] {
        var byFile: [[FunctionID]] = []
        for id in ids {
            if let last = byFile.last?.last, last.file == id.file { byFile[byFile.count - 1].append(id) } else { byFile.append([id]) }
        }
        let groups = byFile
        let perGroup = parallelMap(count: groups.count, jobs: jobs, makeState: { Resolver(index: index) }) { k, resolver in
            Summaries.flows(of: groups[k], index: index, resolver: resolver)
        }
        return perGroup.flatMap { $0 }
    }

    /// For each name, the functions (with parameters) whose calls can reach a function of
    /// that name: called directly, through a function-like macro (every definition, up to
    /// three levels, as `FunctionView.expandMacro` follows them), or as the release of a
    /// `kref_put`. Built in parallel: each file's edges are dealt into shards by the name's
    /// hash, and each shard's map is merged by one worker.
    static func callersByName(index: TreeIndex, jobs: Int) -> CallersByName {
        let shards = CallersByName.shardCount
        let perFile = parallelMap(count: index.files.count, jobs: jobs, makeState: { MacroTargets(index: index) }) { fi, targets -> [[(String, FunctionID)]] in
            var edges = Array(repeating: [(String, FunctionID)](), count: shards)
            let functions = index.files[fi].functions
            var seen = Set<String>()
            func add(_ name: String, _ id: FunctionID) {
                if seen.insert(name).inserted { edges[CallersByName.shard(of: name)].append((name, id)) }
            }
            for ni in functions.indices where !functions[ni].params.isEmpty && !functions[ni].calls.isEmpty {
                let fn = functions[ni]
                let id = FunctionID(file: Int32(fi), index: Int32(ni))
                seen.removeAll(keepingCapacity: true)
                for c in fn.calls where !c.callee.isEmpty {
                    add(c.callee, id)
                    if DriverCore.krefPuts.contains(c.callee) {
                        let args = fn.exprs.arguments(c.node)
                        if args.count >= 2, fn.exprs[args[args.startIndex + 1]].kind == .identifier {
                            add(fn.exprs.text(fn.exprs[args[args.startIndex + 1]]), id)
                        }
                    }
                    if index.functionsByName[c.callee] == nil {
                        for t in targets.of(c.callee) { add(t, id) }
                    }
                }
            }
            return edges
        }
        let maps = parallelMap(count: shards, jobs: jobs, makeState: { () }) { k, _ -> [String: [FunctionID]] in
            var callers: [String: [FunctionID]] = [:]
            for file in perFile {
                for (name, id) in file[k] { callers[name, default: []].append(id) }
            }
            return callers
        }
        return CallersByName(maps: maps)
    }
}

/// Callers by callee name, in shards by the name's hash (see `callersByName`).
struct CallersByName {
    static let shardCount = 8
    static func shard(of name: String) -> Int { Int(UInt(bitPattern: name.hashValue) % UInt(shardCount)) }
    let maps: [[String: [FunctionID]]]
    subscript(name: String) -> [FunctionID]? { maps[Self.shard(of: name)][name] }
}

/// The names a function-like macro's body calls, through up to three macro levels and
/// over every definition of each macro (memoized; one per worker).
final class MacroTargets {
    let index: TreeIndex
    private var memo: [String: [String]] = [:]

    init(index: TreeIndex) { self.index = index }

    func of(_ name: String) -> [String] {
        if let known = memo[name] { return known }
        var out: [String] = []
        var level = [name]
        for _ in 0..<3 where !level.isEmpty {
            var next: [String] = []
            for n in level {
                for m in index.macros(named: n) where m.root >= 0 {
                    let call = m.exprs[m.root]
                    guard call.a >= 0, m.exprs[call.a].kind == .identifier else { continue }
                    let t = m.exprs.text(m.exprs[call.a])
                    out.append(t)
                    if index.functionsByName[t] == nil { next.append(t) }
                }
            }
            level = next
        }
        memo[name] = out
        return out
    }
}
