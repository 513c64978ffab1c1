import Facts
import Indexing
import Analysis
import Findings

/// What to change for a finding, in the kernel's own terms. Derived from the finding (its
/// check, struct, object and protection) and, where the tree says more, from the subsystem
/// of its object (the core's `*_alloc()` functions, its release, its unregister).
public enum FixSuggestion {
    /// What the tree knows about the object a finding is about.
    struct Core {
        var allocators: [String] = []
        var release: String?
        var unregister: [String] = []
        /// The same in the core's own order (not the calls of the finding's file first).
        var coreUnregister: [String] = []
        /// The unregister functions that wait for the last user, in `unregister`'s order.
        var waiting: [String] = []
        /// The same in the core's own order.
        var coreWaiting: [String] = []
        /// The object is a device that nothing gives a release (`hasNoRelease`).
        var noRelease = false
    }

    /// `file`: the finding's file; the unregister functions its code calls come first (the
    /// one this driver uses, not the first of the core's list), then those the other files
    /// of its directory call (a driver split over several files), then the others, the
    /// ones the most functions of the tree call first.
    static func core(_ name: String, _ ctx: AnalysisContext?, file: String = "") -> Core {
        guard let ctx, !name.isEmpty, let defs = ctx.index.aggregatesByName[name] else { return Core() }
        for agg in defs.sorted() {
            guard let o = ctx.subsystems.objects[agg] else { continue }
            // Only the core's exported *alloc* API is worth suggesting (not every function that
            // happens to allocate the object).
            let allocs = Set((ctx.subsystems.allocatorFunctions[agg] ?? []).map { ctx.index.function($0).name })
                .filter { $0.contains("alloc") && ctx.index.exported.contains($0) }.sorted()
            let coreOrder = preferredTeardown(ctx.apiOrder(o.unregister))
            var unreg = coreOrder
            if let fileID = ctx.index.fileByPath[file] {
                // Where each candidate's callers are (the callers index, not every call of
                // the directory's files).
                let directory = Set(ctx.index.filesByDirectory[TreeIndex.directory(of: file)] ?? [])
                let callers = Dictionary(uniqueKeysWithValues: unreg.map { ($0, ctx.index.callers(of: $0)) })
                let ranks = callers.mapValues { list in
                    list.contains { $0.file == fileID } ? 0 : list.contains { directory.contains($0.file) } ? 1 : 2
                }
                func rank(_ n: String) -> Int { ranks[n]! }
                unreg = unreg.enumerated().sorted { a, b in
                    (rank(a.element), rank(a.element) == 2 ? -callers[a.element]!.count : 0, a.offset)
                        < (rank(b.element), rank(b.element) == 2 ? -callers[b.element]!.count : 0, b.offset)
                }.map(\.element)
            }
            let waits = Set(o.waitingUnregister.map { ctx.index.function($0).name })
            return Core(allocators: allocs, release: o.release?.name, unregister: unreg, coreUnregister: coreOrder,
                        waiting: unreg.filter(waits.contains), coreWaiting: coreOrder.filter(waits.contains),
                        noRelease: KfreeOutsideReleaseCheck.hasNoRelease(agg, core: o.core, ctx: ctx))
        }
        return Core()
    }

    /// When struct `name` has more than one member that is or embeds a device, kobject or
    /// cdev, or is an object a core publishes: the clause saying that its memory may go only
    /// with the last of them.
    static func lastOfSeveral(_ name: String, _ ctx: AnalysisContext?) -> String {
        guard let ctx, !name.isEmpty, let agg = ctx.index.aggregatesByName[name]?.sorted().first else { return "" }
        let closure = ctx.closure
        // A device, kobject or cdev (also inside another struct), or an object a core
        // publishes (a bare count such as a V4L2 or DMA device), also in a member struct;
        // not any struct that happens to hold a kref.
        func holds(_ inner: AggregateID, core: String?, depth: Int) -> Bool {
            let kind = core ?? closure.embeddings[inner]?.core
            if kind == "device" || kind == "kobject" || kind == "cdev" || ctx.subsystems.objects[inner] != nil { return true }
            guard depth < 3 else { return false }
            return ctx.index.aggregate(inner).fields.contains { field in
                guard !field.name.isEmpty, let (next, c) = closure.embeddedStruct(field: field.name, in: inner, resolver: ctx.resolver) else { return false }
                return holds(next, core: c, depth: depth + 1)
            }
        }
        let fields = ctx.index.aggregate(agg).fields.filter { field in
            guard !field.name.isEmpty, let (inner, core) = closure.embeddedStruct(field: field.name, in: agg, resolver: ctx.resolver) else { return false }
            return holds(inner, core: core, depth: 0)
        }
        // An array member holds several by itself (`struct dma_device dma_dev[4]`).
        guard fields.count > 1 || fields.first?.type.isArray == true else { return "" }
        let members = fields.map { $0.type.isArray ? "each of \($0.name)[]" : $0.name }
        let listed = members.count == 1 ? members[0]
            : members.count > 4 ? members.prefix(3).joined(separator: ", ") + ", …" : members.dropLast().joined(separator: ", ") + " and " + members.last!
        return " (it has several refcounted members, \(listed): free it only when the last of them goes, from the release of the one the others keep a reference on, or through a kref of its own that each release puts)"
    }

    /// How a character device's container gets a release: through a device the cdev holds.
    static func cdevHeldDevice(_ s: String, device member: String? = nil) -> String {
        let device = member.map { "give the struct device it embeds (\($0)) a release that kfree()s it (container_of())" }
            ?? "give \(s) a struct device whose release kfree()s it (container_of())"
        return "\(device) and add the cdev with cdev_device_add() (or cdev_set_parent()), so that the cdev holds that device until its last file is closed"
    }

    /// The member of the struct `f` names that is a `struct device` itself (not a pointer):
    /// the device a cdev beside it can hold.
    static func deviceMember(_ f: Finding, _ ctx: AnalysisContext?) -> String? {
        guard let ctx, let file = ctx.index.fileByPath[f.file], let agg = ctx.resolver.aggregate(named: f.structName, from: file) else { return nil }
        return ctx.index.aggregate(agg).fields.first { $0.type.name == "device" && $0.type.pointerDepth == 0 && $0.type.isAggregateTag }?.name
    }

    /// Whether the device-managed allocation `f` reports holds several objects (an array).
    static func allocatesSeveral(_ f: Finding, _ ctx: AnalysisContext) -> Bool {
        guard let file = ctx.index.fileByPath[f.file] else { return false }
        return ctx.allocations.sites.contains { $0.line == f.line && $0.column == f.column && $0.function.file == file && $0.holdsSeveral }
    }

    /// Teardown functions, the ones a driver calls first: `*unregister*`, then `*del*`/`*remove*`
    /// (otherwise in the given order).
    public static func preferredTeardown(_ names: [String]) -> [String] {
        func rank(_ n: String) -> Int {
            n.hasPrefix("_") ? 3 : n.contains("unregister") ? 0 : (n.contains("del") || n.contains("remove")) ? 1 : 2
        }
        return names.enumerated().sorted { (rank($0.element), $0.offset) < (rank($1.element), $1.offset) }.map(\.element)
    }

    /// The fix text of a `devm-embedded-refcount` finding `f` about `s`, by the protection.
    static func devmText(_ f: Finding, _ s: String, _ c: Core, _ ctx: AnalysisContext?) -> String {
        let alloc = f.allocator.isEmpty ? "devm_kzalloc" : f.allocator
        // One devm array of several objects: each needs memory of its own to be freed
        // by its own release.
        let isArray = ctx.map { allocatesSeveral(f, $0) } ?? Allocations.countsElements(alloc)
        let allocateEach = isArray ? "allocate each \(s) on its own with kzalloc() instead of one \(alloc)() array" : "allocate \(s) with kzalloc() instead of \(alloc)()"
        let core = c.allocators.isEmpty
            ? ""
            : "; or let the core allocate it with \(c.allocators.prefix(3).map { $0 + "()" }.joined(separator: "/")) and drop it with the matching put"
        switch f.protection {
        case "release-frees":
            return "struct \(f.object)'s release\(c.release.map { " (\($0))" } ?? "") already frees the memory: do not embed it in \(alloc)() memory — allocate it through the core\(c.allocators.isEmpty ? "'s *_alloc()" : " with \(c.allocators.prefix(3).map { $0 + "()" }.joined(separator: "/"))") and release it with the matching put, never devm_kfree()"
        case "completion", "wait-event":
            if f.severity == .error {
                // The driver never calls the waiting unregister on unbind (so the
                // core's own order, not the calls this file makes).
                let waiting = (c.coreWaiting.first ?? c.coreUnregister.first).map { $0 + "()" } ?? "the core's unregister"
                return "call \(waiting) from the driver's unbind path (its .remove or a devm action), before devres frees the memory: it waits for the last user"
            }
            return "nothing to free differently in the driver: the core's unregister\((c.waiting.first ?? c.unregister.first).map { " (" + $0 + "())" } ?? "") waits for the last user by design, so devres frees the memory only after it; that unbind blocks while a user holds a reference can only be changed in the core (a release hook that frees the container, so that unregister need not wait)"
        case "revocation":
            return "none needed while every user re-checks the revoked pointers under the core's protection"
        case "driver-release":
            return "\(allocateEach) (with any other device-managed memory its users reach through it), kfree() it (container_of()) in the release hook of its struct \(f.object) that \(c.release.map { $0 + "()" } ?? "the core's release") calls when the last reference is dropped\(lastOfSeveral(f.structName, ctx)), and in remove() drop the reference registering took (\(dropText(f, c, ctx)))"
        case "none" where c.release != nil:
            // The core installs its own release, which the driver cannot replace.
            return "the core's release \(c.release!)() neither frees \(s) nor calls back the driver, so the fix needs the core: give struct \(f.object) a release hook that \(c.release!)() calls (as the V4L2 and gadget cores do), \(allocateEach) and kfree() it (container_of()) from that hook; that hook then runs when the last reference goes, after \(c.unregister.first.map { $0 + "()" } ?? "unregister") in remove()\(core)"
        case _ where f.chain.last == "cdev":
            return "\(allocateEach): a cdev has no release of its own, so \(cdevHeldDevice(s, device: deviceMember(f, ctx))), and put_device() it in remove() after the cdev is deleted (cdev_device_del())"
        case _ where f.chain.last == "kobject":
            return "\(allocateEach), give the kobj_type of its struct \(f.object) a .release that kfree()s the container (container_of()), and let the last kobject_put() free it after \(c.unregister.first.map { $0 + "()" } ?? "kobject_del()") in remove()\(core)"
        default:
            return "\(allocateEach), set a release callback on its struct \(f.object)'s device that kfree()s the container (container_of()), and let the last put_device() free it after \(c.unregister.first.map { $0 + "()" } ?? "unregister") in remove()\(core)"
        }
    }

    /// The fix text for `f`; `ctx` adds the core's own function names when known.
    public static func text(for f: Finding, context ctx: AnalysisContext? = nil) -> String {
        let s = f.structName.isEmpty ? "the container" : "struct \(f.structName)"
        let c = core(f.object, ctx, file: f.file)
        switch f.check {
        case "devm-embedded-refcount":
            // With no unbind path, nothing runs at unbind to unregister the object first.
            let unbind = f.shape == .neverUnregistered
                ? "unregister it at unbind first\(c.unregister.first.map { " with " + $0 + "()" } ?? ""), from the driver's .remove() or a devm action, or set .suppress_bind_attrs if it must never be unbound; then " : ""
            return unbind + devmText(f, s, c, ctx)
        case "empty-release":
            if case .staticObject = f.shape {
                return "a static device has nothing to free, so its empty release is harmless only while nothing can hold it after it is unregistered: if the code never unregisters it (built in), say so in a comment in the release; if it is unregistered (a module's exit, an error path) while others may still hold a reference, allocate it at run time instead (the core's allocator, such as platform_device_alloc() or root_device_register(), or kzalloc() with a release that kfree()s it)"
            }
            if f.shape == .freedByOwner {
                // Another free in the release would be a double free: the owner's free must
                // wait for this release instead.
                return "keep the memory the owner's, as the comment says, but let the owner free it only after this release has run (hold a reference on this object until the owner's own release, or have this release signal a completion the owner waits for before its free); or move the free into this release and out of the owner"
            }
            return "free the container in the release: kfree(container_of(dev, struct …, dev)) (and put what it holds), and drop the free that frees it elsewhere now (a kfree() after the unregister or the put, or device-managed memory, which devres frees at unbind): the release may run after unbind"
        case "release-devm-free":
            return "allocate the object with kzalloc() instead of devm_*() and free it with kfree() in the release; devres must not own memory whose lifetime the refcount decides"
        case "kfree-outside-release":
            return kfreeText(f, s, c, ctx)
        case "missing-release":
            switch f.shape {
            case .arrayElement(let array)?:
                // container_of() of one element is not the start of an allocation.
                return "a release cannot kfree() one element of \(array): give the \(f.object.isEmpty ? "kobject" : "device") a release that frees nothing, and free the array only after every element's release has run (count them, or wait on a completion each release signals; an array never freed needs nothing more); or allocate each \(f.object.isEmpty ? "object" : "struct " + f.object) on its own (kzalloc(), and keep pointers in the array) with a release that kfree()s it (container_of())"
            case .kobjectInsideStruct?:
                // The memory is the embedding struct's: a release must not kfree() it.
                return "give the kobj_type a .release, and let the owner of the struct that embeds it free that memory only after the release has run (the release completes a completion the owner waits for before its free); the release itself must not kfree() memory that is a member of another struct"
            case .staticObject(core: "kobject")?:
                return "give the kobj_type a .release that frees nothing (the kobject is static and outlives every reference), so that the kobject core's last put finds one; or allocate the kobject at run time with kobject_create_and_add(), whose release frees it"
            case .kobjTypeWithoutRelease?:
                return "give the kobj_type a .release that frees the object containing the kobject (kfree(container_of(kobj, struct …, kobj)))"
            case .staticObject?:
                return "a statically allocated device is never freed: give it a release that frees nothing (dev.release, its device_type's or class's), so that the driver core's last put finds one; or allocate it at run time (the core's allocator, such as platform_device_alloc(), or kzalloc() with a release that kfree()s it)"
            default:
                return "set a release callback for the device (dev->release, its device_type's .release or its class's .dev_release) that kfree()s struct \(f.object.isEmpty ? "…" : f.object) via container_of()"
            }
        case "unrevoked-provider-ops":
            let members = f.members.isEmpty ? "the provider's members" : f.members.joined(separator: ", ")
            if case .revokedUnderLock(let key)? = f.shape {
                // A sleeping lock cannot be taken on an atomic path: only SRCU serves both.
                // (A member lock is keyed `type.member`.)
                let parts = key.split(separator: ".", maxSplits: 1)
                let lock = parts.count == 2 ? "\(parts[1]) of struct \(parts[0])" : key
                return "in \(f.function)(), use \(members) only while holding \(lock), the lock unregister clears them under, and re-check them for NULL there, as the core's other users do; if \(f.function)() can run in atomic context and \(lock) sleeps (a mutex or rw_semaphore), the core needs SRCU instead: unregister clears \(members) and calls synchronize_srcu(), and every user takes srcu_read_lock() and re-checks them"
            }
            if f.protection == "revocation" || f.protection == "wait" {
                return "in \(f.function)(), use \(members) only inside the core's protection (srcu_read_lock() or the lock its unregister takes) and re-check them for NULL there, as the core's other users do"
            }
            return "revoke under SRCU: in \(f.function.isEmpty ? "unregister" : f.function + "()") set \(members) to NULL and call synchronize_srcu(); every user takes srcu_read_lock(), re-checks the members and fails with -ENODEV when they are gone"
        default:
            return ""
        }
    }

    /// How a driver drops the reference registering took on `f`'s object: the core's
    /// unregister, and the core's exported put when the tree has one (`v4l2_device_put()`:
    /// `v4l2_device_unregister()` does not drop it), else "the core's put".
    static func dropText(_ f: Finding, _ c: Core, _ ctx: AnalysisContext?) -> String {
        let unregister = c.unregister.first.map { $0 + "()" } ?? "the core's unregister"
        guard let ctx, let agg = ctx.index.aggregatesByName[f.object]?.sorted().first,
              let put = SiblingRelease.put(of: agg, ctx), c.unregister.first != put else { return "\(unregister) or the core's put" }
        return "\(unregister), then \(put)() where that does not drop it"
    }

    /// The fix text of a `kfree-outside-release` finding `f` about `s`, by where the free
    /// is (`f.shape`) and the object's protection.
    static func kfreeText(_ f: Finding, _ s: String, _ c: Core, _ ctx: AnalysisContext?) -> String {
        switch f.shape {
        case .freedOnLastClose?:
            // A cdev's container has no release of its own: the cdev must hold a device
            // (or kobject) that frees it.
            return "do not free \(s) from the file's .release: \(cdevHeldDevice(s, device: deviceMember(f, ctx))), and drop the device's reference where this close frees the memory now (put_device())"
        case .freedAfterTeardown(teardown: "cdev_del")?:
            return "do not kfree() \(s) right after cdev_del(): \(cdevHeldDevice(s, device: deviceMember(f, ctx))), and replace this kfree() with put_device()"
        case .freedAfterTeardown?:
            return afterTeardownText(f, s, c, ctx)
        case .freedWithOwner(let owner, let accessor)?:
            let area = "\(s) lives in the private area of struct \(owner) (\(accessor)()) and goes with it"
            if f.chain.last == "cdev" {
                // A cdev has no release a driver sets: it must hold what frees the memory.
                return "\(area), not with its cdev: make the cdev hold struct \(owner) before cdev_add() (cdev_set_parent() to the kobject of its device) so that the area outlives every open file"
            }
            return "\(area), not with its own \(f.chain.last ?? "object"): allocate \(s) on its own (kzalloc()) and kfree() it from the release of the \(f.chain.last ?? "object") it embeds; or, once struct \(owner) is set up, make that release drop a reference it holds on it, so that the area outlives every holder"
        case .freedOnErrorPath(drop: "cdev_del()")?:
            return "do not kfree() \(s) on this error path: \(cdevHeldDevice(s, device: deviceMember(f, ctx))); delete the cdev (cdev_del()) once it was added, and drop that device's reference where this free is now (put_device())"
        case .freedOnErrorPath(let drop)?:
            return errorPathText(s, drop: drop, c)
        case .initializedByHelper(let helper, let drop)?:
            // The caller cannot tell at which step the helper failed: the fix is the helper's.
            return "the failure is \(helper)()'s to unwind: it may return after initializing the reference count, and this caller cannot tell at which step it failed; make \(helper)() drop the object itself with \(drop) on its failures after the initialization (letting the release undo what it undoes, nothing undone twice by hand), or do what can fail before it, and keep this kfree() of \(s) for the failures that remain"
        default:
            return errorPathText(s, drop: "put_device()", c)
        }
    }

    /// A free on an error path that must drop the reference with `drop` instead.
    static func errorPathText(_ s: String, drop: String, _ c: Core) -> String {
        // The release then frees what it owns: this path must not free that too.
        let releaseOwns = c.release.map { "; \(drop) then runs \($0)(), so this path must no longer free what that release frees" } ?? ""
        if c.noRelease && drop == "put_device()" {
            return "give the device a release callback that kfree()s \(s) (container_of()), then call put_device() instead of kfree() on this error path: without a release, put_device() makes the driver core warn and frees nothing"
        }
        return "call \(drop) instead of kfree() on this error path: once the reference count is initialized, only the release callback may free \(s)\(releaseOwns)"
    }

    /// Whether the release function `release` that finding `f`'s file sees is defined in the
    /// directory of that file (the driver's own), or elsewhere (a core's); nil when unknown.
    static func releaseIsTheDrivers(_ release: String?, _ f: Finding, _ ctx: AnalysisContext?) -> Bool? {
        guard let release, let ctx, let file = ctx.index.fileByPath[f.file] else { return nil }
        if let g = ctx.resolver.function(named: release, from: file) {
            return TreeIndex.directory(of: ctx.index.path(g.file)) == TreeIndex.directory(of: f.file)
        }
        // A static release of the core's file: the driver's only when some definition of
        // that name is in the driver's directory.
        let definitions = ctx.index.functionsByName[release] ?? []
        guard !definitions.isEmpty else { return nil }
        return definitions.contains { TreeIndex.directory(of: ctx.index.path($0.file)) == TreeIndex.directory(of: f.file) }
    }

    /// A free right after a teardown dropped the reference: where the free must go instead.
    static func afterTeardownText(_ f: Finding, _ s: String, _ c: Core, _ ctx: AnalysisContext?) -> String {
        // A cdev torn down through a helper: the cdev's kobj_type is the char device
        // core's, so the release that frees must still be a device's the cdev holds.
        if f.chain.last == "cdev" {
            return "do not free \(s) right after its cdev is deleted: \(cdevHeldDevice(s, device: deviceMember(f, ctx))), and drop that device's reference where this free is now (put_device())"
        }
        switch f.protection {
        case "none" where c.release != nil:
            // The core installs its own release for every driver (mtd_info's): only the
            // core can make it free a driver's container.
            return "do not free \(s) after the reference is dropped: the core's release \(c.release!)() neither frees \(s) nor calls back the driver, so the fix needs the core: give struct \(f.object) a release hook that \(c.release!)() calls when the last reference goes, and move this free into the driver's hook (kfree(container_of(…)))"
        case "none":
            return "do not kfree() \(s) after the reference is dropped: the release of struct \(f.object) (its kobj_type's .release, or its device's) must kfree() the container (container_of()): add one, or make the one it has do so; then drop this kfree() and any other of \(s) once its reference count is set up"
        default: break
        }
        // Whatever the function does with the memory after the unregister must then come
        // before it: the unregister may drop the last reference.
        // Or the function keeps the memory alive itself until it is done with it.
        let (get, put) = f.chain.last == "kobject" ? ("kobject_get()", "kobject_put()") : ("get_device()", "put_device()")
        let usesFirst = "; whatever the function still does with \(s) after the unregister must come before it, or the function holds its own reference across the unregister (\(get) before it, \(put) where this free is now)"
        // A release of another member already frees the struct: drop that member's
        // reference instead of freeing (a new release would free it twice).
        if f.protection == "driver-release", let sibling = SiblingRelease.find(for: f, ctx) {
            return sibling.fixText(s) + usesFirst
        }
        if f.protection == "driver-release", let release = c.release {
            return "do not kfree() \(s) after the reference is dropped: move the kfree() into the release hook of struct \(f.object) that \(release)() calls (kfree(container_of(…))) when the last reference goes\(lastOfSeveral(f.structName, ctx))\(usesFirst)"
        }
        if f.protection == "empty-release" {
            // A core's release serves every driver's container: it cannot know this one,
            // so it must call back the driver (as for a core release that frees nothing).
            if releaseIsTheDrivers(c.release, f, ctx) == false, let release = c.release, !f.structName.isEmpty, f.structName != f.object {
                return "do not kfree() \(s) after the reference is dropped: the core's release \(release)() is empty and cannot know which driver's struct embeds struct \(f.object), so the fix needs the core: give struct \(f.object) a release hook that \(release)() calls when the last reference goes, and move this free into the driver's hook (kfree(container_of(…)))\(usesFirst)"
            }
            // The driver's own release (in its directory) is its to mend; a core's, for
            // every driver of it.
            let whose = releaseIsTheDrivers(c.release, f, ctx).map { $0 ? "" : " — in the core, for every driver of it" }
                ?? " — in the core when the release is the core's, for every driver of it"
            return "do not kfree() \(s) after the reference is dropped: struct \(f.object)'s release\(c.release.map { " " + $0 + "()" } ?? "") is empty, so it must be made to free the container (kfree(container_of(…))) when the last reference goes\(whose)\(usesFirst)"
        }
        // A bare kobject's release is its kobj_type's, which may not exist yet.
        let release = f.chain.last == "kobject" ? "the .release of its kobj_type (adding one if there is none)" : "the release callback of struct \(f.object)"
        return "do not kfree() \(s) after the reference is dropped: move the kfree() into \(release) (kfree(container_of(…))), which runs when the last reference goes\(usesFirst)"
    }
}
