import Facts
import Indexing
import Analysis
import Findings
import Checks

/// The ownership story of a finding as an SVG picture: who allocates the memory, the
/// embedding chain down to the refcounted object, who publishes it, who holds references,
/// what unregister and release do, and who frees the memory — the hazard drawn as the red
/// edge from the freeing step to the object still referenced.
struct OwnershipStory: Sendable, Hashable {
    var allocatedBy: String
    public var chain: [String]
    var publishedBy: String
    public var holders: String
    public var teardown: String
    var freedBy: String
    public var hazard: String
    /// What the innermost box says about itself (two short lines).
    var innerNote = ["refcounted: lives until", "the last reference is put"]
    /// Whether the innermost box holds provider members rather than a struct.
    var innerIsMembers = false

    /// The story told by a finding and, when known, its object's subsystem.
    public init(_ f: Finding, subsystem s: SubsystemRow?) {
        let fn = f.function.isEmpty ? "" : " in \(f.function)()"
        let allocator: String? = f.allocator.isEmpty ? nil : f.allocator
        let publisher = f.notes.first { $0.kind == .publish || $0.kind == .initialization }
            .map { String($0.message.prefix { $0 != " " }) }
        let container = f.structName.isEmpty ? (f.object.isEmpty ? "the container" : f.object) : f.structName
        chain = f.chain.isEmpty ? [container, f.object.isEmpty || f.object == container ? "device" : f.object] : f.chain
        if f.check == "unrevoked-provider-ops" {
            chain = [f.object, f.members.isEmpty ? "provider ops" : f.members.prefix(3).joined(separator: ", ")]
            innerNote = ["provider-owned members, freed", "when the provider unbinds"]
            innerIsMembers = true
        }
        switch f.check {
        case "devm-embedded-refcount":
            allocatedBy = "\(allocator ?? "devm_*")()\(fn): device-managed memory"
        case "unrevoked-provider-ops":
            allocatedBy = "the provider driver owns the ops and private data"
        case "release-devm-free":
            allocatedBy = "devm_*() in the driver (devres owns it)"
        default:
            allocatedBy = s?.allocators.first.map { "kzalloc() or the core's \($0)()" } ?? "kzalloc() in the driver"
        }
        publishedBy = publisher ?? s?.register.first.map { "\($0)()" } ?? (f.check == "unrevoked-provider-ops" ? "register stores them in the core object" : "device_register() / cdev_add()")
        if f.check == "unrevoked-provider-ops", !f.useSites.isEmpty {
            holders = "consumers: " + f.useSites.prefix(3).map { "\($0.entry)() → \($0.function)()" }.joined(separator: "; ")
        } else {
            holders = "users keep references: open /dev nodes, sysfs, the \(s?.name ?? chain.dropFirst().first ?? "core") core's users"
        }
        var tear = s.map { row in
            let unreg = FixSuggestion.preferredTeardown(row.unregister).first.map { "\($0)()" } ?? "unregister"
            return "\(unreg) drops the core's reference; release: \(row.release.map { $0.hasPrefix("(") ? $0 : $0 + "()" } ?? "none"); protection: \(row.protection)"
        } ?? (f.protection.isEmpty ? "unregister drops the core's reference" : "protection: \(f.protection)")
        switch f.check {
        case "devm-embedded-refcount":
            freedBy = "devres frees the whole \(container) at unbind (\(allocator ?? "devm_*")())"
            hazard = "freed while \(chain.last ?? "the object") is still referenced"
        case "kfree-outside-release":
            freedBy = "kfree()\(fn), outside the release"
            hazard = "kfree() while the reference count may be held"
        case "empty-release":
            freedBy = "nobody: \(f.function)() is empty, so memory leaks or is freed elsewhere"
            hazard = "release frees nothing"
            tear = "release: \(f.function)() does nothing"
        case "release-devm-free":
            freedBy = "devm_kfree() in release \(f.function)() and devres at unbind"
            hazard = "double owner: devres and the release"
        case "missing-release":
            freedBy = "nobody: no release on the object's path"
            hazard = "last put has no release to call"
        case "unrevoked-provider-ops":
            freedBy = "the provider's memory is freed when it unbinds"
            hazard = "core calls provider ops after unbind"
            tear = "\(f.function)() neither revokes nor waits (protection: \(f.protection))"
        default:
            freedBy = "freed outside the release"
            hazard = "use after free"
        }
        teardown = tear
    }

    /// Splits text into lines of at most `width` characters, at spaces.
    static func wrap(_ s: String, _ width: Int, maxLines: Int = 4) -> [String] {
        var lines: [String] = []
        var cur = ""
        for word in s.split(separator: " ") {
            if !cur.isEmpty && cur.count + 1 + word.count > width { lines.append(cur); cur = "" }
            cur += (cur.isEmpty ? "" : " ") + word
        }
        if !cur.isEmpty { lines.append(cur) }
        if lines.count > maxLines { lines = Array(lines.prefix(maxLines)); lines[maxLines - 1] += " …" }
        return lines
    }

    /// A labelled box with wrapped text.
    static func box(_ h: inout HTMLBuilder, x: Int, y: Int, w: Int, title: String, body: String, cls: String) -> Int {
        let lines = wrap(body, (w - 20) * 10 / 74)
        let height = 30 + lines.count * 16
        h.void("rect", [("x", "\(x)"), ("y", "\(y)"), ("width", "\(w)"), ("height", "\(height)"), ("rx", "6"), ("class", cls)])
        h.el("text", [("x", "\(x + 10)"), ("y", "\(y + 18)"), ("class", "t")], text: title)
        for (i, l) in lines.enumerated() {
            h.el("text", [("x", "\(x + 10)"), ("y", "\(y + 36 + i * 16)")], text: l)
        }
        return height
    }

    /// An edge; its label sits just above its start (right-aligned when it starts on the right).
    static func arrow(_ h: inout HTMLBuilder, _ x1: Int, _ y1: Int, _ x2: Int, _ y2: Int, cls: String, label: String = "") {
        h.void("line", [("x1", "\(x1)"), ("y1", "\(y1)"), ("x2", "\(x2)"), ("y2", "\(y2)"), ("class", cls),
                        ("marker-end", cls.contains("hazard") ? "url(#ah-red)" : "url(#ah)")])
        if !label.isEmpty {
            let leftward = x2 < x1
            h.el("text", [("x", "\(leftward ? x1 - 6 : x1 + 6)"), ("y", "\(y1 - 6)"), ("text-anchor", leftward ? "end" : "start"),
                          ("class", "lbl")], text: label)
        }
    }

    /// The picture, as inline SVG markup.
    func svg() -> String {
        var h = HTMLBuilder()
        draw(&h)
        return h.output
    }

    /// Draws the picture into a page being built.
    public func draw(_ h: inout HTMLBuilder) {
        let depth = min(chain.count, 5)
        let height = max(440, 140 + depth * 44)
        h.el("svg", [("xmlns", "http://www.w3.org/2000/svg"), ("viewBox", "0 0 1000 \(height)"), ("width", "1000"), ("height", "\(height)"),
                     ("role", "img"), ("aria-label", "ownership of " + (chain.first ?? ""))]) { h in
            h.el("title", text: "Who owns struct \(chain.first ?? "")")
            h.raw("""
                <defs><marker id="ah" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="#444"/></marker>\
                <marker id="ah-red" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="#d0312d"/></marker></defs>\
                <style>text{font:12px ui-monospace,monospace;fill:#1d1d1f}.t{font-weight:700}.lbl{fill:#555}.hz{fill:#d0312d;font-weight:700}\
                .box{fill:#fff;stroke:#8a93a6}.alloc{fill:#eef4ff;stroke:#2a5bd7}.free{fill:#fff0f0;stroke:#d0312d;stroke-width:2}\
                .chain{fill:#f7f7fa;stroke:#8a93a6}.obj{fill:#fff7e0;stroke:#b07800;stroke-width:2}\
                line{stroke:#444;stroke-width:1.5}.hazard{stroke:#d0312d;stroke-width:3;stroke-dasharray:8 4}.ref{stroke:#2a5bd7}</style>
                """)
            // Left: allocation (top) and the freeing step (bottom).
            let ah = OwnershipStory.box(&h, x: 10, y: 20, w: 250, title: "allocated by", body: allocatedBy, cls: "alloc")
            let fy = height - 130
            let fh = OwnershipStory.box(&h, x: 10, y: fy, w: 250, title: "memory freed by", body: freedBy, cls: "free")
            for (k, l) in OwnershipStory.wrap("hazard: " + hazard, 34, maxLines: 2).enumerated() {
                h.el("text", [("x", "10"), ("y", "\(fy + fh + 18 + k * 15)"), ("class", "hz")], text: l)
            }
            // Centre: the embedding chain as nested boxes, the refcounted object innermost.
            let cx = 330, cw = 310, cy = 20
            let ch = height - 60
            for (i, name) in chain.prefix(depth).enumerated() {
                let inset = i * 22
                let last = i == depth - 1
                h.void("rect", [("x", "\(cx + inset)"), ("y", "\(cy + inset * 2)"), ("width", "\(cw - 2 * inset)"), ("height", "\(ch - 4 * inset)"),
                                ("rx", "8"), ("class", last ? "obj" : "chain")])
                h.el("text", [("x", "\(cx + inset + 10)"), ("y", "\(cy + inset * 2 + 18)"), ("class", "t")], text: i == 0 ? "struct " + name : (last && innerIsMembers ? "⊃ ." + name : "⊃ struct " + name))
            }
            let inner = (depth - 1) * 22
            let objX = cx + inner, objY = cy + inner * 2, objW = cw - 2 * inner, objH = ch - 4 * inner
            for (k, l) in innerNote.enumerated() {
                h.el("text", [("x", "\(objX + 10)"), ("y", "\(objY + 36 + 16 * k)"), ("class", "lbl")], text: l)
            }
            // Right: publisher, reference holders, unregister/release.
            let ph = OwnershipStory.box(&h, x: 720, y: 20, w: 270, title: "published by", body: publishedBy, cls: "box")
            let hy = 40 + ph
            let hh = OwnershipStory.box(&h, x: 720, y: hy, w: 270, title: "references held by", body: holders, cls: "box")
            let ty = hy + hh + 20
            _ = OwnershipStory.box(&h, x: 720, y: ty, w: 270, title: "unregister / release", body: teardown, cls: "box")
            // Edges.
            OwnershipStory.arrow(&h, 260, 20 + ah / 2, cx, 20 + ah / 2, cls: "edge", label: "allocates")
            OwnershipStory.arrow(&h, 720, 20 + ph / 2, objX + objW, objY + 30, cls: "ref", label: "publishes")
            OwnershipStory.arrow(&h, 720, hy + hh / 2, objX + objW, objY + objH / 2, cls: "ref", label: "hold refs")
            OwnershipStory.arrow(&h, 720, ty + 20, objX + objW, objY + objH - 20, cls: "edge", label: "put")
            OwnershipStory.arrow(&h, 260, fy + 30, objX, objY + objH - 24, cls: "hazard")
        }
    }
}
