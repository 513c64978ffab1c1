import Facts
import Indexing
import Analysis
import Findings
import Checks

/// `compare --format html`: one self-contained page (no network) with the totals, the
/// counts by subsystem and by directory, and the findings fixed and introduced by subsystem.
extension Comparison {
    public func html(old: String, new: String) -> String {
        var h = HTMLBuilder()
        h.raw("<!DOCTYPE html>\n")
        h.el("html", [("lang", "en")]) { h in
            h.el("head") { h in
                h.void("meta", [("charset", "utf-8")])
                h.void("meta", [("http-equiv", "Content-Security-Policy"), ("content", "default-src 'none'; style-src 'unsafe-inline'")])
                h.el("title", text: "unbindcheck compare — \(old) → \(new)")
                h.raw(HTMLSite.style)
            }
            h.el("body") { h in
                h.el("header") { h in
                    h.el("h1", text: "unbindcheck \(UnbindCheckVersion.string) · compare")
                    h.el("p", text: "\(old) → \(new)")
                }
                h.el("main") { h in
                    h.el("div", [("class", "cards")]) { h in
                        let moved = persisting.filter { $0.old.file != $0.new.file }.count
                        for (n, label) in [(fixed.count, "fixed"), (introduced.count, "introduced"), (persisting.count, "persisting"), (moved, "moved with renamed files")] {
                            h.el("div", [("class", "card")]) { h in h.el("b", text: "\(n)"); h.text(label) }
                        }
                    }
                    for (title, rows) in [("By subsystem", counts { $0.subsystem }), ("By directory", counts { $0.area })] {
                        h.el("h2", text: title)
                        h.el("table") { h in
                            h.el("tr") { h in for t in ["", "fixed", "introduced", "persisting"] { h.el("th", text: t) } }
                            for (name, f, i, p) in rows {
                                h.el("tr") { h in
                                    h.el("td", [("class", "mono")], text: name)
                                    h.el("td", text: "\(f)"); h.el("td", text: "\(i)"); h.el("td", text: "\(p)")
                                }
                            }
                        }
                    }
                    for (title, list) in [("Fixed", fixed), ("Introduced", introduced)] {
                        h.el("h2", text: "\(title) (\(list.count))")
                        for (sub, group) in Dictionary(grouping: list, by: \.subsystem).sorted(by: { $0.key < $1.key }) {
                            h.el("h3", [("class", "mono")], text: sub)
                            for f in group.sorted(by: { ($0.file, $0.line) < ($1.file, $1.line) }) {
                                h.el("div", [("class", "row " + f.severity)]) { h in
                                    h.el("span", [("class", "sev " + f.severity)], text: f.severity)
                                    h.text(" ")
                                    h.el("span", [("class", "mono")], text: "\(f.file):\(f.line)")
                                    h.text(" ")
                                    h.el("span", [("class", "check")], text: f.check)
                                    h.text(" " + f.message)
                                }
                            }
                        }
                    }
                }
            }
        }
        return h.output + "\n"
    }
}
