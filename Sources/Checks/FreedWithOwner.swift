import Facts
import Indexing
import Analysis
import Findings

/// `kfree-outside-release`, for a struct that lives in the private area of another
/// refcounted object (`PrivateAreas`): dropping that owner (`scsi_host_put(x->host)`,
/// `free_netdev(ndev)`) frees the struct with it, whatever references its own embedded
/// cdev or device still have. After the embedded object's teardown, such a drop is a free
/// of the struct, judged as a `kfree()` would be.
extension KfreeOutsideReleaseCheck {
    /// A free through the owner: the struct type freed and where it was seen in the area.
    struct OwnerFree {
        var container: AggregateID
        var area: PrivateAreas.Area
    }

    /// A call that frees a whole object: its argument `arg` and the object's path `freed`;
    /// `owner` when the call drops the owner of the private area the object lives in.
    struct FreeSite {
        var call: EffectiveCall
        var arg: Int32
        var freed: AccessPath
        var owner: OwnerFree? = nil
    }

    /// The calls of `calls` that drop the owner of a struct the function reaches, with the
    /// struct's access path: an owner reached through the struct's own member
    /// (`scsi_host_put(x->host)`), or an owner `h` the function took the struct from
    /// (`x = shost_priv(h)`, then `scsi_host_put(h)`).
    static func ownerFrees(_ calls: [EffectiveCall], in view: FunctionView, ctx: AnalysisContext) -> [FreeSite] {
        let areas = ctx.privateAreas
        var out: [FreeSite] = []
        for c in calls {
            guard let drop = areas.drops[c.callee], drop.param < c.args.count else { continue }
            let arg = c.args[drop.param]
            // (`x->host` is read, not taken the address of: a member path.)
            guard arg >= 0, let p = view.accessPath(arg) ?? view.memberPath(arg) else { continue }
            let freed: AccessPath
            if p.fields.count == 1 {
                // The struct's member pointing back to its owner.
                freed = AccessPath(root: p.root, fields: [])
                guard let (t, f) = view.type(of: arg), let d = t.dereferenced, ctx.resolver.aggregate(of: d, from: f) == drop.owner else { continue }
            } else if p.fields.isEmpty, let taken = Self.takenFrom(p, owner: drop.owner, in: view, ctx: ctx) {
                freed = taken
            } else {
                continue
            }
            guard let x = view.pointedAggregate(of: freed.root), let seen = areas.areas[x],
                  let area = seen.first(where: { $0.function.file == view.file }) ?? seen.first, area.owner == drop.owner else { continue }
            out.append(FreeSite(call: c, arg: arg, freed: freed, owner: OwnerFree(container: x, area: area)))
        }
        return out
    }

    /// The local the function assigned the private area of owner `h` to (`x = shost_priv(h)`).
    private static func takenFrom(_ h: AccessPath, owner: AggregateID, in view: FunctionView, ctx: AnalysisContext) -> AccessPath? {
        let e = view.exprs
        for a in view.decl.assignments where a.lhs >= 0 && a.rhs >= 0 {
            let r = e[e.strippingCasts(a.rhs)]
            guard r.kind == .call, ctx.privateAreas.accessors[e.text(at: r.a)] == owner,
                  let arg = e.list(of: r).first, view.accessPath(arg) == h,
                  let x = view.accessPath(a.lhs, expandAliases: false), x.fields.isEmpty else { continue }
            return x
        }
        return nil
    }

    /// Whether the object at `objectPath` of `container` (of type `object`, a `core`)
    /// holds a reference on its owner until it is released, so the area outlives it: a
    /// cdev given a parent (`cdev_set_parent()`, `cdev_device_add()`), or a device or
    /// kobject whose release drops a reference (`put_device(dev->parent)`).
    static func holdsOwner(_ container: AggregateID, objectPath: [String], object: AggregateID, core: String, file: String, ctx: AnalysisContext) -> Bool {
        if core == "cdev" {
            for id in ctx.index.callers(ofAny: ["cdev_set_parent", "cdev_device_add"]).functions {
                let v = FunctionView(id: id, resolver: ctx.resolver)
                for c in v.decl.calls where c.callee == "cdev_set_parent" || c.callee == "cdev_device_add" {
                    guard let a = v.exprs.arguments(c.node).first, let p = v.accessPath(a), p.fields.last == objectPath.last,
                          v.pointedAggregate(of: p.root) == container else { continue }
                    return true
                }
            }
            return false
        }
        let releases = [ctx.subsystems.objects[object]?.release?.function, ctx.subsystems.driverRelease(for: object, in: file)?.function]
        return releases.compactMap { $0 }.contains { r in
            FunctionView(id: r, resolver: ctx.resolver).effectiveCalls().contains { DriverCore.referencePuts.contains($0.callee) }
        }
    }

    /// The note that shows where the struct was taken from its owner's private area.
    static func areaNote(_ o: OwnerFree, ctx: AnalysisContext) -> FindingNote {
        FindingNote(.allocation, file: ctx.index.path(o.area.function.file), line: o.area.line,
                    message: "\(ctx.index.function(o.area.function).name)() takes struct \(ctx.index.aggregate(o.container).name) from the private area of struct \(ctx.index.aggregate(o.area.owner).name) (\(o.area.accessor)())")
    }

    /// The clause a finding adds for a free through the owner.
    static func ownerClause(_ o: OwnerFree, core: String, ctx: AnalysisContext) -> String {
        let owner = ctx.index.aggregate(o.area.owner).name
        return "it lives in the private area of struct \(owner) (\(o.area.accessor)()), which goes with that object's last reference, not with the \(core)'s"
    }
}
