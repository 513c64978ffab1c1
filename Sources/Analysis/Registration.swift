import Facts
import Indexing

/// Where an allocated object is handed to the driver core.
public struct RegistrationSite: Sendable {
    /// The struct that directly contains the published core object.
    public var object: AggregateID
    public var callee: String
    public var line: Int32
    public var column: Int32
    /// Path from the allocation to the published core object.
    public var path: [String]
    /// False when the call only initializes the object (`cdev_init`, `device_initialize`)
    /// and no call that publishes it was found: messages must not call it registration.
    public var publishes = true
    /// When a core registers it later through a slot of an ops table it was handed with
    /// (`HandedOpsTables`): which call, table and slot (`snd_device_new() is handed it with
    /// ops, whose .dev_register slot (snd_compress_dev_register()) registers it later`).
    public var deferredThrough: String?

    /// How a message names what the call did: `registered through X()` or `initialized by X()`.
    public var verbPhrase: String { publishes ? "registered through \(callee)()" : "initialized by \(callee)() (no call that publishes it was found)" }
}

/// What a subsystem's protection means for one devm-allocated object.
public struct ProtectionVerdict: Sendable {
    public var protection: Protection
    public var evidence: [Evidence]
    /// For driver-release objects: what the driver's own release does.
    public var driverRelease: ReleaseSummary?

    /// This verdict with the release the driver passes to the register call `reg` in
    /// `view` (`Registration.suppliedRelease`), when the core relies on the driver's release
    /// and none was found assigned.
    public func supplying(_ reg: RegistrationSite, in view: FunctionView, ctx: AnalysisContext) -> ProtectionVerdict {
        guard protection == .driverRelease, driverRelease == nil,
              let (r, ev) = Registration.suppliedRelease(at: reg, in: view, ctx: ctx) else { return self }
        var v = self
        v.driverRelease = r
        v.evidence.insert(ev, at: 0)
        return v
    }
}

/// Registration search shared by the checks.
public enum Registration {
    /// Walks `path` from `agg` through embedded fields; returns the struct containing the
    /// first core object reached and the path to it.
    public static func walk(_ agg: AggregateID, _ path: [String], ctx: AnalysisContext) -> (AggregateID, [String])? {
        var current = agg
        for (k, f) in path.enumerated() {
            guard let (next, core) = ctx.closure.embeddedStruct(field: f, in: current, resolver: ctx.resolver) else { return nil }
            if core != nil { return (current, Array(path.prefix(k + 1))) }
            current = next
        }
        return nil
    }

    /// The call in `view` that publishes a core object inside the allocation at `target`:
    /// the first that really publishes a device, kobject or cdev; else the first that
    /// publishes a shared bare count (`SharedCounts.swift`); else the first that
    /// initializes one.
    /// With `path`, only a call that publishes the core object at that path counts.
    public static func find(in view: FunctionView, target: AccessPath, allocated agg: AggregateID, ctx: AnalysisContext,
                            path wanted: [String]? = nil) -> RegistrationSite? {
        var fallback: RegistrationSite?
        for call in view.effectiveCalls() where !call.callee.isEmpty {
            for (j, arg) in call.args.enumerated() where arg >= 0 {
                guard let p = view.accessPath(arg), p.root == target.root, p.fields.starts(with: target.fields) else { continue }
                let rest = Array(p.fields.dropFirst(target.fields.count))
                // Each candidate: the core object's path, whether the call really publishes
                // it, and the ops-table slot that does so later (`HandedOpsTables`).
                let g = ctx.resolver.function(named: call.callee, from: view.file)
                var candidates: [(path: [String], publishes: Bool, count: Bool, through: String?)] =
                    publishedPaths(call.callee, resolved: g, argument: j, rest: rest, ctx: ctx).map { ($0.path, $0.publishes, false, nil) }
                // The object itself handed with an ops table whose slot registers it later.
                if rest.isEmpty, !candidates.contains(where: \.publishes) {
                    for d in HandedOpsTables.deferred(call, argument: j, object: agg, in: view, ctx: ctx) { candidates.append((d.path, d.publishes, false, d.through)) }
                }
                // A shared bare count (`SharedCounts.swift`) is published, but a device,
                // kobject or cdev published by the same function comes first.
                if let g, let effects = ctx.subsystems.countInitializers[g] {
                    for e in effects.sorted() where e.param == j { candidates.append((Summaries.normalize(rest + e.path), true, true, nil)) }
                }
                for (c, publishes, fromCount, through) in candidates {
                    if let (object, path) = walk(agg, c, ctx: ctx), wanted.map({ $0 == path }) ?? true {
                        var site = RegistrationSite(object: object, callee: call.writtenAs, line: call.site.line, column: call.site.column, path: path, publishes: publishes)
                        site.deferredThrough = through
                        let isCount = path.last.flatMap { ctx.closure.coreKind(ofField: $0, in: object, resolver: ctx.resolver) } == "kref"
                        // A count path that meets a driver-core object first is that object's.
                        if fromCount && !isCount { continue }
                        if publishes && !isCount { return site }
                        if fallback == nil || (isCount && fallback?.publishes == false) { fallback = site }
                    }
                }
            }
        }
        return fallback
    }

    /// The core-object paths that a call of `callee` (resolved to `g`) publishes or only
    /// initializes inside the object its argument `argument` reaches at member path `rest`,
    /// each with whether it really publishes (`device_add()`): the driver core's own table
    /// first, then the callee's summary.
    static func publishedPaths(_ callee: String, resolved g: FunctionID?, argument j: Int, rest: [String],
                               ctx: AnalysisContext) -> [(path: [String], publishes: Bool)] {
        var out: [(path: [String], publishes: Bool)] = []
        if let args = DriverCore.publishers[callee], args.contains(j) {
            out.append((DriverCore.objectPath(callee, rest), !DriverCore.initializers.contains(callee)))
        }
        if let g, let effects = ctx.summaries.publishes[g] {
            let real = ctx.summaries.reallyPublishes[g] ?? []
            for e in effects.keys.sorted() where e.param == j { out.append((Summaries.normalize(rest + e.path), real.contains(e))) }
        }
        return out
    }

    /// The release a driver hands to the register call itself, for a core whose release
    /// calls the driver's hook (`usb_add_gadget_udc_release(parent, gadget, release)`): the
    /// first argument naming a function of the tree that takes one `struct device *`, the
    /// shape of a device's release. When the driver registers through a helper of its own
    /// (`udc_probe(dev)`), the release that helper (or one it calls) passes. With the
    /// evidence of where it is passed.
    public static func suppliedRelease(at reg: RegistrationSite, in view: FunctionView, ctx: AnalysisContext) -> (ReleaseSummary, Evidence)? {
        guard let call = view.decl.calls.first(where: { $0.line == reg.line && $0.column == reg.column }) else { return nil }
        var seen: Set<FunctionID> = [view.id]
        return suppliedRelease(through: call, in: view, callee: reg.callee, depth: 0, seen: &seen, ctx: ctx)
    }

    private static func suppliedRelease(through call: CallSite, in view: FunctionView, callee: String, depth: Int,
                                        seen: inout Set<FunctionID>, ctx: AnalysisContext) -> (ReleaseSummary, Evidence)? {
        let e = view.exprs
        for arg in e.arguments(call.node) {
            var n = e[e.strippingCasts(arg)]
            if n.kind == .unary && e.text(n) == "&" { n = e[n.a] }
            guard n.kind == .identifier, let f = ctx.resolver.function(named: e.text(n), from: view.file) else { continue }
            let params = ctx.index.function(f).params
            guard params.count == 1, params[0].type.kind == .structType, params[0].type.name == "device",
                  params[0].type.pointerDepth == 1 else { continue }
            let r = ReleaseAnalysis.summarize(f, resolver: ctx.resolver, summaries: ctx.summaries)
            return (r, Evidence(file: ctx.index.path(view.file), line: call.line,
                                message: "\(view.decl.name) passes \(r.name) to \(callee)() as the release"))
        }
        // A helper of the driver's that registers the object itself.
        guard depth < 2, let g = ctx.resolver.function(named: call.callee, from: view.file), seen.insert(g).inserted,
              ctx.summaries.publishes[g] != nil else { return nil }
        let inner = FunctionView(id: g, resolver: ctx.resolver)
        for c in inner.decl.calls where !c.callee.isEmpty {
            // Only calls that publish an object can be handed its release.
            guard DriverCore.publishers[c.callee] != nil
                || ctx.resolver.function(named: c.callee, from: g.file).map({ ctx.summaries.publishes[$0] != nil }) == true else { continue }
            if let found = suppliedRelease(through: c, in: inner, callee: c.callee, depth: depth + 1, seen: &seen, ctx: ctx) { return found }
        }
        return nil
    }

    /// The protection that applies to `object` when a driver in `file` allocates it.
    /// `origin` (the allocating function, the allocation's root, and the path to the core
    /// object) lets a driver-private object be judged by the release its own registration
    /// path installs.
    public static func verdict(for object: AggregateID, file: String, ctx: AnalysisContext,
                               origin: (FunctionID, PathRoot, [String])? = nil) -> ProtectionVerdict {
        if let obj = ctx.subsystems.objects[object] {
            var v = ProtectionVerdict(protection: obj.protection, evidence: obj.evidence, driverRelease: nil)
            if obj.protection == .driverRelease, let b = ctx.subsystems.driverRelease(for: object, in: file) {
                v.driverRelease = ReleaseAnalysis.summarize(b.function, resolver: ctx.resolver, summaries: ctx.summaries)
                v.evidence.insert(b.evidence, at: 0)
            }
            return v
        }
        // A driver-private struct registered directly: the release its registration path sets.
        if let (fid, root, path) = origin {
            var supplied = false
            var seen = Set<FunctionID>()
            let bindings = Subsystems.releaseBindings(in: fid, roots: [root], fieldPath: path, resolver: ctx.resolver,
                                                      driverSupplied: &supplied, seen: &seen)
            if let b = bindings.first {
                let r = ReleaseAnalysis.summarize(b.function, resolver: ctx.resolver, summaries: ctx.summaries)
                let rf = ctx.index.function(b.function)
                let ev = Evidence(file: ctx.index.path(b.function.file), line: rf.line, message: r.isEmpty ? "\(r.name) does nothing" : "\(r.name) is the release")
                return ProtectionVerdict(protection: r.isEmpty ? .emptyRelease : .driverRelease, evidence: [b.evidence, ev], driverRelease: r)
            }
        }
        if let b = ctx.subsystems.driverRelease(for: object, in: file) {
            let r = ReleaseAnalysis.summarize(b.function, resolver: ctx.resolver, summaries: ctx.summaries)
            return ProtectionVerdict(protection: .driverRelease, evidence: [b.evidence], driverRelease: r)
        }
        return ProtectionVerdict(protection: .none, evidence: [], driverRelease: nil)
    }
}
