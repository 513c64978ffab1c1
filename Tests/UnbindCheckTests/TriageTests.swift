import Testing
@testable import Facts
@testable import CFrontend
@testable import Indexing
@testable import Analysis
@testable import Findings
@testable import Checks
@testable import Reporting
@testable import Pipeline

@Suite struct TriageTests {
    /// A log written for the fixture tree: unbinding `chip` while a user holds a reference.
    static let log = """
        [  812.104233] ------------[ cut here ]------------
        [  812.104240] refcount_t: underflow; use-after-free.
        [  812.104290] WARNING: CPU: 1 PID: 777 at lib/refcount.c:28 refcount_warn_saturate+0xf4/0x148
        [  812.104400] Call trace:
        [  812.104402]  refcount_warn_saturate+0xf4/0x148
        [  812.104410]  flash_del+0x20/0x40
        [  812.104415]  chip_remove.constprop.0+0x2c/0x48 [chip]
        [  812.104420]  ? adapter_del+0x38/0x60
        [  812.104425]  [<ffffffff81000000>] device_remove+0x54/0x90
        """

    @Test func parsesKindsFramesAndSuffixes() {
        let c = CrashLog(text: Self.log)
        #expect(c.kinds == [.refcountUnderflow, .warning])
        #expect(c.title == "refcount_t: underflow; use-after-free.")
        #expect(c.location == "lib/refcount.c:28 refcount_warn_saturate+0xf4/0x148")
        #expect(c.frames.map(\.function) == ["refcount_warn_saturate", "flash_del", "chip_remove", "adapter_del", "device_remove"])
        #expect(c.frames.map(\.reliable) == [true, true, true, false, true])
    }

    @Test func kasanStacksAreSeparated() {
        let c = CrashLog(text: """
            BUG: KASAN: slab-use-after-free in widget_read+0x10/0x20
            Read of size 8 at addr ffff0000 by task cat/1
            Call Trace:
             widget_read+0x10/0x20
            Allocated by task 1:
             devm_kmalloc+0x40/0x100
             widget_probe+0x30/0x90
            Freed by task 2:
             devres_release_all+0x90/0x100
            """)
        #expect(c.kinds == [.useAfterFree])
        #expect(c.location == "widget_read+0x10/0x20")
        #expect(c.frames.filter { $0.section == .allocated }.map(\.function) == ["devm_kmalloc", "widget_probe"])
        #expect(c.frames.filter { $0.section == .freed }.map(\.function) == ["devres_release_all"])
    }

    @Test func garbageIsHarmless() {
        let c = CrashLog(text: "\u{0}\u{1b}[0m+0x/0x ? +0x1/0x2 [<>] [ 1.2 ]\n<4>[T1] ?? foo+bar/baz\n")
        #expect(c.kinds == [.unknown] && c.frames.isEmpty)
    }

    @Test func theLogPointsAtTheDevmChipFinding() throws {
        var files = subsystemFixture
        files["drivers/flash/chip.c"]! += """
            static void chip_remove(struct platform_device *pdev)
            {
                    struct chip *c = platform_get_drvdata(pdev);
                    flash_del(&c->fl);
            }

            """
        let ctx = analyse(files)
        let matches = Triage.rank(log: CrashLog(text: Self.log), findings: Analyzer.findings(ctx), context: ctx)
        let top = try #require(matches.first)
        #expect(top.finding.structName == "chip" && top.finding.check == "devm-embedded-refcount")
        #expect(top.reasons.contains("chip_remove() in the stack is defined in drivers/flash/chip.c"))
        #expect(top.reasons.contains("flash_del() register/unregister flash"))
        // The unreliable `? adapter_del` frame does not promote the adapter finding.
        #expect(!matches.contains { $0.finding.structName == "host" })
    }
}
