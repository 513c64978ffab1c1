import Facts
import Indexing
import Analysis
import Findings

/// `missing-release`: a device/kobject registered with no release callback on its path.
struct MissingReleaseCheck: Check {
    public init() {}

    public static let description = CheckDescription(
        id: "missing-release",
        summary: "A device or kobject is registered with no release callback anywhere on its path",
        rationale: """
            The driver core calls the release of the device (dev->release, its device_type or \
            class) or of the kobject (its kobj_type) when the last reference goes. Without one it \
            warns "does not have a release() function, it is broken and must be fixed" and the \
            memory is never freed correctly.
            """,
        severity: .warning,
        confidence: """
            Error for a kobj_type without .release (read directly). Warning for devices: the \
            release may be set through a path the analysis does not follow (a type or class set \
            in another translation unit through a pointer).
            """)

    /// Calls that add a device to the driver core.
    static let deviceAdds: Set<String> = ["device_register", "device_add"]
    /// Calls that give a device its reference count: once initialized, its last
    /// `put_device()` needs a release even if the device is never added.
    static let deviceRegistrations: Set<String> = deviceAdds.union(["device_initialize"])

    /// The struct that holds the kobject `kobj` (an expression of `view`): the type of `x`
    /// in `&x->kobj`, or what a kobject pointer points to.
    static func holder(of kobj: Int32, view: FunctionView, ctx: AnalysisContext) -> AggregateID? {
        guard let p = view.accessPath(kobj) else { return nil }
        let e = view.exprs
        let n = e[e.strippingCasts(kobj)]
        if n.kind == .unary, e.text(n) == "&", e[n.a].kind == .member {
            // &x->kobj: the type of x.
            let m = e[n.a]
            if let (t, f) = view.type(of: m.a) { return ctx.resolver.aggregate(of: m.b == 1 ? (t.dereferenced ?? t) : t, from: f) }
        } else if p.fields.isEmpty, let (t, f) = view.type(of: kobj), let d = t.dereferenced {
            return ctx.resolver.aggregate(of: d, from: f)
        }
        return nil
    }

    /// A struct of the tree that embeds `agg` by value (a member of its type, not a
    /// pointer): then `agg`'s memory is that struct's, freed by whoever owns it.
    static func embedder(of agg: AggregateID, ctx: AnalysisContext) -> AggregateID? {
        let name = ctx.index.aggregate(agg).name
        guard !name.isEmpty else { return nil }
        for holder in ctx.index.structs(holding: name) {
            for field in ctx.index.aggregate(holder).fields where field.type.name == name && field.type.isEmbedded && field.type.isAggregateTag {
                if ctx.resolver.aggregate(of: field.type, from: holder.file) == agg { return holder }
            }
        }
        return nil
    }

    /// Whether a function of `file` kfree()s a pointer to `agg`, the struct that holds the
    /// kobject (`holder(of:)`; not the kobject itself, allocated alone).
    static func ownerFrees(_ agg: AggregateID, file: Int32, ctx: AnalysisContext) -> Bool {
        // Device-managed: devres frees it.
        if (ctx.allocations.byAggregate[agg] ?? []).contains(where: { ctx.allocations.sites[$0].isDeviceManaged }) { return true }
        // A kfree() of its type in the files of this directory.
        let dir = TreeIndex.directory(of: ctx.index.path(file))
        let freeing = ctx.index.callers(ofAny: DriverCore.frees)
        for fi in ctx.index.filesByDirectory[dir] ?? [] {
            for ni in freeing.indices(inFile: fi) {
                let fn = ctx.index.files[Int(fi)].functions[ni]
                let v = FunctionView(id: FunctionID(file: Int32(fi), index: Int32(ni)), resolver: ctx.resolver)
                for c in fn.calls where DriverCore.frees.contains(c.callee) {
                    guard let a = v.exprs.arguments(c.node).first, let (t, f) = v.type(of: a), let d = t.dereferenced,
                          ctx.resolver.aggregate(of: d, from: f) == agg else { continue }
                    return true
                }
            }
        }
        return false
    }

    /// Whether a call in `view` passes the device at `device` to a helper that sets its
    /// `.release`, `.type` or `.class` (`dev->release = release` on its parameter), as in
    /// `helper_init(&x->dev, …, x_release)`.
    static func helperSetsRelease(of device: AccessPath, in view: FunctionView, ctx: AnalysisContext) -> Bool {
        for call in view.effectiveCalls() where !call.callee.isEmpty {
            for (j, arg) in call.args.enumerated() where arg >= 0 {
                guard let ap = view.accessPath(arg), ap.root == device.root, ap.fields == device.fields,
                      let callee = ctx.resolver.function(named: call.callee, from: view.file) else { continue }
                let cv = FunctionView(id: callee, resolver: ctx.resolver)
                let sets = cv.decl.assignments.contains { a in
                    guard let lp = cv.memberPath(a.lhs, expandAliases: false), lp.root == .parameter(j), let last = lp.fields.last,
                          lp.fields.count == 1, ["release", "type", "class"].contains(last) else { return false }
                    return ReleaseCallbacks.givesRelease(slot: last, rhs: a.rhs, in: cv.exprs, from: callee.file, resolver: ctx.resolver)
                }
                if sets { return true }
            }
        }
        return false
    }

    /// Whether `view` copies a whole struct into the device at `device`: `memcpy()` to it,
    /// or an assignment of a struct to it.
    static func copiedInto(_ device: AccessPath, in view: FunctionView) -> Bool {
        let copies = view.decl.calls.contains { c in
            guard c.callee == "memcpy", let dst = view.exprs.arguments(c.node).first, let ap = view.accessPath(dst) else { return false }
            return ap.root == device.root && ap.fields == device.fields
        }
        return copies || view.decl.assignments.contains { a in
            guard view.exprs[a.lhs].kind == .member, let lp = view.memberPath(a.lhs) else { return false }
            return lp.root == device.root && lp.fields == device.fields
        }
    }

    /// The struct types of the members that share an anonymous union with member `field`
    /// of `agg`.
    static func unionSiblings(of field: String, in agg: AggregateID, ctx: AnalysisContext) -> [AggregateID] {
        for member in ctx.index.aggregate(agg).fields where member.name.isEmpty {
            guard let u = ctx.resolver.aggregate(of: member.type, from: agg.file) else { continue }
            let union = ctx.index.aggregate(u)
            guard union.isUnion, union.fields.contains(where: { $0.name == field }) else { continue }
            return union.fields.filter { $0.name != field && $0.type.pointerDepth == 0 }
                .compactMap { ctx.resolver.aggregate(of: $0.type, from: u.file) }
        }
        return []
    }

    /// Whether `view` frees the object at `root` after line `line`: `kfree(root)`, or a call
    /// passing it to a function that frees its parameter on every path.
    static func freesAfter(line: Int32, root: PathRoot, in view: FunctionView, ctx: AnalysisContext) -> Bool {
        for call in view.effectiveCalls() where call.site.line > line && !call.callee.isEmpty {
            for (j, arg) in call.args.enumerated() where arg >= 0 {
                guard let ap = view.accessPath(arg), ap.root == root, ap.fields.isEmpty else { continue }
                if view.frees(call, argument: j, summaries: ctx.summaries) { return true }
            }
        }
        return false
    }

    /// What the owner's own free after registration `c` does: when the failure path puts
    /// the device first, the put WARNs and the free follows it; otherwise the documented
    /// undo would WARN and the kfree() leaks what the core allocated.
    static func ownerFreeConsequence(after c: CallSite, root: PathRoot, in view: FunctionView) -> String {
        let putsFirst = view.decl.calls.contains { put in
            guard put.callee == "put_device", put.line > c.line, let arg = view.exprs.arguments(put.node).first,
                  let pp = view.accessPath(arg) else { return false }
            return pp.root == root
        }
        return putsFirst
            ? "; the driver frees the memory itself after the call, outside the reference count: its put_device() makes the driver core WARN for want of a release, and the kfree() after it frees memory others may still reference"
            : "; the driver frees the memory itself after the call, outside the reference count: a failed registration cannot be undone with put_device() (the driver core WARNs), and a kfree() instead leaks what the core allocated and frees memory others may still reference"
    }

    /// Whether the object `node` points into is statically allocated: a file-scope object,
    /// also through a local alias, or a local pointing into one or into a per-CPU variable
    /// (a parameter is not looked into).
    static func isStaticObject(_ node: Int32, in view: FunctionView, ctx: AnalysisContext) -> Bool {
        [view.accessPath(node), view.accessPath(node, expandAliases: false)].contains { p in
            guard let root = p?.root else { return false }
            if case .parameter = root { return false }
            return ReleaseCallbacks.isStaticStorage(root, view: view, resolver: ctx.resolver)
        }
    }

    /// Marks `f` when its object (`object`, a pointer into it, at `line` of `view`) is an
    /// element of an array: the fix must not free it alone, and a note says where.
    static func markArrayElement(_ f: inout Finding, object: Int32, at line: Int32, in view: FunctionView, ctx: AnalysisContext) {
        guard let element = ArrayElements.array(containing: object, at: line, in: view, ctx: ctx) else { return }
        f.shape = .arrayElement(array: element.array)
        let fn = ctx.index.function(element.function).name
        f.notes.append(FindingNote(.allocation, file: ctx.index.path(element.function.file), line: element.line,
                                   message: "the object is an element of the array \(element.array) (in \(fn)()): only the whole array was allocated"))
    }

    /// The finding for `kobject_init_and_add()`/`kobject_init()` call `c` (arguments `args`)
    /// in `view`: its kobj_type has no `.release`; the severity by where the memory lives.
    static func kobjectFinding(_ c: CallSite, args: [Int32], in view: FunctionView, ctx: AnalysisContext) -> Finding? {
        let index = ctx.index, id = view.id, fn = view.decl
        let k = view.exprs[view.exprs.strippingCasts(args[1])]
        guard k.kind == .unary, view.exprs.text(k) == "&", view.exprs[k.a].kind == .identifier else { return nil }
        let name = view.exprs.text(view.exprs[k.a])
        guard let (g, gf) = ctx.resolver.globalEntry(named: name, from: id.file), !g.designated.isEmpty,
              !g.designated.contains(where: { $0.path == "release" }) else { return nil }
        // A statically allocated kobject is never freed: only the warning remains.
        let isStatic = Self.isStaticObject(args[0], in: view, ctx: ctx)
        // The struct holding the kobject. A kobject allocated on its own has none: only its
        // release could free it; a kfree() of some kobject elsewhere says nothing about
        // this one (it leaks).
        let holder = isStatic ? nil : Self.holder(of: args[0], view: view, ctx: ctx).flatMap { ctx.closure.cores[$0] == nil ? $0 : nil }
        // The owner frees the container itself (kfree() of its type in this
        // file): nothing leaks; only a reference outliving that free hurts.
        let ownerFrees = holder.map { Self.ownerFrees($0, file: id.file, ctx: ctx) } ?? false
        // The struct holding it lives inside another struct: that one's owner frees it.
        let within = ownerFrees ? nil : holder.flatMap { Self.embedder(of: $0, ctx: ctx) }.map { index.aggregate($0).name }
        let why = isStatic ? "the kobject is static, so nothing leaks, but the kobject core warns on its last put"
                           : ownerFrees ? "its owner frees the memory itself (kfree() or devres), which is only safe if no reference outlives that free"
                           : within.map { "its struct lives inside struct \($0), whose owner frees the memory, which is only safe if no reference outlives that" }
                           ?? "the kobject can never be freed correctly"
        var f = Finding(check: Self.description.id, severity: isStatic || ownerFrees || within != nil ? .warning : .error, file: index.path(id.file), line: c.line, column: c.column,
                        function: fn.name, message: "\(c.callee)() uses kobj_type '\(name)', which has no .release: \(why)",
                        notes: [FindingNote(.definition, file: index.path(gf), line: g.line, column: g.column, message: "struct kobj_type \(name) is defined here")])
        f.shape = isStatic ? .staticObject(core: "kobject") : within != nil ? .kobjectInsideStruct : .kobjTypeWithoutRelease
        if !isStatic { Self.markArrayElement(&f, object: args[0], at: c.line, in: view, ctx: ctx) }
        return f
    }

    public func run(_ ctx: AnalysisContext) -> [Finding] {
        var out: [Finding] = []
        // The findings at a `device_initialize()`: the device, the function, the place in `out`.
        var initialized: [(key: (device: DeviceKey, function: FunctionID), index: Int)] = []
        let index = ctx.index
        for id in index.callers(ofAny: Self.deviceRegistrations.union(["kobject_init_and_add", "kobject_init"])).functions where ctx.reports(id.file) {
            let fn = index.function(id)
            let view = FunctionView(id: id, resolver: ctx.resolver)
            for c in fn.calls {
                let args = Array(view.exprs.arguments(c.node))
                if (c.callee == "kobject_init_and_add" || c.callee == "kobject_init"), args.count >= 2 {
                    if let f = Self.kobjectFinding(c, args: args, in: view, ctx: ctx) { out.append(f) }
                    continue
                }
                guard Self.deviceRegistrations.contains(c.callee), let arg = args.first,
                      let (key, p) = Self.device(arg, in: view, ctx: ctx),
                      let (object, path) = Registration.walk(key.container, p.fields, ctx: ctx) else { continue }
                let agg = key.container
                if let obj = ctx.subsystems.objects[object], obj.release != nil || obj.driverSuppliedRelease { continue }
                if ctx.subsystems.releaseMentioned.contains(object) { continue }
                // Set in this function through another spelling (a local alias)?
                let setsHere = fn.assignments.contains { a in
                    guard let lp = view.memberPath(a.lhs), lp.root == p.root, let last = lp.fields.last,
                          ["release", "type", "class"].contains(last) else { return false }
                    return ReleaseCallbacks.givesRelease(slot: last, rhs: a.rhs, in: view.exprs, from: id.file, resolver: ctx.resolver)
                }
                if setsHere || Self.helperSetsRelease(of: p, in: view, ctx: ctx) { continue }
                // The whole device copied from a template (`memcpy(&x->dev, tmpl, …)`,
                // `x->dev = *tmpl`): the template's release comes with it.
                if Self.copiedInto(p, in: view) { continue }
                // The device shares a union with another member whose device gets the
                // release (`union { struct device dev; struct core_dev coredev; }`).
                if let last = path.last, Self.unionSiblings(of: last, in: object, ctx: ctx).contains(where: { s in
                    ctx.subsystems.releaseMentioned.contains(s) || ctx.subsystems.objects[s]?.release != nil
                }) { continue }
                let objectName = index.aggregate(object).name
                // The registering function frees the container after the call (its
                // failure path undoes the registration with kfree(), directly or through
                // a helper): the documented undo, put_device(), would WARN for want of a
                // release, and kfree() leaks what the core allocated.
                let ownerFrees = Self.freesAfter(line: c.line, root: p.root, in: view, ctx: ctx)
                // A file-scope device (as for kobjects, a parameter is not looked into) is
                // never freed: its release must free nothing.
                let isStatic = !ownerFrees && Self.isStaticObject(arg, in: view, ctx: ctx)
                let consequence = ownerFrees ? Self.ownerFreeConsequence(after: c, root: p.root, in: view)
                    : isStatic ? "; the device is static, so nothing leaks, but the driver core complains of the missing release on its last put" : ""
                var f = Finding(check: Self.description.id, severity: ownerFrees ? .error : .warning, file: index.path(id.file), line: c.line, column: c.column,
                                function: fn.name, structName: index.aggregate(agg).name, object: objectName,
                                message: "\(c.callee)() \(c.callee == "device_initialize" ? "initializes" : "registers") the struct device embedded in 'struct \(objectName)' (\(path.joined(separator: "."))) but no release callback is set for it (dev.release, device_type or class)" + consequence,
                                notes: [FindingNote(.definition, file: index.path(object.file), line: index.aggregate(object).line, message: "struct \(objectName) is defined here")])
                if isStatic { f.shape = .staticObject(core: "device") } else { Self.markArrayElement(&f, object: arg, at: c.line, in: view, ctx: ctx) }
                if c.callee == "device_initialize" { initialized.append(((key, id), out.count)) }
                out.append(f)
            }
        }
        guard !initialized.isEmpty else { return out }
        // A device that is also added (in any file, reported or not: `device_initialize()`
        // in one function, `device_add()` in another) is judged at the add, once.
        let added = Self.addedDevices(ctx)
        let dropped = Set(initialized.filter { added.contains($0.key.device) || Self.callerAdds($0.key.function, ctx: ctx) }.map(\.index))
        return out.enumerated().filter { !dropped.contains($0.offset) }.map(\.element)
    }

    /// The device that argument `arg` of a call in `view` names, by the struct it lives in
    /// and its member path (`&w->dev`: `struct widget`, `[dev]`), with its access path.
    static func device(_ arg: Int32, in view: FunctionView, ctx: AnalysisContext) -> (DeviceKey, AccessPath)? {
        guard let p = view.accessPath(arg), !p.fields.isEmpty else { return nil }
        let fn = view.decl, file = view.file, resolver = ctx.resolver
        var rootType: (TypeRef, Int32)?
        switch p.root {
        case .parameter(let k): rootType = fn.params.indices.contains(k) ? (fn.params[k].type, file) : nil
        case .local(let n): rootType = fn.declaredType(of: n).map { ($0, file) }
        case .global(let n): rootType = resolver.globalEntry(named: n, from: file).map { ($0.0.type, $0.1) }
        }
        guard let (rt0, rf) = rootType else { return nil }
        var rt = rt0
        if let d = rt.dereferenced, rt.pointerDepth > 0 { rt = d }
        guard let agg = resolver.aggregate(of: rt, from: rf) else { return nil }
        return (DeviceKey(container: agg, path: p.fields), p)
    }

    /// Every device a `device_add()` or `device_register()` of the tree adds.
    static func addedDevices(_ ctx: AnalysisContext) -> Set<DeviceKey> {
        var added = Set<DeviceKey>()
        for id in ctx.index.callers(ofAny: deviceAdds).functions {
            let view = FunctionView(id: id, resolver: ctx.resolver)
            for c in view.decl.calls where deviceAdds.contains(c.callee) {
                if let arg = view.exprs.arguments(c.node).first, let (key, _) = device(arg, in: view, ctx: ctx) { added.insert(key) }
            }
        }
        return added
    }

    /// Whether a caller of `id` adds or registers a device: `id` is then an initializing
    /// helper of that registration (perhaps of the same device under another name, through a
    /// union), judged at the add.
    static func callerAdds(_ id: FunctionID, ctx: AnalysisContext) -> Bool {
        ctx.index.callers(of: ctx.index.function(id).name).contains { caller in
            ctx.index.function(caller).calls.contains { deviceAdds.contains($0.callee) }
        }
    }

    /// A device by where it lives: the struct holding it and the member path to it.
    struct DeviceKey: Hashable {
        var container: AggregateID
        var path: [String]
    }
}
