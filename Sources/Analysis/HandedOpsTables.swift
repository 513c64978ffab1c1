import Facts
import Indexing

/// Publication deferred to a callback: a core handed an object together with an ops table
/// (`snd_device_new(card, type, obj, &ops)`) calls one of the table's slots later
/// (`.dev_register`), and that slot registers the object's refcounted member. The object
/// travels through the core's data (`device->device_data`), so the link is the object's
/// type: a slot that registers a member of a pointer to the same struct registers this one.
///
/// Read where the allocating function hands the object itself to such a call, or hands it
/// to a callee that does so with its parameter (`snd_compress_new()` → `snd_device_new()`).
public enum HandedOpsTables {
    /// A member path inside an object that a slot registers, and whether the slot's call
    /// really publishes it (`device_add()`) or only initializes it.
    public struct Deferred: Sendable, Equatable {
        public var path: [String]
        public var publishes: Bool
        /// The call, table and slot: `x_new() with x_ops, whose .add, x_add(), registers it`.
        public var through = ""
    }

    static let maxSlots = 32

    /// The member paths of an object of struct `agg`, handed itself as argument `argument`
    /// of `call` in `view`, that a slot of an ops table handed to the same call registers;
    /// with `depth` 0, also those of a call in the callee that hands its parameter on so.
    public static func deferred(_ call: EffectiveCall, argument: Int, object agg: AggregateID, in view: FunctionView,
                                ctx: AnalysisContext, depth: Int = 0) -> [Deferred] {
        var out: [Deferred] = []
        for (k, arg) in call.args.enumerated() where k != argument && arg >= 0 {
            guard let table = slotFunctions(of: arg, in: view, ctx: ctx) else { continue }
            for (slot, f) in table.slots where f != view.id {
                let slotName = ctx.index.function(f).name
                for var d in registrations(in: f, of: agg, ctx: ctx) {
                    d.through = "\(call.writtenAs)() is handed it with \(table.name), whose .\(slot) slot (\(slotName)()) registers it later"
                    out.append(d)
                }
            }
        }
        guard depth == 0, out.isEmpty, let g = ctx.resolver.function(named: call.callee, from: view.file), g != view.id else { return out }
        let inner = FunctionView(id: g, resolver: ctx.resolver)
        guard argument < inner.decl.params.count else { return out }
        for c in inner.effectiveCalls() where !c.callee.isEmpty {
            for (j, a) in c.args.enumerated() where a >= 0 {
                guard let p = inner.accessPath(a), p.root == .parameter(argument), p.fields.isEmpty else { continue }
                for var d in deferred(c, argument: j, object: agg, in: inner, ctx: ctx, depth: depth + 1) {
                    d.through = "in \(inner.decl.name)(), " + d.through
                    out.append(d)
                }
            }
        }
        return out
    }

    /// The ops table `arg` names (`&ops` or `ops`), with the functions its slots name: a
    /// local initialized from a brace list (`static const struct x_ops ops = { … }` in the
    /// function), or a global with designated fields.
    static func slotFunctions(of arg: Int32, in view: FunctionView, ctx: AnalysisContext) -> (name: String, slots: [(String, FunctionID)])? {
        let e = view.exprs
        var n = e[e.strippingCasts(arg)]
        if n.kind == .unary && e.text(n) == "&" { n = e[n.a] }
        guard n.kind == .identifier else { return nil }
        let name = e.text(n)
        var named: [(slot: String, value: String)] = []
        if view.decl.locals.contains(where: { $0.name == name }) {
            for rhs in view.localAssignments[name] ?? [] where e[rhs].kind == .initList { collectSlots(rhs, e, into: &named) }
        } else if view.decl.params.allSatisfy({ $0.name != name }), let g = ctx.resolver.global(named: name, from: view.file) {
            named = g.designated.map { ($0.path, $0.value.hasPrefix("&") ? String($0.value.dropFirst()) : $0.value) }
        }
        var slots: [(String, FunctionID)] = []
        for (slot, value) in named.prefix(maxSlots) where !value.isEmpty {
            if let f = ctx.resolver.function(named: value, from: view.file), !slots.contains(where: { $0.1 == f }) { slots.append((slot, f)) }
        }
        return slots.isEmpty ? nil : (name, slots)
    }

    /// The designated fields of a brace list whose values are identifiers, nested lists
    /// included (`.ops = { .open = f }` gives `open`, `f`).
    private static func collectSlots(_ list: Int32, _ e: ExprTree, into out: inout [(slot: String, value: String)], depth: Int = 0) {
        guard depth < 4 else { return }
        for item in e.list(of: e[list]) where item >= 0 {
            guard e[item].kind == .designated else { continue }
            let slot = e.text(e[item])
            var at = e[item].a
            guard at >= 0 else { continue }
            at = e.strippingCasts(at)
            if e[at].kind == .unary && e.text(e[at]) == "&" { at = e[at].a }
            guard at >= 0 else { continue }
            if e[at].kind == .identifier { out.append((slot, e.text(e[at]))) }
            else if e[at].kind == .initList { collectSlots(at, e, into: &out, depth: depth + 1) }
        }
    }

    /// What `slot` registers of a pointer to struct `agg` it holds (a parameter, or a local
    /// such as `compr = device->device_data`): the member paths its publishing calls reach.
    static func registrations(in slot: FunctionID, of agg: AggregateID, ctx: AnalysisContext) -> [Deferred] {
        let view = FunctionView(id: slot, resolver: ctx.resolver)
        let roots = Set(RegisteredElsewhere.pointerRoots(to: agg, in: view, ctx: ctx))
        guard !roots.isEmpty else { return [] }
        var out: [Deferred] = []
        for c in view.effectiveCalls() where !c.callee.isEmpty {
            for (k, arg) in c.args.enumerated() where arg >= 0 {
                guard let p = view.accessPath(arg, expandAliases: false), !p.fields.isEmpty, roots.contains(p.root) else { continue }
                let g = ctx.resolver.function(named: c.callee, from: slot.file)
                for r in Registration.publishedPaths(c.callee, resolved: g, argument: k, rest: p.fields, ctx: ctx) {
                    out.append(Deferred(path: r.path, publishes: r.publishes))
                }
            }
        }
        return out
    }
}
