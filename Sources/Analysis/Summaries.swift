import Facts
import Indexing

/// A parameter and a member path inside what it points to: `(0, [dev])` is `&arg0->dev`.
public struct ParamEffect: Sendable, Hashable, Comparable {
    public var param: Int
    public var path: [String]
    public init(param: Int, path: [String]) {
        self.param = param
        self.path = path
    }
    public static func < (a: ParamEffect, b: ParamEffect) -> Bool {
        (a.param, a.path.joined(separator: ".")) < (b.param, b.path.joined(separator: "."))
    }
}

/// Why a function has an effect: the call that produces it.
public struct EffectEvidence: Sendable, Hashable {
    public var callee: String
    public var line: Int32
}

/// What a function does with one of its parameters for one effect, with the evidence.
struct PublishFact: Sendable, Equatable {
    /// The first call found to have the effect.
    public var evidence: EffectEvidence
    /// It reaches a call that really publishes (`device_add`), not only one that
    /// initializes (`device_initialize`).
    var really: Bool
}

/// Per-function summaries, computed to a fixed point over the call graph:
/// which parameters reach the driver core's publishing calls (`device_add`, …) and
/// teardown calls (`device_unregister`, …), and which are freed on every path.
/// Each is an `EffectRule` run by the same fixed point (`EffectFixedPoint`).
public struct Summaries: Sendable {
    public private(set) var publishes: [FunctionID: [ParamEffect: EffectEvidence]] = [:]
    public private(set) var tearsDown: [FunctionID: [ParamEffect: EffectEvidence]] = [:]
    /// The subset of `publishes` that reaches a call that really publishes (`device_add`,
    /// `cdev_add`, `kobject_add`, …), not only one that initializes (`device_initialize`,
    /// `kobject_init`, and so `cdev_init`). Messages call only these "registration".
    public private(set) var reallyPublishes: [FunctionID: Set<ParamEffect>] = [:]
    /// Parameters whose container is freed unconditionally (`kfree(container_of(p, …))`).
    public private(set) var frees: [FunctionID: Set<Int>] = [:]
    /// Of those, the functions whose own body frees the parameter itself, unconditionally
    /// (`destroy(x)` ending in `kfree(x)`), and tears nothing down: a call of one is a free
    /// of its argument. A put (`kref_put()`) frees only with the last reference; a helper
    /// that also tears the object down frees it after its own teardown.
    public private(set) var freesItself: [FunctionID: Set<Int>] = [:]
    /// For each name, the called function-like macros (no function of the tree has their
    /// name) whose expansion can call it: every definition, up to three levels
    /// (`MacroTargets`). The edges of the call graph a call's spelled name does not show.
    public let macrosReaching: [String: [String]]

    /// A call from a function passing a parameter path as argument `argument`.
    struct Flow: Sendable {
        var calleeName: String
        var callee: FunctionID?
        var argument: Int
        var effect: ParamEffect
        var line: Int32
        var conditional: Bool
        /// The argument is (derived from) the parameter's container, for frees.
        var derived: Bool
        /// The call's index among the function's effective calls (flows read in several
        /// passes are put back in call order by it).
        var call: Int32 = 0
    }

    static let maxPath = 6

    /// One rule's fixed point, as a worker of `init` returns it.
    enum SolvedRule: Sendable {
        case publish([FunctionID: [ParamEffect: PublishFact]])
        case teardown([FunctionID: [ParamEffect: EffectEvidence]])
        case free([FunctionID: [ParamEffect: Bool]])
    }

    /// The caller's effect when its parameter path `outer` is passed where the callee has
    /// effect `inner`: the paths joined (normalized, at most `maxPath` steps).
    static func compose(_ outer: ParamEffect, _ inner: ParamEffect) -> ParamEffect {
        ParamEffect(param: outer.param, path: Array(normalize(outer.path + inner.path).prefix(maxPath)))
    }

    /// Cancels a member step followed by its "up" step: `[refcnt, ^refcnt, dev]` → `[dev]`.
    public static func normalize(_ path: [String]) -> [String] {
        var out: [String] = []
        for f in path {
            if f.hasPrefix("^"), let last = out.last, last == String(f.dropFirst()) { out.removeLast() } else { out.append(f) }
        }
        return out
    }

    static func normalize(_ p: AccessPath) -> AccessPath {
        AccessPath(root: p.root, fields: normalize(p.fields))
    }

    /// The parameter flows of the functions `ids` (those with any); with `only`, just those
    /// of calls whose callee it holds (a flow to any other function can never carry an
    /// effect), each tagged with its call's index among the function's effective calls.
    static func flows(of ids: [FunctionID], index: TreeIndex, resolver: Resolver,
                      only: (@Sendable (FunctionID, String) -> Bool)? = nil) -> [(FunctionID, [Flow])] {
        var out: [(FunctionID, [Flow])] = []
        for id in ids {
            let view = FunctionView(id: id, resolver: resolver)
            var list: [Flow] = []
            for (k, call) in view.effectiveCalls().enumerated() where !call.callee.isEmpty && only?(id, call.callee) ?? true {
                var calleeID: FunctionID?? = .none
                for (j, arg) in call.args.enumerated() where arg >= 0 {
                    var effect: ParamEffect?
                    if let p = view.accessPath(arg), case .parameter(let i) = p.root {
                        effect = ParamEffect(param: i, path: Array(p.fields.prefix(Summaries.maxPath)))
                    }
                    var derived = false
                    if let e = effect {
                        // The parameter, or a struct containing it (`container_of(p, T, m)`),
                        // or, passed on to a function, a struct embedded in it (`&p->kref`),
                        // whose container that function may free.
                        derived = e.path.allSatisfy { $0.hasPrefix("^") }
                            || (!DriverCore.frees.contains(call.callee) && view.isAddressOfMember(arg))
                    } else if let i = view.firstDerivedParameter(arg) {
                        effect = ParamEffect(param: i, path: []); derived = true
                    }
                    guard let eff = effect else { continue }
                    if calleeID == .none { calleeID = .some(resolver.function(named: call.callee, from: id.file)) }
                    list.append(Flow(calleeName: call.callee, callee: calleeID!, argument: j, effect: eff,
                                     line: call.site.line, conditional: call.site.isConditional, derived: derived, call: Int32(k)))
                }
            }
            if !list.isEmpty { out.append((id, list)) }
        }
        return out
    }

    /// `everyFunction` extracts the flows of every function instead of only those that can
    /// have an effect (`EffectCandidates`); the result is the same (a test checks it).
    public init(index: TreeIndex, resolver: Resolver, jobs: Int = 1, everyFunction: Bool = false) {
        var built = EffectFixedPoint.Graph()
        let shapes = [EffectRule.publish.shape, EffectRule.teardown.shape, EffectRule.free.shape]
        let callers = EffectCandidates.callersByName(index: index, jobs: jobs)
        macrosReaching = callers.macrosReaching
        let flows = everyFunction
            ? Summaries.flows(of: index.files.indices.flatMap { fi in
                index.files[fi].functions.indices.map { FunctionID(file: Int32(fi), index: Int32($0)) } }, index: index, resolver: resolver)
            : EffectCandidates.flows(index: index, shapes: shapes, callers: callers, jobs: jobs)
        // The driver core's own calls have exactly the effects of its table: their bodies,
        // where the tree has them (`device_add()` takes and drops a reference of its own),
        // are not summarized.
        for (id, list) in flows where !DriverCore.effectCalls.contains(index.function(id).name) { built.add(id, list) }
        let graph = built
        // The three rules are independent fixed points over the same graph: solved side by side.
        let solved = parallelMap(count: 3, jobs: jobs, makeState: { () }) { k, _ -> SolvedRule in
            switch k {
            case 0: .publish(EffectFixedPoint.solve(EffectRule.publish, graph: graph))
            case 1: .teardown(EffectFixedPoint.solve(EffectRule.teardown, graph: graph))
            default: .free(EffectFixedPoint.solve(EffectRule.free, graph: graph))
            }
        }
        for rule in solved {
            switch rule {
            case .publish(let all):
                for (id, facts) in all where !facts.isEmpty {
                    publishes[id] = facts.mapValues(\.evidence)
                    let really = Set(facts.filter(\.value.really).keys)
                    if !really.isEmpty { reallyPublishes[id] = really }
                }
            case .teardown(let all):
                for (id, facts) in all where !facts.isEmpty { tearsDown[id] = facts }
            case .free(let all):
                for (id, facts) in all where !facts.isEmpty { frees[id] = Set(facts.keys.map(\.param)) }
            }
        }
        for (g, params) in frees where tearsDown[g] == nil {
            let helper = FunctionView(id: g, resolver: resolver)
            for d in helper.effectiveCalls() where DriverCore.frees.contains(d.callee) && !d.site.isConditional {
                guard let a = d.args.first, a >= 0, let p = helper.accessPath(a), p.fields.isEmpty,
                      case .parameter(let k) = p.root, params.contains(k) else { continue }
                freesItself[g, default: []].insert(k)
            }
        }
    }
}
