import Facts
import Indexing
import Analysis
import Findings

/// `kfree-outside-release`, on the last close of a character device: the file operations
/// a cdev is opened through (`cdev_init(&x->cdev, &fops)`) free the cdev's container in
/// their `.release`, directly, through a helper that frees it, or through a `kref_put()`
/// whose release does. The VFS drops the open file's reference on the cdev
/// (`cdev_put()`, a `kobject_put()` of the cdev's kobject) only after `.release` returns,
/// so that put touches freed memory whenever `.release` dropped the last reference (the
/// device was unplugged or unbound while the file was open).
extension KfreeOutsideReleaseCheck {
    /// A cdev's container type and the `.release` of the file operations it is opened
    /// through, with where `cdev_init()` tied them.
    struct OpenedThrough: Hashable {
        var container: AggregateID
        var release: FunctionID
        var fops: String
        var file: Int32
        var line: Int32
    }

    func lastCloseFindings(_ ctx: AnalysisContext) -> [Finding] {
        var out: [Finding] = []
        for opened in Self.cdevReleases(ctx) where ctx.reports(opened.release.file) {
            if let f = Self.freeOnClose(opened, ctx: ctx) { out.append(f) }
        }
        return out
    }

    /// Every `cdev_init(&p->…cdev, &fops)` of the tree whose `fops` is a file-scope table
    /// with a `.release` function: the type `p` points to and that function, each pair once.
    static func cdevReleases(_ ctx: AnalysisContext) -> [OpenedThrough] {
        var seen = Set<[Int32]>()
        var out: [OpenedThrough] = []
        for id in ctx.index.callers(ofAny: ["cdev_init"]).functions {
            let view = FunctionView(id: id, resolver: ctx.resolver)
            let e = view.exprs
            for c in view.decl.calls where c.callee == "cdev_init" {
                let args = Array(e.arguments(c.node))
                guard args.count == 2, let cdev = view.accessPath(args[0]), !cdev.fields.isEmpty,
                      !cdev.fields.contains(where: { $0.hasPrefix("^") }) else { continue }
                let f = e[e.strippingCasts(args[1])]
                guard f.kind == .unary, e.text(f) == "&", e[f.a].kind == .identifier,
                      let (fops, fopsFile) = ctx.resolver.globalEntry(named: e.text(e[f.a]), from: id.file),
                      let slot = fops.designated.first(where: { $0.path == "release" }) else { continue }
                let name = slot.value.hasPrefix("&") ? String(slot.value.dropFirst()) : slot.value
                guard let release = ctx.resolver.function(named: name, from: fopsFile),
                      let container = view.pointedAggregate(of: cdev.root) else { continue }
                guard seen.insert([container.file, container.index, release.file, release.index]).inserted else { continue }
                out.append(OpenedThrough(container: container, release: release, fops: fops.name, file: id.file, line: c.line))
            }
        }
        return out
    }

    /// The finding when `opened.release` frees an object of the cdev's container type.
    static func freeOnClose(_ opened: OpenedThrough, ctx: AnalysisContext) -> Finding? {
        let view = FunctionView(id: opened.release, resolver: ctx.resolver)
        let index = ctx.index
        for call in view.effectiveCalls() where !call.callee.isEmpty {
            for (j, arg) in call.args.enumerated() where arg >= 0 {
                guard view.frees(call, argument: j, summaries: ctx.summaries),
                      view.pointedAggregate(ofExpression: arg) == opened.container else { continue }
                let direct = j == 0 && DriverCore.frees.contains(call.callee)
                let name = index.aggregate(opened.container).name
                let how = direct ? "" : call.writtenAs == call.callee ? " through \(call.callee)()" : " through \(call.writtenAs)() and its release \(call.callee)()"
                var f = Finding(check: description.id, severity: .error, file: index.path(opened.release.file),
                                line: call.site.line, column: call.site.column, function: view.decl.name,
                                structName: name, object: name,
                                message: "'struct \(name)' embeds the cdev that the file operations '\(opened.fops)' are opened through, but their .release \(view.decl.name)() frees it\(how): when a file is still open as the device goes away, its last close frees it here, and the VFS then drops the file's reference on the cdev (cdev_put()) in freed memory; free the container from a release that runs when the cdev's last reference goes (cdev_device_add() or cdev_set_parent() with a device whose release frees it)",
                                notes: [FindingNote(.initialization, file: index.path(opened.file), line: opened.line,
                                                    message: "cdev_init() opens the cdev through '\(opened.fops)', whose .release is \(view.decl.name)()")])
                f.shape = .freedOnLastClose
                return f
            }
        }
        return nil
    }
}
