import Facts
import Indexing

/// An allocation call with the type it allocates, as far as it could be resolved.
public struct AllocationSite: Sendable, Hashable {
    /// How the allocated type was found.
    public enum Typing: String, Sendable {
        case sizeofType = "sizeof(type)"
        case sizeofExpression = "sizeof(expr)"
        case structSize = "struct_size"
        case source = "source object"
        case cast
        case target = "assignment target"
        case returnType = "return type"
        case untyped
    }
    public var function: FunctionID
    /// Index into the function's `calls`.
    public var call: Int
    public var allocator: String
    public var isDeviceManaged: Bool
    public var line: Int32
    public var column: Int32
    /// The allocated element type (pointer depth removed), when known.
    public var type: TypeRef?
    /// The struct/union the type resolves to.
    public var aggregate: AggregateID?
    public var typing: Typing
    /// Where the pointer is stored, as an access path of the allocating function.
    public var target: AccessPath?
    public var targetText: String
    /// An array of several elements: a counted allocator (`devm_kcalloc()`,
    /// `devm_kmalloc_array()`) or a size that multiplies (`n * sizeof(*x)`, `array_size()`).
    public var holdsSeveral = false
}

/// Finds every allocation through the allocator table and types it from the size
/// expression, a cast, the assignment target or the function's return type.
public struct Allocations: Sendable {
    public let sites: [AllocationSite]
    public let byAggregate: [AggregateID: [Int]]

    /// With more than one job, the allocating functions are typed in contiguous shares, each
    /// with its own resolver, and the shares' sites joined in order.
    public init(index: TreeIndex, resolver: Resolver, jobs: Int = 1) {
        let functions = index.callers(ofAny: DriverCore.allocators.keys).functions
        let sites: [AllocationSite]
        if jobs > 1 && functions.count > 1 {
            let shares = min(functions.count, jobs * 4)
            sites = parallelMap(count: shares, jobs: jobs, makeState: { Resolver(index: index) }) { s, resolver in
                Allocations.sites(of: functions[shareRange(s, of: functions.count, shares: shares)], index: index, resolver: resolver)
            }.flatMap { $0 }
        } else {
            sites = Allocations.sites(of: functions[...], index: index, resolver: resolver)
        }
        self.sites = sites
        var by: [AggregateID: [Int]] = [:]
        for (k, s) in sites.enumerated() { if let a = s.aggregate { by[a, default: []].append(k) } }
        byAggregate = by
    }

    /// The allocation sites of `functions`, in their order.
    static func sites(of functions: ArraySlice<FunctionID>, index: TreeIndex, resolver: Resolver) -> [AllocationSite] {
        var sites: [AllocationSite] = []
        for id in functions {
            let fn = index.function(id)
            let view = FunctionView(id: id, resolver: resolver)
            var castOf: [Int32: Int32]? = nil
            for (ci, c) in fn.calls.enumerated() {
                guard let alloc = DriverCore.allocators[c.callee] else { continue }
                if castOf == nil { castOf = Allocations.castParents(fn.exprs) }
                sites.append(Allocations.type(call: ci, site: c, allocator: alloc, view: view, resolver: resolver, casts: castOf!))
            }
        }
        return sites
    }

    /// Whether allocator `name` takes a count of elements (`devm_kcalloc()`,
    /// `devm_kmalloc_array()`): its memory is an array.
    public static func countsElements(_ name: String) -> Bool {
        ByteSearch.contains(name, "calloc") || ByteSearch.contains(name, "array")
    }

    static func castParents(_ e: ExprTree) -> [Int32: Int32] {
        var m: [Int32: Int32] = [:]
        for (i, n) in e.nodes.enumerated() where n.kind == .cast && n.a >= 0 { m[n.a] = Int32(i) }
        return m
    }

    static func type(call ci: Int, site c: CallSite, allocator: DriverCore.Allocator, view: FunctionView, resolver: Resolver, casts: [Int32: Int32]) -> AllocationSite {
        let e = view.exprs
        let args = Array(e.arguments(c.node))
        var result = AllocationSite(function: view.id, call: ci, allocator: allocator.name, isDeviceManaged: allocator.isDeviceManaged,
                                    line: c.line, column: c.column, type: nil, aggregate: nil, typing: .untyped, target: nil, targetText: "")
        if c.target >= 0 {
            result.target = view.memberPath(c.target)
            result.targetText = e.render(c.target)
        }
        func accept(_ t: TypeRef, _ file: Int32, _ how: AllocationSite.Typing) -> Bool {
            // void * and char buffers do not tell the type.
            if t.kind == .unknown || (t.kind == .builtin && t.name == "void") || t.name == "typeof" { return false }
            result.type = t
            // An array of pointers (`kcalloc(n, sizeof(p), …)` with `p` a pointer) holds no struct.
            result.aggregate = t.pointerDepth == 0 && !t.isFunctionPointer ? resolver.aggregate(of: t, from: file) : nil
            result.typing = how
            return true
        }
        if Allocations.countsElements(allocator.name) {
            result.holdsSeveral = true
        } else if allocator.sizeArgument < args.count {
            let size = e[e.strippingCasts(args[allocator.sizeArgument])]
            result.holdsSeveral = (size.kind == .binary && e.text(size) == "*")
                || (size.kind == .call && ["array_size", "array3_size", "size_mul"].contains(e.text(at: size.a)))
        }
        if allocator.sizeArgument < args.count, let (t, f, how) = sizeType(args[allocator.sizeArgument], view: view) {
            if accept(t, f, how) { return result }
        }
        if let src = allocator.sourceArgument, src < args.count, let (t, f) = view.type(of: args[src]) {
            var t2 = t
            if t2.pointerDepth > 0 { t2.pointerDepth -= 1 } // &tmpl or tmpl pointer
            if accept(t2, f, .source) { return result }
        }
        if let cast = casts[c.node], let d = e.type(of: e[cast]).dereferenced, accept(d, view.file, .cast) { return result }
        if c.target >= 0, let (t, f) = view.type(of: c.target), let d = t.dereferenced, accept(d, f, .target) { return result }
        if c.targetIsDeclaration, let t = view.decl.declaredType(of: view.exprs.text(at: c.target)), let d = t.dereferenced, accept(d, view.file, .target) { return result }
        if c.isReturned, let d = view.decl.returnType.dereferenced, accept(d, view.file, .returnType) { return result }
        return result
    }

    /// The element type a size expression measures.
    static func sizeType(_ node: Int32, view: FunctionView, depth: Int = 0) -> (TypeRef, Int32, AllocationSite.Typing)? {
        guard node >= 0, depth < 8 else { return nil }
        let e = view.exprs
        let n = e[node]
        switch n.kind {
        case .sizeofType:
            return (e.type(of: n), view.file, .sizeofType)
        case .sizeofExpr:
            let operand = e[n.a]
            if operand.kind == .identifier {
                let name = e.text(operand)
                // sizeof(foo_t): a typedef, unless a variable of that name is visible.
                if view.decl.declaredType(of: name) == nil, view.resolver.global(named: name, from: view.file) == nil {
                    return (TypeRef(kind: .named, name: name), view.file, .sizeofType)
                }
            }
            if let (t, f) = view.type(of: n.a) { return (t, f, .sizeofExpression) }
            return nil
        case .call:
            let name = e.text(at: n.a)
            let args = Array(e.list(of: n))
            switch name {
            case "struct_size", "flex_array_size":
                if let first = args.first, let (t, f) = view.type(of: first), let d = t.dereferenced { return (d, f, .structSize) }
            case "struct_size_t":
                if let first = args.first {
                    let fn = e[first]
                    if fn.kind == .typeName { return (e.type(of: fn), view.file, .structSize) }
                    if fn.kind == .identifier { return (TypeRef(kind: .named, name: e.text(fn)), view.file, .structSize) }
                }
            case "array_size", "array3_size", "size_mul", "size_add", "max", "max_t", "ALIGN", "PAGE_ALIGN", "roundup", "round_up":
                for a in args { if let r = sizeType(a, view: view, depth: depth + 1) { return r } }
            default:
                break
            }
            return nil
        case .binary:
            if let r = sizeType(n.a, view: view, depth: depth + 1) { return r }
            return sizeType(n.b, view: view, depth: depth + 1)
        default:
            return nil
        }
    }
}
