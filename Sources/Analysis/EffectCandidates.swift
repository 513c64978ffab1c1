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

    /// For each name a frontier can hold (a function of the tree or a driver-core call),
    /// the functions (with parameters) whose calls can reach a function of that name:
    /// called directly, through a function-like macro (every definition, up to three
    /// levels, as `FunctionView.expandMacro` follows them), or as the release of a
    /// `kref_put`. Names are numbered once, so the index is built from numbers.
    static func callersByName(index: TreeIndex, jobs: Int) -> CallersByName {
        var numbers: [String: Int32] = [:]
        numbers.reserveCapacity(index.functionsByName.count + DriverCore.effectCalls.count)
        // Any numbering does: it only joins a name's callers (which stay in file order).
        for name in index.functionsByName.keys { numbers[name] = Int32(numbers.count) }
        // Driver-core calls that are no function of the tree (macros) come after the functions.
        let functionNames = Int32(numbers.count)
        for name in DriverCore.effectCalls where numbers[name] == nil { numbers[name] = Int32(numbers.count) }
        for name in DriverCore.krefPuts where numbers[name] == nil { numbers[name] = Int32(numbers.count) }
        let ids = numbers
        let krefPuts = DriverCore.krefPuts.compactMap { numbers[$0] }
        let perFile = parallelMap(count: index.files.count, jobs: jobs, makeState: { MacroTargets(index: index) }) { fi, targets -> [(Int32, FunctionID)] in
            var edges: [(Int32, FunctionID)] = []
            let functions = index.files[fi].functions
            var seen = Set<Int32>()
            func add(_ name: String, _ id: FunctionID) {
                if let n = ids[name], seen.insert(n).inserted { edges.append((n, id)) }
            }
            for ni in functions.indices where !functions[ni].params.isEmpty && !functions[ni].calls.isEmpty {
                // By field: the declaration itself is not copied.
                let calls = functions[ni].calls, exprs = functions[ni].exprs
                let id = FunctionID(file: Int32(fi), index: Int32(ni))
                seen.removeAll(keepingCapacity: true)
                for c in calls where !c.callee.isEmpty {
                    let n = ids[c.callee]
                    if let n, seen.insert(n).inserted { edges.append((n, id)) }
                    if let n, krefPuts.contains(n), let (release, _) = DriverCore.krefRelease(c, in: exprs) { add(release, id) }
                    if (n ?? functionNames) >= functionNames {
                        // Not a function of the tree: perhaps a macro.
                        for t in targets.of(c.callee) { add(t, id) }
                    }
                }
            }
            return edges
        }
        var callers = Array(repeating: [FunctionID](), count: ids.count)
        for edges in perFile {
            for (n, id) in edges { callers[Int(n)].append(id) }
        }
        return CallersByName(numbers: ids, callers: callers)
    }
}

/// Callers by callee name (see `callersByName`).
struct CallersByName {
    let numbers: [String: Int32]
    let callers: [[FunctionID]]
    subscript(name: String) -> [FunctionID]? { numbers[name].map { callers[Int($0)] } }
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

