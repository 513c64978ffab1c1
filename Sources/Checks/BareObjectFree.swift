import Facts
import Indexing
import Analysis
import Findings

/// A core object allocated on its own, not inside a struct (`kobj = kzalloc(sizeof(*kobj))`
/// for a `struct kobject *`), freed with `kfree()` on the failure path of its own
/// registration (`kobject_init_and_add()`): the reference count is initialized, so only the
/// put may end it, and the name the registration set leaks. The container checks above
/// never see it, having no struct that embeds it.
extension KfreeOutsideReleaseCheck {
    static func bareObjectFindings(_ ctx: AnalysisContext) -> [Finding] {
        var sites: [FunctionID: [AllocationSite]] = [:]
        for s in ctx.allocations.sites where !s.isDeviceManaged && !s.holdsSeveral {
            guard let agg = s.aggregate, s.target != nil,
                  ["kobject", "device"].contains(ctx.index.aggregate(agg).name) else { continue }
            sites[s.function, default: []].append(s)
        }
        var out: [Finding] = []
        for id in sites.keys.sorted() where ctx.reports(id.file) {
            let view = FunctionView(id: id, resolver: ctx.resolver)
            let calls = view.effectiveCalls()
            for c in calls where DriverCore.failureKeepsReference[c.callee] == 0 {
                // (The object as the allocation's target names it: `kobj`, `entry->child`.)
                guard let a = c.args.first, a >= 0, let p = view.accessPath(a) ?? view.memberPath(a),
                      let site = sites[id]?.last(where: { $0.target == p && $0.line < c.site.line }),
                      let failure = FailurePath.of(c.site, in: view.decl, success: { MissingPutOnFailureCheck.isSuccess($0, object: p, in: view) }) else { continue }
                // The first call on the failure path that is handed the object and drops or
                // frees it: a free.
                let drops = calls.filter { d in
                    failure.contains(d.site.line) && d.args.first.flatMap { $0 >= 0 ? view.accessPath($0) ?? view.memberPath($0) : nil } == p
                        && (DriverCore.frees.contains(d.callee) || DriverCore.teardowns[d.callee] != nil)
                }
                guard let free = drops.first, DriverCore.frees.contains(free.callee) else { continue }
                guard let agg = site.aggregate else { continue }
                out.append(bareFinding(free, after: c, object: ctx.index.aggregate(agg).name, allocation: site, in: view, ctx: ctx))
            }
        }
        return out
    }

    /// The finding for `free`, on the failure path of registration `c` of a bare `object`.
    static func bareFinding(_ free: EffectiveCall, after c: EffectiveCall, object: String, allocation site: AllocationSite,
                            in view: FunctionView, ctx: AnalysisContext) -> Finding {
        let file = ctx.index.path(view.file)
        let drop = DriverCore.dropCall[object] ?? "put_device()"
        let name = view.exprs.render(free.args[0])
        var f = Finding(check: description.id, severity: .warning, file: file, line: free.site.line, column: free.site.column,
                        function: view.decl.name, structName: object, object: object,
                        message: "'struct \(object)' \(name), allocated on its own, is freed with \(free.callee)() on the error path of \(c.callee)(), which must be undone with \(drop): the reference count is initialized and the name it set leaks; free it in the release callback instead",
                        notes: [FindingNote(.allocation, file: file, line: site.line, message: "\(name) allocated here with \(site.allocator)()"),
                                FindingNote(.publish, file: file, line: c.site.line, message: "\(c.callee)() on \(name)")])
        f.shape = .freedOnErrorPath(drop: drop)
        // A pointer kept in a member may be put again by whoever holds it (`entry->child`).
        let stored = name.contains("->") ? ", and set \(name) to NULL if a caller may put it again" : ""
        f.fix = "call \(drop) instead of \(free.callee)() on this error path: once \(c.callee)() ran, only the release callback of the \(object)'s type may free it; check that the release kfree()s the \(object) itself, drop the other frees on this path that the release also does\(stored)"
        return f
    }
}
