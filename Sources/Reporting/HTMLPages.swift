import Facts
import Indexing
import Analysis
import Findings
import Checks

/// The three kinds of page of the HTML site.
extension HTMLSite {
    static let overviewScript: StaticString = """
        <script>
        (function () {
          var q = document.getElementById('q'), chk = document.getElementById('chk'), sev = document.getElementById('sev');
          function apply() {
            var t = q.value.toLowerCase(), c = chk.value, s = sev.value;
            document.querySelectorAll('.row').forEach(function (r) {
              var ok = (!c || r.dataset.check === c) && (!s || r.dataset.sev === s) && r.textContent.toLowerCase().indexOf(t) >= 0;
              r.classList.toggle('hidden', !ok);
            });
            document.querySelectorAll('details.group, div.dir').forEach(function (g) {
              g.classList.toggle('hidden', g.querySelectorAll('.row:not(.hidden)').length === 0);
            });
          }
          [q, chk, sev].forEach(function (e) { e.addEventListener('input', apply); });
          var sq = document.getElementById('sq');
          sq.addEventListener('input', function () {
            var t = sq.value.toLowerCase();
            document.querySelectorAll('#subs tbody tr').forEach(function (r) {
              r.classList.toggle('hidden', r.textContent.toLowerCase().indexOf(t) < 0);
            });
          });
          document.querySelectorAll('#subs th').forEach(function (th, i) {
            th.addEventListener('click', function () {
              var tb = document.querySelector('#subs tbody'), rows = Array.prototype.slice.call(tb.rows);
              var dir = th.dataset.dir === 'asc' ? -1 : 1; th.dataset.dir = dir === 1 ? 'asc' : 'desc';
              rows.sort(function (a, b) {
                var x = a.cells[i].dataset.v || a.cells[i].textContent, y = b.cells[i].dataset.v || b.cells[i].textContent;
                var nx = parseFloat(x), ny = parseFloat(y);
                return dir * (isNaN(nx) || isNaN(ny) ? x.localeCompare(y) : nx - ny);
              });
              rows.forEach(function (r) { tb.appendChild(r); });
            });
          });
        })();
        </script>
        """

    /// `index.html`: totals, the subsystem table, the findings by subsystem and directory.
    mutating func overview() -> String {
        let subsystems = report.subsystems
        return page(title: "overview", depth: 0) { h in
            h.el("p", [("class", "mono")]) { h in
                h.el("a", [("href", "#f")], text: "findings by subsystem and directory"); h.text(" · ")
                h.el("a", [("href", "#subsystems")], text: "subsystem objects (\(subsystems.count))")
            }
            overviewTotals(&h)
            findingGroups(&h)
            subsystemTable(&h)
            h.raw(HTMLSite.overviewScript)
        }
    }

    /// The cards with totals and the table of findings by check.
    func overviewTotals(_ h: inout HTMLBuilder) {
        let findings = report.findings
        let subsystems = report.subsystems
        h.el("div", [("class", "cards")]) { h in
            for sev in [Severity.error, .warning, .note] {
                h.el("div", [("class", "card")]) { h in
                    h.el("b", text: "\(findings.filter { $0.severity == sev }.count)"); h.text(sev.rawValue + "s")
                }
            }
            h.el("div", [("class", "card")]) { h in h.el("b", text: "\(subsystems.count)"); h.text("subsystem objects") }
            h.el("div", [("class", "card")]) { h in h.el("b", text: "\(report.stats.devmAllocations)"); h.text("devm allocations") }
        }
        h.el("h2", text: "Findings by check")
        h.el("table") { h in
            h.el("tr") { h in for t in ["check", "errors", "warnings", "notes", "total"] { h.el("th", text: t) } }
            for c in allChecks.map({ type(of: $0).description.id }) {
                let fs = findings.filter { $0.check == c }
                h.el("tr") { h in
                    h.el("td") { h in h.el("a", [("href", "#f"), ("class", "check"), ("title", RuleHelp.of(c).fix)], text: c) }
                    for sev in [Severity.error, .warning, .note] { h.el("td", text: "\(fs.filter { $0.severity == sev }.count)") }
                    h.el("td", text: "\(fs.count)")
                }
            }
        }
    }

    /// Findings grouped by subsystem object, then directory, with the filters above them.
    func findingGroups(_ h: inout HTMLBuilder) {
        let findings = report.findings
        let known = subsystemsByName
        h.el("h2", [("id", "f")], text: "Findings by subsystem and directory")
        h.el("div", [("class", "filters")]) { h in
            h.void("input", [("id", "q"), ("placeholder", "filter: path, function, struct, message…"), ("aria-label", "filter findings")])
            h.el("select", [("id", "chk"), ("aria-label", "check")]) { h in
                h.el("option", [("value", "")], text: "all checks")
                for c in allChecks.map({ type(of: $0).description.id }) { h.el("option", [("value", c)], text: c) }
            }
            h.el("select", [("id", "sev"), ("aria-label", "severity")]) { h in
                h.el("option", [("value", "")], text: "all severities")
                for s in ["error", "warning", "note"] { h.el("option", [("value", s)], text: s) }
            }
        }
        // Subsystem (the finding's object) → directory → findings.
        var groups: [String: [Int]] = [:]
        for (i, f) in findings.enumerated() { groups[f.object.isEmpty ? "(no subsystem object)" : f.object, default: []].append(i) }
        for (rank, (name, ids)) in groups.sorted(by: { ($0.value.count, $1.key) > ($1.value.count, $0.key) }).enumerated() {
            // The largest groups open; the rest one click away (the filter searches them all).
            h.el("details", rank < 4 ? [("class", "group"), ("open", "")] : [("class", "group")]) { h in
                h.el("summary") { h in
                    if known[name] != nil {
                        h.el("a", [("href", HTMLSite.subsystemPage(name))], text: "struct " + name)
                    } else { h.text(name) }
                    h.text(" — \(ids.count) finding\(ids.count == 1 ? "" : "s")")
                    if let p = known[name]?.protection { h.text(" "); h.el("span", [("class", "prot " + p)], text: p) }
                }
                var dirs: [String: [Int]] = [:]
                for i in ids { dirs[HTMLSite.directory(findings[i].file), default: []].append(i) }
                for (dir, members) in dirs.sorted(by: { $0.key < $1.key }) {
                    h.el("div", [("class", "dir")]) { h in
                        h.el("div", [("class", "d")], text: dir + "/")
                        for i in members {
                            let f = findings[i]
                            h.el("div", [("class", "row " + f.severity.rawValue), ("data-check", f.check), ("data-sev", f.severity.rawValue)]) { h in
                                h.el("span", [("class", "sev " + f.severity.rawValue)], text: f.severity.rawValue)
                                h.text(" ")
                                h.el("a", [("href", HTMLSite.findingPage(i)), ("class", "mono")], text: "\(f.file):\(f.line)")
                                h.text(" ")
                                h.el("span", [("class", "check")], text: f.check)
                                h.text(" " + (f.function.isEmpty ? "" : f.function + "(): ") + f.message)
                            }
                        }
                    }
                }
            }
        }
    }

    /// The sortable, filterable table of subsystem objects.
    func subsystemTable(_ h: inout HTMLBuilder) {
        let findings = report.findings
        let subsystems = report.subsystems
        h.el("h2", [("id", "subsystems")], text: "Subsystem objects")
        h.el("div", [("class", "filters")]) { h in
            h.void("input", [("id", "sq"), ("placeholder", "filter subsystems: struct, protection, function…"), ("aria-label", "filter subsystems")])
        }
        h.el("table", [("id", "subs")]) { h in
            h.el("thead") { h in
                h.el("tr") { h in
                    for t in ["object", "protection", "register", "unregister", "release", "devm-allocating drivers", "findings"] {
                        h.el("th", [("title", "click to sort")], text: t)
                    }
                }
            }
            h.el("tbody") { h in
                for (row, page) in zip(subsystems, subsystemPages) {
                    h.el("tr") { h in
                        h.el("td") { h in
                            h.el("a", [("href", page), ("class", "mono"), ("title", "\(row.file):\(row.line)")], text: row.name)
                        }
                        h.el("td") { h in h.el("span", [("class", "prot " + row.protection)], text: row.protection) }
                        h.el("td", [("class", "mono")], text: row.register.prefix(3).joined(separator: ", "))
                        h.el("td", [("class", "mono")], text: row.unregister.prefix(3).joined(separator: ", "))
                        h.el("td", [("class", "mono")], text: row.release ?? "(none)")
                        h.el("td", text: "\(row.devmAllocations)")
                        h.el("td", text: "\(findings.filter { $0.object == row.name }.count)")
                    }
                }
            }
        }
    }

    /// `findings/N.html`: message, fix, picture, evidence with source excerpts.
    mutating func findingPage(_ i: Int) -> String {
        let f = report.findings[i]
        let row = subsystemsByName[f.object]
        let story = OwnershipStory(f, subsystem: row)
        var me = self
        let html = page(title: "\(f.check) in \(f.function.isEmpty ? f.file : f.function + "()")", depth: 1) { h in
            h.el("p", [("class", "mono")]) { h in
                if i > 0 { h.el("a", [("href", "\(i).html")], text: "← previous"); h.text(" · ") }
                h.el("a", [("href", "../index.html#f")], text: "all findings")
                if i + 1 < report.findings.count { h.text(" · "); h.el("a", [("href", "\(i + 2).html")], text: "next →") }
                if row != nil { h.text(" · subsystem: "); h.el("a", [("href", "../" + HTMLSite.subsystemPage(f.object))], text: "struct " + f.object) }
            }
            h.el("div", [("class", "msg " + f.severity.rawValue)]) { h in
                h.el("span", [("class", "sev " + f.severity.rawValue)], text: f.severity.rawValue)
                h.text(" ")
                h.el("span", [("class", "check")], text: f.check)
                h.text(" ")
                h.el("span", [("class", "mono")], text: "\(f.file):\(f.line):\(f.column)")
                h.el("p", text: f.message)
                if !f.chain.isEmpty { h.el("p", [("class", "mono")], text: "chain: " + f.chain.joined(separator: " → ") + (f.protection.isEmpty ? "" : " · protection: " + f.protection)) }
                h.el("p", [("class", "mono")], text: "fingerprint: " + f.fingerprint)
            }
            h.el("div", [("class", "fix")]) { h in h.el("b", text: "Fix: "); h.text(f.fix) }
            h.el("h2", text: "Who owns the memory")
            h.el("div", [("class", "svg")]) { h in h.svg(story) }
            h.el("h2", text: "Where: \(f.file):\(f.line)")
            me.excerpt(&h, file: f.file, line: f.line)
            if !f.notes.isEmpty {
                h.el("h2", text: "Evidence")
                for (k, n) in f.notes.enumerated() {
                    h.el("h3") { h in
                        h.text("\(k + 1). "); h.el("span", [("class", "check")], text: n.kind.rawValue); h.text(" ")
                        h.el("span", [("class", "mono")], text: "\(n.file):\(n.line)"); h.text(" — " + n.message)
                    }
                    me.excerpt(&h, file: n.file, line: n.line, context: 3)
                }
            }
        }
        self = me
        return html
    }

    /// `subsystems/NAME.html`: the object's register/unregister/release, protection, evidence
    /// and findings.
    mutating func subsystemPage(_ row: SubsystemRow) -> String {
        let findings = report.findings.enumerated().filter { $0.element.object == row.name }
        var me = self
        let html = page(title: "struct \(row.name)", depth: 1) { h in
            h.el("p", [("class", "mono")]) { h in h.el("a", [("href", "../index.html")], text: "overview") }
            h.el("table") { h in
                for (k, v) in [("defined at", "\(row.file):\(row.line)"), ("core object", "\(row.core) (\(row.coreField))"),
                               ("protection", row.protection), ("register", row.register.joined(separator: ", ")),
                               ("unregister", row.unregister.joined(separator: ", ")), ("release", row.release ?? "(none)"),
                               ("functions that allocate it", row.allocators.isEmpty ? "(none)" : row.allocators.joined(separator: ", ")),
                               ("devm-allocating drivers", "\(row.devmAllocations)"), ("findings", "\(findings.count)")] {
                    h.el("tr") { h in h.el("th", text: k); h.el("td", [("class", "mono")], text: v) }
                }
            }
            h.el("h2", text: "Protection evidence")
            if row.evidence.isEmpty { h.el("p", text: "No evidence recorded.") }
            for e in row.evidence {
                h.el("h3") { h in h.el("span", [("class", "mono")], text: "\(e.file):\(e.line)"); h.text(" — " + e.message) }
                me.excerpt(&h, file: e.file, line: e.line, context: 3)
            }
            h.el("h2", text: "Definition")
            me.excerpt(&h, file: row.file, line: row.line, context: 6)
            h.el("h2", text: "Findings on struct \(row.name)")
            if findings.isEmpty { h.el("p", text: "None.") }
            for (i, f) in findings {
                h.el("div", [("class", "row " + f.severity.rawValue)]) { h in
                    h.el("span", [("class", "sev " + f.severity.rawValue)], text: f.severity.rawValue)
                    h.text(" ")
                    h.el("a", [("href", "../" + HTMLSite.findingPage(i)), ("class", "mono")], text: "\(f.file):\(f.line)")
                    h.text(" ")
                    h.el("span", [("class", "check")], text: f.check)
                    h.text(" " + f.message)
                }
            }
        }
        self = me
        return html
    }
}

extension HTMLBuilder {
    /// Draws a finding's ownership picture here.
    mutating func svg(_ story: OwnershipStory) { story.draw(&self) }
}
