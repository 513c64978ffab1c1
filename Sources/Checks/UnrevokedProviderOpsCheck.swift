import Facts
import Indexing
import Analysis
import Findings

/// `unrevoked-provider-ops`: a core keeps a provider's callbacks or data in a refcounted
/// object that consumers can hold, uses them on consumer paths, and unregistering the
/// provider neither revokes them nor waits for the users.
struct UnrevokedProviderOpsCheck: Check {
    public init() {}

    public static let description = CheckDescription(
        id: "unrevoked-provider-ops",
        summary: "Provider callbacks or data used by a core after the provider may be unbound",
        rationale: """
            The core's object outlives the provider: a consumer holding a reference can still call \
            into the provider's callbacks, or pass its private data, after the provider was unbound \
            and its memory freed (nvmem before its SRCU rework; gpiolib before v6.9). The same holds for \
            a refcounted handle the core gives each consumer with a bare pointer to the struct a \
            provider registered. Unregister must clear the pointers under SRCU (or a lock every user \
            takes and re-checks), or wait for users.
            """,
        severity: .error,
        confidence: """
            Medium: protection is recognized from the code's own patterns (SRCU/RCU read side with a \
            NULL check and a clearing unregister that synchronizes; a lock taken by both sides with a \
            re-check; a flag cleared under that lock; a waiting unregister; an exported helper every \
            caller in the tree calls under such a lock). An unregister that warns on a count of users \
            makes a warning. False positives: cores whose consumers are always unbound first by design \
            (device links), a lock that callers outside the tree take around a helper, and uses inside \
            helper macros.
            """)

    public func run(_ ctx: AnalysisContext) -> [Finding] {
        var out: [Finding] = []
        for g in ctx.providerOps.groups {
            let unprotected = g.uses.filter { $0.protection == nil }
            guard !unprotected.isEmpty else { continue }
            if g.revokes || g.waits {
                out += escapedUses(g, unprotected.filter { ctx.reports($0.function.file) }, ctx)
            } else if ctx.reports((g.teardown.first ?? g.register).file) {
                out.append(groupFinding(g, unprotected, ctx))
            }
        }
        return out
    }

    private func useNote(_ u: ProviderOps.UseSite) -> FindingNote {
        let how = u.path.count > 1 ? "reached from \(u.entry)() via \(u.path.joined(separator: " → "))" : "\(u.entry)() is a consumer entry"
        return FindingNote(.useSite, file: u.file, line: u.line, column: u.column, message: "\(u.functionName)() uses \(u.member): \(u.reason); \(how)")
    }

    /// One entry per (function, line), whichever members the line uses.
    private func useRefs(_ uses: [ProviderOps.UseSite]) -> [FindingUseSite] {
        var seen = Set<String>()
        return uses.compactMap { u in
            seen.insert("\(u.file):\(u.line)").inserted ? FindingUseSite(function: u.functionName, file: u.file, line: u.line, entry: u.entry) : nil
        }
    }

    /// One finding at the unregister function of a core that does not revoke at all.
    private func groupFinding(_ g: ProviderOps.Group, _ uses: [ProviderOps.UseSite], _ ctx: AnalysisContext) -> Finding {
        let reg = ctx.index.function(g.register)
        let at = g.teardown.first ?? g.register
        let fn = ctx.index.function(at)
        let list = g.members.joined(separator: ", ")
        let functions = Array(Set(uses.map(\.functionName))).sorted()
        let teardownText = g.teardown.isEmpty ? "no unregister function was found that" : "\(fn.name)()"
        let what = g.clears ? "clears them, but no user re-checks them under that protection" : "neither revokes them nor waits for users"
        var message = "struct \(g.name) keeps the provider's \(list) (stored by \(reg.name)()), and \(teardownText) \(what): "
            + "\(functions.joined(separator: "(), "))() still use\(functions.count == 1 ? "s" : "") them on paths consumers reach after the provider is unbound"
        if let a = g.assertsNoUsers {
            message += "; but \(a.message): by the core's contract, consumers let go before the provider is unbound, and nothing enforces it"
        }
        var notes = g.assignments.prefix(6).map {
            FindingNote(.storage, file: ctx.index.path(g.register.file), line: $0.1, message: "\(reg.name)() stores the provider's \($0.0) in struct \(g.name)")
        }
        notes += uses.prefix(12).map(useNote)
        notes += g.revocation.prefix(3).map { FindingNote(.protection, file: $0.file, line: $0.line, message: $0.message) }
        if let a = g.assertsNoUsers { notes.append(FindingNote(.protection, file: a.file, line: a.line, message: a.message)) }
        var f = Finding(check: Self.description.id, severity: g.assertsNoUsers == nil ? .error : .warning, file: ctx.index.path(at.file), line: fn.line, column: fn.column,
                        function: fn.name, structName: g.name, chain: [g.name], object: g.name, protection: "none",
                        message: message, notes: notes)
        f.members = g.members
        f.useSites = useRefs(uses)
        return f
    }

    /// In a core that revokes, each function whose use escapes the protection.
    private func escapedUses(_ g: ProviderOps.Group, _ uses: [ProviderOps.UseSite], _ ctx: AnalysisContext) -> [Finding] {
        var byFunction: [FunctionID: [ProviderOps.UseSite]] = [:]
        for u in uses { byFunction[u.function, default: []].append(u) }
        return byFunction.keys.sorted().compactMap { fid in
            guard let list = byFunction[fid], let first = list.first else { return nil }
            let members = Array(Set(list.map(\.member))).sorted()
            let how = g.waits ? "waits for users" : "revokes them"
            let message = "\(first.functionName)() uses the provider's \(members.joined(separator: ", ")) of struct \(g.name) unprotected (\(first.reason)), "
                + "although unregister \(how): a consumer reaching it races with the provider's unbind"
            var notes = [useNote(first)]
            notes += g.revocation.prefix(4).map { FindingNote(.protection, file: $0.file, line: $0.line, message: $0.message) }
            var f = Finding(check: Self.description.id, severity: .error, file: first.file, line: first.line, column: first.column,
                            function: first.functionName, structName: g.name, chain: [g.name], object: g.name,
                            protection: g.waits ? "wait" : "revocation", message: message, notes: notes)
            f.members = members
            f.useSites = useRefs(list)
            if !g.waits, !g.synchronizes, let lock = g.clearLocks.first { f.shape = .revokedUnderLock(lock: lock) }
            return f
        }
    }
}
