import Facts
import Indexing

/// A location with a message, used as evidence for verdicts and as finding notes.
public struct Evidence: Sendable, Hashable {
    public var file: String
    public var line: Int32
    public var message: String
    public init(file: String, line: Int32, message: String) {
        self.file = file; self.line = line; self.message = message
    }
}

/// What a release callback does.
public struct ReleaseSummary: Sendable, Hashable {
    public var function: FunctionID
    public var name: String
    /// Frees the container of its argument on every path (directly or through a helper).
    public var freesContainer: Bool
    /// Frees only on some paths.
    public var freesConditionally: Bool
    public var signalsCompletion: Bool
    public var devmFree: Bool
    /// Calls a function pointer stored in the object (a driver-supplied hook).
    var callsHook: Bool
    /// Does nothing but (maybe) print.
    public var isEmpty: Bool
}

/// Summarises release callbacks.
public enum ReleaseAnalysis {
    /// Calls that only log or trace.
    static func isLogging(_ name: String) -> Bool {
        name.hasPrefix("dev_") && (name.hasSuffix("dbg") || name.hasSuffix("info") || name.hasSuffix("warn") || name.hasSuffix("err") || name.hasSuffix("notice") || name == "dev_vdbg")
            || name.hasPrefix("pr_") || name == "printk" || name.hasPrefix("WARN") || name.hasPrefix("trace_") || name == "pr_debug"
    }

    /// A driver's own logging macro (`tsi_debug()`, `foo_dbg()`): a name that says so, with
    /// no function of that name in the tree.
    static func isLoggingMacro(_ name: String, resolver: Resolver) -> Bool {
        ["_dbg", "_debug", "_vdbg", "_info", "_notice", "_warn", "_err"].contains { name.hasSuffix($0) }
            && resolver.index.functionsByName[name] == nil
    }

    /// Whether a release body does nothing to any object: its calls only log or compute a
    /// container (`container_of()`, also through a macro), and it assigns nothing but its own
    /// locals (`struct x *p = to_x(dev);`). `calls`: the view's `effectiveCalls()`.
    static func isInert(_ view: FunctionView, calls: [EffectiveCall], resolver: Resolver) -> Bool {
        let fn = view.decl
        let e = view.exprs
        let locals = Set(fn.locals.map(\.name))
        let localAssignments = fn.assignments.filter { a in
            a.lhs >= 0 && e[a.lhs].kind == .identifier && locals.contains(e.text(e[a.lhs]))
        }
        guard localAssignments.count == fn.assignments.count,
              fn.statementCount <= fn.callCount + Int32(localAssignments.count) else { return false }
        // By the name written and by the macro's expansion (`dev_dbg()` may expand to a
        // dynamic-debug helper; `to_x()` to `container_of()`).
        return calls.allSatisfy { c in
            [c.writtenAs, c.callee].contains { n in
                !n.isEmpty && (isLogging(n) || n == "container_of" || isLoggingMacro(n, resolver: resolver))
            }
        }
    }

    public static func summarize(_ id: FunctionID, resolver: Resolver, summaries: Summaries) -> ReleaseSummary {
        let view = FunctionView(id: id, resolver: resolver)
        let fn = view.decl
        var s = ReleaseSummary(function: id, name: fn.name, freesContainer: false, freesConditionally: false,
                               signalsCompletion: false, devmFree: false, callsHook: false, isEmpty: false)
        let calls = view.effectiveCalls()
        s.isEmpty = isInert(view, calls: calls, resolver: resolver)
        // Another definition in a conditional branch that does work: judge by all of them.
        if s.isEmpty, resolver.index.files[Int(id.file)].alternateDefinitions.contains(where: { alt in
            alt.name == fn.name && (!alt.callees.allSatisfy { isLogging($0) } || alt.assignments > 0 || alt.statementCount > Int32(alt.callees.count))
        }) {
            s.isEmpty = false
        }
        for call in calls {
            // A free of the container (`kfree(container_of(p, …))`), directly or by a helper.
            for (j, a) in call.args.enumerated() where a >= 0 && !fn.params.isEmpty && view.frees(call, argument: j, summaries: summaries) && view.derives(from: 0, a) {
                if call.site.isConditional { s.freesConditionally = true } else { s.freesContainer = true }
            }
            if DriverCore.devmFrees.contains(call.callee) { s.devmFree = true }
            if DriverCore.completionSignals.contains(call.callee) { s.signalsCompletion = true }
            if call.callee.isEmpty {
                // p->release(p) / p->ops->release(p): a hook stored in the object.
                let calleeNode = view.exprs[view.exprs[call.site.node].a]
                if calleeNode.kind == .member { s.callsHook = true }
            }
        }
        return s
    }
}

extension FunctionDecl {
    /// Statements that are plain calls, for telling a body that only logs.
    var callCount: Int32 { Int32(calls.count) }
}
