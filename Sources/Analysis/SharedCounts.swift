import Facts
import Indexing

/// A bare reference count (`struct kref`) embedded in a struct: `dma_device.ref`.
public struct CountedMember: Hashable, Sendable {
    public var aggregate: AggregateID
    public var field: String
    public init(aggregate: AggregateID, field: String) { self.aggregate = aggregate; self.field = field }
}

/// Objects refcounted by a bare `struct kref` that a core publishes. The core initializes
/// the count, on every path, in a function it is given the object by
/// (`kref_init(&device->ref)` in `dma_async_device_register()`), and someone takes
/// references on that count (`kref_get_unless_zero(&chan->device->ref)`): the object then
/// lives until its last user drops one, through the release the core names in
/// `kref_put(&x->ref, release)`. A count that no one ever gets shares nothing (freeing its
/// container right after `kref_init()` is right), and a count initialized only under a
/// condition (`if (free_cb) kref_init(…)`) is not known to count anything for a given
/// object. None of this goes through the effect summaries: a bare count is no driver-core
/// object, and the checks built on those summaries keep their meaning.
extension Subsystems {
    /// What the tree says about bare counts: the shared members (with a get as evidence),
    /// the functions that initialize one inside an object they are given (with the path
    /// from that parameter), and which of those call `kref_init()` themselves.
    struct CountFacts: Sendable {
        var shared: [CountedMember: Evidence] = [:]
        var initializers: [FunctionID: Set<ParamEffect>] = [:]
        var seeds = Set<FunctionID>()
    }

    /// (The count inside a driver-core object, `kobject.kref`, is that object's business.)
    static func countFacts(index: TreeIndex, resolver: Resolver, closure: EmbeddingClosure) -> CountFacts {
        var facts = CountFacts()
        facts.shared = sharedCounts(index: index, resolver: resolver).filter { closure.cores[$0.key.aggregate] == nil }
        (facts.initializers, facts.seeds) = countInitializers(index: index, resolver: resolver, shared: facts.shared)
        return facts
    }

    /// The kref members on which some function of the tree takes a reference, each with
    /// the first such call (by path and line).
    static func sharedCounts(index: TreeIndex, resolver: Resolver) -> [CountedMember: Evidence] {
        var shared: [CountedMember: Evidence] = [:]
        for id in index.callers(ofAny: DriverCore.countGets).functions.sorted(by: { (index.path($0.file), $0.index) < (index.path($1.file), $1.index) }) {
            let view = FunctionView(id: id, resolver: resolver)
            for c in view.decl.calls where DriverCore.countGets.contains(c.callee) {
                guard let arg = view.exprs.arguments(c.node).first, let member = countedMember(arg, in: view), shared[member] == nil else { continue }
                shared[member] = Evidence(file: index.path(id.file), line: c.line, message: "\(view.decl.name) calls \(c.callee)()")
            }
        }
        return shared
    }

    /// The struct and member of `&x->m` (or `&x.m`).
    static func countedMember(_ node: Int32, in view: FunctionView) -> CountedMember? {
        guard view.isAddressOfMember(node), let agg = view.pointedAggregate(ofExpression: node) else { return nil }
        let e = view.exprs
        return CountedMember(aggregate: agg, field: e.text(e[e[e.strippingCasts(node)].a]))
    }

    /// Functions that call `kref_init(&p->…m)` on every path for a parameter `p` and a
    /// shared member (the seeds), and the functions that pass the object on to one of them
    /// (`dmaenginem_async_device_register()`, a driver's own `foo_register_dma()`), up to
    /// four calls deep: parameter and path to the count, per function.
    static func countInitializers(index: TreeIndex, resolver: Resolver,
                                  shared: [CountedMember: Evidence]) -> ([FunctionID: Set<ParamEffect>], Set<FunctionID>) {
        var effects: [FunctionID: Set<ParamEffect>] = [:]
        var seeds = Set<FunctionID>()
        for id in index.callers(ofAny: DriverCore.countInitializers).functions.sorted() {
            let view = FunctionView(id: id, resolver: resolver)
            for c in view.decl.calls where DriverCore.countInitializers.contains(c.callee) && !c.isConditional {
                guard let arg = view.exprs.arguments(c.node).first, let member = countedMember(arg, in: view), shared[member] != nil,
                      let p = view.accessPath(arg), case .parameter(let k) = p.root, !p.fields.isEmpty else { continue }
                effects[id, default: []].insert(ParamEffect(param: k, path: p.fields))
                seeds.insert(id)
            }
        }
        var work = seeds.sorted()
        for _ in 0..<4 where !work.isEmpty {
            var next = Set<FunctionID>()
            for g in work {
                let name = index.function(g).name
                for f in index.callers(of: name) where f != g {
                    let view = FunctionView(id: f, resolver: resolver)
                    for call in view.effectiveCalls() where call.callee == name && resolver.function(named: name, from: f.file) == g {
                        for e in (effects[g] ?? []).sorted() where e.param < call.args.count && call.args[e.param] >= 0 {
                            guard let p = view.accessPath(call.args[e.param]), case .parameter(let k) = p.root else { continue }
                            if effects[f, default: []].insert(ParamEffect(param: k, path: Summaries.normalize(p.fields + e.path))).inserted { next.insert(f) }
                        }
                    }
                }
            }
            work = next.sorted()
        }
        return (effects, seeds)
    }

    /// Adds the objects whose core is a shared count to `regs`: the count initializers
    /// given the object itself register it (the seeds are the core's base functions), and
    /// the exported functions of the seeds' directories given the object that wait for its
    /// users (`wait_for_completion(&rng->cleanup_done)`) unregister it.
    static func addCountRegistrations(into regs: inout Registrations, counts: CountFacts, index: TreeIndex, resolver: Resolver,
                                      closure: EmbeddingClosure) {
        // Per object: its count's member and the directories of the functions that
        // initialize it (another member of the same struct may be a device, registered
        // through the summaries).
        var seedDirectories: [AggregateID: (field: String, directories: Set<Substring>)] = [:]
        for (fid, effs) in counts.initializers.sorted(by: { $0.key < $1.key }) {
            let fn = index.function(fid)
            for e in effs.sorted() where e.path.count == 1 && e.param < fn.params.count {
                let pt = fn.params[e.param].type
                guard pt.pointerDepth == 1, let agg = resolver.aggregate(of: pt, from: fid.file), closure.cores[agg] == nil,
                      closure.coreKind(ofField: e.path[0], in: agg, resolver: resolver) == "kref" else { continue }
                regs.register[agg, default: []].append((fid, e.path[0]))
                if counts.seeds.contains(fid) {
                    regs.directLocal.insert(LocalRegistration(function: fid, object: agg))
                    seedDirectories[agg, default: (e.path[0], [])].directories.insert(TreeIndex.directory(of: index.path(fid.file)))
                }
            }
        }
        for (agg, (field, dirs)) in seedDirectories.sorted(by: { $0.key < $1.key }) {
            let registers = Set((regs.register[agg] ?? []).map(\.0))
            for fi in dirs.sorted().flatMap({ index.filesByDirectory[$0] ?? [] }).sorted() {
                // By index: a `FunctionDecl` is not copied just to test it.
                let functions = index.files[Int(fi)].functions
                for k in functions.indices where index.exported.contains(functions[k].name) {
                    let id = FunctionID(file: fi, index: Int32(k))
                    guard !registers.contains(id),
                          functions[k].params.contains(where: { $0.type.pointerDepth == 1 && resolver.aggregate(of: $0.type, from: fi) == agg }) else { continue }
                    if waitsForLastUser(id, resolver: resolver) {
                        regs.unregister[agg, default: []].append((id, field))
                    }
                }
            }
        }
    }

    /// For an object whose core is a kref: the releases the core names when it drops the
    /// count (`kref_put(&x->ref, release)` on the object's member, in the directories of
    /// its register functions).
    static func countReleaseBindings(_ obj: SubsystemObject, coreDirectories: Set<Substring>, resolver: Resolver) -> [ReleaseBinding] {
        guard obj.core == "kref" else { return [] }
        let index = resolver.index
        var out: [ReleaseBinding] = []
        for id in index.callers(ofAny: DriverCore.krefPuts).functions.sorted()
        where coreDirectories.contains(TreeIndex.directory(of: index.path(id.file))) {
            let view = FunctionView(id: id, resolver: resolver)
            for c in view.decl.calls {
                guard let (release, ref) = DriverCore.krefRelease(c, in: view.exprs),
                      countedMember(ref, in: view) == CountedMember(aggregate: obj.aggregate, field: obj.coreField),
                      let rf = resolver.function(named: release, from: id.file) else { continue }
                out.append(ReleaseBinding(function: rf, evidence: Evidence(file: index.path(id.file), line: c.line,
                    message: "\(view.decl.name) drops \(obj.name).\(obj.coreField) with \(c.callee)(…, \(release))")))
            }
        }
        return out
    }
}
