import Facts
import Indexing

/// One cross-function effect on parameters: what a call of the driver core's API does by
/// itself, and how a callee's effect becomes its caller's. Publish, teardown and free are
/// values of this type; a new cross-function fact is a new value, not a change to the
/// fixed point.
struct EffectRule<Value: Equatable & Sendable>: Sendable {
    /// Shown in timings and diagnostics.
    public var name: String
    /// The effects a flow has by itself (a driver-core call), added without limit.
    var direct: @Sendable (Summaries.Flow) -> [(ParamEffect, Value)]
    /// The caller's effect for the callee's effect `(key, value)` reached through `flow`.
    var through: @Sendable (Summaries.Flow, ParamEffect, Value) -> (ParamEffect, Value)?
    /// How a later value for a known key combines with the first.
    var merge: @Sendable (Value, Value) -> Value
    /// At most this many effects per function from callees.
    var limit: Int
    /// Whether `through` can give anything for this flow, whatever the callee's effect
    /// (used to find the functions that can have an effect before solving).
    var mayPass: @Sendable (Summaries.Flow) -> Bool = { _ in true }

    /// The rule without its values: what `EffectCandidates` needs.
    var shape: EffectShape {
        let direct = self.direct
        return EffectShape(hasDirect: { !direct($0).isEmpty }, mayPass: mayPass)
    }
}

/// Whether a flow has a rule's effect by itself, and whether a callee's effect can pass
/// through it to the caller.
struct EffectShape: Sendable {
    var hasDirect: @Sendable (Summaries.Flow) -> Bool
    var mayPass: @Sendable (Summaries.Flow) -> Bool
}

/// The worklist fixed point shared by every `EffectRule`: functions are visited in
/// `FunctionID` order, and a function whose effects change puts its callers on the next
/// round's list.
enum EffectFixedPoint {
    /// Parameter flows per function and the reverse call graph.
    struct Graph: Sendable {
        var flows: [FunctionID: [Summaries.Flow]] = [:]
        var callers: [FunctionID: Set<FunctionID>] = [:]

        mutating func add(_ id: FunctionID, _ list: [Summaries.Flow]) {
            flows[id] = list
            for f in list { if let t = f.callee { callers[t, default: []].insert(id) } }
        }
    }

    static let maxRounds = 64

    /// The effects of `rule` for every function, to a fixed point (or `maxRounds`).
    static func solve<Value>(_ rule: EffectRule<Value>, graph: Graph) -> [FunctionID: [ParamEffect: Value]] {
        var facts: [FunctionID: [ParamEffect: Value]] = [:]
        var work = Set(graph.flows.keys)
        var order = graph.flows.keys.sorted()
        var rounds = 0
        while !work.isEmpty && rounds < maxRounds {
            rounds += 1
            var next = Set<FunctionID>()
            for id in order where work.contains(id) {
                guard let list = graph.flows[id] else { continue }
                let before = facts[id] ?? [:]
                var mine = before
                for flow in list {
                    for (key, value) in rule.direct(flow) { mine[key] = mine[key].map { rule.merge($0, value) } ?? value }
                    guard let callee = flow.callee, callee != id else { continue }
                    for (e, v) in facts[callee] ?? [:] {
                        guard let (key, value) = rule.through(flow, e, v) else { continue }
                        if let old = mine[key] { mine[key] = rule.merge(old, value) }
                        else if mine.count < rule.limit { mine[key] = value }
                    }
                }
                if mine != before {
                    facts[id] = mine
                    next.formUnion(graph.callers[id] ?? [])
                }
            }
            work = next
            order = next.sorted()
        }
        return facts
    }
}

extension EffectRule where Value == PublishFact {
    /// Parameters that reach a publishing call (`device_add`, `cdev_add`, …) or one that
    /// initializes the object (`device_initialize`).
    static var publish: EffectRule<PublishFact> {
        EffectRule(name: "publish", direct: { flow in
            guard let args = DriverCore.publishers[flow.calleeName], args.contains(flow.argument) else { return [] }
            let effect = ParamEffect(param: flow.effect.param, path: DriverCore.objectPath(flow.calleeName, flow.effect.path))
            return [(effect, PublishFact(evidence: EffectEvidence(callee: flow.calleeName, line: flow.line),
                                              really: !DriverCore.initializers.contains(flow.calleeName)))]
        }, through: { flow, e, v in
            guard e.param == flow.argument else { return nil }
            return (Summaries.compose(flow.effect, e), PublishFact(evidence: EffectEvidence(callee: flow.calleeName, line: flow.line), really: v.really))
        }, merge: { old, new in PublishFact(evidence: old.evidence, really: old.really || new.really) }, limit: 64)
    }
}

extension EffectRule where Value == EffectEvidence {
    /// Parameters that reach a teardown call (`device_unregister`, `cdev_del`, …).
    static var teardown: EffectRule<EffectEvidence> {
        EffectRule(name: "teardown", direct: { flow in
            guard let args = DriverCore.teardowns[flow.calleeName], args.contains(flow.argument) else { return [] }
            let effect = ParamEffect(param: flow.effect.param, path: DriverCore.objectPath(flow.calleeName, flow.effect.path))
            return [(effect, EffectEvidence(callee: flow.calleeName, line: flow.line))]
        }, through: { flow, e, _ in
            e.param == flow.argument ? (Summaries.compose(flow.effect, e), EffectEvidence(callee: flow.calleeName, line: flow.line)) : nil
        }, merge: { old, _ in old }, limit: 64)
    }
}

extension EffectRule where Value == Bool {
    /// Parameters whose container is freed on every path (`kfree(container_of(p, …))`);
    /// the key's path is always empty.
    static var free: EffectRule<Bool> {
        EffectRule(name: "free", direct: { flow in
            guard flow.derived && !flow.conditional && flow.argument == 0 && DriverCore.frees.contains(flow.calleeName) else { return [] }
            return [(ParamEffect(param: flow.effect.param, path: []), true)]
        }, through: { flow, e, _ in
            flow.derived && !flow.conditional && e.param == flow.argument ? (ParamEffect(param: flow.effect.param, path: []), true) : nil
        }, merge: { old, _ in old }, limit: Int.max, mayPass: { $0.derived && !$0.conditional })
    }
}
