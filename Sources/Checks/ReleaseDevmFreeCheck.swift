import Facts
import Indexing
import Analysis
import Findings

/// `release-devm-free`: a release callback that frees device-managed memory.
struct ReleaseDevmFreeCheck: Check {
    public init() {}

    public static let description = CheckDescription(
        id: "release-devm-free",
        summary: "A release() callback frees with devm_kfree()",
        rationale: """
            devres frees the memory at unbind anyway, and the release runs whenever the last \
            reference goes, possibly after unbind (CONFIG_DEBUG_KOBJECT_RELEASE makes it late): \
            the two race and the release touches freed memory. Allocate with kzalloc and kfree in \
            the release instead.
            """,
        severity: .error,
        confidence: "High: devm_kfree inside a function installed as release is always a lifetime mix-up.")

    public func run(_ ctx: AnalysisContext) -> [Finding] {
        var out: [Finding] = []
        for cb in ctx.releaseCallbacks.callbacks where cb.summary.devmFree && ctx.reports(cb.function.file) {
            let fn = ctx.index.function(cb.function)
            for c in fn.calls where DriverCore.devmFrees.contains(c.callee) {
                out.append(Finding(check: Self.description.id, severity: .error, file: ctx.index.path(cb.function.file),
                                   line: c.line, column: c.column, function: fn.name,
                                   message: "release callback \(fn.name)() frees with \(c.callee)(): devres frees this memory at unbind too, and the release can run after it",
                                   notes: cb.bindings.prefix(3).map { FindingNote(.release, file: $0.file, line: $0.line, message: $0.message) }))
            }
        }
        return out
    }
}
