import Facts
import Indexing

/// Structs that live in the private area of another refcounted object: memory allocated
/// with that object (`scsi_host_alloc(tmpl, sizeof(struct x))`, `alloc_netdev(sizeof(…))`)
/// and found through an accessor that returns the space past its struct
/// (`shost_priv()`: `return (void *)shost->hostdata;`). Such memory is freed when the owner's
/// last reference goes, whatever references the struct's own embedded objects still have.
///
/// Accessors are learned from their bodies, not from a list: a function of one parameter
/// pointing to a struct that returns, on every path, that struct's trailing array member
/// (`h->priv`, `&h->priv`) or an address past the struct (`h + 1`,
/// `(char *)h + ALIGN(sizeof(*h), …)`). An owner is dropped by a function whose summary
/// drops the reference of a device or kobject in it (`scsi_host_put()`: `put_device()`), or
/// frees it.
public struct PrivateAreas: Sendable {
    /// A struct type seen in an owner's private area: the owner, the accessor, and the first
    /// assignment (by function and line) that shows it.
    public struct Area: Sendable, Hashable {
        public var owner: AggregateID
        public var accessor: String
        public var function: FunctionID
        public var line: Int32
    }

    /// A function that drops an owner: its parameter that points to the owner, and the
    /// owner's struct type.
    public struct Drop: Sendable, Hashable {
        public var param: Int
        public var owner: AggregateID
    }

    /// Per accessor name: the owner struct type whose private area it returns.
    public private(set) var accessors: [String: AggregateID] = [:]
    /// Per struct type holding a refcounted object: where it was seen in a private area
    /// (the first assignment of each file, in file order).
    public private(set) var areas: [AggregateID: [Area]] = [:]
    /// Per function name: the owner it drops.
    public private(set) var drops: [String: Drop] = [:]

    public init(index: TreeIndex, resolver: Resolver, closure: EmbeddingClosure, summaries: Summaries) {
        findAccessors(index: index, resolver: resolver)
        guard !accessors.isEmpty else { return }
        findAreas(index: index, resolver: resolver, closure: closure)
        let owners = Set(areas.values.flatMap { $0.map(\.owner) })
        guard !owners.isEmpty else { return }
        findDrops(index: index, resolver: resolver, summaries: summaries, owners: owners)
    }

    /// Functions of one struct-pointer parameter whose every return is an address in the
    /// space past that struct.
    private mutating func findAccessors(index: TreeIndex, resolver: Resolver) {
        for (fi, file) in index.files.enumerated() {
            for fn in file.functions where fn.returnType.pointerDepth == 1 && fn.statementCount <= 2 {
                let params = fn.params
                guard params.count == 1, !fn.returns.isEmpty, params[0].type.pointerDepth == 1,
                      let owner = resolver.aggregate(of: params[0].type, from: Int32(fi)) else { continue }
                let last = index.aggregate(owner).fields.last
                let trailing = last.flatMap { $0.type.isArray && $0.type.pointerDepth == 0 ? $0.name : nil }
                let e = fn.exprs
                let name = params[0].name
                func isParam(_ k: Int32) -> Bool {
                    let n = e[e.strippingCasts(k)]
                    return n.kind == .identifier && e.text(n) == name
                }
                let all = fn.returns.allSatisfy { r in
                    var n = e[e.strippingCasts(r)]
                    if n.kind == .unary, e.text(n) == "&" { n = e[e.strippingCasts(n.a)] }
                    if n.kind == .index { n = e[e.strippingCasts(n.a)] }
                    switch n.kind {
                    case .member:
                        return n.b == 1 && trailing != nil && e.text(n) == trailing && isParam(n.a)
                    case .binary:
                        return e.text(n) == "+" && isParam(n.a)
                    default:
                        return false
                    }
                }
                if all, accessors[fn.name] == nil { accessors[fn.name] = owner }
            }
        }
    }

    /// `x = accessor(h)` with `x` a pointer to a struct that holds a refcounted object.
    private mutating func findAreas(index: TreeIndex, resolver: Resolver, closure: EmbeddingClosure) {
        for (name, owner) in accessors.sorted(by: { $0.key < $1.key }) {
            for id in index.callers(of: name) {
                let fn = index.function(id)
                var view: FunctionView?
                for a in fn.assignments where a.lhs >= 0 && a.rhs >= 0 {
                    let e = fn.exprs
                    let r = e[e.strippingCasts(a.rhs)]
                    guard r.kind == .call, e.text(at: r.a) == name else { continue }
                    let v = view ?? FunctionView(id: id, resolver: resolver)
                    view = v
                    guard let (t, f) = v.type(of: a.lhs), let d = t.dereferenced, t.pointerDepth == 1,
                          let x = resolver.aggregate(of: d, from: f), x != owner, closure.embeddings[x] != nil else { continue }
                    if areas[x]?.contains(where: { $0.function.file == id.file }) == true { continue }
                    areas[x, default: []].append(Area(owner: owner, accessor: name, function: id, line: a.line))
                }
            }
        }
    }

    /// Functions that drop the reference of an owner they are handed, or free it.
    private mutating func findDrops(index: TreeIndex, resolver: Resolver, summaries: Summaries, owners: Set<AggregateID>) {
        func owner(of g: FunctionID, param j: Int) -> AggregateID? {
            let params = index.function(g).params
            guard j < params.count, params[j].type.pointerDepth == 1,
                  let o = resolver.aggregate(of: params[j].type, from: g.file), owners.contains(o) else { return nil }
            return o
        }
        var found: [FunctionID: Drop] = [:]
        for (g, params) in summaries.frees {
            for j in params.sorted() { if let o = owner(of: g, param: j) { found[g] = found[g] ?? Drop(param: j, owner: o) } }
        }
        // Only a function that drops the owner's reference and does nothing else to it
        // (`scsi_host_put()`), not one that also unpublishes it (`scsi_remove_host()`).
        for (g, effects) in summaries.tearsDown where found[g] == nil {
            for (e, _) in effects.sorted(by: { $0.key < $1.key }) where e.path.count == 1 {
                guard let o = owner(of: g, param: e.param),
                      effects.filter({ $0.key.param == e.param }).allSatisfy({ Self.onlyPuts($0.value, from: g, summaries: summaries, resolver: resolver) }) else { continue }
                found[g] = Drop(param: e.param, owner: o)
                break
            }
        }
        for (g, drop) in found.sorted(by: { $0.key < $1.key }) {
            let name = index.function(g).name
            if drops[name] == nil { drops[name] = drop }
        }
    }

    /// Whether a teardown's evidence, followed through the functions it names (at most
    /// `depth` deep), is only a reference drop (`put_device()`, `kobject_put()`), never a
    /// call that unpublishes (`device_del()`, `device_unregister()`).
    ///
    /// A function on the way that also takes a reference (`get_device()`: `device_rename()`
    /// puts what it got) balances its put: no drop.
    public static func onlyPuts(_ evidence: EffectEvidence, from g: FunctionID, summaries: Summaries, resolver: Resolver, depth: Int = 6) -> Bool {
        if resolver.index.function(g).calls.contains(where: { DriverCore.plainGets.contains($0.callee) }) { return false }
        if DriverCore.referencePuts.contains(evidence.callee) { return true }
        guard depth > 0, let h = resolver.function(named: evidence.callee, from: g.file), h != g,
              let effects = summaries.tearsDown[h], !effects.isEmpty else { return false }
        return effects.values.allSatisfy { onlyPuts($0, from: h, summaries: summaries, resolver: resolver, depth: depth - 1) }
    }
}
