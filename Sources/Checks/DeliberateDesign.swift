import Facts
import Indexing
import Analysis

/// Releases left empty on purpose: the author says so in a comment in (or right above) the
/// body. The verdict standard counts such a deliberate design as debatable, not as an
/// error: the memory is freed elsewhere by design, and only a reference taken outside the
/// driver could outlive that free.
enum DeliberateDesign {
    /// The name of the release installed on objects of type `object` (by its subsystem, or
    /// by the driver in `file`) when it is an empty function with an explaining comment.
    static func commentedEmptyRelease(of object: AggregateID, file: String, ctx: AnalysisContext) -> String? {
        var candidates: [FunctionID] = []
        if let r = ctx.subsystems.objects[object]?.release, r.isEmpty { candidates.append(r.function) }
        if let b = ctx.subsystems.driverRelease(for: object, in: file) { candidates.append(b.function) }
        for id in candidates {
            let summary = ReleaseAnalysis.summarize(id, resolver: ctx.resolver, summaries: ctx.summaries)
            if summary.isEmpty && hasExplainingComment(id, ctx: ctx) { return ctx.index.function(id).name }
        }
        return nil
    }

    /// Whether the (empty) function `id` holds a comment in its body or has a plain comment
    /// right above it (`FileFacts.commentedEmptyFunctions`).
    static func hasExplainingComment(_ id: FunctionID, ctx: AnalysisContext) -> Bool {
        ctx.index.files[Int(id.file)].commentedEmptyFunctions.contains(ctx.index.function(id).name)
    }

    /// The evidence that someone outside the driver can hold a reference to objects of type
    /// `object` (whose core kind is `core`): a get of such an object, a character device or
    /// a device lookup in its core (a deliberate empty release is then no design that holds).
    static func outsideHolder(of object: AggregateID, core: String, ctx: AnalysisContext) -> Evidence? {
        guard let obj = ctx.subsystems.objects[object] else { return nil }
        return DevmEmbeddedRefcountCheck.outsideHolder(obj, chain: [core], ctx: ctx)
    }

    /// The clause a message adds when it downgrades an error for such a release.
    static func clause(_ release: String) -> String {
        "; \(release)() is empty on purpose (a comment says so): a deliberate design, which only a reference taken outside the driver could break"
    }
}
