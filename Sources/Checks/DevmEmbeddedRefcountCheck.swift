import Facts
import Indexing
import Analysis
import Findings

/// `devm-embedded-refcount`: device-managed memory holding a registered refcounted object.
struct DevmEmbeddedRefcountCheck: Check {
    public init() {}

    public static let description = CheckDescription(
        id: "devm-embedded-refcount",
        summary: "A struct that embeds a registered device/kobject/cdev is allocated with devm_*",
        rationale: """
            devres frees the memory when the driver is unbound, but the embedded refcounted object \
            lives until its last reference is dropped (an open /dev node, /proc/mtd, a consumer). \
            Unless the subsystem keeps users away (revocation) the next access is a use-after-free.
            """,
        severity: .error,
        confidence: """
            High when the object reaches device_add/cdev_add/kobject_add through the call graph and \
            the subsystem's release neither frees nor waits. False positives: registration guarded \
            by a path the analysis cannot see (function pointers), or memory re-homed before unbind.
            """)

    /// Whether the file's driver cannot be unbound through sysfs: it sets
    /// `.suppress_bind_attrs = true` and is built in, registers with `platform_driver_probe()`
    /// (which suppresses them), or uses a registration macro whose body suppresses them.
    static func cannotUnbind(file: Int32, ctx: AnalysisContext) -> Bool {
        let facts = ctx.index.files[Int(file)]
        let globals = facts.globals
        let builtin = globals.contains { $0.type.kind == .named && $0.type.name.hasPrefix("builtin_") && $0.type.name.hasSuffix("_driver") }
        let suppress = globals.contains { $0.designated.contains { $0.path.hasSuffix("suppress_bind_attrs") && $0.value == "true" } }
        if builtin && suppress { return true }
        if globals.contains(where: { $0.type.kind == .named && ctx.index.suppressBindMacros.contains($0.type.name) }) { return true }
        return facts.functions.contains { $0.calls.contains { $0.callee == "platform_driver_probe" || $0.callee == "__platform_driver_probe" } }
    }

    public func run(_ ctx: AnalysisContext) -> [Finding] {
        var out: [Finding] = []
        let index = ctx.index
        for site in ctx.allocations.sites where site.isDeviceManaged && ctx.reports(site.function.file) {
            guard let agg = site.aggregate, let emb = ctx.closure.embeddings[agg], let target = site.target else { continue }
            let view = FunctionView(id: site.function, resolver: ctx.resolver)
            guard let reg = Registration.find(in: view, target: target, allocated: agg, ctx: ctx) else { continue }
            let verdict = Registration.verdict(for: reg.object, file: index.path(site.function.file), ctx: ctx,
                                               origin: (site.function, target.root, target.fields + reg.path))
            guard var severity = verdict.severity else { continue }
            // A built-in driver that suppresses its bind attributes is never unbound: only a
            // failed probe releases its devres.
            let unbindable = !Self.cannotUnbind(file: site.function.file, ctx: ctx)
            if !unbindable { severity = .warning }
            let fn = view.decl
            let structDecl = index.aggregate(agg)
            let chain = ctx.closure.chainNames(emb, index: index)
            let objectName = index.aggregate(reg.object).name
            var notes: [FindingNote] = [
                FindingNote(.embedding, file: index.path(agg.file), line: structDecl.line, column: structDecl.column,
                            message: "struct \(structDecl.name) embeds \(chain.dropFirst().map { "struct \($0)" }.joined(separator: " → ")) (\(ctx.closure.fieldPath(emb)))"),
                FindingNote(reg.publishes ? .publish : .initialization, file: index.path(site.function.file), line: reg.line, column: reg.column,
                            message: "\(reg.callee)() \(reg.publishes ? "publishes" : "initializes the reference count of") \(site.targetText.isEmpty ? "it" : site.targetText)\(reg.path.isEmpty ? "" : "->" + reg.path.joined(separator: "."))\(reg.publishes ? " to the driver core" : "")"),
            ]
            for ev in verdict.evidence.prefix(4) { notes.append(FindingNote(.protection, file: ev.file, line: ev.line, message: ev.message)) }
            var message = "'struct \(structDecl.name)' is allocated with \(site.allocator)() but embeds a refcounted struct \(emb.core) (\(chain.joined(separator: " → "))) \(reg.verbPhrase); "
                + verdict.explanation(object: objectName)
            if !unbindable { message += "; the driver suppresses its bind attributes, so only a failed probe or module unload frees it" }
            var finding = Finding(check: Self.description.id, severity: severity, file: index.path(site.function.file),
                                  line: site.line, column: site.column, function: fn.name, structName: structDecl.name,
                                  chain: chain, object: objectName, protection: verdict.protection.rawValue,
                                  message: message, notes: notes)
            finding.allocator = site.allocator
            out.append(finding)
        }
        return out
    }
}
