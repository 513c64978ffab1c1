import Facts
import Indexing

/// A calling contract of a core: exported helpers that the core documents as "call with the
/// ops held" (`tpm_transmit_cmd()` after `tpm_try_get_ops()`), recognized from how the tree
/// calls them.
extension CoreScan {
    /// How one call to a core function stands towards the contract.
    private enum CallSite {
        /// Made by a provider, or with a lock that unregister takes while clearing held after
        /// the provider's state was re-checked.
        case keeps
        /// Made by this function (of the core, or a static one outside it): keeps the
        /// contract when that function does.
        case within(FunctionID)
        /// Made by a consumer that holds nothing.
        case breaks
    }

    /// Core functions whose callers keep a calling contract, so that they are not consumer
    /// entries of their own: every call the tree makes to them is made with a lock that
    /// unregister takes while clearing held (taken by the caller, or held on return from a
    /// get helper it called first) after the provider's state was checked under it; or by a
    /// provider (a file outside the core that calls a register entry) or the core's register
    /// and teardown functions; or by a function that keeps the contract itself (a static one
    /// outside the core too, `x_unseal()` → `x_load()` → the helper). Their uses are judged
    /// on their callers' paths. An entry the tree never calls stays an entry; a function
    /// nothing calls that is no entry (a callback of the core or of a provider's file) keeps
    /// the contract.
    func contractKept(entries: Set<String>, registerEntries: Set<String>) -> Set<String> {
        guard !teardownFacts.clearLocks.isEmpty else { return [] }
        let byName = functionsByName
        let core = Set(coreFiles)
        let providerFacing = Set(([group.register] + group.teardown).map { index.function($0).name })
        let registering = registerEntries.union([index.function(group.register).name])
        let providerFiles = Set(index.callers(ofAny: registering).functions.map(\.file)).subtracting(core)
        let state = Set(group.members).union(teardownFacts.clearedFlags)
        var held: [FunctionID: Set<String>] = [:]
        var sites: [FunctionID: [CallSite]] = [:]
        var queue = byName.filter { !entries.contains($0.key) || index.exported.contains($0.key) }.map(\.value).sorted()
        var outside = 0
        while let id = queue.popLast() {
            guard sites[id] == nil else { continue }
            let name = index.function(id).name
            // A static function outside the core is called from its own file only.
            let callers = index.callers(of: name).filter { $0 != id && (core.contains(id.file) || $0.file == id.file) }
            // Nothing calls it: an entry, a callback of another subsystem (not kept), or a
            // callback of the core or of a provider (kept).
            if callers.isEmpty && (entries.contains(name) || !core.contains(id.file) && !providerFiles.contains(id.file)) { continue }
            var list: [CallSite] = []
            for c in callers {
                let fn = index.function(c)
                // A provider (its probe, PM and other callbacks run while it is bound), or the
                // core's register and teardown paths.
                if providerFiles.contains(c.file) || providerFacing.contains(fn.name) { list.append(.keeps); continue }
                for call in fn.calls where call.callee == name {
                    if !locksHeld(by: c, at: call.line, state: state, byName: byName, memo: &held).isDisjoint(with: teardownFacts.clearLocks) {
                        list.append(.keeps)
                    } else if core.contains(c.file) ? byName[fn.name] == c : !index.exported.contains(fn.name) && outside < 256 {
                        list.append(.within(c))
                        if !core.contains(c.file) && sites[c] == nil { queue.append(c); outside += 1 }
                    } else {
                        list.append(.breaks)
                    }
                }
            }
            sites[id] = list
        }
        // The greatest set closed under "every call keeps the contract".
        var kept = Set(sites.keys)
        var changed = true
        while changed {
            changed = false
            for id in kept.sorted() {
                let ok = sites[id]?.allSatisfy { site in
                    switch site {
                    case .keeps: return true
                    case .within(let caller): return kept.contains(caller)
                    case .breaks: return false
                    }
                } ?? false
                if !ok { kept.remove(id); changed = true }
            }
        }
        return Set(kept.filter { core.contains($0.file) }.map { index.function($0).name })
    }

    /// Locks that function `c` holds at `line`, with the provider's `state` (its members and
    /// cleared flags) checked under them: its own (when it tests the state), and those a
    /// core helper it called before the line returns holding after such a test.
    private func locksHeld(by c: FunctionID, at line: Int32, state: Set<String>, byName: [String: FunctionID],
                           memo: inout [FunctionID: Set<String>]) -> Set<String> {
        let view = FunctionView(id: c, resolver: resolver)
        var out = checks(state, in: view) ? SyncEvents(view).held(at: line) : []
        for call in view.decl.calls where call.line < line {
            guard let helper = byName[call.callee], helper != c else { continue }
            if let known = memo[helper] { out.formUnion(known); continue }
            let hv = FunctionView(id: helper, resolver: resolver)
            let locks = checks(state, in: hv) ? heldOnReturn(hv) : []
            memo[helper] = locks
            out.formUnion(locks)
        }
        return out
    }

    /// Whether a condition of the function tests one of `names` as a member.
    private func checks(_ names: Set<String>, in view: FunctionView) -> Bool {
        let e = view.exprs
        return view.decl.tests.contains { t in
            let n = e[t.node]
            return n.kind == .member && names.contains(e.text(n))
        }
    }

    /// Locks a function holds at an unconditional return: taken before it and not released
    /// in between (error paths that unlock after a label further down do not count).
    func heldOnReturn(_ view: FunctionView) -> Set<String> {
        let sync = SyncEvents(view)
        var out = Set<String>()
        for ret in view.decl.unconditionalJumps {
            out.formUnion(sync.held(at: ret).filter { lock in sync.takes.contains { $0.identity == lock && !$0.isGuard } })
        }
        return out
    }
}
