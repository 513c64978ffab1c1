import Facts
import Indexing

/// Where an object reference starts: a parameter, a local or a global.
public enum PathRoot: Sendable, Hashable {
    case parameter(Int)
    case local(String)
    case global(String)
}

/// `&p->a.b` as root `p` and fields `[a, b]`; `p` alone has no fields.
public struct AccessPath: Sendable, Hashable {
    public var root: PathRoot
    public var fields: [String]

    public init(root: PathRoot, fields: [String]) {
        self.root = root
        self.fields = fields
    }
}

/// A call as the analyses see it: through function-like macros, with arguments as nodes of
/// the calling function's arena (-1 where a macro argument is not one of its parameters).
public struct EffectiveCall: Sendable {
    public var site: CallSite
    public var callee: String
    public var args: [Int32]
    /// The call's name as written, when a macro was expanded (`mtd_device_register`).
    public var writtenAs: String
}

/// One function in its file, with typing and path helpers over its expression arena.
public struct FunctionView {
    public let id: FunctionID
    public let decl: FunctionDecl
    public let file: Int32
    let resolver: Resolver
    /// The locals' assignments, worked out on first use (most views never expand a local).
    private let localFacts = LocalAssignmentFacts()

    /// Locals assigned exactly one access path (`dev = &adap->dev`; `NULL` aside), for alias expansion.
    var aliases: LocalAssignments.Aliases { LocalAssignments.Aliases(facts: localFacts.get(self)) }

    /// The right-hand sides assigned to each local (`x = rhs`), in source order.
    var localAssignments: LocalAssignments.Assigned { LocalAssignments.Assigned(facts: localFacts.get(self)) }

    public init(id: FunctionID, resolver: Resolver) {
        self.id = id
        self.decl = resolver.index.function(id)
        self.file = id.file
        self.resolver = resolver
    }

    public var exprs: ExprTree { decl.exprs }

    // MARK: - Paths

    /// How a message names the root of an access path: its parameter's or variable's name.
    public func rootName(_ root: PathRoot) -> String {
        switch root {
        case .parameter(let k):
            let params = Array(decl.params)
            return params.indices.contains(k) ? params[k].name : ""
        case .local(let n), .global(let n):
            return n
        }
    }

    /// The access path of an argument: `&p->a.b` → (p, [a, b]); `p` → (p, []);
    /// `container_of(x, T, m)` is not a path. Locals aliasing another path are expanded.
    public func accessPath(_ node: Int32, depth: Int = 0, expandAliases: Bool = true) -> AccessPath? {
        guard node >= 0, depth < 8 else { return nil }
        let e = exprs
        let n = e[e.strippingCasts(node)]
        switch n.kind {
        case .identifier:
            let name = e.text(n)
            if decl.locals.contains(where: { $0.name == name }) {
                if expandAliases, let alias = aliases[name], let p = accessPath(alias, depth: depth + 1) { return p }
                return AccessPath(root: .local(name), fields: [])
            }
            if let i = decl.params.firstIndex(where: { $0.name == name }) { return AccessPath(root: .parameter(i), fields: []) }
            return AccessPath(root: .global(name), fields: [])
        case .unary where e.text(n) == "&":
            return memberPath(n.a, depth: depth, expandAliases: expandAliases)
        case .call:
            // container_of(p, T, a.b): the object that contains *p, one "up" step per member.
            let call = e.strippingCasts(node)
            guard let (inner, member) = containerOfParts(call) else {
                if let p = accessorMacroPath(call, depth: depth, expandAliases: expandAliases) { return p }
                return expandAliases ? returnedPath(call, depth: depth) : nil
            }
            guard var p = accessPath(inner, depth: depth + 1, expandAliases: expandAliases) else { return nil }
            p.fields += member.reversed().map { "^" + $0 }
            return Summaries.normalize(p)
        case .member:
            // An array member of structs decays to the address of its first element
            // (`mbox = pdata->mboxes`): that member's path, as `&pdata->mboxes[0]` is.
            guard let (t, _) = type(of: e.strippingCasts(node)), t.isArray, t.pointerDepth == 0, t.isAggregateTag else { return nil }
            return memberPath(node, depth: depth, expandAliases: expandAliases)
        default:
            return nil
        }
    }

    /// `m(x)` where `m` is a macro giving the address of a member of one of its parameters
    /// (`#define idx_confdev(d) &d->core.conf_dev`): that member path of the argument.
    func accessorMacroPath(_ call: Int32, depth: Int, expandAliases: Bool) -> AccessPath? {
        let e = exprs
        let n = e[call]
        guard n.kind == .call, e[n.a].kind == .identifier, resolver.index.functionsByName[e.text(e[n.a])] == nil,
              let m = resolver.macro(named: e.text(e[n.a]), from: file), m.root >= 0 else { return nil }
        let body = m.exprs
        let root = body[m.root]
        guard root.kind == .unary, body.text(root) == "&" else { return nil }
        var fields: [String] = []
        var k = body.strippingCasts(root.a)
        while k >= 0, body[k].kind == .member {
            fields.append(body.text(body[k]))
            k = body.strippingCasts(body[k].a)
        }
        guard k >= 0, body[k].kind == .identifier, let param = m.params.firstIndex(of: body.text(body[k])) else { return nil }
        let args = Array(e.list(of: n))
        guard param < args.count, var p = accessPath(args[param], depth: depth + 1, expandAliases: expandAliases) else { return nil }
        p.fields += fields.reversed()
        return Summaries.normalize(p)
    }

    /// `f(x)` where every object `f` returns is one path of one of its parameters (`return
    /// &p->vdev;`, also through a local or `container_of`): that path of the argument, so
    /// `mtd_device_register(to_mtd(chip))` registers `chip`'s member. Error returns (`NULL`,
    /// a number, `ERR_PTR(…)`) return no object and are passed over. A path that still
    /// climbs out of the argument's object (`container_of` of a local that is no member
    /// path) is left opaque, as that macro is when used directly on such a local.
    func returnedPath(_ call: Int32, depth: Int) -> AccessPath? {
        let e = exprs
        let n = e[call]
        guard n.kind == .call, e[n.a].kind == .identifier,
              let id = resolver.function(named: e.text(e[n.a]), from: file), id != self.id else { return nil }
        guard let returned = resolver.returnedPaths.answer(for: id, { FunctionView(id: $0, resolver: resolver).returnedParameterPath() }) else { return nil }
        let args = Array(e.list(of: n))
        guard returned.param < args.count, var p = accessPath(args[returned.param], depth: depth + 1) else { return nil }
        p.fields += returned.fields
        p = Summaries.normalize(p)
        // A container the argument's path does not lead into stays opaque.
        return p.fields.contains(where: { $0.hasPrefix("^") }) ? nil : p
    }

    /// The parameter and path every object this function returns is (see `returnedPath`),
    /// or nil; only pointer-returning functions are read. Remembered per function by the
    /// resolver (`FunctionMemo`).
    private func returnedParameterPath() -> (param: Int, fields: [String])? {
        guard decl.returnType.dereferenced != nil, !decl.params.isEmpty else { return nil }
        let e = exprs
        var returned: (param: Int, fields: [String])?
        for r in decl.returns {
            let rn = e[e.strippingCasts(r)]
            if rn.kind == .number || e.isNullPointer(r) { continue }
            if rn.kind == .call, DriverCore.errorPointers.contains(e.text(at: rn.a)) { continue }
            guard let p = accessPath(r), case .parameter(let k) = p.root,
                  returned == nil || (returned!.param == k && returned!.fields == p.fields) else { return nil }
            returned = (k, p.fields)
        }
        return returned
    }

    /// The pointer argument and member chain of a direct `container_of(p, T, m)` call.
    func containerOfParts(_ node: Int32) -> (Int32, [String])? {
        let e = exprs
        let n = e[node]
        guard n.kind == .call, n.a >= 0, DriverCore.containerOf.contains(e.text(at: n.a)) else { return nil }
        let args = Array(e.list(of: n))
        guard args.count == 3 else { return nil }
        var chain: [String] = []
        var m = args[2]
        while m >= 0 {
            let mn = e[m]
            if mn.kind == .identifier { chain.insert(e.text(mn), at: 0); break }
            if mn.kind == .member { chain.insert(e.text(mn), at: 0); m = mn.a; continue }
            return nil
        }
        return chain.isEmpty ? nil : (args[0], chain)
    }

    /// `p->a.b` (without `&`) as a path, the object being the field itself.
    public func memberPath(_ node: Int32, depth: Int = 0, expandAliases: Bool = true) -> AccessPath? {
        guard node >= 0, depth < 8 else { return nil }
        let e = exprs
        let n = e[e.strippingCasts(node)]
        switch n.kind {
        case .member:
            // `a[i]->f`: the element is a pointer, so `f` lives in another object than `a`.
            if n.b == 1, e[n.a].kind == .index { return nil }
            guard var base = memberPath(n.a, depth: depth + 1, expandAliases: expandAliases) else { return nil }
            base.fields.append(e.text(n))
            return base
        case .index:
            return memberPath(n.a, depth: depth + 1, expandAliases: expandAliases)
        case .identifier:
            return accessPath(node, depth: depth + 1, expandAliases: expandAliases)
        case .unary where e.text(n) == "*":
            return accessPath(n.a, depth: depth + 1, expandAliases: expandAliases)
        case .call:
            // `container_of(k, T, m)->done`: the object a call's pointer points to.
            return accessPath(node, depth: depth + 1, expandAliases: expandAliases)
        default:
            return nil
        }
    }

    // MARK: - Calls

    /// The function's calls, with calls through single-call macros expanded.
    public func effectiveCalls() -> [EffectiveCall] {
        var out: [EffectiveCall] = []
        out.reserveCapacity(decl.calls.count)
        for c in decl.calls {
            let args = Array(exprs.arguments(c.node))
            if let (release, ref) = DriverCore.krefRelease(c, in: exprs) {
                // The release runs on the kref when the count drops to zero.
                out.append(EffectiveCall(site: c, callee: release, args: [ref], writtenAs: c.callee))
            }
            if c.callee.isEmpty || resolver.index.functionsByName[c.callee] != nil || DriverCore.publishers[c.callee] != nil {
                out.append(EffectiveCall(site: c, callee: c.callee, args: args, writtenAs: c.callee))
                continue
            }
            if let expanded = resolver.macroExpansion(of: c.callee, from: file) {
                out.append(EffectiveCall(site: c, callee: expanded.callee, args: expanded.arguments(args), writtenAs: c.callee))
            } else {
                out.append(EffectiveCall(site: c, callee: c.callee, args: args, writtenAs: c.callee))
            }
        }
        return out
    }

    // MARK: - Types

    /// The type of an expression and the file whose names it is spelled with.
    public func type(of node: Int32, depth: Int = 0) -> (TypeRef, Int32)? {
        guard node >= 0, depth < 16 else { return nil }
        let e = exprs
        let n = e[node]
        switch n.kind {
        case .identifier:
            let name = e.text(n)
            if let t = decl.declaredType(of: name) { return (t, file) }
            if let (g, f) = resolver.globalEntry(named: name, from: file) { return (g.type, f) }
            return nil
        case .member:
            guard let (baseType, baseFile) = type(of: n.a, depth: depth + 1) else { return nil }
            var bt = baseType
            if n.b == 1 { guard let d = bt.dereferenced else { return nil }; bt = d }
            guard let agg = resolver.aggregate(of: bt, from: baseFile) else { return nil }
            return field(named: e.text(n), in: agg)
        case .index:
            guard let (t, f) = type(of: n.a, depth: depth + 1), let d = t.dereferenced else { return nil }
            return (d, f)
        case .unary:
            let op = e.text(n)
            guard let (t, f) = type(of: n.a, depth: depth + 1) else { return nil }
            if op == "*" { return t.dereferenced.map { ($0, f) } }
            if op == "&" { var p = t; p.pointerDepth &+= 1; return (p, f) }
            return (t, f)
        case .cast:
            return (e.type(of: n), file)
        case .typeName:
            return (e.type(of: n), file)
        case .call:
            let callee = e[n.a]
            guard callee.kind == .identifier else { return nil }
            let name = e.text(callee)
            let args = Array(e.list(of: n))
            if DriverCore.containerOf.contains(name), args.count >= 2 {
                let tn = e[args[1]]
                if tn.kind == .typeName { var t = e.type(of: tn); t.pointerDepth &+= 1; return (t, file) }
                if tn.kind == .identifier { return (TypeRef(kind: .named, name: e.text(tn), pointerDepth: 1), file) }
                return nil
            }
            if let fid = resolver.function(named: name, from: file) {
                return (resolver.index.function(fid).returnType, fid.file)
            }
            if let m = resolver.macro(named: name, from: file) {
                // `to_foo(x)` defined as container_of(x, struct foo, m).
                let body = m.exprs
                let call = body[m.root]
                let calleeName = body.text(at: call.a)
                let bargs = Array(body.list(of: call))
                if DriverCore.containerOf.contains(calleeName), bargs.count >= 2 {
                    let tn = body[bargs[1]]
                    if tn.kind == .typeName { var t = body.type(of: tn); t.pointerDepth &+= 1; return (t, fileOfMacro(name)) }
                }
            }
            return nil
        case .conditional:
            return type(of: n.b, depth: depth + 1) ?? type(of: n.c, depth: depth + 1)
        case .assign:
            return type(of: n.a, depth: depth + 1)
        default:
            return nil
        }
    }

    private func fileOfMacro(_ name: String) -> Int32 {
        resolver.macroFile(named: name, from: file) ?? file
    }

    /// A field of an aggregate by name, looking through anonymous members.
    public func field(named name: String, in agg: AggregateID) -> (TypeRef, Int32)? {
        resolver.field(named: name, in: agg)
    }

    /// Whether a call site's result is a container of its first argument: `container_of(p,…)`,
    /// or a helper/macro that returns one (`to_i2c_adapter(dev)`).
    func isContainerOf(_ node: Int32) -> Bool {
        let e = exprs
        let n = e[e.strippingCasts(node)]
        guard n.kind == .call, n.a >= 0 else { return false }
        let name = e.text(at: n.a)
        if DriverCore.containerOf.contains(name) { return true }
        if let m = resolver.macro(named: name, from: file) {
            return DriverCore.containerOf.contains(m.exprs.text(at: m.exprs[m.root].a))
        }
        if let fid = resolver.function(named: name, from: file) {
            let f = resolver.index.function(fid)
            if f.statementCount <= 2, let r = f.returns.first {
                let rn = f.exprs[f.exprs.strippingCasts(r)]
                if rn.kind == .call, DriverCore.containerOf.contains(f.exprs.text(at: rn.a)) { return true }
            }
        }
        return false
    }

    /// Whether `node` refers to the object that parameter `param` points into: the parameter
    /// itself, `container_of(param, …)`, a helper/macro doing that, or a local holding one.
    public func derives(from param: Int, _ node: Int32) -> Bool {
        derivedParameters(node).contains(param)
    }

    /// The struct a parameter or local root points to (`struct foo *p`), if it is one.
    public func pointedAggregate(of root: PathRoot) -> AggregateID? {
        let type: TypeRef?
        switch root {
        case .parameter(let k): type = decl.params.indices.contains(k) ? decl.params[k].type : nil
        case .local(let n): type = decl.declaredType(of: n)
        case .global: type = nil
        }
        guard let t = type, t.pointerDepth == 1, let d = t.dereferenced else { return nil }
        return resolver.aggregate(of: d, from: file)
    }

    /// The struct an expression points to, or into: the type a pointer points to, or the
    /// container of an embedded member whose address it takes (`&x->kref`: `x`'s struct).
    public func pointedAggregate(ofExpression node: Int32) -> AggregateID? {
        if isAddressOfMember(node) {
            let member = exprs[exprs[exprs.strippingCasts(node)].a]
            guard let (t, f) = type(of: member.a) else { return nil }
            return resolver.aggregate(of: member.b == 1 ? (t.dereferenced ?? t) : t, from: f)
        }
        guard let (t, f) = type(of: node), t.pointerDepth == 1, let d = t.dereferenced else { return nil }
        return resolver.aggregate(of: d, from: f)
    }

    /// Whether `call` frees (the object its) argument `j` (points into): `kfree()` and the
    /// other frees of the first argument, or a function whose summary frees that parameter
    /// on every path.
    public func frees(_ call: EffectiveCall, argument j: Int, summaries: Summaries) -> Bool {
        if j == 0 && DriverCore.frees.contains(call.callee) { return true }
        guard !call.callee.isEmpty, let g = resolver.function(named: call.callee, from: file) else { return false }
        return summaries.frees[g]?.contains(j) == true
    }

    /// Whether `node` is `&x->m` or `&x.m`: a struct embedded in another, not a pointer
    /// stored in it.
    func isAddressOfMember(_ node: Int32) -> Bool {
        let n = exprs[exprs.strippingCasts(node)]
        return n.kind == .unary && exprs.text(n) == "&" && exprs[n.a].kind == .member
    }

    /// The first parameter (in declaration order) that `node` derives from, if any.
    func firstDerivedParameter(_ node: Int32) -> Int? {
        derivedParameters(node).min()
    }

    /// Every parameter `node` refers into (see `derives(from:_:)`), in one walk.
    func derivedParameters(_ node: Int32, depth: Int = 0) -> Set<Int> {
        guard node >= 0, depth < 6 else { return [] }
        let e = exprs
        let n = e[e.strippingCasts(node)]
        switch n.kind {
        case .identifier:
            let name = e.text(n)
            if let rhs = localAssignments[name] {
                // Any assignment of this local from something derived from the parameter.
                var out = Set<Int>()
                for r in rhs { out.formUnion(derivedParameters(r, depth: depth + 1)) }
                return out
            }
            if decl.locals.contains(where: { $0.name == name }) { return [] }
            return decl.params.firstIndex(where: { $0.name == name }).map { [$0] } ?? []
        case .call:
            let args = e.list(of: n)
            guard let first = args.first else { return [] }
            if isContainerOf(e.strippingCasts(node)) { return derivedParameters(first, depth: depth + 1) }
            // dev_get_drvdata(dev) and friends: the driver data of the object.
            let name = e.text(at: n.a)
            if name.hasSuffix("_get_drvdata") || name == "dev_get_drvdata" { return derivedParameters(first, depth: depth + 1) }
            return []
        case .member:
            // &x->member or x->member where x derives: a sub-object, still inside.
            return []
        case .unary where e.text(n) == "&":
            if let p = memberPath(n.a), case .parameter(let k) = p.root { return [k] }
            return []
        default:
            return []
        }
    }
}

/// What a function's assignments to its locals say, compactly (kept for every function a
/// run views): the locals assigned, each with its right-hand sides in source order and
/// the one path it aliases, if any.
struct LocalAssignments: Sendable {
    /// The locals assigned, in order of first assignment.
    private var names: [String] = []
    /// Per local: the node it aliases, or -1.
    private var aliasNodes: [Int32] = []
    /// Per local `k`: its right-hand sides are `rhs[starts[k]..<starts[k + 1]]`.
    private var starts: [Int32] = []
    private var rhs: [Int32] = []

    init(order: [String], aliases: [String: Int32], assigned: [String: [Int32]]) {
        guard !order.isEmpty else { return }
        names = order
        aliasNodes = order.map { aliases[$0] ?? -1 }
        starts.reserveCapacity(order.count + 1)
        for name in order {
            starts.append(Int32(rhs.count))
            rhs.append(contentsOf: assigned[name] ?? [])
        }
        starts.append(Int32(rhs.count))
    }

    private func slot(_ name: String) -> Int? { names.firstIndex(of: name) }

    /// Locals assigned exactly one access path: the node of that path.
    struct Aliases {
        let facts: LocalAssignments
        subscript(name: String) -> Int32? {
            guard let k = facts.slot(name), facts.aliasNodes[k] >= 0 else { return nil }
            return facts.aliasNodes[k]
        }
    }

    /// The right-hand sides assigned to each local, in source order.
    struct Assigned {
        let facts: LocalAssignments
        subscript(name: String) -> ArraySlice<Int32>? {
            guard let k = facts.slot(name) else { return nil }
            return facts.rhs[Int(facts.starts[k])..<Int(facts.starts[k + 1])]
        }
    }
}

/// `LocalAssignments` for `FunctionView`: worked out once per function for the whole run
/// (views of one function are made in several passes), kept by the view when first asked
/// (a view belongs to one thread).
final class LocalAssignmentFacts {
    private var known: LocalAssignments?

    func get(_ view: FunctionView) -> LocalAssignments {
        if let known { return known }
        let decl = view.decl
        let found = view.resolver.index.sharedAnswers(LocalAssignments.self).get(view.id) { _ in Self.make(decl) }
        known = found
        return found
    }

    private static func make(_ decl: FunctionDecl) -> LocalAssignments {
        var aliases: [String: Int32] = [:]
        var assigned: [String: [Int32]] = [:]
        var conflicted = Set<String>()
        var order: [String] = []
        let e = decl.exprs
        let localNames = Set(decl.locals.map(\.name))
        for a in decl.assignments {
            guard a.lhs >= 0 else { continue }
            let lhs = e[a.lhs]
            guard lhs.kind == .identifier else { continue }
            let name = e.text(lhs)
            guard localNames.contains(name) else { continue }
            if assigned[name] == nil { order.append(name) }
            assigned[name, default: []].append(a.rhs)
            // Already two different paths: no later assignment can make it an alias again.
            if conflicted.contains(name) { continue }
            let rhs = e.strippingCasts(a.rhs)
            guard rhs >= 0 else { continue }
            let k = e[rhs].kind
            guard k == .unary || k == .identifier || k == .call || k == .member else { continue }
            // `dev = NULL` (a declaration's initializer, a reset) names no object: the
            // local stands for the one path it is otherwise given.
            if e.isNullPointer(rhs) { continue }
            if let old = aliases[name], e.render(old) != e.render(rhs) { conflicted.insert(name) }
            aliases[name] = rhs
        }
        for c in conflicted { aliases.removeValue(forKey: c) }
        return LocalAssignments(order: order, aliases: aliases, assigned: assigned)
    }
}
