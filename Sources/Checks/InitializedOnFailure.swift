import Facts
import Indexing
import Analysis
import Findings

/// A helper that initializes an object's reference count and can still fail afterwards,
/// returning it refcounted: `init_ctrl(&dev->ctrl)` runs `device_initialize()` on
/// `ctrl->dev`, then a later step fails and it leaves through an error label without a put.
/// Its caller then holds an initialized object that only a put may end, and a `kfree()` of
/// the container on that failure is the driver-core rule broken, as after a
/// `device_initialize()` of its own.
extension KfreeOutsideReleaseCheck {
    /// Teardowns that unpublish but keep the reference (`device_del()`: the documented
    /// way out is a put after it), so they leave an initialized object initialized.
    static let keepReference: Set<String> = ["device_del", "kobject_del", "cdev_device_del"]

    /// Where helper `g` leaves the object at `e` (a path in its parameter) initialized when
    /// it fails, as a note naming the initialization and the worst failure after it, or nil.
    /// It does when it calls a driver-core initializer on that path (`device_initialize()`), a
    /// `goto` after that call leaves on an error path (a failure later than the
    /// initialization; a helper that can fail only before it, `auxiliary_device_init()`,
    /// has none), it can return something other than 0, and nothing in it drops the
    /// object's reference (a put, an unregister, or a helper of its own that does).
    static func initializedOnFailure(_ g: FunctionID, _ e: ParamEffect, ctx: AnalysisContext) -> FindingNote? {
        guard !neverFails(g, index: ctx.index) else { return nil }
        let view = FunctionView(id: g, resolver: ctx.resolver)
        let calls = view.effectiveCalls()
        // The path of argument `j` of call `c` inside parameter `e.param`, when it is one:
        // an address (`&ctrl->dev`) or a pointer member holding one (`ctrl->device`).
        func path(_ c: EffectiveCall, _ j: Int) -> [String]? {
            guard j < c.args.count, c.args[j] >= 0,
                  let p = view.accessPath(c.args[j]) ?? view.memberPath(c.args[j]), p.root == .parameter(e.param) else { return nil }
            return Summaries.normalize(DriverCore.objectPath(c.callee, p.fields))
        }
        guard let initCall = calls.first(where: { c in
            DriverCore.initializers.contains(c.callee) && (DriverCore.publishers[c.callee] ?? []).contains { path(c, $0) == e.path }
        }) else { return nil }
        let initLine = initCall.site.line
        let gotos = view.decl.gotoPairs.map(\.goto)
        guard let failure = gotos.filter({ $0 > initLine }).min() else { return nil }
        // The object's paths: its own, and members of the parameter set to its address
        // (`ctrl->device = &ctrl->ctrl_device`), through which a put may reach it.
        var paths: Set<[String]> = [e.path]
        for a in view.decl.assignments {
            guard let l = view.memberPath(a.lhs, expandAliases: false), l.root == .parameter(e.param),
                  let r = view.accessPath(a.rhs, expandAliases: false), r.root == .parameter(e.param),
                  Summaries.normalize(r.fields) == e.path else { continue }
            paths.insert(Summaries.normalize(l.fields))
        }
        // A put balanced by a get taken in the helper itself (`get_device()` before
        // publishing, `put_device()` on the way out) leaves the first reference.
        var gets = 0
        for c in calls where c.site.line > initLine {
            if DriverCore.plainGets.contains(c.callee), path(c, 0).map(paths.contains) == true { gets += 1; continue }
            var drops = false
            if let args = DriverCore.teardowns[c.callee] {
                drops = !keepReference.contains(c.callee) && args.contains { path(c, $0).map(paths.contains) == true }
            } else if DriverCore.publishers[c.callee] == nil, let h = ctx.resolver.function(named: c.callee, from: g.file) {
                // (A helper's own get, `ctrl_get(ctrl)` around `get_device(ctrl->device)`;
                // not one it puts again itself, as `device_add()` does. The driver core's
                // own calls count by their entries above.)
                let reaches = { (inner: ParamEffect) in path(c, inner.param).map { paths.contains(Summaries.normalize($0 + inner.path)) } == true }
                let own = referenceEffects(of: h, ctx: ctx)
                if own.gets.contains(where: { !own.puts.contains($0) && reaches($0) }) { gets += 1; continue }
                drops = helperDrops(h, puts: own.puts, ctx: ctx, reaches: reaches)
            }
            if drops {
                if gets > 0 { gets -= 1 } else { return nil }
            }
        }
        let object = ([view.rootName(.parameter(e.param))] + e.path).joined(separator: "->")
        let runs = "\(view.decl.name)() runs \(initCall.callee)() on \(object) here and can still fail after it without dropping that reference"
        // The worst of those failures: one after a later call published the object (beyond
        // that call's own failure branch), when the helper publishes it and fails after.
        if let publish = calls.first(where: { c in
               c.site.line > initLine && !DriverCore.initializers.contains(c.callee)
                   && (DriverCore.publishers[c.callee] ?? []).contains { path(c, $0).map(paths.contains) == true }
           }),
           let late = gotos.filter({ $0 - publish.site.line > 2 }).min() {
            return FindingNote(.initialization, file: ctx.index.path(g.file), line: initLine,
                               message: "\(runs), also once \(publish.callee)() on line \(publish.site.line) published it (the goto on line \(late))")
        }
        return FindingNote(.initialization, file: ctx.index.path(g.file), line: initLine, message: "\(runs) (the goto on line \(failure))")
    }

    /// Whether helper `h` (whose own puts, `referenceEffects`, are `puts`) drops a
    /// reference on what `reaches` accepts: a put of its own, or a teardown its summary
    /// reaches that does not keep the reference (`device_del()` does).
    static func helperDrops(_ h: FunctionID, puts: [ParamEffect], ctx: AnalysisContext, reaches: (ParamEffect) -> Bool) -> Bool {
        puts.contains(where: reaches)
            || (ctx.summaries.tearsDown[h] ?? [:]).contains { inner, evidence in !keepReference.contains(evidence.callee) && reaches(inner) }
    }

    /// The parameter paths on whose object function `h` itself takes a plain reference
    /// (`DriverCore.plainGets`) and drops one (`DriverCore.referencePuts`), first argument,
    /// also through a pointer member, read in one pass: a get or put wrapper's effect
    /// (`ctrl_get(ctrl)` around `get_device(ctrl->device)`).
    static func referenceEffects(of h: FunctionID, ctx: AnalysisContext) -> (gets: [ParamEffect], puts: [ParamEffect]) {
        let view = FunctionView(id: h, resolver: ctx.resolver)
        var gets: [ParamEffect] = [], puts: [ParamEffect] = []
        for c in view.effectiveCalls() {
            let get = DriverCore.plainGets.contains(c.callee)
            guard get || DriverCore.referencePuts.contains(c.callee), let a = c.args.first, a >= 0,
                  let p = view.accessPath(a) ?? view.memberPath(a), case .parameter(let k) = p.root else { continue }
            let effect = ParamEffect(param: k, path: Summaries.normalize(p.fields))
            if get { gets.append(effect) } else { puts.append(effect) }
        }
        return (gets, puts)
    }
}

/// An allocator that hands out an object whose reference count it already initialized
/// (`platform_device_alloc()`: `device_initialize(&pa->pdev.dev)`, then `return &pa->pdev`):
/// its caller holds a refcounted object from the start, which only a put may end.
extension KfreeOutsideReleaseCheck {
    /// Per function: the path inside the returned object that the function initialized, for pointer-returning functions that
    /// call a driver-core initializer on a local's path and return that local or an address
    /// inside it (also `pa ? &pa->pdev : NULL`), every non-NULL return the same.
    static func initializingAllocators(_ ctx: AnalysisContext) -> [FunctionID: [String]] {
        var out: [FunctionID: [String]] = [:]
        for id in ctx.index.callers(ofAny: DriverCore.initializers).functions.sorted() {
            let fn = ctx.index.function(id)
            guard fn.returnType.dereferenced != nil, !fn.returns.isEmpty else { continue }
            let view = FunctionView(id: id, resolver: ctx.resolver)
            let e = view.exprs
            // The address each return hands out: the local and the path to it.
            var returned: AccessPath?
            var consistent = true
            for r in fn.returns {
                var node = e.strippingCasts(r)
                if e[node].kind == .conditional {
                    // `pa ? &pa->pdev : NULL`: the branch that is not NULL.
                    let (b, c) = (e[node].b, e[node].c)
                    node = e.isNullPointer(c) ? b : e.isNullPointer(b) ? c : node
                }
                let n = e[e.strippingCasts(node)]
                if e.isNullPointer(node) || n.kind == .number || (n.kind == .call && DriverCore.errorPointers.contains(e.text(at: n.a))) { continue }
                guard let p = view.accessPath(node, expandAliases: false), case .local = p.root, returned == nil || returned == p else { consistent = false; break }
                returned = p
            }
            guard consistent, let out0 = returned else { continue }
            for c in view.effectiveCalls() where DriverCore.initializers.contains(c.callee) {
                guard let a = c.args.first, a >= 0, let p = view.accessPath(a, expandAliases: false), p.root == out0.root,
                      p.fields.count > out0.fields.count, p.fields.starts(with: out0.fields) else { continue }
                out[id] = Array(p.fields.dropFirst(out0.fields.count))
                break
            }
        }
        return out
    }

    /// `x = alloc(…)` in `view` (the call's target), `alloc` one of `allocators`, `x` one of
    /// `roots`: an event that initializes `x`'s object at the allocator's path.
    static func allocationEvents(in view: FunctionView, on roots: Set<PathRoot>, allocators: [FunctionID: [String]], ctx: AnalysisContext) -> [Event] {
        initializedAllocations(in: view, allocators: allocators, ctx: ctx).filter { roots.contains($0.root) }.map { a in
            Event(root: a.root, path: a.path, line: a.call.line, callee: a.call.callee, teardown: false, initializes: true, direct: false)
        }
    }

    /// The calls `x = alloc(…)` in `view`, `alloc` one of `allocators` and `x` a plain
    /// name: the root the object goes to and the path its allocator initialized.
    static func initializedAllocations(in view: FunctionView, allocators: [FunctionID: [String]],
                                       ctx: AnalysisContext) -> [(root: PathRoot, path: [String], call: CallSite)] {
        guard !allocators.isEmpty else { return [] }
        return view.decl.calls.compactMap { c in
            guard c.target >= 0, !c.callee.isEmpty, let x = view.accessPath(c.target, expandAliases: false), x.fields.isEmpty,
                  let g = ctx.resolver.function(named: c.callee, from: view.file), let path = allocators[g] else { return nil }
            return (x.root, path, c)
        }
    }
}
