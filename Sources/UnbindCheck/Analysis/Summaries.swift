/// A parameter and a member path inside what it points to: `(0, [dev])` is `&arg0->dev`.
public struct ParamEffect: Sendable, Hashable, Comparable {
    public var param: Int
    public var path: [String]
    public static func < (a: ParamEffect, b: ParamEffect) -> Bool {
        (a.param, a.path.joined(separator: ".")) < (b.param, b.path.joined(separator: "."))
    }
}

/// Why a function has an effect: the call that produces it.
public struct EffectEvidence: Sendable, Hashable {
    public var callee: String
    public var line: Int32
}

/// Per-function summaries, computed to a fixed point over the call graph:
/// which parameters reach the driver core's publishing calls (`device_add`, …) and
/// teardown calls (`device_unregister`, …), and which are freed on every path.
public struct Summaries: Sendable {
    public private(set) var publishes: [FunctionID: [ParamEffect: EffectEvidence]] = [:]
    public private(set) var tearsDown: [FunctionID: [ParamEffect: EffectEvidence]] = [:]
    /// The subset of `publishes` that reaches a call that really publishes (`device_add`,
    /// `cdev_add`, `kobject_add`, …), not only one that initializes (`device_initialize`,
    /// `kobject_init`, and so `cdev_init`). Messages call only these "registration".
    public private(set) var reallyPublishes: [FunctionID: Set<ParamEffect>] = [:]
    /// Parameters whose container is freed unconditionally (`kfree(container_of(p, …))`).
    public private(set) var frees: [FunctionID: Set<Int>] = [:]

    /// A call from a function passing a parameter path as argument `argument`.
    struct Flow {
        var calleeName: String
        var callee: FunctionID?
        var argument: Int
        var effect: ParamEffect
        var line: Int32
        var conditional: Bool
        /// The argument is (derived from) the parameter's container, for frees.
        var derived: Bool
    }

    static let maxPath = 6

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

    /// The parameter flows of every function of one file.
    static func flows(file fi: Int32, index: TreeIndex, resolver: Resolver) -> [(FunctionID, [Flow])] {
        var out: [(FunctionID, [Flow])] = []
        for (ni, fn) in index.files[Int(fi)].functions.enumerated() where !fn.params.isEmpty && !fn.calls.isEmpty {
            let id = FunctionID(file: fi, index: Int32(ni))
            let view = FunctionView(id: id, resolver: resolver)
            var list: [Flow] = []
            for call in view.effectiveCalls() where !call.callee.isEmpty {
                var calleeID: FunctionID?? = .none
                for (j, arg) in call.args.enumerated() where arg >= 0 {
                    var effect: ParamEffect?
                    if let p = view.accessPath(arg), case .parameter(let i) = p.root {
                        effect = ParamEffect(param: i, path: Array(p.fields.prefix(Summaries.maxPath)))
                    }
                    var derived = false
                    if effect == nil {
                        for i in fn.params.indices where view.derives(from: i, arg) {
                            effect = ParamEffect(param: i, path: []); derived = true; break
                        }
                    } else if effect!.path.isEmpty { derived = true }
                    guard let eff = effect else { continue }
                    if calleeID == .none { calleeID = .some(resolver.function(named: call.callee, from: id.file)) }
                    list.append(Flow(calleeName: call.callee, callee: calleeID!, argument: j, effect: eff,
                                     line: call.site.line, conditional: call.site.isConditional, derived: derived))
                }
            }
            if !list.isEmpty { out.append((id, list)) }
        }
        return out
    }

    public init(index: TreeIndex, resolver: Resolver, jobs: Int = 1) {
        // Flows are independent per function: extract them in parallel, one resolver (and
        // its caches) per worker, and merge in file order.
        let perFile = parallelMap(count: index.files.count, jobs: jobs, makeState: { Resolver(index: index) }) { fi, workerResolver in
            Summaries.flows(file: Int32(fi), index: index, resolver: workerResolver)
        }
        var flows: [FunctionID: [Flow]] = [:]
        var callers: [FunctionID: Set<FunctionID>] = [:]
        for fileFlows in perFile {
            for (id, list) in fileFlows {
                flows[id] = list
                for f in list { if let t = f.callee { callers[t, default: []].insert(id) } }
            }
        }
        // Fixed point with a worklist over callers.
        var work = Set(flows.keys)
        var order = flows.keys.sorted()
        var rounds = 0
        while !work.isEmpty && rounds < 64 {
            rounds += 1
            var next = Set<FunctionID>()
            for id in order where work.contains(id) {
                guard let list = flows[id] else { continue }
                var pub = publishes[id] ?? [:]
                var tear = tearsDown[id] ?? [:]
                var fr = frees[id] ?? []
                var real = reallyPublishes[id] ?? []
                let before = (pub.count, tear.count, fr.count, real.count)
                for flow in list {
                    let ev = EffectEvidence(callee: flow.calleeName, line: flow.line)
                    if let args = DriverCore.publishers[flow.calleeName], args.contains(flow.argument) {
                        let eff = ParamEffect(param: flow.effect.param, path: DriverCore.objectPath(flow.calleeName, flow.effect.path))
                        if pub[eff] == nil { pub[eff] = ev }
                        if !DriverCore.initializers.contains(flow.calleeName) { real.insert(eff) }
                    }
                    if let args = DriverCore.teardowns[flow.calleeName], args.contains(flow.argument) {
                        let eff = ParamEffect(param: flow.effect.param, path: DriverCore.objectPath(flow.calleeName, flow.effect.path))
                        if tear[eff] == nil { tear[eff] = ev }
                    }
                    if flow.derived && !flow.conditional && flow.argument == 0 && DriverCore.frees.contains(flow.calleeName) {
                        fr.insert(flow.effect.param)
                    }
                    guard let callee = flow.callee, callee != id else { continue }
                    for (e, _) in publishes[callee] ?? [:] where e.param == flow.argument {
                        let eff = ParamEffect(param: flow.effect.param, path: Array(Summaries.normalize(flow.effect.path + e.path).prefix(Summaries.maxPath)))
                        if pub[eff] == nil && pub.count < 64 { pub[eff] = ev }
                        if pub[eff] != nil, reallyPublishes[callee]?.contains(e) == true { real.insert(eff) }
                    }
                    for (e, _) in tearsDown[callee] ?? [:] where e.param == flow.argument {
                        let eff = ParamEffect(param: flow.effect.param, path: Array(Summaries.normalize(flow.effect.path + e.path).prefix(Summaries.maxPath)))
                        if tear[eff] == nil && tear.count < 64 { tear[eff] = ev }
                    }
                    if flow.derived && !flow.conditional, frees[callee]?.contains(flow.argument) == true {
                        fr.insert(flow.effect.param)
                    }
                }
                if (pub.count, tear.count, fr.count, real.count) != before {
                    publishes[id] = pub
                    reallyPublishes[id] = real
                    tearsDown[id] = tear
                    frees[id] = fr
                    next.formUnion(callers[id] ?? [])
                }
            }
            work = next
            order = next.sorted()
        }
    }
}
