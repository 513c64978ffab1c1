import Facts
import Indexing
import Analysis
import Findings

/// `kfree-outside-release`, for a free after a teardown: whether the function waits out
/// the object's release before it frees (the free then frees what no one refers to), and
/// who outside the driver can still hold a reference when it does not.
extension KfreeOutsideReleaseCheck {
    /// After a teardown that unpublishes the object, someone outside the driver who holds a
    /// reference reaches the freed memory: the evidence that one can
    /// (`DevmEmbeddedRefcountCheck.rankedHolder`) is returned as a note. When none is found
    /// in the core and the object's release is known to free nothing (the core installs an
    /// empty one, or the driver's own frees nothing) and exists (no driver-core warning at
    /// the last put), only a delayed release touches the memory: a warning, and the clause
    /// saying so, as for device-managed memory. A release that frees the container, or one
    /// not found, leaves the error: the free may be a second one whoever holds a reference.
    static func judgeHolders(_ severity: inout Severity, _ tail: inout String, object: AggregateID, core: String, chain: [String],
                             file: String, ctx: AnalysisContext) -> FindingNote? {
        guard let obj = ctx.subsystems.objects[object] else { return nil }
        let held = DevmEmbeddedRefcountCheck.rankedHolder(obj, chain: chain.isEmpty ? [core] : chain, ctx: ctx)
        if let h = held, h.rank <= 2 {
            return h.evidence.file.isEmpty ? nil : FindingNote(.reference, file: h.evidence.file, line: h.evidence.line, message: "users can hold a reference: \(h.evidence.message)")
        }
        let verdict = Registration.verdict(for: object, file: file, ctx: ctx)
        let freesNothing: Bool
        switch verdict.protection {
        case .none, .emptyRelease: freesNothing = true
        case .driverRelease: freesNothing = verdict.driverRelease.map { !$0.freesContainer && !$0.freesConditionally && !$0.devmFree } ?? false
        default: freesNothing = false
        }
        guard freesNothing, !hasNoRelease(object, core: core, ctx: ctx) else { return nil }
        severity = .warning
        tail += "; but \(DevmEmbeddedRefcountCheck.noHolderFound(rank: held?.rank)), so only a delayed release (CONFIG_DEBUG_KOBJECT_RELEASE) could touch the freed memory"
        guard let weak = held else { return nil }
        return FindingNote(.reference, file: weak.evidence.file, line: weak.evidence.line, message: "not an outside holder: \(weak.evidence.message)")
    }

    /// `judgeHolders` for a finding of severity `severity` after event `ev` in function `id`
    /// (`events`: those on the same object): only an error after a teardown that unpublishes
    /// the object (not `onlyDrops`), or a put right after one (`_delete()`, then
    /// `_uninit()`, within the window), is judged.
    static func judgeHolders(after ev: Event, among events: [Event], in id: FunctionID, _ severity: inout Severity, _ tail: inout String,
                             object: AggregateID, core: String, chain: [String], ctx: AnalysisContext) -> FindingNote? {
        guard severity == .error, ev.teardown else { return nil }
        let unpublishes = { (e: Event) in !onlyDrops(e, in: id, ctx: ctx) }
        let afterUnpublish = { events.contains { e in e.teardown && e.path == ev.path && e.line < ev.line && ev.line - e.line <= window && unpublishes(e) } }
        guard unpublishes(ev) || afterUnpublish() else { return nil }
        return judgeHolders(&severity, &tail, object: object, core: core, chain: chain, file: ctx.index.path(id.file), ctx: ctx)
    }

    /// Whether teardown `ev` only drops a reference (`put_device()`, or a helper whose every
    /// teardown is one: `auxiliary_device_uninit()`) and unpublishes nothing: the undo of a
    /// failed registration (nothing was published, so no one outside holds it) or a put
    /// after an unpublish. Its outside holders are judged only when that unpublish comes
    /// right before it (`judgeHolders(after:among:…)`).
    static func onlyDrops(_ ev: Event, in id: FunctionID, ctx: AnalysisContext) -> Bool {
        if DriverCore.referencePuts.contains(ev.callee) { return true }
        guard let g = ctx.resolver.function(named: ev.callee, from: id.file), let effects = ctx.summaries.tearsDown[g], !effects.isEmpty else { return false }
        return effects.values.allSatisfy { PrivateAreas.onlyPuts($0, from: g, summaries: ctx.summaries, resolver: ctx.resolver) }
    }

    /// Whether the teardown `effect` of `function` is one it waits out: following the
    /// effect's evidence down to the driver-core call that drops the reference
    /// (`kobject_put(k)`), that function then waits for a completion in the same object
    /// (`wait_for_completion(&holder->done)`, which the release signals). The object is then
    /// released before `function` returns, and a free after it frees nothing anyone still
    /// refers to.
    static func waitsOut(_ effect: ParamEffect, of function: FunctionID, ctx: AnalysisContext) -> Bool {
        var id = function
        var path = effect.path
        for _ in 0..<6 {
            guard let evidence = ctx.summaries.tearsDown[id]?.first(where: { $0.key.path == path })?.value else { return false }
            if DriverCore.teardowns[evidence.callee] != nil {
                return waitsAfterDrop(in: id, callee: evidence.callee, line: evidence.line, ctx: ctx)
            }
            guard let next = ctx.resolver.function(named: evidence.callee, from: id.file),
                  let inner = ctx.summaries.tearsDown[next]?.keys.filter({ path.ends(with: $0.path) }).max(by: { $0.path.count < $1.path.count })
            else { return false }
            id = next
            path = inner.path
        }
        return false
    }

    /// Whether `function`'s call of `callee` on `line` is followed by a wait for a
    /// completion rooted where the dropped object is.
    static func waitsAfterDrop(in function: FunctionID, callee: String, line: Int32, ctx: AnalysisContext) -> Bool {
        let view = FunctionView(id: function, resolver: ctx.resolver)
        let calls = view.effectiveCalls()
        guard let drop = calls.first(where: { $0.callee == callee && $0.site.line == line }),
              let dropped = drop.args.first.flatMap({ view.accessPath($0) }) else { return false }
        return calls.contains { c in
            guard DriverCore.completionWaits.contains(c.callee), c.site.line > line,
                  let waited = c.args.first.flatMap({ view.accessPath($0) }) else { return false }
            // The completion is a member of the dropped object's container (or above it).
            let container = waited.fields.dropLast()
            return waited.root == dropped.root && !waited.fields.isEmpty && dropped.fields.starts(with: container)
        }
    }
}
