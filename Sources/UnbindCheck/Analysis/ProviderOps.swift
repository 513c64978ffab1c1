/// Provider-owned state of core-allocated refcounted objects, where the core uses it on
/// paths consumers reach, and whether unregister revokes it (the nvmem shape of seed 002).
///
/// A core's register function allocates its object (which embeds a `struct device` or
/// `kref`, so consumers can hold it past unbind) and copies the provider's callbacks, ops
/// table, private data or own struct into it (`nvmem->reg_read = config->reg_read`,
/// `gdev->chip = gc`). Each later read of such a member by a core function that a consumer
/// entry reaches (an exported function, or a callback placed in a static initializer: file
/// operations, sysfs attributes) is a use site, judged by the code's own patterns:
/// an SRCU/RCU read side with a NULL check while unregister clears and synchronizes; a lock
/// that unregister also takes while it clears the member or a flag, re-checked under it;
/// or an unregister that waits for its users.
public struct ProviderOps: Sendable {
    /// One read of a provider-owned member by the core.
    public struct UseSite: Sendable, Hashable {
        public var function: FunctionID
        public var functionName: String
        public var file: String
        public var line: Int32
        public var column: Int32
        public var member: String
        /// The consumer-facing function that reaches it (may be the function itself).
        public var entry: String
        /// Call path from `entry` down to `functionName`.
        public var path: [String]
        /// nil when unprotected; otherwise how (`srcu`, `lock`, `flag`, `wait`).
        public var protection: String?
        /// Why an unprotected use is unprotected.
        public var reason: String
    }

    /// Provider-owned members of one object type, as one register function fills them.
    public struct Group: Sendable {
        public var aggregate: AggregateID
        public var name: String
        public var members: [String]
        public var register: FunctionID
        /// (member, line) of each assignment in the register function.
        public var assignments: [(String, Int32)]
        public var teardown: [FunctionID]
        /// Evidence that teardown revokes (clears + synchronizes) or waits.
        public var revocation: [Evidence]
        public var revokes: Bool
        public var waits: Bool
        public var uses: [UseSite]
    }

    public let groups: [Group]

    /// Object types whose core revokes provider state on unregister, with the evidence.
    public var revokingObjects: [AggregateID: [Evidence]] {
        var out: [AggregateID: [Evidence]] = [:]
        for g in groups where g.revokes { out[g.aggregate, default: []] += g.revocation }
        return out
    }

    public init(index: TreeIndex, resolver: Resolver, closure: EmbeddingClosure, subsystems: Subsystems, summaries: Summaries) {
        var groups: [Group] = []
        for agg in subsystems.objects.keys.sorted() {
            guard let object = subsystems.objects[agg], closure.cores[agg] != nil || object.core == "device" else { continue }
            let registers = Set(object.register + (subsystems.allocatorFunctions[agg] ?? []))
            for r in registers.sorted() {
                let view = FunctionView(id: r, resolver: resolver)
                let filled = ProviderOps.providerMembers(view, object: agg, resolver: resolver)
                guard !filled.isEmpty else { continue }
                let members = Array(Set(filled.map(\.0))).sorted()
                let teardown = ProviderOps.teardowns(object: object, register: r, index: index, summaries: summaries)
                var g = Group(aggregate: agg, name: object.name, members: members, register: r, assignments: filled,
                              teardown: teardown, revocation: [], revokes: false, waits: false, uses: [])
                let core = CoreScan(index: index, resolver: resolver, group: g)
                g.revocation = core.teardownFacts.evidence
                g.revokes = core.teardownFacts.revokes
                g.waits = core.teardownFacts.waits
                g.uses = core.useSites()
                groups.append(g)
            }
        }
        self.groups = groups
    }

    /// `obj->m = provider value` in a register function: `obj` a local of the object's type,
    /// the value a parameter or a member of one, the member a callback, an ops table, a
    /// `void *` or a pointer to the parameter's own struct.
    static func providerMembers(_ view: FunctionView, object: AggregateID, resolver: Resolver) -> [(String, Int32)] {
        let e = view.exprs
        var out: [(String, Int32)] = []
        var pairs: [(Int32, Int32, Int32)] = view.decl.assignments.map { ($0.lhs, $0.rhs, $0.line) }
        for c in view.decl.calls where KernelSync.publishStores.contains(c.callee) {
            let args = Array(e.arguments(c.node))
            if args.count >= 2 { pairs.append((args[0], args[1], c.line)) }
        }
        for (lhs, rhs, line) in pairs {
            let l = e[lhs]
            guard l.kind == .member, l.b == 1 else { continue }
            let base = e[e.strippingCasts(l.a)]
            guard base.kind == .identifier, view.decl.locals.contains(where: { $0.name == e.text(base) }) else { continue }
            guard let (bt, bf) = view.type(of: l.a), let d = bt.dereferenced, resolver.aggregate(of: d, from: bf) == object else { continue }
            let member = e.text(l)
            guard let (ft, ff) = view.field(named: member, in: object) else { continue }
            let value = e.strippingCasts(rhs)
            guard let source = providerSource(view, value) else { continue }
            if isProviderOwned(field: ft, fieldFile: ff, source: source, view: view, resolver: resolver) {
                out.append((member, line))
            }
        }
        return out
    }

    /// The parameter a value comes from: `p` or `p->a.b`; nil for anything else.
    static func providerSource(_ view: FunctionView, _ node: Int32) -> (param: Int, direct: Bool)? {
        guard let path = view.memberPath(node, expandAliases: false), case .parameter(let i) = path.root else { return nil }
        return (i, path.fields.isEmpty)
    }

    static func isProviderOwned(field: TypeRef, fieldFile: Int32, source: (param: Int, direct: Bool), view: FunctionView, resolver: Resolver) -> Bool {
        if field.isFunctionPointer { return true }
        guard field.pointerDepth >= 1 else { return false }
        if field.kind == .builtin && field.name == "void" && field.pointerDepth == 1 { return true }
        guard let target = field.dereferenced, let agg = resolver.aggregate(of: target, from: fieldFile) else { return false }
        if source.direct, source.param < view.decl.params.count {
            // `gdev->chip = gc`: the provider's own struct.
            let pt = view.decl.params[source.param].type
            if let pd = pt.dereferenced, resolver.aggregate(of: pd, from: view.file) == agg { return true }
        }
        // An ops table: a struct made (mostly) of callbacks.
        let fields = resolver.index.aggregate(agg).fields
        let callbacks = fields.filter(\.type.isFunctionPointer).count
        return fields.count >= 1 && callbacks * 4 >= fields.count * 3
    }

    /// Unregister functions of the object, else exported functions of the register
    /// function's file that tear down a parameter.
    static func teardowns(object: SubsystemObject, register: FunctionID, index: TreeIndex, summaries: Summaries) -> [FunctionID] {
        let own = object.unregister.filter { $0 != register }
        if !own.isEmpty { return own.sorted() }
        let file = index.files[Int(register.file)]
        var out: [FunctionID] = []
        for (k, fn) in file.functions.enumerated() where index.exported.contains(fn.name) {
            let id = FunctionID(file: register.file, index: Int32(k))
            if id != register, !(summaries.tearsDown[id]?.isEmpty ?? true) { out.append(id) }
        }
        return out
    }
}

/// The kernel's own synchronization vocabulary (locking, RCU/SRCU, module references): the
/// patterns a core uses to revoke provider state. Not subsystem knowledge.
enum KernelSync {
    /// `rcu_assign_pointer(p, v)` and friends store `v` into `p`.
    static let publishStores: Set<String> = ["rcu_assign_pointer", "WRITE_ONCE", "RCU_INIT_POINTER", "smp_store_release"]
    /// Reads that return their first argument under a read-side section.
    static let protectedReads: Set<String> = ["srcu_dereference", "srcu_dereference_check", "rcu_dereference", "rcu_dereference_check",
                                              "rcu_dereference_protected", "rcu_dereference_raw", "srcu_dereference_notrace"]
    /// Reads that only look at the pointer value.
    static let plainReads: Set<String> = ["READ_ONCE", "rcu_access_pointer", "smp_load_acquire"]
    /// Read-side section entries.
    static let readSections: Set<String> = ["srcu_read_lock", "srcu_read_lock_fast", "rcu_read_lock", "srcu_read_lock_nmisafe", "rcu_read_lock_bh", "rcu_read_lock_sched"]
    /// Lock acquisitions and their releases; the first argument names the lock.
    static let lockTakes: Set<String> = [
        "mutex_lock", "mutex_lock_interruptible", "mutex_lock_killable", "mutex_lock_nested", "mutex_trylock",
        "spin_lock", "spin_lock_irq", "spin_lock_irqsave", "spin_lock_bh", "raw_spin_lock", "raw_spin_lock_irqsave", "raw_spin_lock_irq",
        "down_read", "down_write", "down_read_interruptible", "down_write_killable", "down_read_killable", "down_read_trylock", "down_write_trylock",
        "read_lock", "write_lock", "read_lock_irqsave", "write_lock_irqsave", "read_lock_irq", "write_lock_irq", "down",
    ]
    static let lockReleases: Set<String> = [
        "mutex_unlock", "spin_unlock", "spin_unlock_irq", "spin_unlock_irqrestore", "spin_unlock_bh", "raw_spin_unlock",
        "raw_spin_unlock_irqrestore", "raw_spin_unlock_irq", "up_read", "up_write", "read_unlock", "write_unlock",
        "read_unlock_irqrestore", "write_unlock_irqrestore", "read_unlock_irq", "write_unlock_irq", "up",
    ]
    /// `guard(kind)(&lock)` and `scoped_guard(kind, &lock)`: held to the end of the scope.
    static let guards: Set<String> = ["guard", "scoped_guard", "scoped_cond_guard"]
    /// Grace-period waits after clearing a pointer.
    static let synchronizes = DriverCore.revocationWaits
    /// Waits for the last user.
    static let userWaits = DriverCore.completionWaits.union(DriverCore.waitEvents)
}
