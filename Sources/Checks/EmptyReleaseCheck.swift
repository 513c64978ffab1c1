import Facts
import Indexing
import Analysis
import Findings

/// `empty-release`: a release callback that frees nothing and does nothing useful.
struct EmptyReleaseCheck: Check {
    public init() {}

    public static let description = CheckDescription(
        id: "empty-release",
        summary: "A release() callback with an empty body (or only a debug print)",
        rationale: """
            An empty release silences the driver core's "does not have a release() function" \
            warning while nothing frees the object when its last reference goes: the memory leaks, \
            or is freed elsewhere while references remain (use-after-free).
            """,
        severity: .error,
        confidence: """
            High: the body is read directly. Statically allocated objects that are never freed are \
            the known source of intentional empty releases; the driver core documentation still \
            calls them broken.
            """)

    public func run(_ ctx: AnalysisContext) -> [Finding] {
        ctx.releaseCallbacks.callbacks.filter { $0.summary.isEmpty && ctx.reports($0.function.file) }.map { cb in
            let fn = ctx.index.function(cb.function)
            // An empty body with a comment: a design the author explains (the owner frees
            // the memory, a static object); debatable, so a warning.
            let commented = DeliberateDesign.hasExplainingComment(cb.function, ctx: ctx)
            let message = cb.onlyStaticObjects
                ? "release callback \(fn.name)() does nothing; it is installed only on statically allocated objects, so nothing leaks, but the driver core documentation calls empty releases broken"
                : commented
                    ? "release callback \(fn.name)() does nothing, and a comment in or right above it says so on purpose: the memory must then be freed elsewhere, which is only safe if no reference outlives that free"
                    : "release callback \(fn.name)() does nothing: it silences the driver core's missing-release warning but nothing frees the object when its last reference is dropped; the memory leaks, or whatever frees it instead (devres at unbind, a kfree() after the unregister) may free it while a reference remains"
            var f = Finding(check: Self.description.id, severity: cb.onlyStaticObjects || commented ? .warning : .error, file: ctx.index.path(cb.function.file),
                            line: fn.line, column: fn.column, function: fn.name,
                            message: message,
                            notes: cb.bindings.prefix(3).map { FindingNote(.release, file: $0.file, line: $0.line, message: $0.message) })
            if cb.onlyStaticObjects { f.shape = .staticObject(core: "device") } else if commented { f.shape = .freedByOwner }
            return f
        }
    }
}
