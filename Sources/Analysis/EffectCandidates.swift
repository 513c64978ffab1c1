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
    ///
    /// A function's calls are read lazily: only those to a driver-core call or to a name
    /// already kept (a flow to any other callee can never carry an effect, so the fixed point
    /// is the same without it). When a name is kept later, its callers are candidates of the
    /// next round and read again for the calls to the names kept since.
    static func flows(index: TreeIndex, shapes: [EffectShape], callers: CallersByName, jobs: Int) -> [(FunctionID, [Summaries.Flow])] {
        var flowsOf: [FunctionID: [Summaries.Flow]] = [:]
        var kept = Array(repeating: Set<FunctionID>(), count: shapes.count)
        var frontier = DriverCore.effectCalls
        // The names whose calls matter, each with its place in the order they became so;
        // each function records how many of them it has been read for.
        var position: [String: Int] = [:]
        for name in DriverCore.effectCalls.sorted() { position[name] = position.count }
        var readUpTo: [FunctionID: Int] = [:]
        while !frontier.isEmpty {
            var candidates = Set<FunctionID>()
            for name in frontier { candidates.formUnion(callers[name]) }
            let toRead = candidates.filter { (readUpTo[$0] ?? 0) < position.count }.sorted()
            var since: [FunctionID: Int] = [:]
            for id in toRead { since[id] = readUpTo[id] ?? 0 }
            let known = position, from = since
            for (id, list) in extract(toRead, index: index, jobs: jobs, only: { id, name in
                guard let p = known[name], let k = from[id] else { return false }
                return p >= k
            }) {
                flowsOf[id, default: []] += list
            }
            for id in toRead {
                readUpTo[id] = position.count
                if (since[id] ?? 0) > 0 { flowsOf[id]?.sort { $0.call < $1.call } }
            }
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
            for name in next.sorted() where position[name] == nil { position[name] = position.count }
            frontier = next
        }
        let all = kept.reduce(into: Set<FunctionID>()) { $0.formUnion($1) }
        return all.sorted().compactMap { id in flowsOf[id].map { (id, $0) } }
    }

    /// The flows of `ids` (sorted), file by file, in parallel with one resolver per worker.
    private static func extract(_ ids: [FunctionID], index: TreeIndex, jobs: Int,
                                only: @escaping @Sendable (FunctionID, String) -> Bool) -> [(FunctionID, [Summaries.Flow])] {
        var byFile: [[FunctionID]] = []
        for id in ids {
            if let last = byFile.last?.last, last.file == id.file { byFile[byFile.count - 1].append(id) } else { byFile.append([id]) }
        }
        let groups = byFile
        let perGroup = parallelMap(count: groups.count, jobs: jobs, makeState: { Resolver(index: index) }) { k, resolver in
            Summaries.flows(of: groups[k], index: index, resolver: resolver, only: only)
        }
        return perGroup.flatMap { $0 }
    }

    /// For each name a frontier can hold (a function of the tree or a driver-core call),
    /// the functions (with parameters) whose calls can reach a function of that name:
    /// called directly, through a function-like macro (every definition, up to three
    /// levels, as `Resolver.macroExpansion` follows them), or as the release of a
    /// `kref_put`. Direct callers come from the tree's callers index when a name is asked;
    /// only the macro and `kref_put` edges are worked out here, from the tree's macros.
    static func callersByName(index: TreeIndex, jobs: Int) -> CallersByName {
        // A called macro that is no function of the tree: the names its expansion reaches.
        let macros = index.macroNames.filter { index.functionsByName[$0] == nil && !index.callers(of: $0).isEmpty }.sorted()
        let shares = max(1, min(jobs * 4, macros.count))
        let perShare = parallelMap(count: shares, jobs: jobs, makeState: { MacroTargets(index: index) }) { s, targets -> [(String, String)] in
            var edges: [(String, String)] = []
            for macro in macros[shareRange(s, of: macros.count, shares: shares)] {
                for t in Set(targets.of(macro)) { edges.append((t, macro)) }
            }
            return edges
        }
        var macrosReaching: [String: [String]] = [:]
        for edges in perShare { for (target, macro) in edges { macrosReaching[target, default: []].append(macro) } }
        var krefReleasing: [String: [FunctionID]] = [:]
        for put in DriverCore.krefPuts.sorted() {
            for id in index.callers(of: put) where CallersByName.hasParameters(id, index) {
                let fn = index.files[Int(id.file)].functions[Int(id.index)]
                for c in fn.calls where c.callee == put {
                    if let (release, _) = DriverCore.krefRelease(c, in: fn.exprs) { krefReleasing[release, default: []].append(id) }
                }
            }
        }
        return CallersByName(index: index, macrosReaching: macrosReaching, krefReleasing: krefReleasing)
    }
}

/// Callers by callee name (see `EffectCandidates.callersByName`); a name's callers may
/// repeat and come in any order (the search only unites them).
struct CallersByName {
    let index: TreeIndex
    let macrosReaching: [String: [String]]
    let krefReleasing: [String: [FunctionID]]

    /// A flow needs a parameter.
    static func hasParameters(_ id: FunctionID, _ index: TreeIndex) -> Bool {
        !index.files[Int(id.file)].functions[Int(id.index)].params.isEmpty
    }

    subscript(name: String) -> [FunctionID] {
        var out = index.callers(of: name).filter { Self.hasParameters($0, index) }
        for macro in macrosReaching[name] ?? [] {
            out.append(contentsOf: index.callers(of: macro).lazy.filter { Self.hasParameters($0, index) })
        }
        out.append(contentsOf: krefReleasing[name] ?? [])
        return out
    }
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
                for m in index.macros(named: n) {
                    guard let t = m.calledName else { continue }
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

