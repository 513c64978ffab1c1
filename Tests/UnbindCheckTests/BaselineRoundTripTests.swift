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

/// Known issues: `baseline create`, then `scan --baseline` after edits (issue 12, item 4).
@Suite struct BaselineRoundTripTests {
    @Test func createEditRescan() throws {
        let dir = temporaryTree(reportFixture)
        defer { removeTree(dir) }
        let base = dir + "/known.json"
        let created = try CLI.run(["baseline", "create", dir, "-o", base])
        #expect(created.status == 0 && created.err.contains("baseline of 6 findings"))

        // Unrelated lines above the findings (file heads and inside the function): 0 new.
        for file in ["drivers/misc/widget.c", "drivers/card/card.c", "drivers/flash/chip.c", "drivers/misc/dummy.c"] {
            let path = dir + "/" + file
            var text = try String(contentsOfFile: path, encoding: .utf8)
            text = "/* SPDX-License-Identifier: GPL-2.0 */\n/* reworded header */\n" + text
            text = text.replacingOccurrences(of: "device_unregister(&v->dev);", with: "pr_debug(\"second\");\n        device_unregister(&v->dev);")
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        }
        let same = try CLI.run(["scan", dir, "--baseline", base, "--format", "json"])
        #expect(same.status == 0)
        #expect(try fingerprints(same.out).isEmpty)
        #expect(same.err.contains("6 findings suppressed, 0 baseline entries resolved"))

        // A new hazard: exactly one new finding.
        try "#include <linux/device.h>\nstatic void extra_release(struct device *dev)\n{\n}\nstatic const struct device_type extra_type = { .release = extra_release };\n"
            .write(toFile: dir + "/drivers/misc/extra.c", atomically: true, encoding: .utf8)
        let added = try CLI.run(["scan", dir, "--baseline", base, "--format", "json"])
        #expect(added.status == 1)
        #expect(try bases(added.out) == ["empty-release|drivers/misc/extra.c|extra_release||"])

        // A fixed one: one baseline entry resolved, and listed.
        try FileManager.default.removeItem(atPath: dir + "/drivers/misc/dummy.c")
        let removed = try CLI.run(["scan", dir, "--baseline", base, "--format", "json"])
        #expect(try bases(removed.out) == ["empty-release|drivers/misc/extra.c|extra_release||"])
        #expect(removed.err.contains("5 findings suppressed, 1 baseline entry resolved"))
        #expect(removed.err.contains("  resolved: empty-release|drivers/misc/dummy.c|dummy_release|||"))
    }

    @Test func fiveFieldEntriesOfOlderBaselinesStillMatch() throws {
        let dir = temporaryTree(reportFixture)
        defer { removeTree(dir) }
        let all = try fingerprints(try CLI.run(["scan", dir, "--format", "json"]).out)
        try (Set(all.map(base)).sorted().joined(separator: "\n") + "\n").write(toFile: dir + "/old.txt", atomically: true, encoding: .utf8)
        let r = try CLI.run(["scan", dir, "--baseline", dir + "/old.txt"])
        #expect(r.status == 0 && r.out.isEmpty)
        #expect(r.err.contains("6 findings suppressed, 0 baseline entries resolved"))
    }
}
