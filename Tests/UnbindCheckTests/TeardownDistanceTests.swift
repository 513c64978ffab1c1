import Testing
@testable import Facts
@testable import CFrontend
@testable import Indexing
@testable import Analysis
@testable import Findings
@testable import Checks

/// `kfree-outside-release` when the free comes many lines after the teardown: a teardown
/// that is a statement of the function's own body counts at any distance, one in a
/// conditional block only within the check's window.
@Suite struct TeardownDistanceTests {
    /// A remove function: `teardown` (one or more lines) on the cdev, then ten lines of
    /// other clean-up, then `between`, then the free.
    static func remove(teardown: String = "cdev_del(&g->cdev);", between: String = "") -> [String: String] {
        let filler = (1...10).map { "        gizmo_quiet(g, \($0));" }.joined(separator: "\n")
        return [
            "drivers/misc/gizmo.c": """
                #include <linux/device.h>
                struct gizmo { void *regs; struct cdev cdev; };
                void gizmo_quiet(struct gizmo *g, int step);
                void gizmo_remove(struct gizmo *g)
                {
                        \(teardown)
                \(filler)
                        \(between)
                        kfree(g);
                }
                """,
        ]
    }

    func run(_ files: [String: String]) -> [String] {
        findings(of: "kfree-outside-release", in: files).map { "\($0.line) \($0.severity) \($0.notes.map(\.line))" }
    }

    @Test func anUnconditionalTeardownCountsAtAnyDistance() {
        #expect(run(Self.remove()) == ["18 error [6]"])
    }

    @Test func aTeardownInAConditionalBlockCountsOnlyNearby() {
        #expect(run(Self.remove(teardown: "if (g->regs)\n                cdev_del(&g->cdev);")).isEmpty)
    }

    /// A return between them leaves the free on another path.
    @Test func aReturnBetweenEndsThePath() {
        #expect(run(Self.remove(between: "return;")).isEmpty)
    }

    /// An if/else or a switch between an unconditional teardown and the free: every path
    /// still passes the teardown first. Within the window, a teardown in one branch and the
    /// free in the other are not on one path.
    @Test func aBranchAfterAnUnconditionalTeardownKeepsThePath() {
        #expect(run(Self.remove(between: "if (g->regs)\n                gizmo_quiet(g, 0);\n        else\n                gizmo_quiet(g, 1);")) == ["21 error [6]"])
        let branches = ["drivers/misc/gizmo.c": """
            #include <linux/device.h>
            struct gizmo { void *regs; struct cdev cdev; };
            void gizmo_remove(struct gizmo *g)
            {
                    if (g->regs)
                            cdev_del(&g->cdev);
                    else
                            kfree(g);
            }
            """]
        #expect(run(branches).isEmpty)
    }
}

/// A free guarded by a local flag that the teardown's path clears (`free = false` after
/// `put_device()`) is not reached after the teardown.
@Suite struct ClearedFlagTests {
    static let files = [
        "drivers/misc/gizmo.c": """
            #include <linux/device.h>
            struct gizmo { int id; struct device dev; };
            int gizmo_setup(struct gizmo *g);
            int gizmo_init(struct gizmo *g)
            {
                    bool free = true;
                    int rc;
                    rc = gizmo_setup(g);
                    if (rc)
                            goto err1;
                    rc = device_register(&g->dev);
                    if (rc)
                            goto err_put;
                    return 0;
            err_put:
                    put_device(&g->dev);
                    free = false;
            err1:
                    if (free)
                            kfree(g);
                    return rc;
            }
            """,
    ]

    @Test func aClearedFlagGuardsTheFree() {
        #expect(findings(of: "kfree-outside-release", in: Self.files).isEmpty)
        // Without the clearing the free after the put is reported.
        var files = Self.files
        files["drivers/misc/gizmo.c"] = files["drivers/misc/gizmo.c"]!.replacingOccurrences(of: "        free = false;\n", with: "")
        #expect(findings(of: "kfree-outside-release", in: files).map(\.line) == [19])
    }
}
