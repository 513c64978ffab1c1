import Facts
import Indexing
import Analysis
import Findings

/// `kfree-outside-release`: a container of a live device/kobject freed with kfree.
struct KfreeOutsideReleaseCheck: Check {
    public init() {}

    public static let description = CheckDescription(
        id: "kfree-outside-release",
        summary: "A struct embedding a registered device/kobject is kfree'd outside its release callback",
        rationale: """
            Once device_initialize()/device_register() ran, the embedded object is refcounted: the \
            memory may only be freed by its release callback when the last reference goes. Freeing \
            it right after put_device()/device_unregister(), or on the error path of \
            device_register(), frees memory that others may still reference (or that the release \
            frees again). A cdev's container freed by the .release of its own file operations is \
            freed before the VFS drops the open file's reference on the cdev.
            """,
        severity: .error,
        confidence: """
            Error when kfree() follows put_device()/device_unregister() (or a subsystem unregister \
            that does not wait) within a few lines, or at any distance when the teardown is a statement \
            of the function's own body; a warning when it unwinds the function's own registration after \
            a later step failed; warning on the error path right after a failed \
            registration or after an initialization (also by a helper that can fail after it without \
            a put, or by an allocator that hands the object out initialized), including a free under a \
            label that a goto reaches after the driver core's call. Paths are approximated by line order and goto \
            edges: a call inside a block that returns before the free can still be counted. A free \
            only the module's exit reaches, of an object whose .owner pins the module, is a warning, \
            and so is any free in a driver that cannot be unbound through sysfs, and a put that runs \
            before the function installs the release (the put frees nothing), and a free after a \
            teardown when the object's release frees nothing and its core shows no outside reference \
            holder (only a delayed release touches the memory; a holder found is a note). Error when the .release \
            of the file operations a cdev is opened through frees its container (directly, through a \
            helper, or through a kref_put() whose release frees it).
            """)

    static let window: Int32 = 6

    /// Whether line `line` is at most `window` lines before line `free` (part of `counts`).
    static func precedes(_ line: Int32, free: Int32) -> Bool { line <= free && free - line <= window }

    /// Whether a teardown on line `line`, a statement of the function's own body (in no
    /// block that is conditional), counts for a free on line `free` at any distance: every
    /// path to the free passes it unless a return or goto lies between (tested for each).
    static func precedes(unconditionalTeardown line: Int32, free: Int32) -> Bool { line < free }

    /// Whether every return of function `g` is the constant 0 (and it has one): a call of
    /// it never fails.
    static func neverFails(_ g: FunctionID, index: TreeIndex) -> Bool {
        let fn = index.function(g)
        return !fn.returns.isEmpty && fn.returns.allSatisfy { fn.exprs.isZero($0) }
    }

    /// Whether an event on line `line` counts for a free on line `free`: within the window,
    /// at any distance when it is `unconditional` (a statement of the function's own body),
    /// or, with `straight`, when it runs straight into the free. The events are gathered
    /// (any call may be one) and then picked (a teardown runs straight) by this one test.
    static func counts(_ line: Int32, unconditional: Bool, straight: Bool, free: Int32, in fn: FunctionDecl) -> Bool {
        precedes(line, free: free) || (unconditional && precedes(unconditionalTeardown: line, free: free))
            || (straight && runsStraight(from: line, to: free, in: fn))
    }

    /// Whether the statements from line `line` on run straight into line `free`: no block
    /// closes, no `else` or `case` entered only from its `switch` begins, and no return or
    /// goto lies between (a `switch` whose cases fall through to the free, the body of an
    /// `if`). A teardown there counts for the free at any distance.
    static func runsStraight(from line: Int32, to free: Int32, in fn: FunctionDecl) -> Bool {
        line < free && !fn.blockEnds.contains(where: { $0 >= line && $0 < free })
            && !fn.branchLines.contains(where: { $0 > line && $0 <= free })
            && !fn.unconditionalJumps.contains(where: { $0 > line && $0 < free })
    }

    struct Event {
        var root: PathRoot
        var path: [String]
        var line: Int32
        var callee: String
        var teardown: Bool
        /// The call only initializes the object (`device_initialize`, `kobject_init`).
        var initializes = false
        /// The call is the driver core's own (`put_device`, `device_add`, …), not a
        /// function whose summary has the effect.
        var direct = true
        /// A teardown that is a statement of the function's own body (not in an `if`,
        /// loop or `switch`).
        var unconditional = false
        /// Where a helper that only initializes the object can fail after that
        /// (`initializedOnFailure`).
        var helperNote: FindingNote? = nil
    }

    /// The functions whose frees are read, sorted: the callers of a free that can make an
    /// event (events, below, are what a free is measured against: the other callers would
    /// give no finding), and the callers of a freeing helper (`freeing` beyond the driver
    /// core's frees) or of an owner's drop (`PrivateAreas`) that call, by name, something
    /// that tears down or publishes (the driver core's calls and `helpers`).
    private static func candidates(freeing: Set<String>, events helpers: Set<String>, ctx: AnalysisContext) -> [FunctionID] {
        let index = ctx.index
        let eventNames = Set(DriverCore.teardowns.keys).union(DriverCore.publishers.keys).union(helpers)
        let direct = index.callers(ofAny: DriverCore.frees).functions
        let throughHelpers = index.callers(ofAny: freeing.subtracting(DriverCore.frees)).functions
        let withEvents = Set(index.callers(ofAny: eventNames).functions)
        let throughOwners = index.callers(ofAny: Set(ctx.privateAreas.drops.keys)).functions
        let mayHaveEvents = ctx.effectiveCallers(ofAny: eventNames)
        return Set(direct.filter(mayHaveEvents.contains)).union(throughHelpers.filter(withEvents.contains))
            .union(throughOwners.filter(withEvents.contains)).sorted()
    }

    public func run(_ ctx: AnalysisContext) -> [Finding] {
        var out: [Finding] = []
        let index = ctx.index
        let releases = Set(ctx.releaseCallbacks.callbacks.map(\.function))
        // Direct frees, and calls of functions that free their parameter's container on
        // every path (`destroy(x)` whose body ends in `kfree(x)`).
        let helpers = ctx.summaries.freesItself
        let freeing = DriverCore.frees.union(helpers.keys.map { index.function($0).name })
        // A function that frees only through such a helper is read when it also calls, by
        // name, something that tears down or publishes: what a free is measured against.
        let tearingDown = Set(ctx.summaries.tearsDown.keys.map { index.function($0).name })
        let publishing = Set(ctx.summaries.publishes.keys.map { index.function($0).name })
        let tearingDownOrPublishing = tearingDown.union(publishing)
        // Allocators that hand out an initialized object (`platform_device_alloc()`).
        let allocators = Self.initializingAllocators(ctx)
        let allocatorNames = Set(allocators.keys.map { index.function($0).name })
        for id in Self.candidates(freeing: freeing, events: tearingDownOrPublishing.union(allocatorNames), ctx: ctx) where ctx.reports(id.file) {
            let fn = index.function(id)
            // Freeing inside a release callback is exactly right.
            if releases.contains(id) { continue }
            let view = FunctionView(id: id, resolver: ctx.resolver)
            let calls = view.effectiveCalls()
            // The frees of a whole object (`kfree(p)`, not `kfree(p->buf)`) and their objects.
            var frees: [FreeSite] = calls.compactMap { c in
                guard freeing.contains(c.callee) else { return nil }
                for (j, arg) in c.args.enumerated() where arg >= 0 && Self.freesOnItsOwn(c, argument: j, in: view, helpers: helpers, ctx: ctx) {
                    guard let freed = view.accessPath(arg), freed.fields.isEmpty else { continue }
                    return FreeSite(call: c, arg: arg, freed: freed)
                }
                return nil
            }
            let throughOwner = Self.ownerFrees(calls, in: view, ctx: ctx)
            if !throughOwner.isEmpty {
                frees += throughOwner
                frees.sort { ($0.call.site.line, $0.call.site.column) < ($1.call.site.line, $1.call.site.column) }
            }
            guard !frees.isEmpty else { continue }
            // The `goto`s that reach each free through its label.
            let entries = frees.map { Self.gotoEntries(to: $0.call.site.line, in: fn) }
            let roots = Set(frees.map(\.freed.root))
            let events = Self.events(calls, in: view, from: id, on: roots, before: frees.map(\.call.site.line),
                                     orBefore: entries.joined().map(\.goto).max(), helpers: tearingDownOrPublishing, ctx: ctx)
                + Self.allocationEvents(in: view, on: roots, allocators: allocators, ctx: ctx)
            guard !events.isEmpty else { continue }
            for (free, gotos) in zip(frees, entries) {
                let (c, freed, owner) = (free.call, free.freed, free.owner)
                // (A drop of the owner is itself a teardown, of the owner's object: not one
                // the free is measured against.)
                let onObject = events.filter { $0.root == freed.root && !$0.path.isEmpty && (owner == nil || $0.line != c.site.line) }
                func nearest(_ isBefore: (Event) -> Bool) -> Event? {
                    onObject.filter(isBefore).max(by: { ($0.line, $0.teardown ? 1 : 0) < ($1.line, $1.teardown ? 1 : 0) })
                }
                // The nearest preceding event on the same object, then, for each goto that
                // reaches the free, the last one before the goto.
                var candidates: [(Event, (goto: Int32, label: Int32)?)] = []
                if let ev = nearest({ Self.counts($0.line, unconditional: $0.unconditional, straight: $0.teardown, free: c.site.line, in: fn) }) {
                    candidates.append((ev, nil))
                }
                // (Only the driver core's own calls, and helpers that register and leave the
                // object so on failure: another helper's teardown may be its own clean-up on
                // the failure the goto handles.)
                for g in gotos { if let ev = nearest({ $0.line < g.goto }), ev.direct || !ev.teardown { candidates.append((ev, g)) } }
                for (ev, via) in candidates {
                    if let f = finding(for: free, after: ev, among: onObject, via: via, in: view, calls: calls, ctx: ctx) {
                        out.append(f)
                        break
                    }
                }
            }
        }
        // Frees on a character device's last close (`KfreeOnLastClose.swift`), where no
        // finding above stands on the same line.
        let reported = Set(out.map { "\($0.file):\($0.line)" })
        out += lastCloseFindings(ctx).filter { !reported.contains("\($0.file):\($0.line)") }
        // Frees of a core object allocated on its own (`BareObjectFree.swift`).
        out += Self.bareObjectFindings(ctx).filter { !reported.contains("\($0.file):\($0.line)") }
        return out
    }

    /// Whether call `c` frees its argument `j` itself: a free call (`kfree(p)`), or one of
    /// the tree's `helpers` that frees that parameter (`Summaries.freesItself`).
    static func freesOnItsOwn(_ c: EffectiveCall, argument j: Int, in view: FunctionView, helpers: [FunctionID: Set<Int>], ctx: AnalysisContext) -> Bool {
        if DriverCore.frees.contains(c.callee) { return j == 0 }
        guard let g = ctx.resolver.function(named: c.callee, from: view.file) else { return false }
        return helpers[g]?.contains(j) == true
    }

    /// The `goto`s that reach a free on line `free`, with their labels' lines: those of a
    /// label at or above it with no unconditional jump between the label and the free.
    static func gotoEntries(to free: Int32, in fn: FunctionDecl) -> [(goto: Int32, label: Int32)] {
        fn.gotoPairs.filter { g in g.label <= free && !fn.unconditionalJumps.contains(where: { $0 >= g.label && $0 < free }) }
    }

    /// The function's own successful registration of the object at `path` that teardown
    /// `ev` unregisters again: a publishing call above it, whose failure branch the teardown
    /// is not, the teardown not a plain put.
    private static func unwoundRegistration(of path: [String], freed: AccessPath, agg: AggregateID, by ev: Event,
                                            in view: FunctionView, ctx: AnalysisContext) -> RegistrationSite? {
        guard !DriverCore.referencePuts.contains(ev.callee),
              let reg = Registration.find(in: view, target: AccessPath(root: freed.root, fields: []), allocated: agg, ctx: ctx, path: path),
              reg.publishes, reg.line < ev.line, !onFailureBranch(of: reg.line, teardown: ev.line, in: view.decl) else { return nil }
        return reg
    }

    /// Whether a teardown on line `teardown` is where the call on line `call` goes when it
    /// fails: right below it (its `if`), or under a label that a `goto` just below it
    /// reaches (`ret = register(…); if (ret) goto err;`).
    static func onFailureBranch(of call: Int32, teardown: Int32, in fn: FunctionDecl) -> Bool {
        let near: Int32 = 2
        if teardown - call <= near { return true }
        return gotoEntries(to: teardown, in: fn).contains { $0.goto > call && $0.goto - call <= near }
    }

    /// The `goto`s through which alone line `line` is reached: those of the labels above it
    /// (with no unconditional jump between), when the code above the topmost of them ends
    /// with an unconditional jump and no call or assignment follows it; nil when the line
    /// can also be reached by falling through.
    static func onlyEntries(to line: Int32, in fn: FunctionDecl) -> [(goto: Int32, label: Int32)]? {
        let entries = gotoEntries(to: line, in: fn)
        guard let top = entries.map(\.label).min(),
              let jump = fn.unconditionalJumps.filter({ $0 < top }).max(),
              !fn.calls.contains(where: { $0.line > jump && $0.line < top }),
              !fn.assignments.contains(where: { $0.line > jump && $0.line < top }) else { return nil }
        return entries
    }

    /// Whether line `line` is reached only through `goto`s, and on each of them the last
    /// assignment to `root` above the `goto` is `root = NULL`, outside any condition
    /// (`madev = NULL; ret = add(); if (ret) goto add_fail;`).
    static func nulledOnEveryEntry(to line: Int32, root: PathRoot, in view: FunctionView) -> Bool {
        guard let entries = onlyEntries(to: line, in: view.decl) else { return false }
        let toRoot = view.decl.assignments.filter { a in
            guard let p = view.accessPath(a.lhs, expandAliases: false) else { return false }
            return p.root == root && p.fields.isEmpty
        }
        return entries.allSatisfy { g in
            guard let last = toRoot.filter({ $0.line < g.goto }).max(by: { $0.line < $1.line }) else { return false }
            return !last.isConditional && view.exprs.isNullPointer(last.rhs)
                && !toRoot.contains { $0.line > g.label && $0.line < line }
        }
    }

    /// The line where the function installs the release of the object at `path` in
    /// `root` (`dev->release = fn`) when it does so only after every `goto` through which
    /// alone the put on line `put` is reached, with no `.type` or `.class` that can give a
    /// release set on it before them: the put then finds no release (the driver core warns)
    /// and frees nothing.
    static func releaseInstalledAfter(put: Int32, root: PathRoot, path: [String], in view: FunctionView, ctx: AnalysisContext) -> Int32? {
        guard let entries = onlyEntries(to: put, in: view.decl), let lastGoto = entries.map(\.goto).max() else { return nil }
        var release: [Int32] = [], earlier = false
        for a in view.decl.assignments {
            guard let p = view.memberPath(a.lhs), p.root == root, p.fields.count == path.count + 1,
                  Array(p.fields.dropLast()) == path, let slot = p.fields.last else { continue }
            if slot == "release" { release.append(a.line) }
            if (slot == "release" || slot == "type" || slot == "class") && a.line < lastGoto
                && ReleaseCallbacks.givesRelease(slot: slot, rhs: a.rhs, in: view.exprs, from: view.file, resolver: ctx.resolver) { earlier = true }
        }
        return earlier ? nil : release.min()
    }

    /// Whether a local tested just above line `free` (`if (free_it)`) is set to false or
    /// 0 between line `after` and the free: the free is then skipped on that path.
    static func flagCleared(after: Int32, before free: Int32, in view: FunctionView) -> Bool {
        let e = view.exprs
        let locals = Set(view.decl.locals.map(\.name))
        let flags = Set(view.decl.tests.filter { $0.line < free && free - $0.line <= 2 && e[$0.node].kind == .identifier }
            .map { e.text(at: $0.node) }.filter { locals.contains($0) })
        return view.decl.assignments.contains { a in
            a.line > after && a.line < free && e[a.lhs].kind == .identifier && flags.contains(e.text(at: a.lhs)) && e.isNullOrFalse(a.rhs)
        }
    }

    /// The module entry points (`module_exit`, `module_init`) that are the only ways `id`
    /// runs: `module_exit()` or `module_init()` names it, or every function calling it (that
    /// sees this definition) runs only so, up to three calls up; nil when something else
    /// calls it (or nothing does).
    static func moduleEntries(_ id: FunctionID, ctx: AnalysisContext, depth: Int = 0) -> Set<String>? {
        let name = ctx.index.function(id).name
        let named = ctx.index.files[Int(id.file)].globals.filter {
            $0.name == name && $0.type.kind == .named && ($0.type.name == "module_exit" || $0.type.name == "module_init")
        }
        if !named.isEmpty { return Set(named.map(\.type.name)) }
        guard depth < 3 else { return nil }
        // The callers that see this definition (a same-named static elsewhere is another).
        var entries = Set<String>()
        for c in ctx.resolver.callers(of: id) {
            guard let e = moduleEntries(c, ctx: ctx, depth: depth + 1) else { return nil }
            entries.formUnion(e)
        }
        return entries.isEmpty ? nil : entries
    }

    /// When a free that only module entry points reach runs, in words.
    static func moduleEntryPhrase(_ entries: Set<String>) -> String {
        switch (entries.contains("module_exit"), entries.contains("module_init")) {
        case (true, false): "only at module unload"
        case (false, true): "only when the module fails to load"
        default: "only at module unload or load failure"
        }
    }

    /// Whether the object has an `owner` (`struct module *`) and the file sets some
    /// `owner` to `THIS_MODULE`: by the kernel's convention the core then takes a module
    /// reference for each user (`try_module_get(x->owner)`), so the module, and its exit
    /// function, cannot go while the object is held.
    /// A character device (`core` "cdev") is opened through its file operations, whose
    /// owner `open()` pins: a static table of the file with `.owner = THIS_MODULE` counts.
    static func ownerPinsModule(_ object: AggregateID, core: String, file: Int32, ctx: AnalysisContext) -> Bool {
        let facts = ctx.index.files[Int(file)]
        if core == "cdev" {
            return facts.globals.contains { $0.designated.contains { $0.path.hasSuffix("owner") && $0.value == "THIS_MODULE" } }
        }
        guard ctx.index.aggregate(object).fields.contains(where: { $0.name == "owner" && $0.type.name == "module" && $0.type.pointerDepth == 1 }) else { return false }
        return facts.functions.contains { fn in
            let e = fn.exprs
            return fn.assignments.contains { a in
                guard a.lhs >= 0, a.rhs >= 0, e[a.lhs].kind == .member, e.text(e[a.lhs]) == "owner" else { return false }
                let r = e[e.strippingCasts(a.rhs)]
                return r.kind == .identifier && e.text(r) == "THIS_MODULE"
            }
        }
    }

    /// Whether leaving on line `leave` can be the failure branch of the call of event `ev`:
    /// the variable its result went to (`err = cdev_add(…)`) is not assigned again before,
    /// within the check's window (a call tested directly, `if (cdev_add(…))`, counts too).
    private static func onOwnFailure(_ ev: Event, leave: Int32, in view: FunctionView) -> Bool {
        guard leave - ev.line <= window else { return false }
        let e = view.exprs
        guard let call = view.decl.calls.first(where: { $0.line == ev.line && $0.callee == ev.callee }), call.target >= 0 else { return true }
        let target = e[call.target]
        guard target.kind == .identifier else { return false }
        let name = e.text(target)
        return !view.decl.assignments.contains { a in
            a.line > ev.line && a.line <= leave && a.lhs >= 0 && e[a.lhs].kind == .identifier && e.text(e[a.lhs]) == name
        }
    }

    /// The finding for `free` after event `ev` (one of `events`, those on the freed object),
    /// reached from it by falling through or, with `via`, by the `goto` on that line; nil
    /// when the path is not one.
    private func finding(for free: FreeSite, after ev: Event, among events: [Event], via jump: (goto: Int32, label: Int32)?,
                         in view: FunctionView, calls: [EffectiveCall], ctx: AnalysisContext) -> Finding? {
        let (c, arg, freed, owner) = (free.call, free.arg, free.freed, free.owner)
        let fn = view.decl
        let id = view.id
        let via = jump?.goto
        let index = ctx.index
        // Where the path leaves for the free: the goto, or the free itself.
        let leave = via ?? c.site.line
        if !ev.teardown && via == nil && !c.site.isConditional { return nil }
        // The failure branch of a call that undoes itself when it fails (`cdev_add()`).
        if !ev.teardown && DriverCore.undoesOwnFailure.contains(ev.callee) && Self.onOwnFailure(ev, leave: leave, in: view) { return nil }
        // A return or goto between them: the free is reached from elsewhere.
        if fn.unconditionalJumps.contains(where: { $0 > ev.line && $0 < leave }) { return nil }
        // The goto's path, from its label, drops the object's reference before the free
        // (`if (need_put) put_device(&x->dev); else kfree(x);`): the free is the other branch.
        if let jump, calls.contains(where: { d in
            guard d.site.line > jump.label && d.site.line < c.site.line, DriverCore.teardowns[d.callee] != nil,
                  let p = d.args.first.flatMap({ view.accessPath($0) }) else { return false }
            return p.root == freed.root && DriverCore.objectPath(d.callee, p.fields) == ev.path
        }) { return nil }
        // `x = NULL` between them: the free is a no-op on this path.
        let cleared = fn.assignments.contains { a in
            guard a.line > ev.line && a.line <= c.site.line, let lp = view.accessPath(a.lhs, expandAliases: false),
                  lp.root == freed.root, lp.fields.isEmpty else { return false }
            return view.exprs.isNullPointer(a.rhs)
        }
        if cleared { return nil }
        // Entered only through `goto`s that each leave after `x = NULL` (ownership handed
        // to the object once initialized): the free is a no-op on every path after `ev`.
        if via == nil, Self.nulledOnEveryEntry(to: ev.line, root: freed.root, in: view) { return nil }
        // `flag = false` between them, and the free runs only `if (flag)`: not on this path.
        if c.site.isConditional, Self.flagCleared(after: ev.line, before: c.site.line, in: view) { return nil }
        // A wait for a completion between them: the function waits for its own
        // release (which signals it) before freeing.
        if calls.contains(where: { DriverCore.completionWaits.contains($0.callee) && $0.site.line >= ev.line && $0.site.line <= c.site.line }) { return nil }
        // An else/case between them: the two calls sit on different branches (unless the
        // teardown is a statement of the function's own body, which every path passes).
        if !ev.unconditional, fn.branchLines.contains(where: { $0 > ev.line && $0 <= leave }) { return nil }
        guard let agg = owner?.container ?? view.type(of: arg).flatMap({ t, f in t.dereferenced.flatMap { ctx.resolver.aggregate(of: $0, from: f) } }),
              let (object, objectPath) = Registration.walk(agg, ev.path, ctx: ctx) else { return nil }
        if let obj = ctx.subsystems.objects[object], [.completion, .waitEvent, .revocation].contains(obj.protection) { return nil }
        // The function's own error path before it published the object: it only initialized
        // it (`device_initialize()`, `pm_genpd_init()`), or it publishes it only below. No one
        // outside can hold a reference yet. (After a plain put, the free may still be a
        // second free of what the release freed: judged below.)
        if ev.teardown, !DriverCore.referencePuts.contains(ev.callee), let reg = Registration.find(in: view, target: AccessPath(root: freed.root, fields: []), allocated: agg, ctx: ctx, path: objectPath),
           reg.publishes ? reg.line > ev.line : reg.line < ev.line { return nil }
        let objectName = index.aggregate(object).name
        // Undo what the object is: put_device() for a device, cdev_del() for a cdev, …
        let core = objectPath.last.flatMap { ctx.closure.coreKind(ofField: $0, in: object, resolver: ctx.resolver) } ?? "device"
        let drop = DriverCore.dropCall[core] ?? "put_device()"
        if owner != nil, Self.holdsOwner(agg, objectPath: objectPath, object: object, core: core, file: index.path(id.file), ctx: ctx) { return nil }
        let what = ev.teardown
            ? "right after \(ev.callee)() dropped its reference"
            : ev.initializes
                ? "after \(ev.callee)() initialized its reference count, which must be dropped with \(drop)"
                : "on the error path of \(ev.callee)(), which must be undone with \(drop)"
        let chain = DevmEmbeddedRefcountCheck.chain(from: agg, path: ev.path, ctx: ctx)?.0 ?? []
        var (severity, mitigated) = Self.mitigation(of: ev, core: core, object: object, objectPath: objectPath, freed: freed, agg: agg,
                                                    free: c.callee, in: view, ctx: ctx)
        let holder = Self.judgeHolders(after: ev, among: events, in: id, &severity, &mitigated, object: object, core: core, chain: chain, ctx: ctx)
        let advice = Self.advice(owner: owner, noRelease: Self.hasNoRelease(object, core: core, ctx: ctx), core: core, ctx: ctx, initializedBy: ev.helperNote.map { _ in ev.callee })
        // (Through the owner, `arg` is the owner: the object is named by the freed root.)
        let on = owner == nil ? view.exprs.render(arg) : view.rootName(freed.root)
        var notes = [FindingNote(ev.teardown ? .teardown : ev.initializes ? .initialization : .publish, file: index.path(id.file), line: ev.line, message: "\(ev.callee)() on \(on)->\(ev.path.joined(separator: "."))")] + [ev.helperNote].compactMap { $0 }
        if let via { notes.append(FindingNote(.teardown, file: index.path(id.file), line: via, message: "this goto reaches the \(c.callee)()")) }
        if let owner { notes.append(Self.areaNote(owner, ctx: ctx)) }
        if let holder { notes.append(holder) }
        var f = Finding(check: Self.description.id, severity: severity, file: index.path(id.file),
                        line: c.site.line, column: c.site.column, function: fn.name,
                        structName: index.aggregate(agg).name,
                        chain: chain, object: objectName,
                        protection: ctx.subsystems.objects[object]?.protection.rawValue ?? "",
                        message: "'struct \(index.aggregate(agg).name)' embeds a refcounted \(ev.path.joined(separator: ".")) but is freed with \(c.callee)() \(what); \(advice)\(mitigated)",
                        notes: notes)
        f.shape = owner.map { .freedWithOwner(owner: index.aggregate($0.area.owner).name, accessor: $0.area.accessor) }
            ?? Self.shape(after: ev, drop: drop)
        return f
    }

    /// What a free after event `ev` is, for its fix (`drop`: how the object is dropped).
    static func shape(after ev: Event, drop: String) -> FindingShape {
        if ev.teardown { return .freedAfterTeardown(teardown: ev.callee) }
        return ev.helperNote != nil ? .initializedByHelper(helper: ev.callee, drop: drop) : .freedOnErrorPath(drop: drop)
    }

    /// Where the memory must go instead, said after the message's first clause (which the
    /// fingerprint keeps): with the owner of a private area, or in a release callback; a
    /// helper that initialized the object and failed after that (`initializedBy`) has its
    /// own failure to unwind.
    static func advice(owner: OwnerFree?, noRelease: Bool, core: String, ctx: AnalysisContext, initializedBy helper: String? = nil) -> String {
        if let helper { return "its failures after that are \(helper)()'s to unwind" }
        if let owner { return ownerClause(owner, core: core, ctx: ctx) }
        return noRelease ? "the device has no release callback (the driver core warns when its last reference goes): free it in a release callback instead"
                         : "free it in the release callback instead"
    }

    /// Whether the device of `object`, a core's registered type, is given no release
    /// anywhere: its core sets none, drivers need not supply one, and no code of the tree
    /// sets a `.release`, `.type` or `.class` on it that could give one.
    static func hasNoRelease(_ object: AggregateID, core: String, ctx: AnalysisContext) -> Bool {
        guard core == "device", let obj = ctx.subsystems.objects[object] else { return false }
        return obj.release == nil && !obj.driverSuppliedRelease && !ctx.subsystems.releaseMentioned.contains(object)
    }

    /// The severity of a free after event `ev` on the object (`core` kind, of type `object`
    /// at `objectPath` in `freed`, of type `agg`), and the clause saying why when a
    /// circumstance leaves only a warning.
    private static func mitigation(of ev: Event, core: String, object: AggregateID, objectPath: [String], freed: AccessPath,
                                   agg: AggregateID, free: String, in view: FunctionView, ctx: AnalysisContext) -> (Severity, String) {
        // Only a free after a teardown is an error to begin with.
        guard ev.teardown else { return (.warning, "") }
        var severity = Severity.error
        var tail = ""
        // A bare kobject (not inside a device or cdev) is referred to by sysfs,
        // which drains on removal: only a delayed release touches the freed memory.
        // (The walk stops at the first core object: a kobject here is not a device's.)
        if core == "kobject" {
            severity = .warning
            tail = "; it is a bare kobject that only sysfs refers to, so only a delayed release (CONFIG_DEBUG_KOBJECT_RELEASE) touches the freed memory"
        } else if let release = DeliberateDesign.commentedEmptyRelease(of: object, file: ctx.index.path(view.id.file), ctx: ctx),
                  DeliberateDesign.outsideHolder(of: object, core: core, ctx: ctx) == nil {
            severity = .warning
            tail = DeliberateDesign.clause(release)
        } else if let reg = Self.unwoundRegistration(of: objectPath, freed: freed, agg: agg, by: ev, in: view, ctx: ctx) {
            // The function's own error path unregistering what it registered (probe failing
            // late): only a user who opened the object in between holds it. (A put is how a
            // failed registration is left, not an unwinding of a successful one.)
            severity = .warning
            tail = "; this unwinds the registration through \(reg.callee)() on line \(reg.line) of the same function, so only a user who found or opened it in between holds a reference"
        } else if DriverCore.referencePuts.contains(ev.callee),
                  let installed = Self.releaseInstalledAfter(put: ev.line, root: freed.root, path: ev.path, in: view, ctx: ctx) {
            severity = .warning
            tail = "; but its release is installed only on line \(installed), after every path to this \(ev.callee)() left, so the put finds none and frees nothing: the driver core warns that the object has no release() function, and the \(free)() is the only free"
        } else if DevmEmbeddedRefcountCheck.cannotUnbind(file: view.id.file, ctx: ctx) {
            // As for devm memory: no sysfs unbind reaches the free, only module unload or a
            // failed probe.
            severity = .warning
            tail = "; the driver suppresses its bind attributes (or registers with platform_driver_probe()), so no sysfs unbind runs this free, only module unload or a failed probe"
        } else if Self.ownerPinsModule(object, core: core, file: view.id.file, ctx: ctx), let entries = Self.moduleEntries(view.id, ctx: ctx) {
            severity = .warning
            let when = Self.moduleEntryPhrase(entries)
            tail = core == "cdev"
                ? "; it is freed \(when), and its file operations' .owner is THIS_MODULE, which every open file pins, so only a delayed release (CONFIG_DEBUG_KOBJECT_RELEASE) touches the freed memory"
                : "; it is freed \(when), and the driver sets the object's .owner to THIS_MODULE, which its users pin while they hold it, so only a delayed release (CONFIG_DEBUG_KOBJECT_RELEASE) touches the freed memory"
        }
        return (severity, tail)
    }

    /// Teardowns and publishing calls of `calls` on paths from `roots` (the objects the
    /// function frees) that `counts` for one of the frees' lines (`freeLines`), or anywhere
    /// before line `lastGoto` (the last `goto` reaching a free): what a later free of the
    /// same object is measured against.
    private static func events(_ calls: [EffectiveCall], in view: FunctionView, from id: FunctionID, on roots: Set<PathRoot>,
                               before freeLines: [Int32], orBefore lastGoto: Int32?, helpers: Set<String>,
                               ctx: AnalysisContext) -> [Event] {
        var events: [Event] = []
        for c in calls where !c.callee.isEmpty && !DriverCore.frees.contains(c.callee)
            && (c.site.line < (lastGoto ?? Int32.min)
                || freeLines.contains(where: { counts(c.site.line, unconditional: !c.site.isConditional, straight: true, free: $0, in: view.decl) })) {
            // Only the driver core's own calls and functions whose summary tears a parameter
            // down or publishes it (so named: `helpers`) make events; the arguments of others
            // are not read.
            guard DriverCore.teardowns[c.callee] != nil || DriverCore.publishers[c.callee] != nil || helpers.contains(c.callee) else { continue }
            let unconditional = !c.site.isConditional
            // Resolved only when an argument on a freed object needs it.
            lazy var callee = ctx.resolver.function(named: c.callee, from: id.file)
            for (j, arg) in c.args.enumerated() where arg >= 0 {
                guard let p = view.accessPath(arg), roots.contains(p.root) else { continue }
                if let t = DriverCore.teardowns[c.callee], t.contains(j), c.callee != "device_del" {
                    events.append(Event(root: p.root, path: DriverCore.objectPath(c.callee, p.fields), line: c.site.line, callee: c.writtenAs, teardown: true,
                                        unconditional: unconditional))
                } else if let pub = DriverCore.publishers[c.callee], pub.contains(j), !DriverCore.undoneOnFailure.contains(c.callee) {
                    events.append(Event(root: p.root, path: DriverCore.objectPath(c.callee, p.fields), line: c.site.line, callee: c.writtenAs, teardown: false,
                                        initializes: DriverCore.initializers.contains(c.callee)))
                } else if DriverCore.teardowns[c.callee] == nil, let g = callee {
                    // (The driver core's own calls count by their own entries, as above:
                    // `device_del()` unpublishes and keeps the reference.)
                    // A register function that cleans up after itself is not a teardown.
                    let publishes = ctx.summaries.publishes[g] ?? [:]
                    let tears = ctx.summaries.tearsDown[g] ?? [:]
                    for e in tears.keys.sorted() where e.param == j && publishes[e] == nil && !waitsOut(e, of: g, ctx: ctx) {
                        events.append(Event(root: p.root, path: Summaries.normalize(p.fields + e.path), line: c.site.line, callee: c.writtenAs, teardown: true, direct: false,
                                            unconditional: unconditional))
                    }
                    // A helper that publishes the object (`kobject_init_and_add()`,
                    // `device_register()`) and leaves it so when that fails: its caller must
                    // drop the reference on the failure. (A helper that only initializes,
                    // `auxiliary_device_init()`, may fail before it does: the caller frees.)
                    // Only the driver's own helpers and its subsystem's, in the same
                    // directory, that call the driver core themselves: a core elsewhere may
                    // document that its callers free on failure (`video_register_device()`).
                    // One whose every return is 0 never fails: its failure branch is dead.
                    let ownHelper = TreeIndex.directory(of: ctx.index.path(g.file)) == TreeIndex.directory(of: ctx.index.path(id.file))
                    let really = !ownHelper || Self.neverFails(g, index: ctx.index) ? [] : ctx.summaries.reallyPublishes[g] ?? []
                    for e in publishes.keys.sorted() where e.param == j && tears[e] == nil && really.contains(e)
                        && DriverCore.publishers[publishes[e]?.callee ?? ""] != nil {
                        events.append(Event(root: p.root, path: Summaries.normalize(p.fields + e.path), line: c.site.line, callee: c.writtenAs, teardown: false,
                                            direct: false))
                    }
                    // A helper (of any directory) that initializes the object first, and can
                    // fail after that without a put (an unpublish that keeps the reference,
                    // `device_del()`, is none): its failure leaves the object refcounted,
                    // whatever its callers were told. (Not again where the rule above fired.)
                    for e in publishes.keys.sorted() where e.param == j && !(tears[e] == nil && really.contains(e))
                        && DriverCore.initializers.contains(publishes[e]?.callee ?? "") {
                        guard let note = Self.initializedOnFailure(g, e, ctx: ctx) else { continue }
                        events.append(Event(root: p.root, path: Summaries.normalize(p.fields + e.path), line: c.site.line, callee: c.writtenAs, teardown: false,
                                            initializes: true, direct: false, helperNote: note))
                    }
                }
            }
        }
        return events
    }
}

extension Array where Element == String {
    /// Whether the path ends with `suffix`.
    func ends(with suffix: [String]) -> Bool { suffix.count <= count && self[(count - suffix.count)...].elementsEqual(suffix) }
}
