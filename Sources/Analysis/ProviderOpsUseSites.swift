import Facts
import Indexing

/// Use sites of provider-owned members in the core's functions, and how each is protected.
extension CoreScan {
    /// One read of a member: where it was read, where the value was used, through what.
    struct Read {
        var member: String
        var readLine: Int32
        var useLine: Int32
        var column: Int32
        /// The local the value went through (`gc = gdev->chip; gc->get(…)`).
        var alias: String?
        /// Read with `srcu_dereference()` and friends.
        var viaProtectedRead: Bool
    }

    func useSites() -> [ProviderOps.UseSite] {
        let members = Set(group.members)
        let skip = Set([group.register] + group.teardown)
        let exported = consumerEntries()
        let entries = exported.subtracting(contractKept(entries: exported, registerEntries: registerEntries))
        let providerOwn = providerCallbacks()
        let callers = callerMap()
        let byName = functionsByName
        var out: [ProviderOps.UseSite] = []
        for f in coreFiles {
            for (k, fn) in index.files[Int(f)].functions.enumerated() {
                let fid = FunctionID(file: f, index: Int32(k))
                guard !skip.contains(fid), !providerOwn.contains(fn.name), mentions(fn, members) else { continue }
                let view = FunctionView(id: fid, resolver: resolver)
                let (reads, aliases) = self.reads(view, members)
                guard !reads.isEmpty, let (entry, path) = entryPath(fid, entries: entries, callers: callers) else { continue }
                let sync = SyncEvents(view)
                let pathLocks = callerLocks(path, byName: byName)
                var seen = Set<String>()
                for r in reads where seen.insert("\(r.member)@\(r.useLine)").inserted {
                    var (protection, reason) = judge(r, view, sync, aliases: aliases)
                    if protection == nil, let lock = pathLocks.intersection(teardownFacts.locks).sorted().first {
                        // Reached only under a lock that unregister takes to delist or tear down.
                        (protection, reason) = ("caller-lock", "reached under \(lock), which unregister also takes")
                    }
                    out.append(ProviderOps.UseSite(function: fid, functionName: fn.name, file: index.path(f), line: r.useLine, column: r.column,
                                                   member: r.member, entry: entry, path: path, protection: protection, reason: reason))
                }
            }
        }
        return out.sorted { ($0.file, $0.line, $0.member) < ($1.file, $1.line, $1.member) }
    }

    private func mentions(_ fn: FunctionDecl, _ members: Set<String>) -> Bool {
        let e = fn.exprs
        return e.nodes.contains { $0.kind == .member && members.contains(e.text($0)) }
    }

    /// Every read of a member that the function then calls, dereferences or passes on.
    func reads(_ view: FunctionView, _ members: Set<String>) -> ([Read], Set<String>) {
        let e = view.exprs
        var aliases: [String: Read] = [:]
        for a in view.decl.assignments {
            let l = e[a.lhs]
            guard l.kind == .identifier, view.decl.locals.contains(where: { $0.name == e.text(l) }) else { continue }
            var rhs = e.strippingCasts(a.rhs)
            var protected = false
            let rn = e[rhs]
            if rn.kind == .call, let first = e.list(of: rn).first {
                let name = e.text(at: rn.a)
                guard KernelSync.protectedReads.contains(name) || KernelSync.plainReads.contains(name) else { continue }
                protected = KernelSync.protectedReads.contains(name)
                rhs = e.strippingCasts(first)
            }
            if let m = providerMember(view, rhs, members) {
                aliases[e.text(l)] = Read(member: m, readLine: a.line, useLine: a.line, column: a.column, alias: e.text(l), viaProtectedRead: protected)
            }
        }
        var out: [Read] = []
        func use(_ node: Int32, line: Int32, column: Int32, depth: Int) {
            guard depth < 10, node >= 0 else { return }
            let n = e[e.strippingCasts(node)]
            if let m = providerMember(view, e.strippingCasts(node), members) {
                out.append(Read(member: m, readLine: line, useLine: line, column: column, alias: nil, viaProtectedRead: false))
                return
            }
            if n.kind == .identifier, let a = aliases[e.text(n)] {
                var r = a
                r.useLine = line; r.column = column
                if line >= a.readLine { out.append(r) }
                return
            }
            switch n.kind {
            case .member, .unary, .postfix, .cast, .sizeofExpr:
                if n.kind != .sizeofExpr { use(n.a, line: line, column: column, depth: depth + 1) }
            case .index, .binary, .assign:
                use(n.a, line: line, column: column, depth: depth + 1)
                use(n.b, line: line, column: column, depth: depth + 1)
            case .conditional:
                use(n.b, line: line, column: column, depth: depth + 1)
                use(n.c, line: line, column: column, depth: depth + 1)
            default:
                break
            }
        }
        for c in view.decl.calls {
            let n = e[c.node]
            let name = c.callee
            if KernelSync.protectedReads.contains(name) || KernelSync.plainReads.contains(name) || KernelSync.publishStores.contains(name) { continue }
            if KernelSync.lockTakes.contains(name) || KernelSync.lockReleases.contains(name) { continue }
            // Calls through the member, through a local holding it, or through something reached from it.
            let callee = e[e.strippingCasts(n.a)]
            if callee.kind == .member || (callee.kind == .identifier && aliases[e.text(callee)] != nil) {
                use(n.a, line: c.line, column: c.column, depth: 0)
            }
            for a in e.list(of: n) { use(a, line: c.line, column: c.column, depth: 0) }
        }
        for a in view.decl.assignments where e[e.strippingCasts(a.rhs)].kind != .call {
            // `x = gc->ngpio`: a dereference of an alias (the alias assignment itself is not).
            let r = e[e.strippingCasts(a.rhs)]
            if r.kind == .member, r.b == 1, providerMember(view, e.strippingCasts(a.rhs), members) == nil {
                use(a.rhs, line: a.line, column: a.column, depth: 0)
            }
        }
        return (out, Set(aliases.keys))
    }

    /// The member name when `node` is `x->m` with `m` provider-owned and `x` the object.
    private func providerMember(_ view: FunctionView, _ node: Int32, _ members: Set<String>) -> String? {
        let e = view.exprs
        let n = e[node]
        guard n.kind == .member, n.b == 1 else { return nil }
        let m = e.text(n)
        guard members.contains(m), CoreScan.isObject(view, n.a, group.aggregate, resolver) else { return nil }
        return m
    }

    /// Whether a condition between `from` and `to` tests a member of the group (or a local
    /// holding one), or one of `flags`.
    private func tested(_ view: FunctionView, from: Int32, to: Int32, aliases: Set<String>, flags: Set<String>) -> Bool {
        let e = view.exprs
        let members = flags.isEmpty ? Set(group.members) : flags
        return view.decl.tests.contains { t in
            guard t.line >= from && t.line <= to else { return false }
            let n = e[t.node]
            if n.kind == .identifier { return aliases.contains(e.text(n)) }
            if n.kind == .member { return members.contains(e.text(n)) }
            return false
        }
    }

    /// How a read is protected (nil: not), and why not.
    func judge(_ r: Read, _ view: FunctionView, _ sync: SyncEvents, aliases: Set<String>) -> (String?, String) {
        let facts = teardownFacts
        if facts.waits { return ("wait", "") }
        if r.viaProtectedRead || sync.inReadSection(at: r.readLine) {
            let start = sync.readSections.filter { $0 <= r.readLine }.min() ?? r.readLine
            if !tested(view, from: start, to: r.useLine, aliases: aliases, flags: []) {
                return (nil, "read inside an SRCU/RCU read section but never checked for NULL")
            }
            if facts.clearedMembers.isEmpty || !facts.synchronizes {
                return (nil, "read under SRCU/RCU, but unregister does not clear it and synchronize")
            }
            return ("srcu", "")
        }
        let common = sync.held(at: r.readLine).intersection(facts.clearLocks)
        if let lock = common.sorted().first {
            let lockLine = sync.takes.filter { $0.identity == lock && $0.line <= r.readLine }.map(\.line).max() ?? r.readLine
            if !facts.clearedMembers.isEmpty, tested(view, from: lockLine, to: r.useLine, aliases: aliases, flags: []) { return ("lock", "") }
            if !facts.clearedFlags.isEmpty, tested(view, from: lockLine, to: r.useLine, aliases: [], flags: facts.clearedFlags) { return ("flag", "") }
            return (nil, "holds \(lock), which unregister takes, but does not re-check the provider's state under it")
        }
        if !sync.held(at: r.useLine).intersection(facts.clearLocks).isEmpty {
            return (nil, "reads \(r.member) before taking the lock that unregister takes")
        }
        if tested(view, from: 0, to: r.useLine, aliases: aliases, flags: []) || (!facts.clearedFlags.isEmpty && tested(view, from: 0, to: r.useLine, aliases: [], flags: facts.clearedFlags)) {
            return (nil, "checked without a lock that unregister takes")
        }
        // A lock of the core's own that unregister never takes orders nothing against it.
        if let lock = sync.held(at: r.readLine).sorted().first {
            return (nil, "holds \(lock), which unregister does not take, and checks no state that unregister clears under a lock")
        }
        return (nil, "no lock, SRCU/RCU read section or check protects it")
    }

    /// Locks held on the consumer path: those the callers take, and those a callee of
    /// theirs takes and returns holding (a "get" helper such as one that takes a read lock,
    /// checks the object and returns with the lock held).
    func callerLocks(_ path: [String], byName: [String: FunctionID]) -> Set<String> {
        var out = Set<String>()
        for name in path.dropLast() {
            guard let id = byName[name] else { continue }
            let fn = index.function(id)
            out.formUnion(SyncEvents(FunctionView(id: id, resolver: resolver)).takes.map(\.identity))
            for callee in Set(fn.calls.map(\.callee)) where callee != name {
                guard let cid = byName[callee] else { continue }
                out.formUnion(heldOnReturn(FunctionView(id: cid, resolver: resolver)))
            }
        }
        return out
    }

    /// Whether the core hands out references to the object: an exported function (other
    /// than the register functions) that takes a counted reference returns a pointer to
    /// it, or to a struct that points to it within two steps (`gpiod_get()` → `gpio_desc.gdev`; such structs are looked for in
    /// the core's own files). Objects handed out only by
    /// binding drivers to them lose those consumers when unregister unbinds them.
    func handsOutReferences(excluding: Set<FunctionID>) -> Bool {
        var targets: Set<AggregateID> = [group.aggregate]
        var frontier: Set<AggregateID> = [group.aggregate]
        var holders: Set<AggregateID> = [group.aggregate]
        // Structs that point to the object, one and two steps away.
        for _ in 0..<2 {
            var next = Set<AggregateID>()
            for k in coreFiles {
                for (a, agg) in index.files[Int(k)].aggregates.enumerated() {
                    let id = AggregateID(file: k, index: Int32(a))
                    if holders.contains(id) { continue }
                    for f in agg.fields where f.type.pointerDepth > 0 && f.type.isAggregateTag {
                        var t = f.type
                        t.pointerDepth = 0
                        if let target = resolver.aggregate(of: t, from: k), frontier.contains(target) { next.insert(id); break }
                    }
                }
            }
            holders.formUnion(next)
            frontier = next
            targets.formUnion(next)
        }
        for f in coreFiles {
            for (k, fn) in index.files[Int(f)].functions.enumerated() where index.exported.contains(fn.name) {
                let id = FunctionID(file: f, index: Int32(k))
                guard !excluding.contains(id), fn.returnType.pointerDepth == 1 else { continue }
                var t = fn.returnType
                t.pointerDepth = 0
                if let agg = resolver.aggregate(of: t, from: f), targets.contains(agg), takesReference(id) { return true }
            }
        }
        return false
    }

    /// Whether a function, or a core function it calls or passes as a callback (three
    /// levels), takes a counted
    /// reference: a lookup that returns a bare pointer leaves its users with no claim on
    /// the object at all, which is another bug than this check's.
    func takesReference(_ fid: FunctionID) -> Bool {
        let byName = functionsByName
        var frontier = [fid]
        var seen: Set<FunctionID> = [fid]
        for _ in 0..<3 {
            var next: [FunctionID] = []
            for id in frontier {
                let fn = index.function(id)
                for c in fn.calls {
                    if DriverCore.referenceGets.contains(c.callee) { return true }
                    if let callee = byName[c.callee], seen.insert(callee).inserted { next.append(callee) }
                    // Core functions passed as callbacks (a match function for a lookup).
                    for a in fn.exprs.arguments(c.node) where fn.exprs[a].kind == .identifier {
                        if let cb = byName[fn.exprs.text(at: a)], seen.insert(cb).inserted { next.append(cb) }
                    }
                }
            }
            frontier = next
        }
        return false
    }

    /// Functions a consumer can call: exported ones and callbacks placed in static initializers.
    func consumerEntries() -> Set<String> {
        var out = Set<String>()
        let owners = Set([group.register.file] + group.teardown.map(\.file))
        let providerFacing = Set(([group.register] + group.teardown).map { index.function($0).name })
        for f in coreFiles {
            let facts = index.files[Int(f)]
            for fn in facts.functions where index.exported.contains(fn.name) && !providerHelpers.contains(fn.name) && !providerFacing.contains(fn.name) {
                out.insert(fn.name)
            }
            // Callbacks in the static tables of the core's own files (sysfs, file operations);
            // tables in other files of the directory are providers' ops.
            guard owners.contains(f) else { continue }
            for g in facts.globals {
                // Attribute callbacks are drained by an unregister that unpublishes the object.
                if teardownFacts.unpublishes && g.type.name.hasSuffix("attribute") { continue }
                for d in g.designated {
                    // Release, visibility and bind callbacks are the driver core's, not a consumer's.
                    if DriverCore.coreCallbackSlots.contains(String(d.path.split(separator: ".").last ?? "")) { continue }
                    out.insert(d.value.hasPrefix("&") ? String(d.value.dropFirst()) : d.value)
                }
            }
        }
        return out
    }

    /// Functions that files other than the core's own place in static tables: a provider's
    /// implementation of the ops, which may use its own state freely.
    func providerCallbacks() -> Set<String> {
        let owners = Set([group.register.file] + group.teardown.map(\.file))
        var out = Set<String>()
        for f in coreFiles where !owners.contains(f) {
            for g in index.files[Int(f)].globals { for d in g.designated { out.insert(d.value.hasPrefix("&") ? String(d.value.dropFirst()) : d.value) } }
        }
        return out
    }

    /// Callers by callee name within the core's files.
    func callerMap() -> [String: [FunctionID]] {
        var out: [String: [FunctionID]] = [:]
        for f in coreFiles {
            for (k, fn) in index.files[Int(f)].functions.enumerated() {
                let id = FunctionID(file: f, index: Int32(k))
                for c in Set(fn.calls.map(\.callee)) where !c.isEmpty { out[c, default: []].append(id) }
            }
        }
        return out
    }

    /// The nearest consumer entry above `fid`, with the call path from it (breadth first).
    func entryPath(_ fid: FunctionID, entries: Set<String>, callers: [String: [FunctionID]]) -> (String, [String])? {
        var queue: [(FunctionID, [String])] = [(fid, [index.function(fid).name])]
        var seen: Set<FunctionID> = [fid]
        var head = 0
        while head < queue.count, head < 512 {
            let (f, path) = queue[head]
            head += 1
            let name = index.function(f).name
            if entries.contains(name) { return (name, path) }
            guard path.count < 8 else { continue }
            for c in (callers[name] ?? []).sorted() where seen.insert(c).inserted {
                queue.append((c, [index.function(c).name] + path))
            }
        }
        return nil
    }
}
