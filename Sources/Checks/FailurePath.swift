import Facts
import Analysis

/// The path a call's failure takes out of its function, approximated by lines as the other
/// checks do: `return register(…);` itself; else the first jump just below the call (the
/// `if (ret) goto err;` or `if (ret) { …; return ret; }` that tests it), and, for a `goto`,
/// the code under its label down to the next unconditional jump (the labels below it fall
/// through into each other).
struct FailurePath {
    /// Line ranges whose calls run on the failure path (the call's own line excluded).
    var ranges: [ClosedRange<Int32>]
    /// Where the path leaves the function: a `return`, or the function's end.
    var exit: Int32
    /// The `goto` the path takes, with its label's line, when it takes one.
    var jump: (goto: Int32, label: Int32)?

    /// At most this many lines between the call and the jump that handles its failure.
    static let window: Int32 = 6

    func contains(_ line: Int32) -> Bool { ranges.contains { $0.contains(line) } }

    /// The failure path of `call` in `fn`, or nil when none is clear: no jump within the
    /// window, the first one a return that `success` calls one (`return 0`, the object
    /// handed out), or a `goto` to a label above the call.
    static func of(_ call: CallSite, in fn: FunctionDecl, success: (Int32) -> Bool) -> FailurePath? {
        let line = call.line
        if call.isReturned { return FailurePath(ranges: [], exit: line) }
        let ret = fn.returnStatements.first { $0.line > line && $0.line - line <= window }
        let gotos = fn.gotoPairs
        let jump = gotos.first { $0.goto > line && $0.goto - line <= window }
        if let ret, jump.map({ ret.line < $0.goto }) ?? true {
            if let operand = ret.operand, success(operand) { return nil }
            return FailurePath(ranges: [(line + 1)...ret.line], exit: ret.line)
        }
        guard let jump, jump.label > line else { return nil }
        var ranges: [ClosedRange<Int32>] = [(line + 1)...jump.goto]
        // From the label down: through further unconditional gotos (a few), to a return.
        var label = jump.label
        for _ in 0..<4 {
            // (Never above the label, even for a body whose end was recovered early.)
            let stop = max(label, fn.unconditionalJumps.filter { $0 >= label }.min() ?? fn.endLine)
            ranges.append(label...stop)
            guard let next = gotos.first(where: { $0.goto == stop }), next.label > stop else {
                return FailurePath(ranges: ranges, exit: stop, jump: jump)
            }
            label = next.label
        }
        return nil
    }
}
