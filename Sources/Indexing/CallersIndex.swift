import Facts
import CFrontend

/// Who calls a name: for every callee spelled in the tree, the functions with a call to it,
/// each once, in file then declaration order.
///
/// Built once, on first use, with one pass over every call, so that "the functions calling
/// one of these names" costs a few lookups instead of hashing every call of the tree again
/// (passes and checks ask that question a dozen times per scan).
final class CallersIndex: Sendable {
    /// Callers by callee spelling.
    let byCallee: NamedLists<FunctionID>
    /// The sets asked before (a check asks the same one once per candidate), by sorted names.
    let asked = Memo<[String], Callers>()

    init(files: [FileFacts], jobs: Int) {
        byCallee = NamedLists(files: files, jobs: jobs, bound: { fi in files[fi].functions.reduce(0) { $0 + $1.calls.count } }) { fi, add in
            let functions = files[fi].functions
            for ni in functions.indices {
                let id = FunctionID(file: Int32(fi), index: Int32(ni))
                // A function calling a name twice is listed once (see `NamedLists`).
                let e = functions[ni].exprs
                // The callee's identifier: its index in the file's strings is the hint.
                for c in functions[ni].calls where !c.callee.isEmpty { add(c.callee, e[e[c.node].a].textID, id) }
            }
        }
    }
}

/// One assignment of a function: the function and the assignment's index in it.
public struct AssignmentRef: Sendable, Hashable, Comparable {
    public let function: FunctionID
    public let assignment: Int32
    public static func < (a: AssignmentRef, b: AssignmentRef) -> Bool { (a.function, a.assignment) < (b.function, b.assignment) }
}

/// Assignments to a member (`x->dev.release = f` is one to `release`) by the member's name.
final class MemberAssignmentIndex: Sendable {
    let byMember: NamedLists<AssignmentRef>

    init(files: [FileFacts], jobs: Int) {
        byMember = NamedLists(files: files, jobs: jobs, bound: { fi in files[fi].functions.reduce(0) { $0 + $1.assignments.count } }) { fi, add in
            let functions = files[fi].functions
            for ni in functions.indices {
                let e = functions[ni].exprs
                for (ai, a) in functions[ni].assignments.enumerated() where a.lhs >= 0 && e[a.lhs].kind == .member {
                    add(e.text(e[a.lhs]), e[a.lhs].textID, AssignmentRef(function: FunctionID(file: Int32(fi), index: Int32(ni)), assignment: Int32(ai)))
                }
            }
        }
    }
}

/// The functions that call at least one name of a set, in file then declaration order:
/// found tree-wide at once instead of file by file.
public struct Callers: Sendable {
    /// Each function once, sorted.
    public let functions: [FunctionID]

    init(_ functions: [FunctionID]) { self.functions = functions }

    /// The indices, within file `file`, of the functions that are callers.
    public func indices(inFile file: Int32) -> [Int] {
        // First position whose file is not below `file` (binary search), then the run.
        var lo = 0, hi = functions.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if functions[mid].file < file { lo = mid + 1 } else { hi = mid }
        }
        var out: [Int] = []
        while lo < functions.count && functions[lo].file == file {
            out.append(Int(functions[lo].index))
            lo += 1
        }
        return out
    }
}

extension TreeIndex {
    /// Calls `body` with every name a call of the tree spells and the functions that call
    /// it (each once, in file then declaration order): the whole index, for its tests.
    func forEachCallee(_ body: (String, [FunctionID]) -> Void) {
        let table = callersIndex.byCallee
        for k in 0..<table.nameCount {
            let list = table.list(number: k)
            if !list.isEmpty { body(table.names[Int32(k)], Array(list)) }
        }
    }

    /// The functions that call `name` (each once, in file then declaration order).
    public func callers(of name: String) -> ArraySlice<FunctionID> { callersIndex.byCallee.list(name) }

    /// Assignments whose left side is a member named in `members`, in file, function and
    /// assignment order.
    public func assignments(toMembers members: Set<String>) -> [AssignmentRef] {
        let table = memberAssignmentIndex.byMember
        return members.flatMap { Array(table.list($0)) }.sorted()
    }

    /// Builds the name indexes now, if they are not built yet: the two side by side, each
    /// on one worker (so neither has shares to merge). `alongside(k)` for `k` in
    /// `0..<count` is handed out to the workers after them, in order (the callers index
    /// takes longest: the worker done with the member index goes on with these); a task
    /// that reads an index still being built waits for it. Returns the tasks' results.
    public func prepareNameIndexes<T: Sendable>(alongside count: Int, _ alongside: @escaping @Sendable (Int) -> T) -> [T] {
        let done = parallelMap(count: 2 + count, jobs: jobs, makeState: { () }) { [self] k, _ -> T? in
            switch k {
            case 0: _ = callersCell.get { CallersIndex(files: files, jobs: 1) }; return nil
            case 1: _ = memberAssignmentCell.get { MemberAssignmentIndex(files: files, jobs: 1) }; return nil
            default: return alongside(k - 2)
            }
        }
        return done.dropFirst(2).compactMap { $0 }
    }

    /// The functions that call any of `names` (a call's callee spelled as one of them).
    public func callers<S: Sequence>(ofAny names: S) -> Callers where S.Element == String {
        let index = callersIndex
        return index.asked.get(names.sorted()) { key in
            var lists: [ArraySlice<FunctionID>] = []
            for name in key { let l = index.byCallee.list(name); if !l.isEmpty { lists.append(l) } }
            if lists.count <= 1 { return Callers(Array(lists.first ?? [])) }
            var all = Array(lists.joined())
            all.sort()
            var unique: [FunctionID] = []
            unique.reserveCapacity(all.count)
            for id in all where unique.last != id { unique.append(id) }
            return Callers(unique)
        }
    }
}
