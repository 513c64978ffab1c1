import Facts
import Indexing

/// Consumer handles that keep a bare pointer to a provider's own struct (the reset shape).
///
/// A core allocates a refcounted handle (a struct with a `kref` or a device inside) for each
/// consumer and stores in it a pointer to the struct a provider registered
/// (`h->ctrl = ctrl`, `ctrl` a parameter of the provider's struct type). That struct lives
/// in the provider's memory: the provider passes it to an exported register function of
/// the core, which files it in a list, IDR or xarray, and an exported unregister function
/// takes it out again. A consumer holding the handle reaches the provider's struct, and its
/// callbacks, through the member; unless unregister clears the handles' pointers under a
/// lock or SRCU (or waits for their users), the member dangles once the provider is unbound
/// and its memory is freed. The groups found here are judged like `ProviderOps`' own.
struct ProviderHandles {
    /// Calls that file an object in a registry (the kernel's list, IDR, xarray, tree API).
    static let registryInserts: Set<String> = [
        "list_add", "list_add_tail", "list_add_rcu", "list_add_tail_rcu", "hlist_add_head", "hlist_add_head_rcu",
        "idr_alloc", "idr_alloc_cyclic", "idr_alloc_u32", "xa_alloc", "xa_alloc_cyclic", "xa_store", "xa_insert", "rb_link_node",
    ]
    /// Calls that take it out again.
    static let registryRemovals: Set<String> = [
        "list_del", "list_del_init", "list_del_rcu", "hlist_del", "hlist_del_init", "hlist_del_rcu",
        "idr_remove", "xa_erase", "xa_release", "rb_erase",
    ]

    /// A pointer member of a refcounted handle to a provider struct that has callbacks.
    struct Candidate: Hashable {
        var handle: AggregateID
        var member: String
        var provider: AggregateID
    }

    /// A handle with its first binder, the provider struct and the binder's stores.
    typealias Bound = (handle: AggregateID, binder: FunctionID, provider: AggregateID, stores: [(String, Int32)])
    /// The handles found, and their binders' directories (each a unit of work for `groups(in:)`).
    let found: [Bound]
    let directories: [Substring]
    private let handlesIn: [Substring: [Int]]

    /// No handles.
    static let none = ProviderHandles(found: [], directories: [], handlesIn: [:])

    private init(found: [Bound], directories: [Substring], handlesIn: [Substring: [Int]]) {
        self.found = found; self.directories = directories; self.handlesIn = handlesIn
    }

    /// The handles whose core fills them from a parameter of a provider struct's type;
    /// `grouped` handles already have a group.
    init(index: TreeIndex, resolver: Resolver, closure: EmbeddingClosure, grouped: Set<AggregateID>) {
        let candidates = Self.candidates(index: index, resolver: resolver, closure: closure, grouped: grouped)
        // Binders: functions storing a parameter of the provider's type in a handle's member.
        var byMember: [String: [Candidate]] = [:]
        for c in candidates { byMember[c.member, default: []].append(c) }
        var stores: [AggregateID: [(FunctionID, String, Int32, AggregateID)]] = [:]
        for ref in byMember.isEmpty ? [] : index.assignments(toMembers: Set(byMember.keys)) {
            let fn = index.function(ref.function)
            let a = fn.assignments[Int(ref.assignment)]
            let e = fn.exprs
            let l = e[a.lhs]
            guard l.kind == .member, l.b == 1, let list = byMember[e.text(l)] else { continue }
            // `local->member = parameter`, tested on the spellings before any type is worked out.
            let base = e[e.strippingCasts(l.a)], value = e[e.strippingCasts(a.rhs)]
            guard base.kind == .identifier, value.kind == .identifier, fn.params.contains(where: { $0.name == e.text(value) }),
                  fn.locals.contains(where: { $0.name == e.text(base) }) else { continue }
            let view = FunctionView(id: ref.function, resolver: resolver)
            guard let (bt, bf) = view.type(of: l.a), let d = bt.dereferenced, let h = resolver.aggregate(of: d, from: bf),
                  let c = list.first(where: { $0.handle == h }) else { continue }
            guard let (param, direct) = ProviderOps.providerSource(view, e.strippingCasts(a.rhs)), direct,
                  param < fn.params.count, let pt = fn.params[param].type.dereferenced,
                  resolver.aggregate(of: pt, from: ref.function.file) == c.provider else { continue }
            stores[h, default: []].append((ref.function, c.member, a.line, c.provider))
        }
        found = stores.keys.sorted().compactMap { h -> Bound? in
            guard let list = stores[h]?.sorted(by: { ($0.0, $0.2) < ($1.0, $1.2) }), let first = list.first else { return nil }
            return (h, first.0, first.3, list.filter { $0.0 == first.0 }.map { ($0.1, $0.2) })
        }
        var byDirectory: [Substring: [Int]] = [:]
        for (k, f) in found.enumerated() { byDirectory[TreeIndex.directory(of: index.path(f.binder.file)), default: []].append(k) }
        handlesIn = byDirectory
        directories = byDirectory.keys.sorted()
    }

    /// The groups of the handles bound in directory `d` (its registry functions are worked
    /// out once), with the names providers call to register.
    func groups(in d: Int, index: TreeIndex, resolver: Resolver, providerHelpers: Set<String>) -> [(ProviderOps.Group, Set<String>)] {
        let registry = RegistryFunctions(directory: directories[d], index: index)
        return (handlesIn[directories[d]] ?? []).compactMap { k in
            let b = found[k]
            return Self.group(handle: b.handle, provider: b.provider, binder: b.binder, stores: b.stores, registry: registry,
                              index: index, resolver: resolver, providerHelpers: providerHelpers)
        }
    }

    /// Refcounted structs outside `grouped` with a pointer to a struct of callbacks (or to
    /// an ops table) that is itself not refcounted.
    static func candidates(index: TreeIndex, resolver: Resolver, closure: EmbeddingClosure, grouped: Set<AggregateID>) -> [Candidate] {
        var out: [Candidate] = []
        var callbacks: [AggregateID: Bool] = [:]
        for h in closure.embeddings.keys.sorted() where !grouped.contains(h) {
            let decl = index.aggregate(h)
            guard !decl.isUnion, !decl.isAnonymous else { continue }
            for f in decl.fields where f.type.pointerDepth == 1 && f.type.isAggregateTag && !f.type.isFunctionPointer {
                guard let target = f.type.dereferenced, let p = resolver.aggregate(of: target, from: h.file), p != h,
                      !closure.isRefcounted(p) else { continue }
                let has: Bool
                if let known = callbacks[p] { has = known } else { has = hasCallbacks(p, index: index, resolver: resolver); callbacks[p] = has }
                if has { out.append(Candidate(handle: h, member: f.name, provider: p)) }
            }
        }
        return out
    }

    /// A struct with a callback, or a pointer to an ops table (a struct mostly of callbacks).
    static func hasCallbacks(_ agg: AggregateID, index: TreeIndex, resolver: Resolver) -> Bool {
        for f in index.aggregate(agg).fields {
            let (t, tf) = resolver.expandTypedef(f.type, from: agg.file)
            if t.isFunctionPointer { return true }
            guard t.pointerDepth == 1, let d = t.dereferenced, let ops = resolver.aggregate(of: d, from: tf), ops != agg else { continue }
            if ProviderOps.isOpsTable(ops, resolver: resolver) { return true }
        }
        return false
    }

    /// The exported functions of a directory that file a struct in a registry or take it
    /// out (themselves or through a function of the directory they call). An error path may
    /// take the struct out again through a helper: only direct calls of the other kind
    /// disqualify.
    struct RegistryFunctions {
        var inserting: [FunctionID] = []
        var removing: [FunctionID] = []

        init(directory: Substring, index: TreeIndex) {
            let byName = KernelSync.functionsByName(index.filesByDirectory[directory] ?? [], index)
            func callsDirectly(_ id: FunctionID, _ names: Set<String>) -> Bool {
                index.function(id).calls.contains { names.contains($0.callee) }
            }
            func calls(_ id: FunctionID, _ names: Set<String>) -> Bool {
                callsDirectly(id, names) || index.function(id).calls.contains { c in byName[c.callee].map { callsDirectly($0, names) } ?? false }
            }
            for name in byName.keys.sorted() where index.exported.contains(name) {
                guard let id = byName[name], index.function(id).returnType.pointerDepth == 0 else { continue }
                if calls(id, registryInserts) && !callsDirectly(id, registryRemovals) {
                    inserting.append(id)
                } else if calls(id, registryRemovals) && !callsDirectly(id, registryInserts) {
                    removing.append(id)
                }
            }
        }
    }

    /// The handle's group: register and unregister are the registry functions of the
    /// binder's directory that take the provider's struct; providers call a register
    /// function from their own files.
    static func group(handle h: AggregateID, provider p: AggregateID, binder: FunctionID, stores: [(String, Int32)], registry: RegistryFunctions,
                      index: TreeIndex, resolver: Resolver, providerHelpers: Set<String>) -> (ProviderOps.Group, Set<String>)? {
        func takesProvider(_ id: FunctionID) -> Bool {
            id != binder && index.function(id).params.contains { param in
                param.type.pointerDepth == 1 && param.type.dereferenced.flatMap { resolver.aggregate(of: $0, from: id.file) } == p
            }
        }
        let unregisters = registry.removing.filter(takesProvider)
        guard !unregisters.isEmpty else { return nil }
        let registers = registry.inserting.filter { id in
            takesProvider(id) && index.callers(of: index.function(id).name).contains { $0.file != id.file }
        }
        guard !registers.isEmpty else { return nil }
        let (coreFiles, entryNames) = CoreDirectories(index: index).coreFiles(of: binder, registers: registers)
        let decl = index.aggregate(h)
        let g = ProviderOps.Group(aggregate: h, name: decl.name, members: Array(Set(stores.map(\.0))).sorted(), register: binder,
                                  assignments: stores, teardown: unregisters, revocation: [], revokes: false, clears: false, waits: false, uses: [])
        guard let judged = ProviderOps.judge(g, index: index, resolver: resolver, coreFiles: coreFiles, providerHelpers: providerHelpers,
                                             registerEntries: entryNames, excluding: Set(registers + unregisters + [binder])) else { return nil }
        return (judged, entryNames)
    }
}
