/// A single self-contained HTML page: summary by check and subsystem, then every finding
/// with its evidence, filterable in the browser. All scanned text is escaped.
public struct HTMLReporter: Reporter {
    public init() {}

    public static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for u in s.unicodeScalars {
            switch u {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default:
                if u.value < 0x20 && u != "\n" && u != "\t" || u.value == 0x7f { out += "&#xFFFD;" } else { out.unicodeScalars.append(u) }
            }
        }
        return out
    }

    public func render(_ report: Report) -> String {
        let e = HTMLReporter.escape
        var byCheck: [String: (Int, Int)] = [:]
        var byObject: [String: Int] = [:]
        for f in report.findings {
            var c = byCheck[f.check] ?? (0, 0)
            if f.severity == .error { c.0 += 1 } else { c.1 += 1 }
            byCheck[f.check] = c
            if !f.object.isEmpty { byObject[f.object + (f.protection.isEmpty ? "" : " (" + f.protection + ")"), default: 0] += 1 }
        }
        var h = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
            <title>unbindcheck report — \(e(report.root))</title>
            <style>
            body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d1d1f;background:#f6f7f9}
            header{background:#20242c;color:#fff;padding:14px 24px}
            header h1{margin:0;font-size:20px} header p{margin:4px 0 0;color:#c7ccd6}
            main{padding:16px 24px;max-width:1200px}
            .cards{display:flex;gap:12px;flex-wrap:wrap;margin-bottom:16px}
            .card{background:#fff;border-radius:8px;padding:10px 16px;box-shadow:0 1px 2px #0002;min-width:120px}
            .card b{display:block;font-size:22px}
            table{border-collapse:collapse;background:#fff;margin-bottom:16px;box-shadow:0 1px 2px #0002}
            th,td{padding:6px 12px;border-bottom:1px solid #e5e7eb;text-align:left}
            th{background:#eef0f4}
            .finding{background:#fff;border-radius:8px;padding:10px 14px;margin:10px 0;box-shadow:0 1px 2px #0002;border-left:5px solid #999}
            .finding.error{border-color:#d33} .finding.warning{border-color:#e9a100}
            .loc{font-family:ui-monospace,monospace;font-size:13px;color:#333}
            .sev{font-weight:600;text-transform:uppercase;font-size:12px;margin-right:6px}
            .error .sev{color:#d33} .warning .sev{color:#b07800}
            .check{font-family:ui-monospace,monospace;background:#eef0f4;padding:1px 6px;border-radius:4px;font-size:12px}
            .chain{font-family:ui-monospace,monospace;color:#2a5bd7}
            ul.notes{margin:6px 0 0 0;padding-left:18px;color:#444} ul.notes li{margin:2px 0}
            #filter{width:100%;padding:8px;font-size:14px;margin-bottom:8px;box-sizing:border-box}
            </style></head><body>
            <header><h1>unbindcheck \(e(UnbindCheckVersion.string))</h1><p>\(e(report.root)) · \(report.stats.files) files · \(report.findings.count) findings\(report.suppressed > 0 ? " · \(report.suppressed) suppressed by baseline" : "")</p></header>
            <main>
            <div class="cards">
            <div class="card"><b>\(report.findings.filter { $0.severity == .error }.count)</b>errors</div>
            <div class="card"><b>\(report.findings.filter { $0.severity == .warning }.count)</b>warnings</div>
            <div class="card"><b>\(report.stats.devmAllocations)</b>devm allocations</div>
            <div class="card"><b>\(report.stats.structs)</b>structs</div>
            </div>
            <h2>By check</h2><table><tr><th>check</th><th>errors</th><th>warnings</th></tr>

            """
        for (k, v) in byCheck.sorted(by: { $0.key < $1.key }) {
            h += "<tr><td><span class=\"check\">\(e(k))</span></td><td>\(v.0)</td><td>\(v.1)</td></tr>\n"
        }
        h += "</table>\n<h2>By object (protection)</h2><table><tr><th>object</th><th>findings</th></tr>\n"
        for (k, v) in byObject.sorted(by: { ($0.value, $1.key) > ($1.value, $0.key) }).prefix(25) {
            h += "<tr><td class=\"chain\">\(e(k))</td><td>\(v)</td></tr>\n"
        }
        h += "</table>\n<h2>Findings</h2>\n<input id=\"filter\" placeholder=\"Filter by path, struct, check, object…\" aria-label=\"filter\">\n<div id=\"findings\">\n"
        for f in report.findings {
            h += "<div class=\"finding \(f.severity.rawValue)\">"
            h += "<div class=\"loc\"><span class=\"sev\">\(f.severity.rawValue)</span>\(e(f.file)):\(f.line):\(f.column) <span class=\"check\">\(e(f.check))</span></div>"
            h += "<div>\(e(f.message))</div>"
            if !f.chain.isEmpty { h += "<div class=\"chain\">\(e(f.chain.joined(separator: " → ")))</div>" }
            if !f.notes.isEmpty {
                h += "<ul class=\"notes\">"
                for n in f.notes { h += "<li><span class=\"loc\">\(e(n.file)):\(n.line)</span> \(e(n.message))</li>" }
                h += "</ul>"
            }
            h += "</div>\n"
        }
        h += """
            </div></main>
            <script>
            document.getElementById('filter').addEventListener('input', function (ev) {
              var q = ev.target.value.toLowerCase();
              document.querySelectorAll('.finding').forEach(function (d) {
                d.style.display = d.textContent.toLowerCase().indexOf(q) >= 0 ? '' : 'none';
              });
            });
            </script>
            </body></html>

            """
        return h
    }
}
