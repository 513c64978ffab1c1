import Facts
import Indexing

/// A function installed as a release callback, with where it was installed.
public struct ReleaseCallback: Sendable {
    public var function: FunctionID
    public var bindings: [Evidence]
    public var summary: ReleaseSummary
    /// Every object it is installed on is statically allocated (a file-scope variable).
    public var onlyStaticObjects: Bool
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

    /// Whether a path root is a file-scope object, or a local that only ever points into one
    /// (`led = &static_leds[i]` on every assignment).
    static func isStaticStorage(_ root: PathRoot, view: FunctionView, resolver: Resolver) -> Bool {
        func isStaticGlobal(_ g: String) -> Bool {
            resolver.global(named: g, from: view.file).map { $0.type.pointerDepth == 0 } ?? false
        }
        switch root {
        case .global(let g): return isStaticGlobal(g)
        case .parameter: return false
        case .local(let name):
            let e = view.exprs
            let sources = view.decl.assignments.filter { $0.lhs >= 0 && e[$0.lhs].kind == .identifier && e.text(e[$0.lhs]) == name }
            return !sources.isEmpty && sources.allSatisfy { a in
                guard let p = view.accessPath(a.rhs, expandAliases: false), case .global(let g) = p.root else { return false }
                return e[e.strippingCasts(a.rhs)].kind == .unary && isStaticGlobal(g)
            }
        }
    }

    public init(index: TreeIndex, resolver: Resolver, summaries: Summaries) {
        var bindings: [FunctionID: [Evidence]] = [:]
        var dynamic = Set<FunctionID>()
        func bind(_ name: String, from file: Int32, _ ev: Evidence, isStatic: Bool = false) {
            guard let f = resolver.function(named: name, from: file) else { return }
            bindings[f, default: []].append(ev)
            if !isStatic { dynamic.insert(f) }
        }
        // Releases installed through a type or class: which globals carry them, and whether
        // those types are ever installed on an object that is not a file-scope variable.
        var releasesOfGlobal: [String: [(String, Int32, Evidence)]] = [:]
        for (fi, f) in index.files.enumerated() {
            for g in f.globals where !g.designated.isEmpty {
                let (t, _) = resolver.expandTypedef(g.type, from: Int32(fi))
                guard t.kind == .structType, let wanted = ReleaseCallbacks.slots[t.name] else { continue }
                for v in g.designated where wanted.contains(v.path) && !v.value.isEmpty {
                    releasesOfGlobal[g.name, default: []].append((v.value, Int32(fi), Evidence(file: f.path, line: v.line, message: "installed as .\(v.path) of struct \(t.name) \(g.name)")))
                }
            }
        }
        var staticUse = Set<String>(), dynamicUse = Set<String>()
        MemberAssignments.forEach(to: ["class", "type"], index: index, resolver: resolver) { id, fn, view, a in
            let e = fn.exprs
            let r = e[e.strippingCasts(a.rhs)]
            guard r.kind == .unary, e.text(r) == "&", e[r.a].kind == .identifier else { return }
            let g = e.text(e[r.a])
            guard releasesOfGlobal[g] != nil else { return }
            if let p = view.memberPath(a.lhs), case .global(let obj) = p.root,
               resolver.global(named: obj, from: id.file).map({ $0.type.pointerDepth == 0 }) == true {
                staticUse.insert(g)
            } else {
                dynamicUse.insert(g)
            }
        }
        for g in releasesOfGlobal.keys.sorted() {
            for (name, file, ev) in releasesOfGlobal[g]! {
                bind(name, from: file, ev, isStatic: staticUse.contains(g) && !dynamicUse.contains(g))
            }
        }
        MemberAssignments.forEach(to: ["release"], index: index, resolver: resolver) { id, fn, view, a in
            let e = fn.exprs
            let lhs = e[a.lhs]
            let rhs = e[e.strippingCasts(a.rhs)]
            guard rhs.kind == .identifier else { return }
            guard let (bt0, bf) = view.type(of: lhs.a) else { return }
            var bt = bt0
            if lhs.b == 1, let d = bt.dereferenced { bt = d }
            let (t, _) = resolver.expandTypedef(bt, from: bf)
            guard t.kind == .structType, t.name == "device", t.pointerDepth == 0 else { return }
            let onGlobal = view.memberPath(a.lhs).map { ReleaseCallbacks.isStaticStorage($0.root, view: view, resolver: resolver) } ?? false
            bind(e.text(rhs), from: id.file, Evidence(file: index.path(id.file), line: a.line, message: "installed by \(fn.name): \(e.render(a.lhs)) = \(e.text(rhs))"),
                 isStatic: onGlobal)
        }
        callbacks = bindings.keys.sorted().map { id in
            ReleaseCallback(function: id, bindings: bindings[id]!.sorted { ($0.file, $0.line) < ($1.file, $1.line) },
                            summary: ReleaseAnalysis.summarize(id, resolver: resolver, summaries: summaries),
                            onlyStaticObjects: !dynamic.contains(id))
        }
    }
}
