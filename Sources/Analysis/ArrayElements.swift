import Facts
import Indexing

/// An object that is one element of an array of structs (`&info->channels[i]`,
/// `&managers[i]`): no release can free it on its own, since only the whole array was
/// allocated.
public struct ArrayElement: Sendable, Hashable {
    /// The array as written where the element is taken (`info->channels`).
    public var array: String
    /// The function and line where the element is taken.
    public var function: FunctionID
    public var line: Int32
}

/// Finds the array an object's pointer points into an element of: in the function itself,
/// through locals that alias one path, and through a parameter whose every caller in the
/// tree passes an element (up to three calls up).
public enum ArrayElements {
    /// The array whose element `node` (a pointer into the object: `&chan->dev`, `chan`)
    /// points into, when the object is one, at `line` of `view`.
    public static func array(containing node: Int32, at line: Int32, in view: FunctionView, ctx: AnalysisContext) -> ArrayElement? {
        pointee(node, at: line, in: view, ctx: ctx, depth: 0, calls: 0)
    }

    /// The array element the pointer value `node` points to (or into a member of).
    static func pointee(_ node: Int32, at line: Int32, in view: FunctionView, ctx: AnalysisContext, depth: Int, calls: Int) -> ArrayElement? {
        guard node >= 0, depth < 8 else { return nil }
        let e = view.exprs
        let i = e.strippingCasts(node)
        let n = e[i]
        switch n.kind {
        case .unary where e.text(n) == "&":
            return designated(n.a, at: line, in: view, ctx: ctx, depth: depth + 1, calls: calls)
        case .identifier:
            let name = e.text(n)
            if view.decl.locals.contains(where: { $0.name == name }) {
                guard let alias = view.aliases[name] else { return nil }
                return pointee(alias, at: line, in: view, ctx: ctx, depth: depth + 1, calls: calls)
            }
            guard let k = view.decl.params.firstIndex(where: { $0.name == name }) else { return nil }
            return fromCallers(parameter: k, of: view, ctx: ctx, calls: calls + 1)
        default:
            return nil
        }
    }

    /// The array element the lvalue `node` designates, or lies inside of.
    static func designated(_ node: Int32, at line: Int32, in view: FunctionView, ctx: AnalysisContext, depth: Int, calls: Int) -> ArrayElement? {
        guard node >= 0, depth < 8 else { return nil }
        let e = view.exprs
        let n = e[e.strippingCasts(node)]
        switch n.kind {
        case .index:
            // An index of 0 may be a pointer to one object used as an array of one.
            guard !e.isZero(n.b) else { return nil }
            return ArrayElement(array: e.render(n.a), function: view.id, line: line)
        case .member:
            // `a.b`: inside `a`; `p->b`: inside what `p` points to.
            return n.b == 1 ? pointee(n.a, at: line, in: view, ctx: ctx, depth: depth + 1, calls: calls)
                            : designated(n.a, at: line, in: view, ctx: ctx, depth: depth + 1, calls: calls)
        case .unary where e.text(n) == "*":
            return pointee(n.a, at: line, in: view, ctx: ctx, depth: depth + 1, calls: calls)
        default:
            return nil
        }
    }

    /// The element every call of `view`'s function passes as parameter `k`, when all of
    /// them (at least one) pass one: the first such call's.
    static func fromCallers(parameter k: Int, of view: FunctionView, ctx: AnalysisContext, calls: Int) -> ArrayElement? {
        guard calls <= 3 else { return nil }
        let name = view.decl.name
        var found: ArrayElement?
        for caller in ctx.resolver.callers(of: view.id) {
            let cv = FunctionView(id: caller, resolver: ctx.resolver)
            for c in cv.decl.calls where c.callee == name {
                let args = cv.exprs.arguments(c.node)
                guard k < args.count else { return nil }
                guard let element = pointee(args[args.startIndex + k], at: c.line, in: cv, ctx: ctx, depth: 0, calls: calls) else { return nil }
                if found == nil { found = element }
            }
        }
        return found
    }
}
