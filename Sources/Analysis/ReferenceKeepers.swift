import Facts
import Indexing

/// Functions that keep a counted reference on a device or kobject they are handed, and the
/// calls anywhere in the tree that hand them the embedded device of a subsystem's object:
/// outside holders that the object's own core does not show. A USB gadget function parents
/// its ALSA card to the gadget's device (`snd_card_new(&gadget->dev, …)`, whose
/// `snd_card_init()` stores `card->dev = get_device(parent)`) and drops it only when the
/// card's last file is closed, after the gadget's driver may be gone.
public struct ReferenceKeepers: Sendable {
    /// How a function keeps a reference on one of its parameters: the statement that stores
    /// it, in the function itself or in the keeper it passes the parameter to.
    public struct Keep: Sendable, Hashable {
        /// The function that stores the reference, and its line.
        public var storedIn: FunctionID
        public var line: Int32
        /// The statement, as written (`card->dev = get_device(parent)`).
        public var statement: String
    }

    /// The calls that store what a counted get returns: a reference kept beyond the call.
    static let storedGets: Set<String> = ["get_device", "kobject_get"]
    /// Passing a parameter on to a keeper makes a keeper, at most this many calls deep.
    static let maxDepth = 4

    /// Per function: the parameters (and member paths inside them) it keeps a counted
    /// reference on, directly or by passing them on to a keeper.
    public private(set) var keeps: [FunctionID: [ParamEffect: Keep]] = [:]
    /// Per subsystem object type: the first call (by path and line) outside the object's
    /// core that hands its device to a keeper, as evidence of an outside holder.
    public private(set) var heldObjects: [AggregateID: Evidence] = [:]

    public init(index: TreeIndex, resolver: Resolver, subsystems: Subsystems) {
        findDirectKeepers(index: index, resolver: resolver)
        propagate(index: index, resolver: resolver)
        findHolders(index: index, resolver: resolver, subsystems: subsystems)
    }

    /// `x->m = get_device(p)` (or `&p->dev`), with `p` a parameter: a stored reference.
    private mutating func findDirectKeepers(index: TreeIndex, resolver: Resolver) {
        for id in index.callers(ofAny: Self.storedGets).functions {
            let fn = index.function(id)
            var view: FunctionView?
            for c in fn.calls where Self.storedGets.contains(c.callee) && c.target >= 0 {
                let v = view ?? FunctionView(id: id, resolver: resolver)
                view = v
                guard let stored = v.memberPath(c.target), Self.outlivesCall(stored),
                      let arg = v.exprs.arguments(c.node).first, let p = v.accessPath(arg),
                      case .parameter(let k) = p.root else { continue }
                let key = ParamEffect(param: k, path: p.fields)
                if keeps[id]?[key] == nil {
                    keeps[id, default: [:]][key] = Keep(storedIn: id, line: c.line, statement: "\(v.exprs.render(c.target)) = \(c.callee)(\(v.exprs.render(arg)))")
                }
            }
        }
    }

    /// Whether a value stored at `p` outlives the call: a member of a struct or a global
    /// (a plain local goes with the call).
    static func outlivesCall(_ p: AccessPath) -> Bool {
        if case .global = p.root { return true }
        return !p.fields.isEmpty
    }

    /// A function passing its parameter (or a member path in it) to a keeper keeps it too.
    private mutating func propagate(index: TreeIndex, resolver: Resolver) {
        var frontier = keeps.keys.sorted()
        for _ in 1..<Self.maxDepth where !frontier.isEmpty {
            var next = Set<FunctionID>()
            for keeper in frontier {
                guard let effects = keeps[keeper]?.sorted(by: { $0.key < $1.key }) else { continue }
                for (view, _, args) in Self.calls(of: keeper, index: index, resolver: resolver) {
                    for (effect, keep) in effects where args.indices.contains(effect.param) {
                        guard let p = view.accessPath(args[effect.param]), case .parameter(let k) = p.root else { continue }
                        let key = Summaries.compose(ParamEffect(param: k, path: p.fields), effect)
                        if keeps[view.id]?[key] == nil {
                            keeps[view.id, default: [:]][key] = keep
                            next.insert(view.id)
                        }
                    }
                }
            }
            frontier = next.sorted()
        }
    }

    /// The calls of `keeper` in other functions (resolved to it, not to a namesake), in
    /// function order, each with its function's view and its arguments.
    static func calls(of keeper: FunctionID, index: TreeIndex, resolver: Resolver) -> [(FunctionView, CallSite, [Int32])] {
        let name = index.function(keeper).name
        var out: [(FunctionView, CallSite, [Int32])] = []
        for caller in index.callers(of: name).sorted() where caller != keeper {
            let view = FunctionView(id: caller, resolver: resolver)
            for c in view.decl.calls where c.callee == name && resolver.function(named: name, from: caller.file) == keeper {
                out.append((view, c, Array(view.exprs.arguments(c.node))))
            }
        }
        return out
    }

    /// Every call of a keeper whose kept argument is the device of a subsystem's object
    /// (`&x->dev`, `x` an object of the type; or `x` itself when the keeper keeps a member
    /// of it), made outside that object's core files.
    private mutating func findHolders(index: TreeIndex, resolver: Resolver, subsystems: Subsystems) {
        var coreFiles: [AggregateID: Set<Int32>] = [:]
        for (agg, obj) in subsystems.objects { coreFiles[agg] = Set((obj.register + obj.unregister).map(\.file)) }
        for keeper in keeps.keys.sorted() {
            let name = index.function(keeper).name
            let effects = keeps[keeper]!.sorted { $0.key < $1.key }
            for (view, c, args) in Self.calls(of: keeper, index: index, resolver: resolver) {
                let caller = view.id
                for (effect, keep) in effects where args.indices.contains(effect.param) {
                    let arg = args[effect.param]
                    guard let p = view.accessPath(arg), let agg = view.pointedAggregate(ofExpression: arg),
                          let obj = subsystems.objects[agg], !(coreFiles[agg]?.contains(caller.file) ?? true) else { continue }
                    // The member kept: the one the argument takes the address of, or the
                    // first of the path the keeper keeps inside what it points to.
                    guard effect.path.first ?? p.fields.last == obj.coreField else { continue }
                    let at = index.path(caller.file)
                    if let known = heldObjects[agg], (known.file, known.line) <= (at, c.line) { continue }
                    let storer = keep.storedIn == keeper ? "" : "\(index.function(keep.storedIn).name)(): "
                    heldObjects[agg] = Evidence(file: at, line: c.line,
                                                message: "\(view.decl.name)() hands \(view.exprs.render(arg)) to \(name)(), which keeps a counted reference on it (\(storer)\(keep.statement))")
                }
            }
        }
    }
}
