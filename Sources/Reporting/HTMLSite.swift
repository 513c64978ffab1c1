import Facts
import Indexing
import Analysis
import Findings
import Checks

/// The HTML report as a static site that opens from disk (no server, no network): an
/// overview (`index.html`), one page per finding (`findings/N.html`, N in report order) with
/// source excerpts and the ownership picture, and one page per subsystem object
/// (`subsystems/NAME.html`). Every page is built with `HTMLBuilder`, so scanned text is
/// always escaped.
public struct HTMLSite {
    public let report: Report
    /// Reads a file relative to the report's root (nil when unreadable).
    let source: (String) -> [UInt8]?
    private var lineCache: [String: [Substring]] = [:]

    public init(report: Report, source: ((String) -> [UInt8]?)? = nil) {
        self.report = report
        let root = report.root
        self.source = source ?? { path in readWholeFile(root.hasSuffix("/") ? root + path : root + "/" + path).0 }
    }

    /// Page name of finding number `i` (0-based index into the findings).
    static func findingPage(_ i: Int) -> String { "findings/\(i + 1).html" }

    /// Page name of a subsystem object (identifier characters only).
    static func subsystemPage(_ name: String) -> String {
        "subsystems/" + String(name.map { $0.isLetter || $0.isNumber || $0 == "_" ? $0 : "-" }) + ".html"
    }

    /// Every page: relative path → HTML.
    public mutating func pages() -> [(String, String)] {
        var out: [(String, String)] = [("index.html", overview())]
        for i in report.findings.indices { out.append((HTMLSite.findingPage(i), findingPage(i))) }
        for (row, page) in zip(report.subsystems, subsystemPages) { out.append((page, subsystemPage(row))) }
        return out
    }

    /// The page of each subsystem row, in order: `NAME.html`, then `NAME-2.html`, … when
    /// several objects (defined in different files) share a struct name.
    var subsystemPages: [String] {
        var count: [String: Int] = [:]
        return report.subsystems.map { row in
            let n = (count[row.name] ?? 0) + 1
            count[row.name] = n
            let page = HTMLSite.subsystemPage(row.name)
            return n == 1 ? page : String(page.dropLast(5)) + "-\(n).html"
        }
    }

    var subsystemsByName: [String: SubsystemRow] {
        var d: [String: SubsystemRow] = [:]
        for r in report.subsystems where d[r.name] == nil { d[r.name] = r }
        return d
    }

    static let style: StaticString = """
        <style>
        body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d1d1f;background:#f6f7f9}
        header{background:#20242c;color:#fff;padding:12px 24px} header a{color:#9cc0ff}
        header h1{margin:0;font-size:19px} header p{margin:4px 0 0;color:#c7ccd6}
        main{padding:12px 24px;max-width:1320px}
        h2{font-size:17px;margin:18px 0 8px} h3{font-size:15px;margin:14px 0 6px}
        .cards{display:flex;gap:12px;flex-wrap:wrap;margin:8px 0}
        .card{background:#fff;border-radius:8px;padding:8px 16px;box-shadow:0 1px 2px #0002;min-width:110px}
        .card b{display:block;font-size:22px}
        table{border-collapse:collapse;background:#fff;box-shadow:0 1px 2px #0002;margin-bottom:8px}
        th,td{padding:5px 10px;border-bottom:1px solid #e5e7eb;text-align:left;vertical-align:top}
        th{background:#eef0f4;cursor:pointer;user-select:none;white-space:nowrap}
        code,.mono{font-family:ui-monospace,monospace;font-size:12.5px}
        .sev{font-weight:700;text-transform:uppercase;font-size:11px}
        .sev.error{color:#d0312d} .sev.warning{color:#b07800} .sev.note{color:#2a5bd7}
        .check{font-family:ui-monospace,monospace;background:#eef0f4;padding:1px 6px;border-radius:4px;font-size:12px;white-space:nowrap}
        .prot{font-family:ui-monospace,monospace;font-size:12px;padding:1px 6px;border-radius:4px;background:#eef0f4}
        .prot.none,.prot.empty-release{background:#fde2e1} .prot.revocation{background:#dff5e3}
        details{background:#fff;border-radius:8px;box-shadow:0 1px 2px #0002;margin:6px 0;padding:4px 12px}
        summary{cursor:pointer;font-weight:600;padding:4px 0}
        .dir{margin:6px 0 6px 8px} .dir>div.d{font-family:ui-monospace,monospace;color:#555;font-size:12.5px}
        .row{padding:3px 0 3px 8px;border-left:3px solid #ddd;margin:3px 0}
        .row.error{border-color:#d0312d} .row.warning{border-color:#e9a100}
        .filters{display:flex;gap:8px;margin:8px 0;flex-wrap:wrap} .filters input{flex:1;min-width:260px}
        .filters input,.filters select{padding:6px;font-size:14px}
        .msg{background:#fff;border-radius:8px;padding:10px 14px;box-shadow:0 1px 2px #0002;border-left:5px solid #d0312d}
        .msg.warning{border-color:#e9a100}
        .fix{background:#eefaf0;border-left:5px solid #2e9d4a;border-radius:8px;padding:10px 14px;margin:10px 0}
        .svg{background:#fff;border-radius:8px;box-shadow:0 1px 2px #0002;padding:8px;overflow-x:auto}
        pre.src{background:#fff;border:1px solid #e5e7eb;border-radius:6px;padding:6px 0;margin:4px 0 12px;overflow-x:auto;font-size:12.5px;line-height:1.4}
        pre.src span.ln{display:inline-block;width:5em;text-align:right;padding-right:10px;color:#999;user-select:none}
        pre.src span.hit{background:#fff3bf;display:inline-block;min-width:100%}
        .hidden{display:none}
        </style>
        """

    mutating func lines(_ file: String) -> [Substring]? {
        if let l = lineCache[file] { return l }
        guard let bytes = source(file) else { return nil }
        let l = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        lineCache[file] = l
        return l
    }

    /// The lines around `line` of `file`, numbered, the line itself highlighted.
    mutating func excerpt(_ h: inout HTMLBuilder, file: String, line: Int32, context: Int = 4) {
        guard let all = lines(file), line >= 1, Int(line) <= all.count else {
            h.el("p", [("class", "mono")], text: "(source not available: \(file):\(line))")
            return
        }
        let lo = max(1, Int(line) - context), hi = min(all.count, Int(line) + context)
        h.el("pre", [("class", "src")]) { h in
            for n in lo...hi {
                let body = String(all[n - 1]).replacingTabs()
                if n == Int(line) {
                    h.el("span", [("class", "hit")]) { h in h.el("span", [("class", "ln")], text: "\(n)"); h.text(body) }
                } else {
                    h.el("span", [("class", "ln")], text: "\(n)"); h.text(body)
                }
                h.text("\n")
            }
        }
    }

    func page(title: String, depth: Int, _ body: (inout HTMLBuilder) -> Void) -> String {
        var h = HTMLBuilder()
        h.raw("<!DOCTYPE html>\n")
        h.el("html", [("lang", "en")]) { h in
            h.el("head") { h in
                h.void("meta", [("charset", "utf-8")])
                h.void("meta", [("http-equiv", "Content-Security-Policy"), ("content", "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:")])
                h.el("title", text: title)
                h.raw(HTMLSite.style)
            }
            h.el("body") { h in
                h.el("header") { h in
                    h.el("h1") { h in
                        h.el("a", [("href", depth == 0 ? "index.html" : "../index.html")], text: "unbindcheck \(UnbindCheckVersion.string)")
                        h.text(" · " + title)
                    }
                    h.el("p", text: "\(report.root) · \(report.stats.files) files · \(report.findings.count) findings" + (report.suppressed > 0 ? " · \(report.suppressed) suppressed by baseline" : ""))
                }
                h.el("main") { body(&$0) }
            }
        }
        return h.output + "\n"
    }

    /// The directory part of a path.
    static func directory(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return String(path[..<slash])
    }
}

extension String {
    /// Tabs as 8-column stops, so that excerpts line up as in an editor.
    func replacingTabs() -> String {
        guard contains("\t") else { return self }
        var out = ""
        var col = 0
        for c in self {
            if c == "\t" {
                let n = 8 - col % 8
                out += String(repeating: " ", count: n); col += n
            } else { out.append(c); col += 1 }
        }
        return out
    }
}
