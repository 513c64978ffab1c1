import Facts
import Indexing
import Analysis
import Findings

/// `devm-embedded-refcount`: device-managed memory holding a registered refcounted object.
struct DevmEmbeddedRefcountCheck: Check {
    public init() {}

    public static let description = CheckDescription(
        id: "devm-embedded-refcount",
        summary: "A struct that embeds a registered device/kobject/cdev is allocated with devm_*",
        rationale: """
            devres frees the memory when the driver is unbound, but the embedded refcounted object \
            lives until its last reference is dropped (an open /dev node, /proc/mtd, a consumer). \
            Unless the subsystem keeps users away (revocation) the next access is a use-after-free.
            """,
        severity: .error,
        confidence: """
            High when the object reaches device_add/cdev_add/kobject_add through the call graph, \
            the subsystem's release neither frees nor waits and its core hands out references \
            (get_device(), a character device), or code outside the core hands its device to a \
            function that keeps a counted reference on it (a sound card's parent). Without such a \
            holder, a warning. False positives: \
            registration guarded by a path the analysis cannot see (function pointers), or memory \
            re-homed before unbind.
            """)

    /// Whether the file's driver cannot be unbound through sysfs: it sets
    /// `.suppress_bind_attrs = true` and is built in, registers with `platform_driver_probe()`
    /// (which suppresses them), or uses a registration macro whose body suppresses them.
    static func cannotUnbind(file: Int32, ctx: AnalysisContext) -> Bool {
        let facts = ctx.index.files[Int(file)]
        let globals = facts.globals
        let builtin = globals.contains { $0.type.kind == .named && $0.type.name.hasPrefix("builtin_") && $0.type.name.hasSuffix("_driver") }
        let suppress = globals.contains { $0.designated.contains { $0.path.hasSuffix("suppress_bind_attrs") && $0.value == "true" } }
        if builtin && suppress { return true }
        if globals.contains(where: { $0.type.kind == .named && ctx.index.suppressBindMacros.contains($0.type.name) }) { return true }
        return facts.functions.contains { $0.calls.contains { $0.callee == "platform_driver_probe" || $0.callee == "__platform_driver_probe" } }
    }

    /// Why the driver's unbind path never runs the subsystem's (waiting) unregister for an
    /// object it registered, with notes; nil when it does (or registers through a call that
    /// undoes itself at unbind, `unregistersAtUnbind`), or when the subsystem has no
    /// unregister to call.
    static func missingTeardown(_ obj: SubsystemObject, reg: RegistrationSite, allocatedIn fid: FunctionID, waiting: Bool = true,
                                ctx: AnalysisContext) -> (String, [FindingNote])? {
        let index = ctx.index
        if unregistersAtUnbind(reg.callee, from: fid.file, ctx: ctx) { return nil }
        // Only the unregister functions that wait: a put (`i2c_put_adapter()`) does not
        // (with `waiting` false, any of the core's unregister functions).
        let unregister = Set((waiting ? obj.waitingUnregister : obj.unregister).map { index.function($0).name })
        guard !unregister.isEmpty else { return nil }
        let register = Set(obj.register.map { index.function($0).name })
        let path = UnbindPath(driverFile: fid.file, resolver: ctx.resolver)
        // A devm_* register helper of the subsystem called anywhere in the driver, or in the
        // file of the library function it registers through (`foo_common_probe()`).
        var files = path.files
        if let helper = ctx.resolver.function(named: reg.callee, from: fid.file), !files.contains(helper.file) { files.append(helper.file) }
        for fi in files {
            if index.files[Int(fi)].functions.contains(where: { $0.calls.contains { $0.callee.hasPrefix("devm_") && register.contains($0.callee) } }) { return nil }
        }
        if path.firstCall(to: unregister, index: index) != nil { return nil }
        let names = unregister.sorted().prefix(2).map { "\($0)()" }.joined(separator: " or ")
        if path.entries.isEmpty { return noUnbindPath(fid, never: "calls \(names)", ctx: ctx) }
        let entries = path.entries.prefix(2).map { index.function($0).name + "()" }.joined(separator: ", ")
        let first = path.entries[0]
        return ("the driver's unbind path (\(entries)) never calls \(names)",
                [FindingNote(.teardown, file: index.path(first.file), line: index.function(first).line, message: "\(index.function(first).name)() runs at unbind and does not call \(names)")])
    }

    /// A devm-allocated object as the function registering it sees it: where it arrives
    /// (the allocation, or the call of the helper that allocated it) and in which variable.
    struct Arrival {
        var function: FunctionID
        var line: Int32
        var column: Int32
        var aggregate: AggregateID
        var target: AccessPath
        var targetText: String
        /// The devm allocator (`devm_kzalloc`).
        var allocator: String
        /// `devm_kzalloc()`, or `devm_kzalloc() in helper()` for an object a helper handed out.
        var allocatorPhrase: String
    }

    /// Evidence that someone outside the driver can hold a reference to objects of a
    /// subsystem: its core files take counted references on them (`get_device()`,
    /// `kref_get()`, `class_find_device()`, …) or put them behind a character device (an
    /// open file holds one). Nil when only weak evidence is found (`rankedHolder`'s ranks 3
    /// and 4): only a delayed release could then touch the memory.
    static func outsideHolder(_ obj: SubsystemObject, chain: [String], ctx: AnalysisContext) -> Evidence? {
        guard let held = rankedHolder(obj, chain: chain, ctx: ctx), held.rank <= 2 else { return nil }
        return held.evidence
    }

    /// The best evidence of a holder, with its rank:
    /// - 0: a counted reference on an object of the subsystem's type, outside its register
    ///   and teardown paths: in a `*_get()` helper that is given the object (and that
    ///   someone calls: a helper no one calls holds nothing), or on an object the core finds
    ///   itself; or, outside the core, a call that hands the object's device to a function
    ///   that stores a counted reference on it (`ReferenceKeepers`: a child's parent);
    /// - 1: a character device; 2: a lookup that returns a counted device
    ///   (`class_find_device()`);
    /// - 3: a reference on the object that its own register or teardown path takes and
    ///   drops (a temporary hold; a function that calls the object's unregister is such a
    ///   path); 4: a reference on some other object of the core.
    static func rankedHolder(_ obj: SubsystemObject, chain: [String], ctx: AnalysisContext) -> (rank: Int, evidence: Evidence)? {
        if chain.contains("cdev") { return (1, Evidence(file: "", line: 0, message: "it embeds a cdev, which an open file holds")) }
        // A shared bare count: the get that makes it shared.
        if obj.core == "kref", let get = ctx.subsystems.sharedCounts[CountedMember(aggregate: obj.aggregate, field: obj.coreField)] { return (0, get) }
        let index = ctx.index
        let coreFiles = Set((obj.register + obj.unregister).map(\.file)).sorted()
        let ownPaths = Set(obj.register + obj.unregister)
        let unregisterNames = Set(obj.unregister.map { index.function($0).name })
        var best: (rank: Int, evidence: Evidence)?
        for fi in coreFiles {
            for (k, fn) in index.files[Int(fi)].functions.enumerated() {
                for c in fn.calls where DriverCore.referenceGets.contains(c.callee) || DriverCore.characterDevices.contains(c.callee) {
                    var rank = DriverCore.characterDevices.contains(c.callee) ? 1 : DriverCore.deviceLookups.contains(c.callee) ? 2 : 4
                    if rank == 4, let arg = fn.exprs.arguments(c.node).first {
                        let id = FunctionID(file: Int32(fi), index: Int32(k))
                        let view = FunctionView(id: id, resolver: ctx.resolver)
                        if view.pointedAggregate(ofExpression: arg) == obj.aggregate {
                            // Its own teardown: the function unregisters an object of the
                            // type (`get_device(); video_unregister_device(); …; put_device()`).
                            if ownPaths.contains(id) || ctx.summaries.tearsDown[id] != nil
                                || fn.calls.contains(where: { unregisterNames.contains($0.callee) }) { rank = 3 }
                            else if case .parameter = view.accessPath(arg)?.root, index.callers(of: fn.name).isEmpty { continue }
                            else { rank = 0 }
                        }
                    }
                    if best == nil || rank < best!.rank {
                        best = (rank, Evidence(file: index.path(fi), line: c.line, message: "\(fn.name) calls \(c.callee)()"))
                    }
                    if rank == 0 { return best }
                }
            }
        }
        if let kept = ctx.referenceKeepers.heldObjects[obj.aggregate] { return (0, kept) }
        if best == nil || best!.rank > 1, let node = deviceNode(coreFiles: coreFiles, ctx: ctx) { return (1, node) }
        return best
    }

    /// A device node the core's files make: a function of them that gives a device a
    /// number (`dev->devt = MKDEV(major, minor)`), or calls one that does
    /// (`snd_register_device()`), so that `device_add()` creates a `/dev` node user space
    /// can open (the evidence of `rankedHolder`'s rank 1, like a cdev).
    static func deviceNode(coreFiles: [Int32], ctx: AnalysisContext) -> Evidence? {
        let numbering = ctx.index.assignments(toMembers: ["devt"]).map(\.function)
        guard !numbering.isEmpty else { return nil }
        let numberers = Set(numbering)
        let names = Set(numbering.map { ctx.index.function($0).name })
        for fi in coreFiles {
            for (k, fn) in ctx.index.files[Int(fi)].functions.enumerated() {
                if numberers.contains(FunctionID(file: fi, index: Int32(k))) {
                    return Evidence(file: ctx.index.path(fi), line: fn.line, message: "\(fn.name) gives the device a number (devt): device_add() makes a /dev node that user space can open")
                }
                for c in fn.calls where names.contains(c.callee) {
                    guard let g = ctx.resolver.function(named: c.callee, from: fi), numberers.contains(g) else { continue }
                    return Evidence(file: ctx.index.path(fi), line: c.line, message: "\(fn.name) calls \(c.callee)(), which gives the device a number (devt): device_add() makes a /dev node that user space can open")
                }
            }
        }
        return nil
    }

    /// Struct names from `agg` along `path` to the core object it ends at, and that core's
    /// kind: `([cio2_device, cio2_queue, video_device, device], "device")`.
    static func chain(from agg: AggregateID, path: [String], ctx: AnalysisContext) -> ([String], String)? {
        var names = [ctx.index.aggregate(agg).name]
        var current = agg
        for f in path {
            guard let (next, core) = ctx.closure.embeddedStruct(field: f, in: current, resolver: ctx.resolver) else { return nil }
            if let core { names.append(core); return (names, core) }
            let a = ctx.index.aggregate(next)
            if !a.isAnonymous { names.append(a.name) }
            current = next
        }
        return nil
    }

    public func run(_ ctx: AnalysisContext) -> [Finding] {
        var out: [Finding] = []
        let index = ctx.index
        for site in ctx.allocations.sites where site.isDeviceManaged && ctx.reports(site.function.file) {
            guard let agg = site.aggregate, ctx.closure.embeddings[agg] != nil, let target = site.target else { continue }
            let arrival = Arrival(function: site.function, line: site.line, column: site.column, aggregate: agg,
                                  target: target, targetText: site.targetText, allocator: site.allocator, allocatorPhrase: "\(site.allocator)()")
            // An object its allocating helper hands out is reported where it arrives (below).
            let handedOut = ctx.objectFlow.handouts[site.function]?.contains { $0.aggregate == agg && $0.allocator == site.allocator } ?? false
            if let f = report(arrival, byType: !handedOut, ctx: ctx) { out.append(f) }
        }
        // Objects a helper allocates and hands out (returns, or stores through an
        // out-parameter) that its caller registers: reported at the helper's call.
        let flow = ctx.objectFlow
        for id in index.callers(ofAny: flow.names).functions where ctx.reports(id.file) {
            let fn = index.function(id)
            let view = FunctionView(id: id, resolver: ctx.resolver)
            for c in fn.calls where flow.names.contains(c.callee) {
                guard let g = ctx.resolver.function(named: c.callee, from: id.file), g != id, let hs = flow.handouts[g] else { continue }
                for h in hs {
                    guard let (tp, _) = ObjectFlow.receiver(of: h, call: c, view: view), let target = tp else { continue }
                    let origin = index.function(h.allocatedIn).name
                    let text = h.outParameter == nil ? (c.target >= 0 ? view.exprs.render(c.target) : "") : view.exprs.render(Array(view.exprs.arguments(c.node))[h.outParameter!])
                    let phrase = h.allocatedIn == g ? "\(h.allocator)() in \(c.callee)()" : "\(h.allocator)() in \(origin)() (through \(c.callee)())"
                    let arrival = Arrival(function: id, line: c.line, column: c.column, aggregate: h.aggregate, target: target,
                                          targetText: text.hasPrefix("&") ? String(text.dropFirst()) : text, allocator: h.allocator, allocatorPhrase: phrase)
                    if let f = report(arrival, ctx: ctx) { out.append(f) }
                }
            }
        }
        return out
    }

    /// Where an arrival's object is registered, as the registering function sees it.
    struct Registered {
        var site: RegistrationSite
        var view: FunctionView
        /// The pointer to the allocation in `view`.
        var target: AccessPath
        /// The other function of the driver (its file or directory) that registers it, found by type.
        var elsewhere: FunctionID?
    }

    /// The registration of `site`'s object: by the allocating function (or a callee it
    /// passes the pointer to); else, with `byType`, in another function of the driver's file
    /// or directory (`RegisteredElsewhere`).
    static func registration(of site: Arrival, in view: FunctionView, byType: Bool, ctx: AnalysisContext) -> Registered? {
        if let r = Registration.find(in: view, target: site.target, allocated: site.aggregate, ctx: ctx) {
            return Registered(site: r, view: view, target: site.target, elsewhere: nil)
        }
        guard byType, let (g, path, r) = RegisteredElsewhere.find(site.aggregate, allocatedIn: site.function, ctx: ctx) else { return nil }
        return Registered(site: r, view: FunctionView(id: g, resolver: ctx.resolver), target: path, elsewhere: g)
    }

    /// The finding for one arrival of device-managed memory; `byType`: a registration in
    /// another function of the driver may be found by the struct's type (direct allocations).
    func report(_ site: Arrival, byType: Bool = false, ctx: AnalysisContext) -> Finding? {
        let index = ctx.index, agg = site.aggregate
        guard let emb = ctx.closure.embeddings[agg] else { return nil }
        do {
            let view = FunctionView(id: site.function, resolver: ctx.resolver)
            guard let found = Self.registration(of: site, in: view, byType: byType, ctx: ctx) else { return nil }
            let reg = found.site, registeredIn = found.elsewhere
            let verdict = Registration.verdict(for: reg.object, file: index.path(site.function.file), ctx: ctx,
                                               origin: (found.view.id, found.target.root, found.target.fields + reg.path)).supplying(reg, in: found.view, ctx: ctx)
            guard var severity = verdict.severity, Self.judgesCount(reg, ctx: ctx) else { return nil }
            var explanation = verdict.explanation(object: objectNameOf(reg.object, ctx))
            var driverNotes: [FindingNote] = []
            if !reg.publishes {
                // Never published: nobody else can take a reference (only
                // CONFIG_DEBUG_KOBJECT_RELEASE's delayed release can touch the memory).
                severity = .note
                explanation = "it is never published to the driver core, so no one else can hold a reference; only a delayed release (CONFIG_DEBUG_KOBJECT_RELEASE) could touch the freed memory"
            } else if verdict.protection.waitsForLastUser,
                      let obj = ctx.subsystems.objects[reg.object],
                      let missing = Self.missingTeardown(obj, reg: reg, allocatedIn: site.function, ctx: ctx) {
                // The subsystem waits in its unregister, but this driver never calls it on unbind.
                severity = .error
                explanation = "unregistering \(objectNameOf(reg.object, ctx)) would wait for its users (protection: \(verdict.protection.rawValue)), but \(missing.0), so devres frees it at unbind while it is still published"
                driverNotes = missing.1
            } else if verdict.protection == .driverRelease, let r = verdict.driverRelease, r.signalsCompletion,
                      let (wf, wl) = UnbindPath(driverFile: site.function.file, resolver: ctx.resolver).firstCall(to: DriverCore.completionWaits, index: index) {
                // The driver's release signals a completion that its unbind path waits for
                // before devres frees the memory.
                severity = .warning
                explanation = "the driver's release \(r.name)() signals a completion that its unbind path waits for (protection: driver-release), so unbind blocks while userspace holds a reference"
                driverNotes = [FindingNote(.teardown, file: index.path(wf.file), line: wl, message: "\(index.function(wf).name) waits for the release before devres frees the memory")]
            }
            // Release-frees is always an error. Otherwise only a reference someone outside holds
            // touches the memory: with none, a warning (a wait: a note), as for a commented release.
            let holderNote = Self.judgeHolders(&severity, &explanation, reg: reg, verdict: verdict, aggregate: agg, embedding: emb, ctx: ctx)
            if severity == .error, holderNote == nil, verdict.protection == .emptyRelease || verdict.driverRelease?.isEmpty == true,
               let release = DeliberateDesign.commentedEmptyRelease(of: reg.object, file: index.path(site.function.file), ctx: ctx) {
                severity = .warning
                explanation += DeliberateDesign.clause(release)
            }
            // A built-in driver that suppresses its bind attributes is never unbound: only a
            // failed probe releases its devres.
            let unbindable = !Self.cannotUnbind(file: site.function.file, ctx: ctx)
            if !unbindable && severity > .warning { severity = .warning }
            let fn = view.decl, structDecl = index.aggregate(agg)
            // The chain and core of the object the finding names: along the registration
            // path (not the first refcounted member found, which may be another one).
            var chain = ctx.closure.chainNames(emb, index: index)
            var core = emb.core
            var fieldText = ctx.closure.fieldPath(emb)
            if let along = Self.chain(from: agg, path: reg.path, ctx: ctx) {
                (chain, core) = along
                fieldText = reg.path.joined(separator: ".")
            }
            let objectName = index.aggregate(reg.object).name
            // The note points at the member the chain starts with, not at the struct's head.
            let first = fieldText.prefix { $0 != "." && $0 != "[" }
            let member = structDecl.fields.first { $0.name == first }
            var notes: [FindingNote] = [
                FindingNote(.embedding, file: index.path(agg.file), line: member?.line ?? structDecl.line, column: member?.column ?? structDecl.column,
                            message: "struct \(structDecl.name) embeds \(chain.dropFirst().map { "struct \($0)" }.joined(separator: " → ")) (\(fieldText))"),
                Self.registeringNote(found, arrival: site, structName: structDecl.name, core: core, ctx: ctx),
            ]
            if reg.publishes { for ev in verdict.evidence.prefix(4) { notes.append(FindingNote(.protection, file: ev.file, line: ev.line, message: ev.message)) } }
            notes += driverNotes + (holderNote.map { [$0] } ?? [])
            var message = "'struct \(structDecl.name)' is allocated with \(site.allocatorPhrase) but embeds a refcounted struct \(core) (\(chain.joined(separator: " → "))) \(reg.verbPhrase)\(registeredIn.map { " in \(index.function($0).name)()" } ?? ""); "
                + explanation
            if !unbindable && reg.publishes { message += "; the driver suppresses its bind attributes, so only a failed probe or module unload frees it" }
            let never = severity == .error && unbindable && !verdict.protection.waitsForLastUser
                ? Self.neverUnpublished(reg, allocatedIn: site.function, ctx: ctx) : nil
            if let never { message += "; \(never.0): after unbind it stays published in the freed memory"; notes += never.1 }
            var finding = Finding(check: Self.description.id, severity: severity, file: index.path(site.function.file),
                                  line: site.line, column: site.column, function: fn.name, structName: structDecl.name,
                                  chain: chain, object: objectName, protection: verdict.protection.rawValue,
                                  message: message, notes: notes)
            finding.allocator = site.allocator
            finding.shape = never.map { _ in .neverUnregistered }
            return finding
        }
    }

    /// Why the driver never unpublishes the object it publishes at `reg` when it is unbound,
    /// with notes: its unbind path never calls the core's unregister (`missingTeardown`), or,
    /// when the core's unregister is not known, it has no unbind path at all (no `.remove`,
    /// no devm action). Nil when it does, when `reg` undoes itself at unbind, or when the
    /// allocating file declares no driver. (A waiting core's missing teardown is
    /// `missingTeardown`'s own.)
    static func neverUnpublished(_ reg: RegistrationSite, allocatedIn fid: FunctionID, ctx: AnalysisContext) -> (String, [FindingNote])? {
        // Only a file that is a driver of its own (a table with a `.probe`): a library's
        // callers unbind elsewhere.
        guard reg.publishes, UnbindPath.declaresProbe(ctx.index.files[Int(fid.file)]) else { return nil }
        if let obj = ctx.subsystems.objects[reg.object], !obj.unregister.isEmpty {
            return missingTeardown(obj, reg: reg, allocatedIn: fid, waiting: false, ctx: ctx)
        }
        guard !unregistersAtUnbind(reg.callee, from: fid.file, ctx: ctx),
              UnbindPath(driverFile: fid.file, resolver: ctx.resolver).entries.isEmpty else { return nil }
        return noUnbindPath(fid, never: "unregisters it", ctx: ctx)
    }

    /// That the driver of `fid`'s file has no unbind path (no `.remove`, no devm action), so
    /// it `never` does something (`calls i2c_del_adapter()`), with the note on `fid`.
    static func noUnbindPath(_ fid: FunctionID, never: String, ctx: AnalysisContext) -> (String, [FindingNote]) {
        ("the driver has no unbind callback (.remove) and no devm action, so it never \(never)",
         [FindingNote(.teardown, file: ctx.index.path(fid.file), line: ctx.index.function(fid).line, message: "no .remove or devm action of this driver \(never)")])
    }

    /// Whether register call `callee` undoes itself at unbind: a `devm_*` helper, or one
    /// whose body hands devres an action or block (`dmaenginem_async_device_register()`
    /// ends in `devm_add_action_or_reset()`).
    static func unregistersAtUnbind(_ callee: String, from file: Int32, ctx: AnalysisContext) -> Bool {
        if callee.hasPrefix("devm_") { return true }
        guard let g = ctx.resolver.function(named: callee, from: file) else { return false }
        return ctx.index.function(g).calls.contains { DriverCore.devresActions.contains($0.callee) }
    }

    /// The note on the registering call: what it does with the object, and how a call in
    /// another function was linked to the allocation (by the struct's type).
    static func registeringNote(_ found: Registered, arrival: Arrival, structName: String, core: String, ctx: AnalysisContext) -> FindingNote {
        let reg = found.site, index = ctx.index
        let pointer = found.elsewhere == nil ? arrival.targetText : found.view.rootName(found.target.root)
        let target = (pointer.isEmpty ? "it" : pointer) + (reg.path.isEmpty ? "" : "->" + reg.path.joined(separator: "."))
        var message = "\(reg.callee)() \(whatRegistering(target, publishes: reg.publishes, core: core))"
            + (reg.deferredThrough.map { ": " + $0 } ?? "")
        if let g = found.elsewhere {
            let name = index.function(g).name
            message = "\(reg.callee)() in \(name)() \(whatRegistering(target, publishes: reg.publishes, core: core)); "
                + "\(name)() reaches it by type: every struct \(structName) is allocated with devm_* and none is declared by value"
        }
        return FindingNote(reg.publishes ? .publish : .initialization, file: index.path(found.view.file), line: reg.line, column: reg.column, message: message)
    }

    /// What the registering call does with `target`, by the object's kind: a publishing
    /// call puts a device in the driver core, a cdev in the char device table, a kobject in
    /// sysfs; a bare count is only initialized for the core's users, who take their
    /// references later.
    static func whatRegistering(_ target: String, publishes: Bool, core: String) -> String {
        switch (publishes, core) {
        case (false, _): "initializes the reference count of \(target)"
        case (true, "kref"): "initializes \(target), the count its core's users take references on"
        case (true, "cdev"): "publishes \(target) to the char device table (where open() finds it)"
        case (true, "kobject"): "publishes \(target) to sysfs"
        default: "publishes \(target) to the driver core"
        }
    }

    /// Whether an object registered through a shared bare count (`SharedCounts.swift`) is
    /// one to judge: only when the core's release of the count hands the object's end to a
    /// hook the driver must supply (`dma_device_release()` calls `device->device_release`)
    /// and never frees the object itself. A release that frees it when no hook is set
    /// (`tty_port_destructor()`) serves drivers that opt in to the count, which a driver
    /// that never drops a reference does not; and one that neither frees nor calls a hook
    /// says nothing of who owns the memory. Other registrations are always judged.
    static func judgesCount(_ reg: RegistrationSite, ctx: AnalysisContext) -> Bool {
        guard let obj = ctx.subsystems.objects[reg.object], obj.core == "kref", reg.path.last == obj.coreField else { return true }
        guard obj.protection == .driverRelease, let release = obj.release else { return false }
        return !release.freesContainer && !release.freesConditionally
    }

    /// That no outside holder was found, and the weak evidence there is (`rankedHolder`'s
    /// rank 3 or 4, or none).
    static func noHolderFound(rank: Int?) -> String {
        let takes: String
        switch rank {
        case 3: takes = "the core takes counted references on it only on its own register and teardown paths"
        case 4: takes = "the core takes counted references only on other objects"
        default: takes = "the core takes no counted reference"
        }
        return "no outside reference holder was found in its core (\(takes) and creates no character device)"
    }

    /// An error needs someone outside who can hold a reference: the core takes counted
    /// references or creates a character device (the evidence is returned as a note).
    /// Without one only a delayed release touches the freed memory: a warning. Likewise a
    /// wait for the last user (protection `completion` or `wait-event`) blocks unbind only
    /// while someone outside holds a reference: with none, the wait returns at once and the
    /// memory is freed after it: a note.
    static func judgeHolders(_ severity: inout Severity, _ explanation: inout String, reg: RegistrationSite, verdict: ProtectionVerdict,
                             aggregate agg: AggregateID, embedding emb: Embedding, ctx: AnalysisContext) -> FindingNote? {
        let waits = severity == .warning && verdict.protection.waitsForLastUser
        let unprotected = severity == .error && [.none, .emptyRelease, .driverRelease].contains(verdict.protection)
        guard reg.publishes, waits || unprotected, let obj = ctx.subsystems.objects[reg.object] else { return nil }
        let chainNames = Self.chain(from: agg, path: reg.path, ctx: ctx)?.0 ?? ctx.closure.chainNames(emb, index: ctx.index)
        let held = Self.rankedHolder(obj, chain: chainNames, ctx: ctx)
        if let h = held, h.rank <= 2 {
            return h.evidence.file.isEmpty ? nil : FindingNote(.reference, file: h.evidence.file, line: h.evidence.line, message: "users can hold a reference: \(h.evidence.message)")
        }
        severity = waits ? .note : .warning
        explanation += "; but \(Self.noHolderFound(rank: held?.rank)), "
            + (waits ? "so the wait finds no user and the memory is freed after it" : "so only a delayed release (CONFIG_DEBUG_KOBJECT_RELEASE) could touch the freed memory")
        guard let weak = held else { return nil }
        return FindingNote(.reference, file: weak.evidence.file, line: weak.evidence.line, message: "not an outside holder: \(weak.evidence.message)")
    }
}

private func objectNameOf(_ agg: AggregateID, _ ctx: AnalysisContext) -> String { ctx.index.aggregate(agg).name }
