import Facts
import Indexing

/// A registration of a device-managed struct's refcounted member that happens in another
/// function of the driver (its file, or its directory's files), reached through something other than a parameter of the
/// allocating function (a list, an array walk, `container_of()`): found by type.
///
/// The allocating function's own calls and the summaries of its callees miss these, since
/// the pointer travels through data (`list_add_tail(&x->node, …)`, then
/// `list_first_entry()` elsewhere). The search takes the object's type as the link, which is
/// sound only when every instance of that type is the device-managed memory: the struct is
/// defined in the allocating `.c` file or in a header of its directory (so no file
/// elsewhere can hold one), every typed allocation of it in the tree is device-managed, and
/// those files have no instance of it of their own (a global, a local by value, a member by
/// value of another struct).
public enum RegisteredElsewhere {
    /// Where the struct `agg` (device-managed, allocated in `allocatedIn`) has its
    /// refcounted member registered in another function of the driver's files: that function,
    /// the access path of the pointer there, and the registration (publishing ones first).
    public static func find(_ agg: AggregateID, allocatedIn fid: FunctionID, ctx: AnalysisContext) -> (FunctionID, AccessPath, RegistrationSite)? {
        guard let files = driverFiles(of: agg, allocatedIn: fid, ctx: ctx) else { return nil }
        // The functions that name a pointer to the struct (by spelling first: cheap), before
        // the instances are looked for.
        let name = ctx.index.aggregate(agg).name
        // A pointer spelled `struct name *`, or through a typedef (resolved later).
        func mayPoint(_ t: TypeRef) -> Bool { t.pointerDepth == 1 && (t.kind == .named || (t.isAggregateTag && t.name == name)) }
        let named = files.flatMap { file in
            ctx.index.files[Int(file)].functions.indices.compactMap { k -> FunctionID? in
                let id = FunctionID(file: file, index: Int32(k))
                let fn = ctx.index.function(id)
                return id != fid && (fn.params.contains { mayPoint($0.type) } || fn.locals.contains { mayPoint($0.type) }) ? id : nil
            }
        }
        guard !named.isEmpty, everyInstanceIsDeviceManaged(agg, files: files, ctx: ctx) else { return nil }
        var fallback: (FunctionID, AccessPath, RegistrationSite)?
        for id in named {
            let view = FunctionView(id: id, resolver: ctx.resolver)
            for root in pointerRoots(to: agg, in: view, ctx: ctx) {
                let target = AccessPath(root: root, fields: [])
                guard let reg = Registration.find(in: view, target: target, allocated: agg, ctx: ctx) else { continue }
                if reg.publishes { return (id, target, reg) }
                if fallback == nil { fallback = (id, target, reg) }
            }
        }
        return fallback
    }

    /// The files that can hold instances of `agg`: the allocating `.c` file when the struct
    /// is defined there; the files of its directory when it is defined in a header of that
    /// directory (a driver's private header); nil for a struct of a shared header.
    static func driverFiles(of agg: AggregateID, allocatedIn fid: FunctionID, ctx: AnalysisContext) -> [Int32]? {
        let index = ctx.index
        let path = index.path(fid.file)
        guard path.hasSuffix(".c") else { return nil }
        if agg.file == fid.file { return [fid.file] }
        let header = index.path(agg.file), dir = TreeIndex.directory(of: path)
        guard header.hasSuffix(".h"), TreeIndex.directory(of: header) == dir, !dir.hasPrefix("include/") else { return nil }
        return (index.filesByDirectory[dir] ?? []).sorted()
    }

    /// Whether every instance of `agg` is device-managed memory: each typed allocation of
    /// it is, and `files` declare none by value (a global or a local of the struct, an
    /// array of them, or a member of another struct).
    static func everyInstanceIsDeviceManaged(_ agg: AggregateID, files: [Int32], ctx: AnalysisContext) -> Bool {
        let sites = ctx.allocations.byAggregate[agg] ?? []
        guard !sites.isEmpty, sites.allSatisfy({ ctx.allocations.sites[$0].isDeviceManaged }) else { return false }
        for file in files {
            let facts = ctx.index.files[Int(file)]
            func byValue(_ t: TypeRef) -> Bool {
                t.pointerDepth == 0 && !t.isFunctionPointer && ctx.resolver.aggregate(of: t, from: file) == agg
            }
            if facts.globals.contains(where: { byValue($0.type) }) { return false }
            for a in facts.aggregates where a.fields.contains(where: { byValue($0.type) }) { return false }
            for fn in facts.functions where fn.locals.contains(where: { byValue($0.type) }) { return false }
        }
        return true
    }

    /// The parameters and locals of `view` declared as pointers to `agg`.
    public static func pointerRoots(to agg: AggregateID, in view: FunctionView, ctx: AnalysisContext) -> [PathRoot] {
        func pointsTo(_ t: TypeRef) -> Bool {
            guard t.pointerDepth == 1, !t.isFunctionPointer, !t.isArray, let d = t.dereferenced else { return false }
            return ctx.resolver.aggregate(of: d, from: view.file) == agg
        }
        var roots: [PathRoot] = []
        for (k, p) in view.decl.params.enumerated() where pointsTo(p.type) { roots.append(.parameter(k)) }
        for l in view.decl.locals where pointsTo(l.type) { roots.append(.local(l.name)) }
        return roots
    }
}
