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

/// The fixture tree of the report tests: `kernelFixture`, a driver that frees two widgets
/// right after unregistering them (two findings of one function), and a comment that holds
/// markup.
let reportFixture: [String: String] = kernelFixture.merging([
    "drivers/misc/widget.c": """
        #include <linux/device.h>
        struct widget { int id; struct device dev; };
        static void widget_remove(struct widget *w, struct widget *v)
        {
                /* <script>alert("x")</script> & "quotes" */
                device_unregister(&w->dev);
                kfree(w);
                device_unregister(&v->dev);
                kfree(v);
        }
        """,
]) { $1 }

/// Where this test file lives, to find `Tests/Resources` and the repository.
let testsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()

/// Runs a Python snippet with arguments; returns status and combined output.
func python(_ code: String, _ args: [String]) throws -> (Int32, String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["python3", "-c", code] + args
    let out = Pipe()
    p.standardOutput = out
    p.standardError = out
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
}

@Suite struct ReportTests {
    @Test func everyFindingHasAFixInEveryFormat() throws {
        let dir = temporaryTree(reportFixture)
        defer { removeTree(dir) }
        let json = try CLI.run(["scan", dir, "--format", "json"])
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any])
        let findings = try #require(obj["findings"] as? [[String: Any]])
        #expect(findings.count == 6)
        for f in findings {
            let fix = try #require(f["fix"] as? String)
            #expect(fix.count > 40, "\(f["fingerprint"] ?? "")")
        }
        let byCheck = Dictionary(grouping: findings) { $0["check"] as! String }
        #expect((byCheck["kfree-outside-release"]?.first?["fix"] as? String)?.contains("release callback of struct widget") == true)
        #expect((byCheck["empty-release"]?.first?["fix"] as? String)?.contains("kfree(container_of(") == true)
        #expect((byCheck["devm-embedded-refcount"]?.first?["fix"] as? String)?.hasPrefix("allocate struct card with kzalloc() instead of devm_kzalloc()") == true)
        let text = try CLI.run(["scan", dir])
        #expect(text.out.components(separatedBy: ": note: fix: ").count - 1 == 6)
        #expect(text.out.contains("drivers/misc/widget.c:7:9: note: fix: do not kfree() struct widget after the reference is dropped"))
    }

    @Test func fingerprintsAreUniqueAndIgnoreLineNumbers() throws {
        let dir = temporaryTree(reportFixture)
        defer { removeTree(dir) }
        let fps = try fingerprints(try CLI.run(["scan", dir, "--format", "json"]).out)
        #expect(Set(fps).count == fps.count)
        let widget = fps.filter { $0.hasPrefix("kfree-outside-release|drivers/misc/widget.c|widget_remove|widget|widget|") }
        #expect(widget.count == 2)
        #expect(widget.contains { $0.hasSuffix("~2") } && widget.contains { !$0.contains("~") })
        // Unrelated lines above the findings change no fingerprint.
        let shifted = temporaryTree(reportFixture.mapValues { "/* a */\n/* b */\n" + $0 })
        defer { removeTree(shifted) }
        #expect(try fingerprints(try CLI.run(["scan", shifted, "--format", "json"]).out).sorted() == fps.sorted())
    }

    @Test func sarifValidatesAgainstTheOfficialSchemaWithCodeFlowsAndHelp() throws {
        let dir = temporaryTree(reportFixture)
        defer { removeTree(dir) }
        let r = try CLI.run(["scan", dir, "--format", "sarif"])
        #expect(r.status == 1)
        let file = dir + "/out.sarif"
        try r.out.write(toFile: file, atomically: true, encoding: .utf8)
        let schema = testsDirectory.appendingPathComponent("Resources/sarif-schema-2.1.0.json").path
        let (status, output) = try python("""
            import json, sys, jsonschema
            schema = json.load(open(sys.argv[1])); log = json.load(open(sys.argv[2]))
            errors = list(jsonschema.Draft4Validator(schema).iter_errors(log))
            for e in errors[:5]: print(list(e.path), e.message)
            sys.exit(1 if errors else 0)
            """, [schema, file])
        #expect(status == 0, "\(output)")
        // A broken log is rejected: the validation can fail.
        let broken = r.out.replacingOccurrences(of: "\"startLine\":", with: "\"startLine\":-")
        try broken.write(toFile: file + ".bad", atomically: true, encoding: .utf8)
        #expect(try python("import json,sys,jsonschema; jsonschema.validate(json.load(open(sys.argv[2])), json.load(open(sys.argv[1])))", [schema, file + ".bad"]).0 != 0)

        let log = try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
        let run = try #require((log["runs"] as? [[String: Any]])?.first)
        let rules = try #require(((run["tool"] as? [String: Any])?["driver"] as? [String: Any])?["rules"] as? [[String: Any]])
        #expect(rules.count == allChecks.count)
        for rule in rules {
            let id = try #require(rule["id"] as? String)
            #expect(rule["helpUri"] as? String == UnbindCheckVersion.repositoryURL + "/docs/checks.md#" + id)
            let help = try #require(rule["help"] as? [String: String])
            #expect(help["text"]?.contains("How to fix:") == true && help["markdown"]?.contains("```c") == true)
        }
        let results = try #require(run["results"] as? [[String: Any]])
        #expect(results.count == 6)
        var partials = Set<String>()
        for res in results {
            let notes = (res["relatedLocations"] as? [[String: Any]])?.count ?? -1
            let flow = try #require((res["codeFlows"] as? [[String: Any]])?.first?["threadFlows"] as? [[String: Any]])
            let steps = try #require(flow.first?["locations"] as? [[String: Any]])
            #expect(steps.count == notes + 1)
            #expect(steps.last?["importance"] as? String == "essential")
            let fp = try #require((res["partialFingerprints"] as? [String: String])?["unbindcheck/v2"])
            partials.insert(fp)
            #expect((res["properties"] as? [String: Any])?["fix"] as? String != nil)
        }
        #expect(partials.count == results.count)
    }

    @Test func docsHaveASectionPerCheck() throws {
        let docs = try String(contentsOf: testsDirectory.deletingLastPathComponent().appendingPathComponent("docs/checks.md"), encoding: .utf8)
        for c in allChecks {
            let id = type(of: c).description.id
            #expect(docs.contains("\n## \(id)\n") && docs.contains("(#\(id))"), "\(id)")
            #expect(!RuleHelp.of(id).fix.isEmpty, "\(id)")
        }
    }

    @Test func subsystemsSharingANameGetTheirOwnPagesAndProviderPicturesNameMembers() throws {
        let stats = ScanStats(files: 1, bytes: 1, structs: 1, functions: 1, seconds: 0, allocations: 0, devmAllocations: 0, untypedDevmAllocations: 0)
        var report = Report(root: "/nonexistent", findings: [], stats: stats, suppressed: 0, includeTimings: false)
        let row = SubsystemRow(name: "port", file: "a/x.h", line: 1, core: "device", coreField: "dev", register: ["port_add"], unregister: [],
                               release: nil, allocators: [], protection: "none", devmAllocations: 0, evidence: [])
        var other = row
        other.file = "b/y.h"
        report.subsystems = [row, other]
        var site = HTMLSite(report: report, source: { _ in nil })
        let pages = site.pages().map(\.0)
        #expect(pages == ["index.html", "subsystems/port.html", "subsystems/port-2.html"])
        #expect(site.overview().contains("href=\"subsystems/port-2.html\""))

        var f = Finding(check: "unrevoked-provider-ops", severity: .error, file: "drivers/core.c", line: 3, column: 1, function: "core_unregister",
                        structName: "core_dev", chain: ["core_dev"], object: "core_dev", protection: "none", message: "m")
        f.members = ["ops", "priv"]
        let svg = OwnershipStory(f, subsystem: nil).svg()
        #expect(svg.contains("⊃ .ops, priv") && svg.contains("provider-owned members, freed") && !svg.contains("refcounted: lives until"))
    }
}
