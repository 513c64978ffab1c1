import Facts
import Indexing

/// The synchronization a function performs, in line order: locks taken and released,
/// guards, read-side sections, grace-period and user waits.
struct SyncEvents {
    struct Lock { var identity: String; var line: Int32; var isGuard: Bool }
    var takes: [Lock] = []
    var releases: [Lock] = []
    var readSections: [Int32] = []
    var synchronizes: [Int32] = []
    var userWaits: [Int32] = []

    init(_ view: FunctionView) {
        let e = view.exprs
        for c in view.decl.calls {
            let n = e[c.node]
            let args = Array(e.arguments(c.node))
            if c.callee.isEmpty, e[n.a].kind == .call {
                // guard(kind)(&lock)
                let inner = e[n.a]
                guard e.text(at: inner.a) == "guard", let kind = e.list(of: inner).first else { continue }
                let k = e.render(kind)
                if k == "srcu" || k.hasPrefix("rcu") { readSections.append(c.line) }
                else if let a = args.first { takes.append(Lock(identity: SyncEvents.identity(view, a), line: c.line, isGuard: true)) }
                continue
            }
            let name = c.callee
            if KernelSync.lockTakes.contains(name), let a = args.first {
                takes.append(Lock(identity: SyncEvents.identity(view, a), line: c.line, isGuard: false))
            } else if KernelSync.lockReleases.contains(name), let a = args.first {
                releases.append(Lock(identity: SyncEvents.identity(view, a), line: c.line, isGuard: false))
            } else if KernelSync.guards.contains(name), args.count >= 2 {
                let k = e.render(args[0])
                if k == "srcu" || k.hasPrefix("rcu") { readSections.append(c.line) }
                else { takes.append(Lock(identity: SyncEvents.identity(view, args[1]), line: c.line, isGuard: true)) }
            } else if KernelSync.readSections.contains(name) || KernelSync.protectedReads.contains(name) {
                readSections.append(c.line)
            } else if KernelSync.synchronizes.contains(name) {
                synchronizes.append(c.line)
            } else if KernelSync.userWaits.contains(name) {
                userWaits.append(c.line)
            }
        }
    }

    /// A lock named by the struct and member holding it, or its global name:
    /// `&nvmem->lock` → `nvmem_device.lock`, `&gpio_lock` → `gpio_lock`.
    static func identity(_ view: FunctionView, _ node: Int32) -> String {
        let e = view.exprs
        var n = e.strippingCasts(node)
        if e[n].kind == .unary && e.text(e[n]) == "&" { n = e[n].a }
        let m = e[n]
        if m.kind == .member {
            var base = view.type(of: m.a).map { $0.0 }
            if m.b == 1 { base = base?.dereferenced }
            if let t = base, t.isAggregateTag || t.kind == .named { return t.name + "." + e.text(m) }
            return "?." + e.text(m)
        }
        if m.kind == .identifier { return e.text(m) }
        return e.render(n)
    }

    /// Locks held at `line`: taken before it and not released in between.
    func held(at line: Int32) -> Set<String> {
        var out = Set<String>()
        for t in takes where t.line <= line {
            if t.isGuard || !releases.contains(where: { $0.identity == t.identity && $0.line > t.line && $0.line <= line }) {
                out.insert(t.identity)
            }
        }
        return out
    }

    func inReadSection(at line: Int32) -> Bool { readSections.contains { $0 <= line } }
}

/// What the teardown functions of a group do to the provider's members.
struct TeardownFacts {
    var clearedMembers: Set<String> = []
    /// Flags of the object cleared (set to 0/false/NULL) under a lock.
    var clearedFlags: Set<String> = []
    /// Locks held while clearing.
    var clearLocks: Set<String> = []
    var synchronizes = false
    var waits = false
    /// Every lock the teardown takes (to delist the object, clear state, …).
    var locks: Set<String> = []
    /// The teardown unpublishes the object itself (device_del and friends), which drains
    /// its sysfs attributes before returning.
    var unpublishes = false
    /// A teardown asserts that no user is left (`WARN_ON(x->users)`).
    var assertsNoUsers: Evidence?
    var evidence: [Evidence] = []

    var revokes: Bool { !clearedMembers.isEmpty && (synchronizes || !clearLocks.isEmpty) || (!clearedFlags.isEmpty && !clearLocks.isEmpty) }
}

/// Scans the core's files (the register function's directory) for teardown facts and use sites.
struct CoreScan {
    let index: TreeIndex
    let resolver: Resolver
    let group: ProviderOps.Group
    let coreFiles: [Int32]
    let teardownFacts: TeardownFacts
    /// The first definition of each function name in the core's files, built once.
    let functionsByName: [String: FunctionID]
    /// Exported functions providers use as callbacks: not consumer entries.
    let providerHelpers: Set<String>

    /// The names providers call to register (the register functions and their exported
    /// wrappers).
    let registerEntries: Set<String>

    init(index: TreeIndex, resolver: Resolver, group: ProviderOps.Group, coreFiles: [Int32], providerHelpers: Set<String> = [],
         registerEntries: Set<String> = []) {
        self.index = index
        self.registerEntries = registerEntries
        self.providerHelpers = providerHelpers
        self.resolver = resolver
        self.group = group
        self.coreFiles = coreFiles
        let byName = KernelSync.functionsByName(coreFiles, index)
        functionsByName = byName
        teardownFacts = CoreScan.teardownFacts(group: group, index: index, resolver: resolver, byName: byName)
    }

    /// Teardown functions and the core functions they call (two levels).
    static func teardownClosure(_ group: ProviderOps.Group, index: TreeIndex, byName: [String: FunctionID]) -> [FunctionID] {
        var out = group.teardown
        var frontier = group.teardown
        for _ in 0..<2 {
            var next: [FunctionID] = []
            for fid in frontier {
                for c in index.function(fid).calls {
                    if let callee = byName[c.callee], callee != group.register, !out.contains(callee) { out.append(callee); next.append(callee) }
                }
            }
            frontier = next
        }
        return out
    }

    static func teardownFacts(group: ProviderOps.Group, index: TreeIndex, resolver: Resolver, byName: [String: FunctionID]) -> TeardownFacts {
        var facts = TeardownFacts()
        let members = Set(group.members)
        for fid in teardownClosure(group, index: index, byName: byName) {
            let view = FunctionView(id: fid, resolver: resolver)
            let e = view.exprs
            let sync = SyncEvents(view)
            let path = index.path(fid.file)
            for (lhs, rhs, line) in KernelSync.stores(in: view) {
                let l = e[lhs]
                guard l.kind == .member, e.isNullOrFalse(rhs), CoreScan.isObject(view, l.a, group.aggregate, resolver) else { continue }
                let name = e.text(l)
                let locks = sync.held(at: line)
                if members.contains(name) {
                    facts.clearedMembers.insert(name)
                    facts.clearLocks.formUnion(locks)
                    facts.evidence.append(Evidence(file: path, line: line, message: "\(view.decl.name)() clears \(e.render(lhs))"))
                } else if !locks.isEmpty, let (t, _) = view.type(of: lhs), t.pointerDepth == 0 {
                    // A flag is a scalar: a pointer of the object's own set to NULL under a
                    // lock (a lock's owner task) revokes nothing of the provider's.
                    facts.clearedFlags.insert(name)
                    facts.clearLocks.formUnion(locks)
                    facts.evidence.append(Evidence(file: path, line: line, message: "\(view.decl.name)() clears \(e.render(lhs)) under \(locks.sorted().joined(separator: ", "))"))
                }
            }
            if facts.assertsNoUsers == nil, let a = userCountAssertion(view, group.aggregate, resolver) {
                facts.assertsNoUsers = Evidence(file: path, line: a.line, message: "\(view.decl.name)() warns if \(a.text) is not zero when it runs")
            }
            facts.locks.formUnion(sync.takes.map(\.identity))
            if view.decl.calls.contains(where: { DriverCore.unpublishers.contains($0.callee) }) { facts.unpublishes = true }
            if let line = sync.synchronizes.first {
                facts.synchronizes = true
                facts.evidence.append(Evidence(file: path, line: line, message: "\(view.decl.name)() waits for readers (synchronize)"))
            }
            if let line = sync.userWaits.first {
                facts.waits = true
                facts.evidence.append(Evidence(file: path, line: line, message: "\(view.decl.name)() waits for the last user"))
            }
        }
        return facts
    }

    /// `WARN_ON(x->count)` with `x` the object and `count` a scalar of its own: the line and
    /// the text of the count.
    static func userCountAssertion(_ view: FunctionView, _ agg: AggregateID, _ resolver: Resolver) -> (line: Int32, text: String)? {
        let e = view.exprs
        for c in view.decl.calls where KernelSync.assertions.contains(c.callee) {
            guard let arg = e.arguments(c.node).first else { continue }
            let n = e[e.strippingCasts(arg)]
            guard n.kind == .member, n.b == 1, isObject(view, n.a, agg, resolver),
                  let (t, _) = view.type(of: arg), t.pointerDepth == 0 else { continue }
            return (c.line, e.render(arg))
        }
        return nil
    }

    /// Whether `base` (the left of `->`) points to the group's object type.
    static func isObject(_ view: FunctionView, _ base: Int32, _ agg: AggregateID, _ resolver: Resolver) -> Bool {
        guard let (t, f) = view.type(of: base), let d = t.dereferenced else { return false }
        return resolver.aggregate(of: d, from: f) == agg
    }
}
