import Facts
import Indexing
import Analysis
import Findings

/// A release the driver already sets on one refcounted member of a struct, which frees the
/// whole struct (`usbtv->v4l2_dev.release = usbtv_release`, whose body `kfree()`s the
/// container): a free of the struct elsewhere is then to be replaced by the put of that
/// member, whose last call runs the release, rather than moved into a new release.
struct SiblingRelease {
    /// The member whose release frees the struct (`v4l2_dev`).
    var member: String
    /// That release (`usbtv_release`).
    var release: String
    /// The core's put of the member's type, when the tree has one (`v4l2_device_put`).
    var put: String?

    /// The release set in the driver's directory on a member of finding `f`'s struct (or
    /// of a struct it embeds) that frees the struct on every path; the first in file and
    /// line order.
    static func find(for f: Finding, _ ctx: AnalysisContext?) -> SiblingRelease? {
        guard let ctx, let file = ctx.index.fileByPath[f.file], let agg = ctx.resolver.aggregate(named: f.structName, from: file) else { return nil }
        let dir = String(TreeIndex.directory(of: f.file))
        // The struct itself (`x->v4l2_dev.release = f`), then the structs its members embed
        // (`x->vdev.dev.release = f`: the member path `vdev.dev`).
        var holders: [(AggregateID, String)] = [(agg, "")]
        for field in ctx.index.aggregate(agg).fields where !field.name.isEmpty {
            if let (inner, _) = ctx.closure.embeddedStruct(field: field.name, in: agg, resolver: ctx.resolver) { holders.append((inner, field.name + ".")) }
        }
        for (holder, prefix) in holders {
            for b in ctx.subsystems.driverReleases(for: holder, inDirectory: dir) where !b.member.isEmpty {
                let r = ReleaseAnalysis.summarize(b.function, resolver: ctx.resolver, summaries: ctx.summaries)
                guard r.freesContainer, pointsTo(agg, in: b.function, ctx) else { continue }
                let object = ctx.closure.embeddedStruct(field: b.member, in: holder, resolver: ctx.resolver)?.0
                return SiblingRelease(member: prefix + b.member, release: r.name, put: object.flatMap { put(of: $0, ctx) })
            }
        }
        return nil
    }

    /// Whether function `id` has a parameter or local that points to struct `agg` (the
    /// container its free is of).
    static func pointsTo(_ agg: AggregateID, in id: FunctionID, _ ctx: AnalysisContext) -> Bool {
        !RegisteredElsewhere.pointerRoots(to: agg, in: FunctionView(id: id, resolver: ctx.resolver), ctx: ctx).isEmpty
    }

    /// The exported put of objects of struct `agg`, by the kernel's naming (`v4l2_device_put`,
    /// `put_device`-style `put_NAME`): a function of one parameter pointing to it that drops
    /// a reference on it (`put_device()`, `kobject_put()`, `kref_put()` on the parameter or
    /// a member of it).
    static func put(of agg: AggregateID, _ ctx: AnalysisContext) -> String? {
        let name = ctx.index.aggregate(agg).name
        let drops = DriverCore.referencePuts.union(DriverCore.krefPuts)
        for n in [name + "_put", "put_" + name] where ctx.index.exported.contains(n) {
            for id in ctx.index.functionsByName[n] ?? [] {
                let fn = ctx.index.function(id)
                guard fn.params.count == 1, fn.params[0].type.isAggregateTag, fn.params[0].type.name == name,
                      fn.params[0].type.pointerDepth == 1 else { continue }
                let view = FunctionView(id: id, resolver: ctx.resolver)
                if view.effectiveCalls().contains(where: { c in
                    drops.contains(c.callee) && c.args.first.map { $0 >= 0 && view.derives(from: 0, $0) } == true
                }) { return n }
            }
        }
        return nil
    }

    /// The fix for a free of `s` that this release should do instead. On a probe's error
    /// path the labels below often undo what the release undoes, and a shared label may be
    /// reached before the member is set up: both are said.
    func fixText(_ s: String) -> String {
        let drop = put.map { "call \($0)() on \(member)" } ?? "drop the reference of \(member)"
        return "do not kfree() \(s) here: it already has a release that frees it, \(release)(), the release of its \(member); "
            + "once \(member) is set up, \(drop) instead and return, without undoing first anything \(release)() undoes again "
            + "(what it unregisters or frees); a path that reaches this kfree() before \(member) is set up (a shared error label) keeps it"
    }
}
