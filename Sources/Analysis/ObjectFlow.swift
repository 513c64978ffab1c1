import Facts
import Indexing

/// Where a device-managed object leaves the function that allocates it: functions that
/// return it (`return p;`, `return devm_kzalloc(…)`) or store it through an out-parameter
/// (`*pp = p;`), computed to a fixed point over callers that pass it on the same way. The
/// registration check follows such an object into the caller that registers it.
public struct ObjectFlow: Sendable {
    /// How a function hands out a device-managed object of a struct that embeds a core object.
    public struct Handout: Sendable, Hashable {
        /// The struct allocated.
        public var aggregate: AggregateID
        /// The devm allocator and the function that calls it.
        public var allocator: String
        public var allocatedIn: FunctionID
        /// Nil: the return value; else the out-parameter's index.
        public var outParameter: Int?
    }

    public private(set) var handouts: [FunctionID: [Handout]] = [:]
    /// Names of the functions in `handouts`, to test call sites quickly.
    public private(set) var names: Set<String> = []

    public init(index: TreeIndex, resolver: Resolver, allocations: Allocations, closure: EmbeddingClosure) {
        // 1. The allocating functions themselves.
        for site in allocations.sites where site.isDeviceManaged {
            guard let agg = site.aggregate, closure.embeddings[agg] != nil else { continue }
            let call = index.function(site.function).calls[site.call]
            let view = FunctionView(id: site.function, resolver: resolver)
            for k in ObjectFlow.leaves(view: view, call: call, target: site.target) {
                add(site.function, Handout(aggregate: agg, allocator: site.allocator, allocatedIn: site.function, outParameter: k), index: index)
            }
        }
        // 2. Callers that pass it on, to a fixed point (a few rounds: helpers nest shallowly).
        for _ in 0..<4 {
            var changed = false
            let current = handouts
            let currentNames = names
            for id in index.callers(ofAny: currentNames).functions {
                let fn = index.function(id)
                let view = FunctionView(id: id, resolver: resolver)
                for c in fn.calls where currentNames.contains(c.callee) {
                    guard let g = resolver.function(named: c.callee, from: id.file), g != id, let hs = current[g] else { continue }
                    for h in hs {
                        guard let (target, returned) = ObjectFlow.receiver(of: h, call: c, view: view) else { continue }
                        var site = c
                        site.isReturned = returned
                        for k in ObjectFlow.leaves(view: view, call: site, target: target) {
                            let nh = Handout(aggregate: h.aggregate, allocator: h.allocator, allocatedIn: h.allocatedIn, outParameter: k)
                            if !(handouts[id]?.contains(nh) ?? false), add(id, nh, index: index) { changed = true }
                        }
                    }
                }
            }
            if !changed { break }
        }
    }

    @discardableResult
    private mutating func add(_ id: FunctionID, _ h: Handout, index: TreeIndex) -> Bool {
        guard (handouts[id]?.count ?? 0) < 8, !(handouts[id]?.contains(h) ?? false) else { return false }
        handouts[id, default: []].append(h)
        names.insert(index.function(id).name)
        return true
    }

    /// Where the caller receives what `call` hands out: the access path of the variable it
    /// lands in, and whether the call's value is itself returned.
    public static func receiver(of h: Handout, call c: CallSite, view: FunctionView) -> (AccessPath?, Bool)? {
        if let k = h.outParameter {
            let args = Array(view.exprs.arguments(c.node))
            guard k < args.count else { return nil }
            let n = view.exprs[view.exprs.strippingCasts(args[k])]
            guard n.kind == .unary, view.exprs.text(n) == "&", let p = view.accessPath(n.a) else { return nil }
            return (p, false)
        }
        return (c.target >= 0 ? view.memberPath(c.target) : nil, c.isReturned)
    }

    /// How the value `call` produces (held in `target`) leaves the function: nil for the
    /// return value, k for out-parameter k.
    static func leaves(view: FunctionView, call: CallSite, target: AccessPath?) -> [Int?] {
        var out: [Int?] = []
        let e = view.exprs
        let fn = view.decl
        if call.isReturned { out.append(nil) }
        func outParameter(_ node: Int32) -> Int? {
            guard node >= 0 else { return nil }
            let t = e[e.strippingCasts(node)]
            guard t.kind == .unary, e.text(t) == "*", let p = view.accessPath(t.a, expandAliases: false), p.fields.isEmpty,
                  case .parameter(let k) = p.root else { return nil }
            return k
        }
        if let k = outParameter(call.target) { out.append(k) }
        guard let tp = target, case .local(let name) = tp.root, tp.fields.isEmpty else { return out }
        func isLocal(_ node: Int32) -> Bool {
            let n = e[e.strippingCasts(node)]
            return n.kind == .identifier && e.text(n) == name
        }
        if !out.contains(where: { $0 == nil }), fn.returns.contains(where: isLocal) { out.append(nil) }
        for a in fn.assignments where a.lhs >= 0 && a.rhs >= 0 && isLocal(a.rhs) {
            if let k = outParameter(a.lhs), !out.contains(where: { $0 == k }) { out.append(k) }
        }
        return out
    }
}
