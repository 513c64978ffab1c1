/// A function installed as a release callback, with where it was installed.
public struct ReleaseCallback: Sendable {
    public var function: FunctionID
    public var bindings: [Evidence]
    public var summary: ReleaseSummary
}

/// Every release callback of the tree: `.release` of `struct device_type` and
/// `struct kobj_type` initializers, `.dev_release` of `struct class`, and assignments to
/// the `release` member of a `struct device`.
public struct ReleaseCallbacks: Sendable {
    public let callbacks: [ReleaseCallback]

    /// Which designated fields of which initializer types hold a release.
    static let slots: [String: Set<String>] = [
        "device_type": ["release"], "kobj_type": ["release"], "class": ["dev_release", "class_release"],
    ]

    public init(index: TreeIndex, resolver: Resolver, summaries: Summaries) {
        var bindings: [FunctionID: [Evidence]] = [:]
        func bind(_ name: String, from file: Int32, _ ev: Evidence) {
            guard let f = resolver.function(named: name, from: file) else { return }
            bindings[f, default: []].append(ev)
        }
        for (fi, f) in index.files.enumerated() {
            for g in f.globals where !g.designated.isEmpty {
                let (t, _) = resolver.expandTypedef(g.type, from: Int32(fi))
                guard t.kind == .structType, let wanted = ReleaseCallbacks.slots[t.name] else { continue }
                for v in g.designated where wanted.contains(v.path) && !v.value.isEmpty {
                    bind(v.value, from: Int32(fi), Evidence(file: f.path, line: v.line, message: "installed as .\(v.path) of struct \(t.name) \(g.name)"))
                }
            }
            for (ni, fn) in f.functions.enumerated() {
                let e = fn.exprs
                for a in fn.assignments where a.lhs >= 0 {
                    let lhs = e[a.lhs]
                    guard lhs.kind == .member, e.text(lhs) == "release" else { continue }
                    let rhs = e[e.strippingCasts(a.rhs)]
                    guard rhs.kind == .identifier else { continue }
                    let view = FunctionView(id: FunctionID(file: Int32(fi), index: Int32(ni)), resolver: resolver)
                    guard let (bt0, bf) = view.type(of: lhs.a) else { continue }
                    var bt = bt0
                    if lhs.b == 1, let d = bt.dereferenced { bt = d }
                    let (t, _) = resolver.expandTypedef(bt, from: bf)
                    guard t.kind == .structType, t.name == "device", t.pointerDepth == 0 else { continue }
                    bind(e.text(rhs), from: Int32(fi), Evidence(file: f.path, line: a.line, message: "installed by \(fn.name): \(e.render(a.lhs)) = \(e.text(rhs))"))
                }
            }
        }
        callbacks = bindings.keys.sorted().map { id in
            ReleaseCallback(function: id, bindings: bindings[id]!.sorted { ($0.file, $0.line) < ($1.file, $1.line) },
                            summary: ReleaseAnalysis.summarize(id, resolver: resolver, summaries: summaries))
        }
    }
}
