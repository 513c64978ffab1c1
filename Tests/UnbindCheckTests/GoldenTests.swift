import Testing
import Foundation
@testable import Facts
@testable import CFrontend
@testable import Indexing
@testable import Analysis
@testable import Findings
@testable import Checks
@testable import Reporting
@testable import Pipeline

/// End-to-end: the built binary on the fixture trees of `Tests/Fixtures`, every format
/// against a golden file in `Tests/Fixtures/golden`. `UNBINDCHECK_UPDATE_GOLDEN=1 swift test
/// --filter GoldenTests` rewrites the golden files (review the diff before committing).
@Suite struct GoldenTests {
    static let fixtures = testsDirectory.appendingPathComponent("Fixtures")
    static let update = ProcessInfo.processInfo.environment["UNBINDCHECK_UPDATE_GOLDEN"] == "1"

    func check(_ actual: String, golden name: String) throws {
        let url = GoldenTests.fixtures.appendingPathComponent("golden/" + name)
        if GoldenTests.update {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try actual.write(to: url, atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOf: url, encoding: .utf8)
        #expect(actual == expected, "\(name) differs from its golden file")
    }

    @Test func everyFormatMatchesItsGoldenFile() throws {
        let tree = GoldenTests.fixtures.appendingPathComponent("reports-tree").path
        for (format, name) in [("text", "scan.txt"), ("json", "scan.json"), ("sarif", "scan.sarif")] {
            let r = try CLI.run(["scan", ".", "--format", format], in: tree)
            #expect(r.status == 1)
            try check(r.out, golden: name)
        }
        let site = temporaryTree([:])
        defer { removeTree(site) }
        let r = try CLI.run(["scan", ".", "--reports", site], in: tree)
        #expect(r.status == 1)
        for page in ["index.html", "findings/1.html", "findings/6.html", "subsystems/flash_info.html"] {
            try check(try String(contentsOfFile: site + "/" + page, encoding: .utf8), golden: "site/" + page)
        }
        // --reports writes the same bytes as each format alone.
        try check(try String(contentsOfFile: site + "/report.json", encoding: .utf8), golden: "scan.json")
        // The compare report of the two fixture versions.
        let c = try CLI.run(["compare", "compare-old", "reports-tree", "--format", "json", "--quiet"], in: GoldenTests.fixtures.path)
        #expect(c.status == 0)
        try check(c.out, golden: "compare.json")
        let t = try CLI.run(["compare", "compare-old", "reports-tree", "--quiet"], in: GoldenTests.fixtures.path)
        try check(t.out, golden: "compare.txt")
        let page = try CLI.run(["compare", "compare-old", "reports-tree", "--format", "html", "--quiet"], in: GoldenTests.fixtures.path)
        #expect(page.out.contains("<b>1</b>fixed") && page.out.contains("<b>1</b>introduced") && page.out.contains("<b>5</b>persisting"))
        #expect(!page.out.contains("<script"))
        try check(page.out, golden: "compare.html")
    }

    @Test func siteLinksResolveAndScannedTextIsEscaped() throws {
        let tree = GoldenTests.fixtures.appendingPathComponent("reports-tree").path
        let site = temporaryTree([:])
        defer { removeTree(site) }
        let r = try CLI.run(["scan", ".", "--format", "html", "--output", site + "/"], in: tree)
        #expect(r.status == 1)
        let pages = try FileManager.default.subpathsOfDirectory(atPath: site).filter { $0.hasSuffix(".html") }.sorted()
        #expect(pages.count == 1 + 6 + 1)
        var linked = Set<String>()
        for page in pages {
            let html = try String(contentsOfFile: site + "/" + page, encoding: .utf8)
            #expect(html.hasPrefix("<!DOCTYPE html>") && html.hasSuffix("</html>\n"))
            // The only scripts are the report's own (the overview's filter); none from the tree.
            #expect(!html.contains("<script>alert"))
            #expect(html.components(separatedBy: "<script>").count - 1 == (page == "index.html" ? 1 : 0))
            // No network: no http(s) resource is loaded.
            #expect(!html.contains("src=\"http") && !html.contains("href=\"http"))
            // Every relative link resolves to a page of the site.
            let dir = (page as NSString).deletingLastPathComponent
            for m in html.components(separatedBy: "href=\"").dropFirst() {
                let target = String(m.prefix { $0 != "\"" && $0 != "#" })
                if target.isEmpty { continue }
                let resolved = ((dir.isEmpty ? target : dir + "/" + target) as NSString).standardizingPath
                #expect(FileManager.default.fileExists(atPath: site + "/" + resolved), "\(page) → \(target)")
                linked.insert(resolved)
            }
        }
        #expect(linked.isSuperset(of: pages.filter { $0 != "index.html" }))
        let widget = try String(contentsOfFile: site + "/findings/5.html", encoding: .utf8)
        #expect(widget.contains("/* &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &quot;quotes&quot; */"))
        // The picture: an SVG with the chain, the freeing step and the red hazard edge.
        let card = try String(contentsOfFile: site + "/findings/1.html", encoding: .utf8)
        #expect(card.contains("<svg") && card.contains("struct card") && card.contains("⊃ struct flash_info") && card.contains("class=\"hazard\""))
        #expect(card.contains(">devres frees the whole card at<") && card.contains("hazard: freed while device is"))
        // Source excerpt with line numbers, the finding's line highlighted.
        #expect(card.contains("<span class=\"hit\"><span class=\"ln\">5</span>"))
    }
}
