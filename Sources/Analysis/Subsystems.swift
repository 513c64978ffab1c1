import Facts
import Indexing

/// How a subsystem keeps (or fails to keep) its objects alive past unbind. See DESIGN.md.
public enum Protection: String, Sendable, CaseIterable {
    case releaseFrees = "release-frees"
    case completion
    case waitEvent = "wait-event"
    case revocation
    case driverRelease = "driver-release"
    case emptyRelease = "empty-release"
    case none

    /// A wait in the unregister function until the last user is gone (a completion the
    /// release signals, or a wait-event); a put or a revocation is not one.
    public var waitsForLastUser: Bool { self == .completion || self == .waitEvent }
}

/// A struct type that a core registers: it embeds a core object in field `coreField`, and
/// some function takes it and publishes that field.
public struct SubsystemObject: Sendable {
    public var aggregate: AggregateID
    public var name: String
    public var coreField: String
    public var core: String
    public var register: [FunctionID]
    public var unregister: [FunctionID]
    /// The unregister functions that wait for the last user (a completion or a wait-event;
    /// a put such as `i2c_put_adapter()` does not), in `unregister`'s order.
    public var waitingUnregister: [FunctionID] = []
    public var release: ReleaseSummary?
    /// Drivers must supply the release (the core assigns a caller-provided one, or only
    /// drivers assign it).
    public var driverSuppliedRelease: Bool
    public var protection: Protection
    public var evidence: [Evidence]
}

/// A release callback found for an object: the function name, where it was set, how.
public struct ReleaseBinding: Sendable {
    public var function: FunctionID
    public var evidence: Evidence
    /// The member whose release slot is set (`v4l2_dev` of `x->v4l2_dev.release = f`),
    /// when written as one; empty otherwise.
    public var member = ""
}

/// Infers the registered object types of the tree and classifies their protection.
public struct Subsystems: Sendable {
    public private(set) var objects: [AggregateID: SubsystemObject]
    /// Releases assigned outside the core (`priv->vdev.dev.release = fn`), by object type.
    let driverReleases: [AggregateID: [ReleaseBinding]]
    /// A register function that allocates an object of this type itself.
    struct LocalRegistration: Hashable, Sendable {
        var function: FunctionID
        var object: AggregateID
    }

    /// Register functions that allocate the object themselves, with the local holding it.
    let localRegisterRoots: [LocalRegistration: PathRoot]
    /// Object types on whose embedded device someone sets `.release`, `.type` or `.class`
    /// (a type or class that can give a release: `ReleaseCallbacks.givesRelease`).
    public let releaseMentioned: Set<AggregateID>
    /// The core's `*_alloc()` functions per object type.
    public let allocatorFunctions: [AggregateID: [FunctionID]]
    /// Kref members someone takes references on, with that get (`SharedCounts.swift`).
    public let sharedCounts: [CountedMember: Evidence]
    /// Functions that initialize a shared count in an object they are given, with the
    /// parameter and the path to the count: they publish objects whose core is a kref.
    public let countInitializers: [FunctionID: Set<ParamEffect>]
    let index: TreeIndex

    /// Register and unregister functions per object type, with the register functions that
    /// allocate the object themselves.
    struct Registrations: Sendable {
        var register: [AggregateID: [(FunctionID, String)]] = [:]
        var unregister: [AggregateID: [(FunctionID, String)]] = [:]
        var localRoots: [LocalRegistration: PathRoot] = [:]
        var directLocal = Set<LocalRegistration>()
    }

    /// `jobs`: workers for classifying the objects (each with a resolver of its own).
    public init(index: TreeIndex, resolver: Resolver, summaries: Summaries, closure: EmbeddingClosure, allocations: Allocations, jobs: Int = 1) {
        self.index = index
        // 1. Objects and their register/unregister functions (those of a shared bare count
        // too, found without the effect summaries).
        // (Side by side when there are workers: neither reads the other.)
        enum Part: Sendable { case registrations(Registrations), counts(CountFacts) }
        let parts = parallelMap(count: 2, jobs: jobs, makeState: { Resolver(index: index) }) { k, r -> Part in
            k == 0 ? .registrations(Subsystems.registrations(index: index, resolver: r, summaries: summaries, closure: closure, allocations: allocations))
                   : .counts(Subsystems.countFacts(index: index, resolver: r, closure: closure))
        }
        var regs = Registrations(), counts = CountFacts()
        for part in parts {
            switch part {
            case .registrations(let r): regs = r
            case .counts(let c): counts = c
            }
        }
        (sharedCounts, countInitializers) = (counts.shared, counts.initializers)
        Subsystems.addCountRegistrations(into: &regs, counts: counts, index: index, resolver: resolver, closure: closure)
        self.localRegisterRoots = regs.localRoots
        // 2. Releases assigned by anyone on `X->f.release`, by the type of X.
        (driverReleases, releaseMentioned) = Subsystems.releaseAssignments(index: index, resolver: resolver)
        // 3. The core's `*_alloc()` functions.
        allocatorFunctions = Subsystems.allocatorFunctions(index: index, resolver: resolver)
        // 4. Classify each object.
        objects = Subsystems.classifyAll(regs, index: index, summaries: summaries, closure: closure,
                                         driverReleases: driverReleases, allocators: allocatorFunctions, jobs: jobs)
    }

    /// Object types reached by the publish and teardown summaries of functions taking them,
    /// and cores that allocate the object inside their register function.
    static func registrations(index: TreeIndex, resolver: Resolver, summaries: Summaries, closure: EmbeddingClosure,
                              allocations: Allocations) -> Registrations {
        var regs = Registrations()
        func objectOf(_ fid: FunctionID, _ effect: ParamEffect) -> (AggregateID, String)? {
            guard effect.path.count == 1 else { return nil }
            let fn = index.function(fid)
            guard effect.param < fn.params.count else { return nil }
            let pt = fn.params[effect.param].type
            guard pt.pointerDepth == 1 || pt.kind == .named,
                  let agg = resolver.aggregate(of: pt, from: fid.file), closure.cores[agg] == nil,
                  closure.coreKind(ofField: effect.path[0], in: agg, resolver: resolver) != nil else { return nil }
            return (agg, effect.path[0])
        }
        for (fid, effects) in summaries.publishes {
            for (e, _) in effects { if let (o, f) = objectOf(fid, e) { regs.register[o, default: []].append((fid, f)) } }
        }
        for (fid, effects) in summaries.tearsDown {
            for (e, _) in effects { if let (o, f) = objectOf(fid, e) { regs.unregister[o, default: []].append((fid, f)) } }
        }
        localRegistrations(into: &regs, index: index, resolver: resolver, summaries: summaries, closure: closure, allocations: allocations)
        return regs
    }

    /// Cores that allocate the object inside their register function (`*_register()` that
    /// returns the new object): a heap allocation into a local that the same function
    /// publishes, in a function that returns the object or is exported.
    static func localRegistrations(into regs: inout Registrations, index: TreeIndex, resolver: Resolver, summaries: Summaries,
                                   closure: EmbeddingClosure, allocations: Allocations) {
        for site in allocations.sites where !site.isDeviceManaged {
            guard let agg = site.aggregate, closure.embeddings[agg] != nil, let target = site.target,
                  case .local = target.root, target.fields.isEmpty else { continue }
            let fn = index.function(site.function)
            let returnsIt = fn.returnType.pointerDepth == 1 && resolver.aggregate(of: fn.returnType, from: site.function.file) == agg
            guard returnsIt || index.exported.contains(fn.name) else { continue }
            let view = FunctionView(id: site.function, resolver: resolver)
            search: for call in view.effectiveCalls() where !call.callee.isEmpty {
                for (j, arg) in call.args.enumerated() where arg >= 0 {
                    guard let p = view.accessPath(arg), p.root == target.root else { continue }
                    var paths: [([String], Bool)] = []
                    if let args = DriverCore.publishers[call.callee], args.contains(j) { paths.append((DriverCore.objectPath(call.callee, p.fields), true)) }
                    if let g = resolver.function(named: call.callee, from: site.function.file), let effects = summaries.publishes[g] {
                        for e in effects.keys.sorted() where e.param == j { paths.append((Summaries.normalize(p.fields + e.path), false)) }
                    }
                    for (path, direct) in paths where path.count == 1 {
                        guard closure.coreKind(ofField: path[0], in: agg, resolver: resolver) != nil else { continue }
                        regs.register[agg, default: []].append((site.function, path[0]))
                        let key = LocalRegistration(function: site.function, object: agg)
                        regs.localRoots[key] = target.root
                        if direct { regs.directLocal.insert(key) }
                        break search
                    }
                }
            }
        }
    }

    /// Releases assigned by anyone on `X->f.release` (by the type of X), and the object
    /// types on whose embedded object someone sets `.release`, `.type` or `.class`.
    static func releaseAssignments(index: TreeIndex, resolver: Resolver) -> ([AggregateID: [ReleaseBinding]], Set<AggregateID>) {
        var driverReleases: [AggregateID: [ReleaseBinding]] = [:]
        var releaseMentioned = Set<AggregateID>()
        MemberAssignments.forEach(to: DriverCore.releaseSlots.union(["type", "class"]), index: index, resolver: resolver) { id, fn, view, a in
            let e = fn.exprs
            let lhs = e[a.lhs]
            let slot = e.text(lhs)
            var base = e[lhs.a]
            // `dev = &x->dev; dev->class = &c`: the local stands for the member it aliases.
            if base.kind == .identifier, lhs.b == 1, let alias = view.aliases[e.text(base)] {
                let target = e[e.strippingCasts(alias)]
                if target.kind == .unary, e.text(target) == "&" { base = e[target.a] }
            }
            var container: AggregateID?
            if base.kind == .member {
                var containerType: (TypeRef, Int32)?
                if base.b == 1 { containerType = view.type(of: base.a).flatMap { t in t.0.dereferenced.map { ($0, t.1) } } }
                else { containerType = view.type(of: base.a) }
                if let (ct, cf) = containerType { container = resolver.aggregate(of: ct, from: cf) }
            } else if base.kind == .identifier, lhs.b == 1, let alias = view.aliases[e.text(base)], e[e.strippingCasts(alias)].kind == .call,
                      let p = view.accessPath(alias) {
                // `dev = accessor(x); dev->type = &t` (`#define accessor(x) &x->core.dev`).
                container = Self.holder(ofLast: p, in: view, resolver: resolver)
            }
            guard let agg = container else { return }
            // A type or class whose initializer has no release gives the device none.
            guard ReleaseCallbacks.givesRelease(slot: slot, rhs: a.rhs, in: e, from: id.file, resolver: resolver) else { return }
            releaseMentioned.insert(agg)
            guard DriverCore.releaseSlots.contains(slot) else { return }
            let rhs = e[e.strippingCasts(a.rhs)]
            guard rhs.kind == .identifier, let rf = resolver.function(named: e.text(rhs), from: id.file) else { return }
            driverReleases[agg, default: []].append(ReleaseBinding(function: rf, evidence: Evidence(
                file: index.path(id.file), line: a.line, message: "\(fn.name) sets \(e.render(a.lhs)) = \(e.text(rhs))"),
                member: base.kind == .member ? e.text(base) : ""))
        }
        return (driverReleases, releaseMentioned)
    }

    /// The struct that holds the last member of path `p` (`x->core.dev`: the type of
    /// `core`), walking embedded members from the type the root points to.
    static func holder(ofLast p: AccessPath, in view: FunctionView, resolver: Resolver) -> AggregateID? {
        guard !p.fields.isEmpty, !p.fields.contains(where: { $0.hasPrefix("^") }), var agg = view.pointedAggregate(of: p.root) else { return nil }
        for f in p.fields.dropLast() {
            guard let field = resolver.index.aggregate(agg).fields.first(where: { $0.name == f }), field.type.pointerDepth == 0,
                  let next = resolver.aggregate(of: field.type, from: agg.file) else { return nil }
            agg = next
        }
        return agg
    }

    /// Functions that hand out a new object: return `O *` from a heap allocation (the
    /// core's `*_alloc()` API), by object type.
    static func allocatorFunctions(index: TreeIndex, resolver: Resolver) -> [AggregateID: [FunctionID]] {
        var allocators: [AggregateID: [FunctionID]] = [:]
        let heapAllocators = DriverCore.allocators.filter { !$0.value.isDeviceManaged }.keys
        for id in index.callers(ofAny: heapAllocators).functions {
            let returnType = index.files[Int(id.file)].functions[Int(id.index)].returnType
            guard returnType.pointerDepth == 1, returnType.isAggregateTag,
                  let agg = resolver.aggregate(of: returnType, from: id.file) else { continue }
            allocators[agg, default: []].append(id)
        }
        return allocators
    }

    /// One `SubsystemObject` per registered type: its core field (device before kobject,
    /// cdev, kref), register and unregister functions, release and protection.
    static func classifyAll(_ regs: Registrations, index: TreeIndex, summaries: Summaries, closure: EmbeddingClosure,
                            driverReleases: [AggregateID: [ReleaseBinding]], allocators: [AggregateID: [FunctionID]],
                            jobs: Int) -> [AggregateID: SubsystemObject] {
        let coreRank: [String: Int] = ["device": 0, "kobject": 1, "cdev": 2, "kref": 3]
        let filesByDirectory = index.filesByDirectory
        // Each object is classified on its own (reading only the results above), so the
        // objects are shared out among the workers.
        let registered = regs.register.keys.sorted()
        let classified = parallelMap(count: registered.count, jobs: jobs, makeState: { Resolver(index: index) }) { k, resolver -> SubsystemObject in
            let agg = registered[k]
            let list = regs.register[agg] ?? []
            func fieldRank(_ f: String) -> (Int, String) {
                let core = closure.coreKind(ofField: f, in: agg, resolver: resolver) ?? "kref"
                return (coreRank[core] ?? 9, f)
            }
            let field = list.map(\.1).min(by: { fieldRank($0) < fieldRank($1) })!
            let regFns = Array(Set(list.filter { $0.1 == field }.map(\.0))).sorted()
            // A register function that undoes itself on failure is not an unregister function.
            let unregFns = Array(Set((regs.unregister[agg] ?? []).filter { $0.1 == field }.map(\.0)).subtracting(regFns)).sorted()
            let core = closure.coreKind(ofField: field, in: agg, resolver: resolver) ?? "device"
            var obj = SubsystemObject(aggregate: agg, name: index.aggregate(agg).name, coreField: field, core: core,
                                      register: regFns, unregister: unregFns, release: nil, driverSuppliedRelease: false,
                                      protection: .none, evidence: [])
            Subsystems.classify(&obj, resolver: resolver, summaries: summaries, driverReleases: driverReleases[agg] ?? [],
                                allocators: allocators[agg] ?? [], filesByDirectory: filesByDirectory,
                                localRoots: regs.localRoots, directLocal: regs.directLocal, index: index)
            return obj
        }
        return Dictionary(uniqueKeysWithValues: zip(registered, classified))
    }

    /// Release bindings made inside `fid` (and the functions it hands the object to) for the
    /// object passed as parameter `param`, whose core object is field `field`.
    static func releaseBindings(in fid: FunctionID, roots: Set<PathRoot>, fieldPath: [String], resolver: Resolver, depth: Int = 0,
                                driverSupplied: inout Bool, seen: inout Set<FunctionID>) -> [ReleaseBinding] {
        let field = fieldPath.joined(separator: ".")
        guard depth < 4, seen.insert(fid).inserted else { return [] }
        let view = FunctionView(id: fid, resolver: resolver)
        let fn = view.decl
        let e = view.exprs
        var out: [ReleaseBinding] = []
        let filePath = resolver.index.path(fid.file)
        func bindGlobal(_ rhs: Int32, slot: String, how: String, line: Int32) {
            let r = e[e.strippingCasts(rhs)]
            guard r.kind == .unary, e.text(r) == "&", e[r.a].kind == .identifier else { return }
            let g = e.text(e[r.a])
            guard let (decl, gfile) = resolver.globalEntry(named: g, from: fid.file),
                  let v = decl.designated.first(where: { $0.path == slot }),
                  let rf = resolver.function(named: v.value, from: gfile) else { return }
            out.append(ReleaseBinding(function: rf, evidence: Evidence(file: filePath, line: line,
                message: "\(fn.name) sets \(how) = &\(g), whose .\(slot) is \(v.value)")))
        }
        for a in fn.assignments {
            let expanded = view.memberPath(a.lhs)
            let raw = view.memberPath(a.lhs, expandAliases: false)
            guard let p = (expanded.map { roots.contains($0.root) } == true) ? expanded : raw, roots.contains(p.root),
                  p.fields.count == fieldPath.count + 1, Array(p.fields.dropLast()) == fieldPath else { continue }
            let path: String
            switch p.root {
            case .parameter(let k): path = fn.params.indices.contains(k) ? fn.params[k].name : "?"
            case .local(let n), .global(let n): path = n
            }
            let rhs = e[e.strippingCasts(a.rhs)]
            switch p.fields.last! {
            case "release":
                if rhs.kind == .identifier {
                    let name = e.text(rhs)
                    if fn.params.contains(where: { $0.name == name }) {
                        driverSupplied = true
                        continue
                    }
                    if let rf = resolver.function(named: name, from: fid.file) {
                        out.append(ReleaseBinding(function: rf, evidence: Evidence(file: filePath, line: a.line,
                            message: "\(fn.name) sets \(path)->\(field.isEmpty ? "" : field + ".")release = \(name)")))
                    }
                }
            case "type": bindGlobal(a.rhs, slot: "release", how: e.render(a.lhs), line: a.line)
            case "class": bindGlobal(a.rhs, slot: "dev_release", how: e.render(a.lhs), line: a.line)
            default: break
            }
        }
        for call in view.effectiveCalls() {
            if (call.callee == "kobject_init" || call.callee == "kobject_init_and_add"), call.args.count >= 2,
               let p = view.accessPath(call.args[0]), roots.contains(p.root), p.fields == fieldPath {
                bindGlobal(call.args[1], slot: "release", how: "\(call.callee)(…, ktype)", line: call.site.line)
            }
            // Follow the object into helpers that receive it.
            guard !call.callee.isEmpty, let callee = resolver.function(named: call.callee, from: fid.file) else { continue }
            // (Also a helper handed the core object itself, `snd_device_initialize(&x->dev)`,
            // which sets `dev->release`.)
            for (j, a) in call.args.enumerated() where a >= 0 {
                if let p = view.accessPath(a), roots.contains(p.root), fieldPath.starts(with: p.fields), p.fields.count <= fieldPath.count {
                    out += releaseBindings(in: callee, roots: [.parameter(j)], fieldPath: Array(fieldPath.dropFirst(p.fields.count)),
                                           resolver: resolver, depth: depth + 1, driverSupplied: &driverSupplied, seen: &seen)
                }
            }
        }
        return out
    }

    /// Whether unregister function `fid` waits for the object's last user (a completion or
    /// a wait-event); a put (`i2c_put_adapter()`) does not.
    public static func waitsForLastUser(_ fid: FunctionID, resolver: Resolver) -> Bool {
        var seen = Set<FunctionID>()
        return waits(in: fid, resolver: resolver, seen: &seen).contains { $0.0.waitsForLastUser }
    }

    /// What unregister functions wait for: completion, wait-event, revocation (with evidence).
    public static func waits(in fid: FunctionID, resolver: Resolver, depth: Int = 0, seen: inout Set<FunctionID>) -> [(Protection, Evidence)] {
        guard depth < 3, seen.insert(fid).inserted else { return [] }
        let fn = resolver.index.function(fid)
        let filePath = resolver.index.path(fid.file)
        var out: [(Protection, Evidence)] = []
        for c in fn.calls {
            let ev = Evidence(file: filePath, line: c.line, message: "\(fn.name) calls \(c.callee)")
            if DriverCore.completionWaits.contains(c.callee) { out.append((.completion, ev)) }
            else if DriverCore.waitEvents.contains(c.callee) { out.append((.waitEvent, ev)) }
            else if DriverCore.revocationWaits.contains(c.callee) { out.append((.revocation, ev)) }
        }
        if depth < 2 {
            for c in fn.calls where !c.callee.isEmpty {
                if let callee = resolver.function(named: c.callee, from: fid.file), callee.file == fid.file {
                    out += waits(in: callee, resolver: resolver, depth: depth + 1, seen: &seen)
                }
            }
        }
        return out
    }

    /// Register functions that call the driver core themselves (not through another
    /// register function): the subsystem core, not the drivers built on it.
    static func baseRegisterFunctions(_ obj: SubsystemObject, summaries: Summaries, directLocal: Set<FunctionID> = []) -> [FunctionID] {
        let base = obj.register.filter { r in
            directLocal.contains(r) ||
            (summaries.publishes[r] ?? [:]).contains { $0.key.path == [obj.coreField] && DriverCore.publishers[$0.value.callee] != nil }
        }
        return base.isEmpty ? obj.register : base
    }

    /// The release bindings the core makes for `obj` in its register functions `base`, its
    /// `*_alloc()` functions and its functions that allocate the object before registering
    /// it; and whether a register function takes the release from its caller.
    static func coreReleaseBindings(_ obj: SubsystemObject, base: [FunctionID], resolver: Resolver, allocators: [FunctionID],
                                    filesByDirectory: [Substring: [Int32]], localRoots: [LocalRegistration: PathRoot],
                                    index: TreeIndex) -> ([ReleaseBinding], Bool) {
        var driverSupplied = false
        var bindings: [ReleaseBinding] = []
        for r in base {
            let fn = index.function(r)
            let root: PathRoot
            if let local = localRoots[LocalRegistration(function: r, object: obj.aggregate)] { root = local }
            else if let param = fn.params.firstIndex(where: { p in resolver.aggregate(of: p.type, from: r.file) == obj.aggregate }) { root = .parameter(param) }
            else { continue }
            var seen = Set<FunctionID>()
            bindings += releaseBindings(in: r, roots: [root], fieldPath: [obj.coreField], resolver: resolver, driverSupplied: &driverSupplied, seen: &seen)
        }
        // The core's allocation functions set the release too (`*_alloc()` APIs), and so do
        // core functions that allocate the object themselves before registering it.
        let coreDirs = Set(base.map { TreeIndex.directory(of: index.path($0.file)) })
        var setups = allocators.filter { coreDirs.contains(TreeIndex.directory(of: index.path($0.file))) }
        let baseNames = Set(obj.register.filter { coreDirs.contains(TreeIndex.directory(of: index.path($0.file))) }.map { index.function($0).name })
        // (Their order does not matter: the set is sorted below.)
        for id in index.callers(ofAny: baseNames).functions where coreDirs.contains(TreeIndex.directory(of: index.path(id.file))) {
            setups.append(id)
        }
        bindings += countReleaseBindings(obj, coreDirectories: coreDirs, resolver: resolver)
        for a in Array(Set(setups)).sorted() where !base.contains(a) {
            let fn = index.function(a)
            let roots = Set(fn.locals.filter { resolver.aggregate(of: $0.type, from: a.file) == obj.aggregate && $0.type.pointerDepth == 1 }.map { PathRoot.local($0.name) })
            guard !roots.isEmpty else { continue }
            var seen = Set<FunctionID>()
            var ignored = false
            bindings += releaseBindings(in: a, roots: roots, fieldPath: [obj.coreField], resolver: resolver, driverSupplied: &ignored, seen: &seen)
        }
        return (bindings, driverSupplied)
    }

    /// The protection a core's release `s` gives `obj`: empty, frees, completion or wait
    /// (with the unregister function's wait as evidence), revocation, a driver hook, or none.
    static func judgeRelease(_ s: ReleaseSummary, of obj: inout SubsystemObject, waitKinds: [(Protection, Evidence)],
                             driverSupplied: Bool, evidence: inout [Evidence], index: TreeIndex) {
        let rf = index.function(s.function)
        let where_ = Evidence(file: index.path(s.function.file), line: rf.line, message: "")
        if s.isEmpty {
            obj.protection = .emptyRelease
            evidence.append(Evidence(file: where_.file, line: where_.line, message: "\(s.name) does nothing"))
        } else if s.freesContainer {
            obj.protection = .releaseFrees
            evidence.append(Evidence(file: where_.file, line: where_.line, message: "\(s.name) frees the \(obj.name)"))
        } else if s.signalsCompletion, let w = waitKinds.first(where: { $0.0 == .completion }) {
            obj.protection = .completion
            evidence.append(Evidence(file: where_.file, line: where_.line, message: "\(s.name) signals a completion"))
            evidence.append(w.1)
        } else if let w = waitKinds.first(where: { $0.0 == .waitEvent }) {
            obj.protection = .waitEvent
            evidence.append(w.1)
        } else if let w = waitKinds.first(where: { $0.0 == .revocation }) {
            obj.protection = .revocation
            evidence.append(w.1)
        } else if s.callsHook || driverSupplied {
            obj.protection = .driverRelease
            obj.driverSuppliedRelease = true
            evidence.append(Evidence(file: where_.file, line: where_.line, message: "\(s.name) calls a hook the driver supplies"))
        } else {
            obj.protection = .none
            let what = s.freesConditionally ? "frees only on some paths" : "does not free the \(obj.name) or wait for its users"
            evidence.append(Evidence(file: where_.file, line: where_.line, message: "\(s.name) \(what)"))
        }
    }

    static func classify(_ obj: inout SubsystemObject, resolver: Resolver, summaries: Summaries,
                         driverReleases: [ReleaseBinding], allocators: [FunctionID],
                         filesByDirectory: [Substring: [Int32]], localRoots: [LocalRegistration: PathRoot] = [:],
                         directLocal: Set<LocalRegistration> = [], index: TreeIndex) {
        var evidence: [Evidence] = []
        let direct = Set(directLocal.filter { $0.object == obj.aggregate }.map(\.function))
        let base = baseRegisterFunctions(obj, summaries: summaries, directLocal: direct)
        let (bindings, driverSupplied) = coreReleaseBindings(obj, base: base, resolver: resolver, allocators: allocators,
                                                             filesByDirectory: filesByDirectory, localRoots: localRoots, index: index)
        for r in base.sorted(by: { (index.exported.contains(index.function($0).name) ? 0 : 1, $0) < (index.exported.contains(index.function($1).name) ? 0 : 1, $1) }).prefix(2) {
            let fn = index.function(r)
            // Only a call that publishes is a registration (not cdev_init/device_initialize).
            let publishes = (summaries.reallyPublishes[r] ?? []).contains { $0.path == [obj.coreField] } || !(summaries.publishes[r] ?? [:]).keys.contains { $0.path == [obj.coreField] }
            // A bare count's evidence is its kref_init() line, not the function's first.
            let line = obj.core == "kref" ? (fn.calls.first { DriverCore.countInitializers.contains($0.callee) }?.line ?? fn.line) : fn.line
            evidence.append(Evidence(file: index.path(r.file), line: line, message: "\(fn.name) \(publishes ? "registers" : "initializes") \(obj.name).\(obj.coreField)"))
        }
        var waitKinds: [(Protection, Evidence)] = []
        obj.waitingUnregister = []
        for u in obj.unregister {
            var seen = Set<FunctionID>()
            let kinds = waits(in: u, resolver: resolver, seen: &seen)
            if kinds.contains(where: { $0.0.waitsForLastUser }) { obj.waitingUnregister.append(u) }
            waitKinds += kinds
        }
        // Prefer the core's own release; several candidates: the first non-empty one.
        let summariesOf = bindings.map { ($0, ReleaseAnalysis.summarize($0.function, resolver: resolver, summaries: summaries)) }
        let chosen = summariesOf.first(where: { !$0.1.isEmpty }) ?? summariesOf.first
        if let (b, s) = chosen {
            obj.release = s
            evidence.append(b.evidence)
            judgeRelease(s, of: &obj, waitKinds: waitKinds, driverSupplied: driverSupplied, evidence: &evidence, index: index)
        } else if driverSupplied || !driverReleases.isEmpty {
            obj.protection = .driverRelease
            obj.driverSuppliedRelease = true
            if let d = driverReleases.sorted(by: { ($0.evidence.file, $0.evidence.line) < ($1.evidence.file, $1.evidence.line) }).first {
                evidence.append(Evidence(file: d.evidence.file, line: d.evidence.line, message: "release is supplied by drivers, e.g. \(d.evidence.message)"))
            } else {
                evidence.append(Evidence(file: evidence.first?.file ?? "", line: evidence.first?.line ?? 0, message: "the register function takes the release callback from its caller"))
            }
        } else if let w = waitKinds.first(where: { $0.0.waitsForLastUser }) {
            obj.protection = w.0
            evidence.append(w.1)
        } else if let w = waitKinds.first(where: { $0.0 == .revocation }) {
            obj.protection = .revocation
            evidence.append(w.1)
        } else {
            obj.protection = .none
            evidence.append(Evidence(file: index.path(obj.aggregate.file), line: index.aggregate(obj.aggregate).line,
                                     message: "no release callback and no wait for users found for \(obj.name)"))
        }
        if obj.protection == .none, let w = waitKinds.first(where: { $0.0.waitsForLastUser }) {
            obj.protection = w.0
            evidence.append(w.1)
        }
        obj.evidence = evidence
    }

    /// Protection for an object type that is not a registered subsystem object (a driver's
    /// private struct registered directly): releases assigned by drivers, else none.
    public func protection(ofPrivate agg: AggregateID) -> (Protection, [Evidence], FunctionID?) {
        if let d = driverReleases[agg]?.sorted(by: { ($0.evidence.file, $0.evidence.line) < ($1.evidence.file, $1.evidence.line) }).first {
            return (.driverRelease, [d.evidence], d.function)
        }
        return (.none, [], nil)
    }

    /// The releases drivers set for objects of type `agg` in the files of directory `dir`,
    /// in file and line order.
    public func driverReleases(for agg: AggregateID, inDirectory dir: String) -> [ReleaseBinding] {
        (driverReleases[agg] ?? []).filter { TreeIndex.directory(of: $0.evidence.file) == dir }
            .sorted { ($0.evidence.file, $0.evidence.line) < ($1.evidence.file, $1.evidence.line) }
    }

    /// The driver's own release for an object of type `agg` set in `file`, if any.
    public func driverRelease(for agg: AggregateID, in file: String) -> ReleaseBinding? {
        driverReleases[agg]?.filter { $0.evidence.file == file }.sorted(by: { $0.evidence.line < $1.evidence.line }).first
    }

    /// Records that the core revokes provider state on unregister (found by `ProviderOps`):
    /// its objects' protection becomes `revocation`, with that evidence first.
    mutating func markRevocation(_ agg: AggregateID, evidence: [Evidence]) {
        guard var o = objects[agg], !evidence.isEmpty else { return }
        o.protection = .revocation
        o.evidence = evidence + o.evidence
        objects[agg] = o
    }
}
