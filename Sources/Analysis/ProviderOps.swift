import Facts
import Indexing

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
        /// Unregister clears the members (or a flag) under SRCU or a lock, and users rely on it.
        public var revokes: Bool
        /// Unregister clears them, whether or not any user checks.
        public var clears: Bool
        public var waits: Bool
        public var uses: [UseSite]
        /// Unregister warns when a count of the object's users is not zero
        /// (`WARN_ON(rdev->open_count)`): consumers must be gone before it, by contract.
        public var assertsNoUsers: Evidence? = nil
        /// Locks unregister holds while it clears them, sorted (`gdev->sem`).
        public var clearLocks: [String] = []
        /// Unregister waits for readers after clearing (`synchronize_srcu()`).
        public var synchronizes = false
    }

    public let groups: [Group]

    /// Object types whose core revokes provider state on unregister, with the evidence.
    var revokingObjects: [AggregateID: [Evidence]] {
        var out: [AggregateID: [Evidence]] = [:]
        for g in groups where g.revokes { out[g.aggregate, default: []] += g.revocation }
        return out
    }

    /// `jobs` workers build the objects' groups side by side (each with its own resolver;
    /// `resolver` answers on one thread).
    public init(index: TreeIndex, resolver: Resolver, closure: EmbeddingClosure, subsystems: Subsystems, summaries: Summaries, jobs: Int = 1) {
        let aggregates = subsystems.objects.keys.sorted()
        // Two independent scans, side by side: exported functions that providers place in
        // their ops tables are provider-side helpers (`regulator_enable_regmap`), not consumer
        // entries; and consumer handles pointing to a provider's registered struct
        // (`ProviderHandles`), each directory of their binders one more unit of work below.
        let scans = parallelMap(count: 2, jobs: jobs, makeState: { () }) { k, _ -> Prelude in
            k == 0 ? .helpers(ProviderOps.providerHelpers(index))
                : .handles(ProviderHandles(index: index, resolver: Resolver(index: index), closure: closure, grouped: Set(aggregates)))
        }
        var providerHelpers = Set<String>()
        var handles = ProviderHandles.none
        for scan in scans {
            switch scan {
            case .helpers(let names): providerHelpers = names
            case .handles(let h): handles = h
            }
        }
        let handleGroups = handles, helpers = providerHelpers
        let work: @Sendable (Int, Resolver) -> [(Group, Set<String>)] = { k, worker in
            if k < aggregates.count {
                return ProviderOps.group(of: aggregates[k], index: index, resolver: worker, closure: closure, subsystems: subsystems,
                                         summaries: summaries, providerHelpers: helpers).map { [$0] } ?? []
            }
            return handleGroups.groups(in: k - aggregates.count, index: index, resolver: worker, providerHelpers: helpers)
        }
        let count = aggregates.count + handles.directories.count
        let built: [[(Group, Set<String>)]] = jobs > 1
            ? parallelMap(count: count, jobs: jobs, makeState: { Resolver(index: index) }, work)
            : (0..<count).map { work($0, resolver) }
        var groups = built.flatMap { $0.map(\.0) }
        TeardownRanking.rank(&groups, registerEntries: built.flatMap { $0.map(\.1) }, index: index)
        self.groups = groups
    }

    /// What `init` works out before the groups.
    private enum Prelude: Sendable {
        case helpers(Set<String>)
        case handles(ProviderHandles)
    }

    /// Exported functions that some static initializer of the tree names.
    static func providerHelpers(_ index: TreeIndex) -> Set<String> {
        var out = Set<String>()
        for fi in index.files.indices {
            for gi in index.files[fi].globals.indices {
                for d in index.files[fi].globals[gi].designated where index.exported.contains(d.value) { out.insert(d.value) }
            }
        }
        return out
    }

    /// The group of the registered object `agg` and the names providers call to register
    /// it; nil when no provider-facing register function fills it or its core hands out no
    /// references.
    static func group(of agg: AggregateID, index: TreeIndex, resolver: Resolver, closure: EmbeddingClosure, subsystems: Subsystems,
                      summaries: Summaries, providerHelpers: Set<String>) -> (Group, Set<String>)? {
        guard let object = subsystems.objects[agg] else { return nil }
        // Provider-facing register functions: exported, and filling the object they allocate.
        let registers = Set(object.register + (subsystems.allocatorFunctions[agg] ?? []))
            .filter { index.exported.contains(index.function($0).name) }.sorted()
        var filled: [(String, Int32)] = []
        var register: FunctionID?
        for r in registers {
            let found = ProviderOps.providerMembers(FunctionView(id: r, resolver: resolver), object: agg, resolver: resolver, closure: closure)
            if !found.isEmpty { filled += found; register = register ?? r }
        }
        guard let r = register else { return nil }
        let members = Array(Set(filled.map(\.0))).sorted()
        let (coreFiles, entryNames) = CoreDirectories(index: index).coreFiles(of: r, registers: registers)
        let teardown = ProviderOps.teardowns(object: object, register: r, index: index, resolver: resolver, summaries: summaries, coreFiles: coreFiles)
        let g = Group(aggregate: agg, name: object.name, members: members, register: r, assignments: filled,
                      teardown: teardown, revocation: [], revokes: false, clears: false, waits: false, uses: [])
        guard let judged = judge(g, index: index, resolver: resolver, coreFiles: coreFiles, providerHelpers: providerHelpers,
                                 registerEntries: entryNames, excluding: Set(registers + teardown)) else { return nil }
        return (judged, entryNames)
    }

    /// The group with its use sites and its teardown's protection; nil when the core hands
    /// out no counted reference to the object outside `excluding` (consumers that only get
    /// it by being bound to it are unbound by unregister).
    static func judge(_ group: Group, index: TreeIndex, resolver: Resolver, coreFiles: [Int32], providerHelpers: Set<String>,
                      registerEntries: Set<String>, excluding: Set<FunctionID>) -> Group? {
        var g = group
        let core = CoreScan(index: index, resolver: resolver, group: g, coreFiles: coreFiles, providerHelpers: providerHelpers,
                            registerEntries: registerEntries)
        guard core.handsOutReferences(excluding: excluding) else { return nil }
        g.uses = core.useSites()
        g.revocation = core.teardownFacts.evidence
        g.waits = core.teardownFacts.waits
        g.clears = core.teardownFacts.revokes
        g.assertsNoUsers = core.teardownFacts.assertsNoUsers
        g.clearLocks = core.teardownFacts.clearLocks.sorted()
        g.synchronizes = core.teardownFacts.synchronizes
        // A core revokes when unregister clears under SRCU or a lock and its users rely on it.
        // (Uses protected only because their caller holds a teardown lock do not make
        // the core a revoking one: that lock delists the object, it does not revoke.)
        g.revokes = core.teardownFacts.revokes && g.uses.contains { ["srcu", "lock", "flag"].contains($0.protection ?? "") }
        return g
    }

    /// `obj->m = provider value` in a register function: `obj` a local of the object's type,
    /// the value a parameter or a member of one, the member a callback, an ops table, a
    /// `void *` or a pointer to the parameter's own struct.
    static func providerMembers(_ view: FunctionView, object: AggregateID, resolver: Resolver, closure: EmbeddingClosure) -> [(String, Int32)] {
        let e = view.exprs
        var out: [(String, Int32)] = []
        for (lhs, rhs, line) in KernelSync.stores(in: view) {
            let l = e[lhs]
            guard l.kind == .member, l.b == 1 else { continue }
            let base = e[e.strippingCasts(l.a)]
            guard base.kind == .identifier, view.decl.locals.contains(where: { $0.name == e.text(base) }) else { continue }
            guard let (bt, bf) = view.type(of: l.a), let d = bt.dereferenced, resolver.aggregate(of: d, from: bf) == object else { continue }
            let member = e.text(l)
            guard let (ft, ff) = view.field(named: member, in: object) else { continue }
            let value = e.strippingCasts(rhs)
            guard let source = providerSource(view, value) else { continue }
            if isProviderOwned(field: ft, fieldFile: ff, source: source, view: view, resolver: resolver, closure: closure) {
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

    static func isProviderOwned(field: TypeRef, fieldFile: Int32, source: (param: Int, direct: Bool), view: FunctionView,
                                resolver: Resolver, closure: EmbeddingClosure) -> Bool {
        let (type, typeFile) = resolver.expandTypedef(field, from: fieldFile)
        if type.isFunctionPointer { return true }
        guard type.pointerDepth >= 1 else { return false }
        if type.kind == .builtin && type.name == "void" && type.pointerDepth == 1 { return true }
        // A refcounted target (a parent device, a module) has a lifetime of its own.
        guard let target = type.dereferenced, let agg = resolver.aggregate(of: target, from: typeFile),
              !closure.isRefcounted(agg) else { return false }
        if source.direct, source.param < view.decl.params.count {
            // `gdev->chip = gc`: the provider's own struct.
            let pt = view.decl.params[source.param].type
            if let pd = pt.dereferenced, resolver.aggregate(of: pd, from: view.file) == agg { return true }
        }
        return isOpsTable(agg, resolver: resolver)
    }

    /// An ops table: a struct made mostly (two thirds or more) of callbacks; the rest are
    /// sizes, flags and attribute groups (`fpga_manager_ops`: 8 of 11).
    static func isOpsTable(_ agg: AggregateID, resolver: Resolver) -> Bool {
        let fields = resolver.index.aggregate(agg).fields
        let callbacks = fields.filter { resolver.expandTypedef($0.type, from: agg.file).0.isFunctionPointer }.count
        return fields.count >= 1 && callbacks * 3 >= fields.count * 2
    }

    /// Unregister functions of the object, and exported core functions that reach one (the
    /// provider-facing teardown, e.g. one taking the provider's struct), most outward first:
    /// exported before static, callers before callees.
    static func teardowns(object: SubsystemObject, register: FunctionID, index: TreeIndex, resolver: Resolver, summaries: Summaries, coreFiles: [Int32]) -> [FunctionID] {
        let byName = KernelSync.functionsByName(coreFiles, index)
        // A function that registers the object is not its teardown, even when its error
        // path tears it down again (`tpm_chip_register()`).
        let registering = Set(object.register + [register])
        var targets = Set(object.unregister.filter { !registering.contains($0) }.map { index.function($0).name })
        if targets.isEmpty {
            for (name, id) in byName where !registering.contains(id) && index.exported.contains(name) && !(summaries.tearsDown[id]?.isEmpty ?? true) { targets.insert(name) }
        }
        var reaching = targets
        for _ in 0..<3 {
            for (name, id) in byName where !reaching.contains(name) && !registering.contains(id) {
                // Also a call through a function-like macro (`gcdev_unregister(gdev)` for
                // `gpiolib_cdev_unregister(gdev)`).
                if index.function(id).calls.contains(where: { c in
                    reaching.contains(c.callee) || resolver.macroExpansion(of: c.callee, from: id.file).map { reaching.contains($0.callee) } == true
                }) {
                    reaching.insert(name)
                }
            }
        }
        let candidates = reaching.filter { targets.contains($0) || index.exported.contains($0) }
        let ids = candidates.sorted().compactMap { name in byName[name] ?? object.unregister.first { index.function($0).name == name } }
        let called = Set(ids.flatMap { index.function($0).calls.map(\.callee) })
        return ids.sorted { a, b in
            let fa = index.function(a), fb = index.function(b)
            let ka = (index.exported.contains(fa.name) ? 0 : 1, called.contains(fa.name) ? 1 : 0, fa.name)
            let kb = (index.exported.contains(fb.name) ? 0 : 1, called.contains(fb.name) ? 1 : 0, fb.name)
            return ka < kb
        }
    }
}

/// The files of each core: the register function's directory, less the providers in it
/// (files that call the register function or an exported wrapper of it).
struct CoreDirectories {
    let index: TreeIndex

    init(index: TreeIndex) {
        self.index = index
    }

    /// The core's files, and the names providers call to register (the register functions
    /// and their exported wrappers).
    func coreFiles(of register: FunctionID, registers: [FunctionID]) -> ([Int32], Set<String>) {
        let files = index.filesByDirectory[TreeIndex.directory(of: index.path(register.file))] ?? []
        let owners = Set(registers.map(\.file))
        var entryNames = Set(registers.map { index.function($0).name })
        // Exported wrappers in the directory (`devm_foo_register`), two levels deep.
        for _ in 0..<2 {
            for f in files {
                // By index: a `FunctionDecl` is not copied just to test it.
                let functions = index.files[Int(f)].functions
                for k in functions.indices where index.exported.contains(functions[k].name)
                    && functions[k].calls.contains(where: { entryNames.contains($0.callee) }) {
                    entryNames.insert(functions[k].name)
                }
            }
        }
        let wrapperFiles = Set(files.filter { f in index.files[Int(f)].functions.contains { entryNames.contains($0.name) } })
        let core = files.filter { f in
            owners.contains(f) || wrapperFiles.contains(f) || !index.files[Int(f)].functions.contains { fn in fn.calls.contains { entryNames.contains($0.callee) } }
        }
        return (core, entryNames)
    }
}

/// Orders each group's teardown functions by how often the tree pairs them with the register
/// function: a function that registers (calls a register entry) and also calls the
/// teardown, or passes a core callback that calls it (`devm_add_action(dev, unreg, obj)`),
/// votes for it. The provider-facing unregister wins over consumer puts.
enum TeardownRanking {
    static func rank(_ groups: inout [ProviderOps.Group], registerEntries: [Set<String>], index: TreeIndex) {
        var groupsByEntry: [String: [Int]] = [:]
        for (k, names) in registerEntries.enumerated() { for n in names { groupsByEntry[n, default: []].append(k) } }
        // Function-like macros that call an entry register through it too (`gpiochip_add_data`).
        for fi in index.files.indices {
            // By field: the file's facts are not copied.
            for m in index.files[fi].macros {
                guard let callee = m.calledName else { continue }
                if let ks = groupsByEntry[callee], m.name != callee { groupsByEntry[m.name, default: []] += ks }
            }
        }
        // Core callbacks that call a teardown: callback name → teardown name, per group.
        var callbacks: [[String: String]] = Array(repeating: [:], count: groups.count)
        for (k, g) in groups.enumerated() {
            let names = Set(g.teardown.map { index.function($0).name })
            for f in Set(g.teardown.map(\.file)).sorted() {
                for fn in index.files[Int(f)].functions {
                    if let t = fn.calls.first(where: { names.contains($0.callee) }) { callbacks[k][fn.name] = t.callee }
                }
            }
        }
        var votes: [[String: Int]] = Array(repeating: [:], count: groups.count)
        // Only files with a function that calls an entry vote (found by the callers index),
        // once per group: a driver that registers in its probe and unregisters in its remove
        // pairs the two as much as a probe that unwinds itself.
        var hitByFile: [Int32: Set<Int>] = [:]
        for id in index.callers(ofAny: groupsByEntry.keys).functions {
            for c in index.function(id).calls { if let ks = groupsByEntry[c.callee] { hitByFile[id.file, default: []].formUnion(ks) } }
        }
        for (file, hit) in hitByFile.sorted(by: { $0.key < $1.key }) {
            let functions = index.files[Int(file)].functions
            let callees = Set(functions.flatMap { $0.calls.map(\.callee) })
            // The file's identifiers, only when a group has a callback to look for.
            let idents = hit.contains(where: { !callbacks[$0].isEmpty })
                ? Set(functions.flatMap { fn in fn.exprs.nodes.filter { $0.kind == .identifier }.map { fn.exprs.text($0) } }) : []
            for k in hit {
                var voted = Set<String>()
                for t in groups[k].teardown.map({ index.function($0).name }) where callees.contains(t) { voted.insert(t) }
                for (cb, t) in callbacks[k] where idents.contains(cb) || callees.contains(cb) { voted.insert(t) }
                for t in voted { votes[k][t, default: 0] += 1 }
            }
        }
        for k in groups.indices {
            let v = votes[k]
            let order = Dictionary(uniqueKeysWithValues: groups[k].teardown.enumerated().map { ($1, $0) })
            groups[k].teardown.sort { a, b in
                let va = v[index.function(a).name] ?? 0, vb = v[index.function(b).name] ?? 0
                return va != vb ? va > vb : (order[a] ?? 0) < (order[b] ?? 0)
            }
        }
    }
}

/// The kernel's own synchronization vocabulary (locking, RCU/SRCU, module references): the
/// patterns a core uses to revoke provider state. Not subsystem knowledge.
enum KernelSync {
    /// Every store of a function as (lhs, rhs, line): assignments, and publishing calls
    /// such as `rcu_assign_pointer(lhs, rhs)`.
    static func stores(in view: FunctionView) -> [(Int32, Int32, Int32)] {
        var out: [(Int32, Int32, Int32)] = view.decl.assignments.map { ($0.lhs, $0.rhs, $0.line) }
        for c in view.decl.calls where publishStores.contains(c.callee) {
            let args = Array(view.exprs.arguments(c.node))
            if args.count >= 2 { out.append((args[0], args[1], c.line)) }
        }
        return out
    }

    /// The first definition of each function name in `files`.
    static func functionsByName(_ files: [Int32], _ index: TreeIndex) -> [String: FunctionID] {
        var out: [String: FunctionID] = [:]
        for f in files {
            // By index: a `FunctionDecl` is not copied just to read its name.
            let functions = index.files[Int(f)].functions
            for k in functions.indices where out[functions[k].name] == nil { out[functions[k].name] = FunctionID(file: f, index: Int32(k)) }
        }
        return out
    }

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
    /// Run-time assertions (`WARN_ON(x->users)` in an unregister: users must be gone).
    static let assertions: Set<String> = ["WARN_ON", "WARN_ON_ONCE", "BUG_ON"]
}
