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

    /// Whether assigning `rhs` to a device's `slot` (`release`, `type` or `class`) can give
    /// it a release: false only for `&g` where `g` is a global whose initializer sets no
    /// release for the device (a `device_type` without `.release`, a class without
    /// `.dev_release`), or a class pointer that only `class_create()` fills. A function,
    /// an unknown or uninitialized global, anything else: true.
    public static func givesRelease(slot: String, rhs: Int32, in e: ExprTree, from file: Int32, resolver: Resolver) -> Bool {
        let field: String
        switch slot {
        case "type": field = "release"
        case "class": field = "dev_release"
        default: return true
        }
        let n = e[e.strippingCasts(rhs)]
        if slot == "class", n.kind == .identifier { return !createdWithoutRelease(class: e.text(n), from: file, resolver: resolver) }
        guard n.kind == .unary, e.text(n) == "&", e[n.a].kind == .identifier,
              let (g, _) = resolver.globalEntry(named: e.text(e[n.a]), from: file), !g.designated.isEmpty else { return true }
        return g.designated.contains { $0.path == field && !$0.value.isEmpty }
    }

    /// Whether the file-scope class pointer `name` only ever holds what `class_create()`
    /// returns (a class without `.dev_release`) and nothing in the tree sets its
    /// `dev_release`.
    static func createdWithoutRelease(class name: String, from file: Int32, resolver: Resolver) -> Bool {
        guard let g = resolver.global(named: name, from: file), g.type.pointerDepth == 1 else { return false }
        let index = resolver.index
        var created = false
        for id in index.callers(of: "class_create") {
            let fn = index.function(id)
            for a in fn.assignments where a.lhs >= 0 && fn.exprs[a.lhs].kind == .identifier && fn.exprs.text(at: a.lhs) == name {
                let r = fn.exprs[fn.exprs.strippingCasts(a.rhs)]
                guard r.kind == .call, fn.exprs.text(at: r.a) == "class_create" else { return false }
                created = true
            }
        }
        guard created else { return false }
        return !index.assignments(toMembers: ["dev_release"]).contains { ref in
            let fn = index.function(ref.function)
            let lhs = fn.exprs[fn.assignments[Int(ref.assignment)].lhs]
            guard lhs.a >= 0 else { return false }
            let base = fn.exprs.strippingCasts(lhs.a)
            return fn.exprs[base].kind == .identifier && fn.exprs.text(at: base) == name
        }
    }

    /// Whether a path root is a file-scope object, a local that only ever points into one
    /// (`led = &static_leds[i]` on every assignment), or a parameter of a file-local function
    /// whose every caller passes one (`register(&static_dev)`, up to two calls up).
    public static func isStaticStorage(_ root: PathRoot, view: FunctionView, resolver: Resolver, depth: Int = 0) -> Bool {
        func isStaticGlobal(_ g: String) -> Bool {
            resolver.global(named: g, from: view.file).map { $0.type.pointerDepth == 0 } ?? false
        }
        switch root {
        case .global(let g): return isStaticGlobal(g)
        case .parameter(let k): return depth < 2 && everyCallerPassesStatic(parameter: k, of: view, resolver: resolver, depth: depth)
        case .local(let name):
            let e = view.exprs
            let sources = view.decl.assignments.filter { $0.lhs >= 0 && e[$0.lhs].kind == .identifier && e.text(e[$0.lhs]) == name }
            return !sources.isEmpty && sources.allSatisfy { a in
                if isPerCPU(a.rhs, in: e) || isElementOfAddressList(a.rhs, in: e, view: view, resolver: resolver) { return true }
                guard let p = view.accessPath(a.rhs, expandAliases: false), case .global(let g) = p.root else { return false }
                return e[e.strippingCasts(a.rhs)].kind == .unary && isStaticGlobal(g)
            }
        }
    }

    /// Whether `node` is an element of a file-scope array of pointers whose initializer
    /// lists only addresses and nulls (`entry = entries[i]` with `entries[] = { &a, &b,
    /// NULL }`): each is the address of an object with static storage.
    static func isElementOfAddressList(_ node: Int32, in e: ExprTree, view: FunctionView, resolver: Resolver) -> Bool {
        let n = e[e.strippingCasts(node)]
        guard n.kind == .index, n.a >= 0, e[n.a].kind == .identifier,
              let g = resolver.global(named: e.text(e[n.a]), from: view.file) else { return false }
        return g.type.isArray && g.type.pointerDepth > 0 && !g.addressedObjects.isEmpty
    }

    /// Whether `node` is one CPU's instance of a per-CPU variable (static storage, defined
    /// with `DEFINE_PER_CPU()`): `&per_cpu(v, cpu)`, `per_cpu_ptr(&v, cpu)`,
    /// `this_cpu_ptr(&v)`, `raw_cpu_ptr(&v)`.
    static func isPerCPU(_ node: Int32, in e: ExprTree) -> Bool {
        var n = e[e.strippingCasts(node)]
        var viaAddress = false
        if n.kind == .unary, e.text(n) == "&" { n = e[e.strippingCasts(n.a)]; viaAddress = true }
        guard n.kind == .call, e[n.a].kind == .identifier else { return false }
        switch e.text(e[n.a]) {
        case "per_cpu": return viaAddress
        case "per_cpu_ptr", "this_cpu_ptr", "raw_cpu_ptr": return !viaAddress
        default: return false
        }
    }

    /// Whether `view`'s function is only called, from its own file (it is `static`, no
    /// initializer names it and no expression takes it as a value), at least once, and
    /// every call passes the address of a file-scope object, or static storage of the
    /// caller, as parameter `k`.
    static func everyCallerPassesStatic(parameter k: Int, of view: FunctionView, resolver: Resolver, depth: Int) -> Bool {
        let name = view.decl.name
        guard view.decl.isStatic else { return false }
        let file = resolver.index.files[Int(view.file)]
        if file.globals.contains(where: { g in g.designated.contains { mentions($0.value, name) } }) { return false }
        var calls = 0
        for fi in file.functions.indices {
            let e = file.functions[fi].exprs
            if takesAsValue(name, in: file.functions[fi]) { return false }
            let sites = file.functions[fi].calls.filter { $0.callee == name }
            guard !sites.isEmpty else { continue }
            let caller = FunctionView(id: FunctionID(file: view.file, index: Int32(fi)), resolver: resolver)
            for c in sites {
                let args = Array(e.arguments(c.node))
                guard k < args.count, let p = caller.accessPath(args[k], expandAliases: false), p.fields.isEmpty else { return false }
                let arg = e[e.strippingCasts(args[k])]
                switch p.root {
                case .global:
                    guard arg.kind == .unary, e.text(arg) == "&", isStaticStorage(p.root, view: caller, resolver: resolver) else { return false }
                case .parameter, .local:
                    guard arg.kind == .identifier, isStaticStorage(p.root, view: caller, resolver: resolver, depth: depth + 1) else { return false }
                }
                calls += 1
            }
        }
        return calls > 0
    }

    /// Whether `fn` uses `name` other than as the function a call calls: as an argument, an
    /// operand, an assigned or returned value (equal nodes are shared, so uses are found
    /// through the nodes that hold them, not by counting nodes).
    static func takesAsValue(_ name: String, in fn: FunctionDecl) -> Bool {
        let e = fn.exprs
        func isName(_ x: Int32) -> Bool { x >= 0 && Int(x) < e.nodeCount && e[x].kind == .identifier && e.text(e[x]) == name }
        for n in e.nodes {
            switch n.kind {
            case .call, .initList: if e.list(of: n).contains(where: isName) { return true }
            case .index, .binary, .assign: if isName(n.a) || isName(n.b) { return true }
            case .conditional: if isName(n.a) || isName(n.b) || isName(n.c) { return true }
            case .unary, .postfix, .cast, .sizeofExpr, .designated: if isName(n.a) { return true }
            default: break
            }
        }
        return fn.assignments.contains { isName($0.rhs) } || fn.returns.contains(where: isName)
    }

    /// Whether a function of `file` copies the file-scope object `name` (`kmemdup(&name, …)`,
    /// `memcpy(p, &name, …)`, `*p = name`): it is then a template for allocated objects.
    static func isCopied(_ name: String, in file: FileFacts) -> Bool {
        for fn in file.functions {
            let e = fn.exprs
            func names(_ x: Int32) -> Bool {
                let n = e[e.strippingCasts(x)]
                if n.kind == .identifier { return e.text(n) == name }
                return n.kind == .unary && e.text(n) == "&" && e[n.a].kind == .identifier && e.text(e[n.a]) == name
            }
            for c in fn.calls where ByteSearch.contains(c.callee, "memdup") || ByteSearch.contains(c.callee, "memcpy") {
                if e.arguments(c.node).contains(where: names) { return true }
            }
            if fn.assignments.contains(where: { a in
                let r = e[e.strippingCasts(a.rhs)]
                return r.kind == .identifier && e.text(r) == name
            }) { return true }
        }
        return false
    }

    /// Whether the designated `path` (`release`, `dev.release`) of an initializer of
    /// struct `agg` names the `release` member of a `struct device`: of `agg` itself, or
    /// of a device embedded along the path.
    static func isDeviceRelease(path: String, in agg: AggregateID, resolver: Resolver) -> Bool {
        var parts = path.split(separator: ".").map(String.init)
        guard parts.last == "release" else { return false }
        parts.removeLast()
        var current = agg
        for part in parts {
            guard let (ft, ff) = resolver.field(named: part, in: current), ft.pointerDepth == 0,
                  let next = resolver.aggregate(of: ft, from: ff) else { return false }
            current = next
        }
        return resolver.index.aggregate(current).name == "device"
    }

    /// Whether no object can get the class `global` of `file`: a static variable of a `.c`
    /// file that the driver core's class registration calls name (`class_register(&cls)`)
    /// and nothing else does: no `dev->class = &cls`, no `device_create(&cls, …)`, no
    /// initializer or macro naming it. Its release then never runs. (A class or type that
    /// nothing names at all is kept: it may be named where the facts do not look.)
    static func neverInstalled(_ global: GlobalDecl, in file: FileFacts) -> Bool {
        guard global.isStatic, file.path.hasSuffix(".c") else { return false }
        let name = global.name
        for g in file.globals where g.line != global.line || g.name != name {
            if g.designated.contains(where: { mentions($0.value, name) }) { return false }
        }
        var registrations = 0
        for m in file.macros {
            guard let n = registrationUses(name, in: m.exprs, roots: [m.root]) else { return false }
            registrations += n
        }
        for fn in file.functions {
            var roots = Array(fn.returns)
            for a in fn.assignments { roots.append(a.lhs); roots.append(a.rhs) }
            for t in fn.tests { roots.append(t.node) }
            for c in fn.calls { roots.append(c.target) }
            guard let n = registrationUses(name, in: fn.exprs, roots: roots) else { return false }
            registrations += n
        }
        return registrations > 0
    }

    /// How many class registration calls in `e` take `name` or `&name` as an argument, or
    /// nil when something else uses it: another node has one as an operand, or a root (a
    /// returned, assigned or tested value) is one.
    private static func registrationUses(_ name: String, in e: ExprTree, roots: [Int32]) -> Int? {
        var refs = Set<Int32>()
        for (i, n) in e.nodes.enumerated() where n.kind == .identifier && e.text(n) == name { refs.insert(Int32(i)) }
        guard !refs.isEmpty else { return 0 }
        for (i, n) in e.nodes.enumerated() where n.kind == .unary && refs.contains(n.a) && e.text(n) == "&" { refs.insert(Int32(i)) }
        if roots.contains(where: { refs.contains($0) }) { return nil }
        var registrations = 0
        for (i, n) in e.nodes.enumerated() where !refs.contains(Int32(i)) {
            let registers = n.kind == .call && DriverCore.classRegistrations.contains(e.text(at: n.a))
            var other = false, registered = false
            e.forEachChild(of: n) { c in
                guard refs.contains(c) else { return }
                if registers && c != n.a { registered = true } else { other = true }
            }
            if other { return nil }
            if registered { registrations += 1 }
        }
        return registrations
    }

    /// Whether `text` spells the identifier `name` (not as part of a longer one).
    private static func mentions(_ text: String, _ name: String) -> Bool {
        var rest = Substring(text)
        while let r = rest.range(of: name) {
            let before = r.lowerBound > rest.startIndex ? rest[rest.index(before: r.lowerBound)] : " "
            let after = r.upperBound < rest.endIndex ? rest[r.upperBound] : " "
            if !(before.isLetter || before.isNumber || before == "_") && !(after.isLetter || after.isNumber || after == "_") { return true }
            rest = rest[r.upperBound...]
        }
        return false
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
                // A release no object can reach never runs (only a class is registered alone).
                if t.name == "class", ReleaseCallbacks.neverInstalled(g, in: f) { continue }
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
        // A statically allocated device given its release in its initializer
        // (`static struct device bus = { .release = … }`, `.dev.release` of a
        // `platform_device`, arrays of them): on static objects only.
        for (fi, f) in index.files.enumerated() {
            for g in f.globals where g.type.pointerDepth == 0 && g.designated.contains(where: { $0.path.hasSuffix("release") }) {
                let (t, tf) = resolver.expandTypedef(g.type, from: Int32(fi))
                guard t.kind == .structType, ReleaseCallbacks.slots[t.name] == nil, let agg = resolver.aggregate(of: t, from: tf) else { continue }
                // A template copied into allocated memory gives its release to the copies.
                // (Read only for a global that installs one: it walks the file's functions.)
                var copied: Bool? = nil
                for v in g.designated where !v.value.isEmpty && ReleaseCallbacks.isDeviceRelease(path: v.path, in: agg, resolver: resolver) {
                    if copied == nil { copied = ReleaseCallbacks.isCopied(g.name, in: f) }
                    let template = copied == true
                    bind(v.value, from: Int32(fi), Evidence(file: f.path, line: v.line, message: "installed as .\(v.path) of struct \(t.name) \(g.name)\(template ? ", a template its file copies" : "")"),
                         isStatic: !template)
                }
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
