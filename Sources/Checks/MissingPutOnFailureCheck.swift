import Facts
import Indexing
import Analysis
import Findings

/// `missing-put-on-failure`: a registration that can fail after initializing the object's
/// reference count, and an error path that leaves without dropping that reference: the
/// object and what the core allocated for it (its name) leak.
struct MissingPutOnFailureCheck: Check {
    public init() {}

    public static let description = CheckDescription(
        id: "missing-put-on-failure",
        summary: "A failed registration's error path never drops the reference the registration initialized",
        rationale: """
            device_register(), device_add() after device_initialize(), kobject_init_and_add() and \
            cdev_device_add() leave the object refcounted when they fail: the documented way out is \
            put_device()/kobject_put(), whose release frees it. An error path that returns without \
            the put (and without freeing it at all) leaks the object and the name the core \
            allocated for it; a helper that returns such a failure to its caller hands the put on.
            """,
        severity: .warning,
        confidence: """
            The object must be allocated in the function that leaks it (kzalloc() and kin, or an \
            allocator that hands it out initialized, such as platform_device_alloc()), never stored \
            anywhere before the failure, and the failure path is approximated by lines: the first \
            return or goto within six lines of the call, then the code under the goto's label. Any \
            call on that path that is handed the object or its container and may drop it (a put, \
            an unregister, a free, a function of the tree that does, or one whose body is not in \
            the tree) counts as handling it. Devm-allocated objects are left to \
            devm-embedded-refcount; static ones leak nothing worth a report.
            """)

    /// A function that leaves the object at `effect` (a path in one of its parameters)
    /// referenced when it fails, for its caller to put: the evidence, as a note.
    struct LeavesReference {
        var effect: ParamEffect
        /// The core object's kind (`device`, `kobject`).
        var core: String
        var note: FindingNote
        /// The driver core's call whose failure it passes on (`device_register`).
        var registration: String
        /// It can also fail before that call initialized the reference (an earlier `return`
        /// or `goto`): its caller cannot tell the two failures apart.
        var failsBefore: Bool
    }

    /// The registrations of `DriverCore.failureKeepsReference` that initialize the
    /// reference themselves (the others run on an object initialized before them).
    static let initializingRegistrations: Set<String> = ["device_register", "kobject_init_and_add"]

    /// The core kind a failure of `callee` leaves referenced.
    static func core(of callee: String) -> String { callee.hasPrefix("kobject") ? "kobject" : "device" }

    public func run(_ ctx: AnalysisContext) -> [Finding] {
        var leaving: [FunctionID: [LeavesReference]] = [:]
        var findings: [String: (file: Int32, finding: Finding)] = [:]
        let allocations = Self.localAllocations(ctx)
        var names = Set(DriverCore.failureKeepsReference.keys)
        var round = Array(ctx.effectiveCallers(ofAny: names)).sorted()
        // Rounds: the callers of the driver core's calls, then of each helper found to
        // return such a failure, up to a few levels.
        for _ in 0..<5 where !round.isEmpty {
            var found: Set<String> = []
            for id in round {
                for helper in Self.visit(id, leaving: leaving, allocations: allocations, ctx: ctx, findings: &findings) {
                    if leaving[id] == nil { found.insert(ctx.index.function(id).name) }
                    if !(leaving[id] ?? []).contains(where: { $0.effect == helper.effect }) { leaving[id, default: []].append(helper) }
                }
            }
            let fresh = found.subtracting(names)
            names.formUnion(fresh)
            round = Array(ctx.effectiveCallers(ofAny: fresh)).sorted()
        }
        return findings.keys.sorted().compactMap { findings[$0] }.filter { ctx.reports($0.file) }.map(\.finding)
    }

    /// The objects allocated in each function: a local assigned a plain allocation (not
    /// device-managed) of a struct, or the result of an allocator that hands out an
    /// initialized object (`platform_device_alloc()`), with the allocation's line, allocator
    /// and struct (nil for an initializing allocator, whose path is the one it initialized).
    struct LocalAllocation {
        var root: PathRoot
        var line: Int32
        var allocator: String
        var aggregate: AggregateID?
        var initializedPath: [String]?
    }

    static func localAllocations(_ ctx: AnalysisContext) -> [FunctionID: [LocalAllocation]] {
        var out: [FunctionID: [LocalAllocation]] = [:]
        for s in ctx.allocations.sites where !s.isDeviceManaged && !s.holdsSeveral {
            guard let t = s.target, t.fields.isEmpty, case .local = t.root, let agg = s.aggregate else { continue }
            out[s.function, default: []].append(LocalAllocation(root: t.root, line: s.line, allocator: s.allocator, aggregate: agg))
        }
        let initializing = KfreeOutsideReleaseCheck.initializingAllocators(ctx)
        guard !initializing.isEmpty else { return out }
        let names = Set(initializing.keys.map { ctx.index.function($0).name })
        for id in ctx.index.callers(ofAny: names).functions {
            let view = FunctionView(id: id, resolver: ctx.resolver)
            for a in KfreeOutsideReleaseCheck.initializedAllocations(in: view, allocators: initializing, ctx: ctx) {
                guard case .local = a.root else { continue }
                out[id, default: []].append(LocalAllocation(root: a.root, line: a.call.line, allocator: a.call.callee, initializedPath: a.path))
            }
        }
        return out
    }
}

extension MissingPutOnFailureCheck {
    /// One function: each call that fails leaving an object referenced (a driver-core call
    /// of `DriverCore.failureKeepsReference`, or a helper of `leaving`), whose failure path
    /// drops nothing. An object allocated here is a finding (added to `findings`, keyed by
    /// place); one of a parameter makes this function a helper that leaves it to its
    /// callers, returned.
    static func visit(_ id: FunctionID, leaving: [FunctionID: [LeavesReference]], allocations: [FunctionID: [LocalAllocation]],
                      ctx: AnalysisContext, findings: inout [String: (file: Int32, finding: Finding)]) -> [LeavesReference] {
        let view = FunctionView(id: id, resolver: ctx.resolver)
        let fn = view.decl
        let calls = view.effectiveCalls()
        var helpers: [LeavesReference] = []
        for c in calls where !c.callee.isEmpty {
            // What the call leaves referenced on failure: (argument, path inside it, core kind, helper note).
            var left: [(arg: Int, path: [String], core: String, helper: LeavesReference?)] = []
            if let j = DriverCore.failureKeepsReference[c.callee] {
                left.append((j, [], core(of: c.callee), nil))
            } else if let g = ctx.resolver.function(named: c.callee, from: view.file), let list = leaving[g] {
                left += list.map { ($0.effect.param, $0.effect.path, $0.core, $0) }
            }
            for l in left {
                guard l.arg < c.args.count, c.args[l.arg] >= 0, let p = view.accessPath(c.args[l.arg]) else { continue }
                let object = AccessPath(root: p.root, fields: Summaries.normalize(p.fields + l.path))
                guard !object.fields.isEmpty || l.path.isEmpty, let failure = FailurePath.of(c.site, in: fn, success: { isSuccess($0, object: object, in: view) }),
                      !handled(object, linkedTo: [], on: failure, calls: calls, in: view, ctx: ctx) else { continue }
                switch object.root {
                case .parameter(let k):
                    // Handed on to the callers only when the failure is returned to them.
                    guard !(fn.returnType.kind == .builtin && fn.returnType.name == "void" && fn.returnType.pointerDepth == 0) else { continue }
                    let name = ([view.rootName(object.root)] + object.fields).joined(separator: "->")
                    let registration = l.helper?.registration ?? c.callee
                    let how = l.helper == nil ? "\(c.callee)()'s failure" : "the failure of \(c.callee)() (\(registration)()'s)"
                    let note = FindingNote(.publish, file: ctx.index.path(view.file), line: c.site.line,
                                           message: "\(fn.name)() returns \(how) from here without dropping the reference on \(name)")
                    // (Only a registration that initializes the reference can fail before
                    // it exists; `device_add()` runs on an object initialized already.)
                    let failsBefore = initializingRegistrations.contains(registration)
                        && ((l.helper?.failsBefore ?? false) || exits(before: c.site.line, in: view))
                    helpers.append(LeavesReference(effect: ParamEffect(param: k, path: object.fields), core: l.core, note: note,
                                                   registration: registration, failsBefore: failsBefore))
                case .local:
                        guard let a = allocated(object, in: id, before: c.site.line, allocations: allocations, ctx: ctx),
                          !escapes(object.root, after: a.line, before: failure.exit, in: view),
                          !mayHoldCallers(object.root, in: view) else { continue }
                    let links = linked(object.root, after: a.line, before: failure.exit, except: c.site, calls: calls, in: view)
                    guard !links.toDevres, !handled(object, linkedTo: links.roots, on: failure, calls: calls, in: view, ctx: ctx),
                          !handledBelow(object, failure: failure, call: c.site, calls: calls, in: view, ctx: ctx) else { continue }
                    let f = finding(c, object: object, core: l.core, helper: l.helper, allocation: a, failure: failure, in: view, ctx: ctx)
                    findings["\(ctx.index.path(view.file))\u{1f}\(c.site.line)\u{1f}\(c.site.column)"] = (view.file, f)
                case .global:
                    continue
                }
            }
        }
        return helpers
    }

    /// Whether the function can leave before line `line`: a `goto`, or a `return` of
    /// something other than 0.
    static func exits(before line: Int32, in view: FunctionView) -> Bool {
        let fn = view.decl
        if fn.gotoPairs.contains(where: { $0.goto < line }) { return true }
        return fn.returnStatements.contains { r in r.line < line && !(r.operand.map(view.exprs.isZero) ?? false) }
    }

    /// Whether returning `node` is a success for a call on `object`: the constant 0, or the
    /// object's root itself (`return p;`, handed out registered).
    static func isSuccess(_ node: Int32, object: AccessPath, in view: FunctionView) -> Bool {
        if view.exprs.isZero(node) { return true }
        guard case .local = object.root, let p = view.accessPath(node, expandAliases: false) else { return false }
        return p.root == object.root
    }

    /// The allocation in `id` of the object at `object` (a local), before line `line`, when
    /// the allocated struct embeds a core object on the object's path (or an initializing
    /// allocator initialized it there).
    static func allocated(_ object: AccessPath, in id: FunctionID, before line: Int32,
                          allocations: [FunctionID: [LocalAllocation]], ctx: AnalysisContext) -> LocalAllocation? {
        guard let a = (allocations[id] ?? []).last(where: { $0.root == object.root && $0.line <= line }) else { return nil }
        if let path = a.initializedPath { return object.fields == path ? a : nil }
        guard let agg = a.aggregate else { return nil }
        // The allocation is the core object itself (`dev = kzalloc(sizeof(*dev), …)`).
        if object.fields.isEmpty { return DriverCore.coreObjects.contains(ctx.index.aggregate(agg).name) ? a : nil }
        guard let (_, path) = Registration.walk(agg, object.fields, ctx: ctx), path == object.fields else { return nil }
        return a
    }

    /// Whether the local `root` is stored anywhere but in another local between lines
    /// `from` and `to` (`priv->child = x`, `*out = x`, `p->dev[i] = x = alloc()`): whoever
    /// can reach it there may drop it.
    static func escapes(_ root: PathRoot, after from: Int32, before to: Int32, in view: FunctionView) -> Bool {
        let e = view.exprs
        return view.decl.assignments.contains { a in
            var rhs = e.strippingCasts(a.rhs)
            if rhs >= 0 && e[rhs].kind == .assign { rhs = e[rhs].a }
            guard a.line >= from && a.line <= to, let r = view.accessPath(rhs, expandAliases: false), r.root == root, r.fields.isEmpty else { return false }
            guard let l = view.accessPath(a.lhs, expandAliases: false) else { return true }
            if case .local = l.root, l.fields.isEmpty { return false }
            return true
        }
    }

    /// Whether the local `root` may hold the caller's object instead of the one allocated
    /// here (`dev = sdev; if (!dev) dev = kzalloc(…)`): a parameter is assigned to it.
    static func mayHoldCallers(_ root: PathRoot, in view: FunctionView) -> Bool {
        view.decl.assignments.contains { a in
            guard let l = view.accessPath(a.lhs, expandAliases: false), l.root == root, l.fields.isEmpty,
                  let r = view.accessPath(a.rhs, expandAliases: false) ?? view.memberPath(a.rhs, expandAliases: false),
                  case .parameter = r.root else { return false }
            return true
        }
    }

    /// What the calls between lines `from` and `to` (other than `except`) link the object
    /// to: whether one hands it to devres (`devm_add_action_or_reset(dev, fn, x)`: the
    /// action undoes it), and the parameters and globals handed a pointer to a struct in
    /// the same call as the root or a member's address (`list_add(&x->entry, &priv->list)`,
    /// `platform_set_drvdata(pdev, x)`), through which a clean-up may reach it.
    static func linked(_ root: PathRoot, after from: Int32, before to: Int32, except: CallSite, calls: [EffectiveCall],
                       in view: FunctionView) -> (toDevres: Bool, roots: Set<PathRoot>) {
        var devres = false
        var roots = Set<PathRoot>()
        for c in calls where c.site.line >= from && c.site.line <= to && c.site.node != except.node {
            var mine = false
            var outside: [PathRoot] = []
            for arg in c.args where arg >= 0 {
                guard let p = view.accessPath(arg) else { continue }
                if p.root == root { mine = true; continue }
                if case .local = p.root { continue }
                if let (t, _) = view.type(of: arg), t.pointerDepth > 0, t.isAggregateTag || t.kind == .named { outside.append(p.root) }
            }
            guard mine else { continue }
            if DriverCore.devresActions.contains(c.callee) || DriverCore.devresActions.contains(c.writtenAs) { devres = true }
            roots.formUnion(outside)
        }
        return (devres, roots)
    }

    /// Whether the code right below the failure path's jump drops the object: then that
    /// jump was the success path (`if (!ret) return ret; platform_device_put(pd);`,
    /// `if (ret == 0) goto out;`) and the failure falls through to the drop.
    static func handledBelow(_ object: AccessPath, failure: FailurePath, call: CallSite, calls: [EffectiveCall], in view: FunctionView, ctx: AnalysisContext) -> Bool {
        guard !call.isReturned else { return false }
        let jump = failure.jump?.goto ?? failure.exit
        let end = view.decl.unconditionalJumps.filter { $0 > jump }.min() ?? view.decl.endLine
        guard end > jump else { return false }
        let below = FailurePath(ranges: [(jump + 1)...end], exit: end)
        return handled(object, linkedTo: [], on: below, calls: calls, in: view, ctx: ctx, strictly: true)
    }

    /// Whether a call on the failure path may drop `object`: a put or unregister of the
    /// driver core on it (not `device_del()`, which keeps the reference), a free of its
    /// container, a function of the tree that does one of these through that parameter
    /// (`Summaries`), a function of the caller's directory handed anything inside the
    /// container, or one whose body is not in the tree (print helpers aside: they are handed
    /// the device to name it). A put of another count inside it (`kref_put(&x->refs, …)`)
    /// is none. A call handed a root the object was linked to (`linked`) counts when it is
    /// not in the tree or drops something itself (a `fini(priv)` walking a list).
    /// `strictly`, only a call known to drop the object counts.
    static func handled(_ object: AccessPath, linkedTo: Set<PathRoot>, on failure: FailurePath, calls: [EffectiveCall], in view: FunctionView,
                        ctx: AnalysisContext, strictly: Bool = false) -> Bool {
        calls.contains { c in
            guard failure.contains(c.site.line), !c.callee.isEmpty else { return false }
            return c.args.indices.contains { j in
                guard c.args[j] >= 0, let p = view.accessPath(c.args[j]) ?? view.memberPath(c.args[j]) else { return false }
                if p.root != object.root {
                    guard !strictly, linkedTo.contains(p.root) else { return false }
                    guard let g = ctx.resolver.function(named: c.callee, from: view.file) else { return !isPrint(c.callee) }
                    return dropsSomething(g, ctx: ctx)
                }
                let fields = Summaries.normalize(p.fields)
                let reaches = { (inner: [String]) in Summaries.normalize(fields + inner) == object.fields }
                if DriverCore.krefPuts.contains(c.writtenAs) || DriverCore.krefPuts.contains(c.callee) { return reaches([]) }
                if DriverCore.teardowns[c.callee] != nil {
                    return !KfreeOutsideReleaseCheck.keepReference.contains(c.callee) && reaches(DriverCore.objectPath(c.callee, []))
                }
                if DriverCore.frees.contains(c.callee) || DriverCore.devmFrees.contains(c.callee) { return fields.isEmpty }
                guard let g = ctx.resolver.function(named: c.callee, from: view.file) else { return !strictly && !isPrint(c.callee) }
                // A helper of the caller's own directory handed the object on its error
                // path is taken for its clean-up (`bcache_device_stop(&dc->disk)` drops it
                // from a queued closure, which no summary follows).
                if !strictly && TreeIndex.directory(of: ctx.index.path(g.file)) == TreeIndex.directory(of: ctx.index.path(view.file)) { return true }
                if ctx.summaries.frees[g]?.contains(j) == true && fields.isEmpty { return true }
                return KfreeOutsideReleaseCheck.helperDrops(g, puts: KfreeOutsideReleaseCheck.referenceEffects(of: g, ctx: ctx).puts, ctx: ctx,
                                                            reaches: { $0.param == j && reaches($0.path) })
            }
        }
    }

    /// Whether function `g` tears down, puts or frees anything: through its parameters
    /// (`Summaries`), or by a call in its own body of the driver core's or of a function
    /// that does so through its parameters (`usb_put_gadget(&dev->gadget)` on a private
    /// struct it looked up).
    static func dropsSomething(_ g: FunctionID, ctx: AnalysisContext) -> Bool {
        func throughParameters(_ h: FunctionID) -> Bool {
            !(ctx.summaries.tearsDown[h] ?? [:]).isEmpty || !(ctx.summaries.frees[h] ?? []).isEmpty
        }
        if throughParameters(g) { return true }
        return FunctionView(id: g, resolver: ctx.resolver).effectiveCalls().contains { c in
            if DriverCore.teardowns[c.callee] != nil || DriverCore.frees.contains(c.callee) || DriverCore.krefPuts.contains(c.callee) { return true }
            return ctx.resolver.function(named: c.callee, from: g.file).map(throughParameters) ?? false
        }
    }

    /// The name of the put that matches an initializing allocator (`scsi_host_put` for
    /// `scsi_host_alloc()`): a function of the allocator's file, of one parameter, that
    /// puts the path the allocator initialized in it.
    static func matchingPut(of allocator: String, path: [String], from file: Int32, ctx: AnalysisContext) -> String? {
        guard let g = ctx.resolver.function(named: allocator, from: file) else { return nil }
        let functions = ctx.index.files[Int(g.file)].functions
        for k in functions.indices where functions[k].params.count == 1 {
            let h = FunctionID(file: g.file, index: Int32(k))
            if KfreeOutsideReleaseCheck.referenceEffects(of: h, ctx: ctx).puts.contains(where: { $0.param == 0 && $0.path == path }) {
                return functions[k].name
            }
        }
        return nil
    }

    /// The kernel's print helpers (`dev_err()`, `pr_warn()`, `netdev_info()`), often macros
    /// with no body in the tree: they only name the device.
    static func isPrint(_ name: String) -> Bool {
        let levels = ["err", "warn", "info", "dbg", "notice", "crit", "alert", "emerg", "printk"]
        guard let u = name.firstIndex(of: "_") else { return false }
        let rest = name[name.index(after: u)...]
        return levels.contains { rest.hasPrefix($0) }
    }
}

extension MissingPutOnFailureCheck {
    /// The finding at call `c`, whose failure leaves `object` (allocated by `a`) referenced
    /// and whose failure path drops nothing.
    static func finding(_ c: EffectiveCall, object: AccessPath, core: String, helper: LeavesReference?, allocation a: LocalAllocation,
                        failure: FailurePath, in view: FunctionView, ctx: AnalysisContext) -> Finding {
        let file = ctx.index.path(view.file)
        let root = view.rootName(object.root)
        let name = object.fields.isEmpty ? root : root + "->" + object.fields.joined(separator: ".")
        // The put as a call: the allocator's own (`scsi_host_put(shost)`), or the core's.
        let matched = a.initializedPath == nil ? nil : matchingPut(of: a.allocator, path: object.fields, from: view.file, ctx: ctx)
        let coreDrop = String((DriverCore.dropCall[core] ?? "put_device()").dropLast(2))
        let drop = matched.map { "\($0)(\(root))" } ?? "\(coreDrop)(\(object.fields.isEmpty ? name : "&" + name))"
        let leaves = failure.jump.map { "the goto on line \($0.goto), leaving on line \(failure.exit)" }
            ?? (failure.exit == c.site.line ? "returned right here" : "leaving on line \(failure.exit)")
        let what = a.initializedPath == nil ? "\(root) (\(a.allocator)() on line \(a.line)) and the \(core)'s name leak"
            : "\(root) (handed out initialized by \(a.allocator)() on line \(a.line)) leaks with what its release frees"
        let failing = helper == nil ? "\(c.callee)() fails" : "\(c.callee)() fails (leaving the reference on \(name) to its caller)"
        let message = "when \(failing), the error path (\(leaves)) never calls \(drop): \(what)"
        var notes = [FindingNote(.allocation, file: file, line: a.line, message: "\(root) allocated here with \(a.allocator)()")]
        if let helper { notes.append(helper.note) }
        notes.append(FindingNote(.reference, file: file, line: failure.exit, message: "the failure path leaves here still holding the reference"))
        let structName = a.aggregate.map { ctx.index.aggregate($0).name } ?? ""
        var f = Finding(check: description.id, severity: .warning, file: file, line: c.site.line, column: c.site.column,
                        function: view.decl.name, structName: structName, object: name, message: message, notes: notes)
        let container = structName.isEmpty ? root : "struct \(structName)"
        if let helper, helper.failsBefore {
            // A put after the helper's earlier failure finds the reference never initialized.
            f.fix = "the failure is \(c.callee)()'s to unwind: it can also fail before \(helper.registration)() initialized the reference, and this caller cannot tell which (a put after that earlier failure warns of an uninitialized \(core) and frees nothing); make \(c.callee)() drop the reference itself with \(coreDrop)() when \(helper.registration)() fails, so that the release frees \(container), or initialize the \(core) here before the call and drop it with \(drop) on every failure"
        } else {
            f.fix = "on this failure, drop the reference with \(drop) instead of leaving: the last put calls the release, which frees \(container) (if the error path also undoes by hand what the release undoes, keep only one of them)"
        }
        return f
    }
}
