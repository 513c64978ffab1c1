import Testing
@testable import Facts
@testable import CFrontend
@testable import Indexing
@testable import Analysis
@testable import Findings
@testable import Checks

/// `kfree-outside-release` when the free comes many lines after the teardown: a teardown
/// that is a statement of the function's own body, or that runs straight into the free
/// (same block, cases falling through), counts at any distance; one in a conditional block
/// that ends before the free only within the check's window.
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

    /// A staged teardown: each `case` falls through to the next, so a teardown in an upper
    /// case runs straight into the free in the last one, at any distance. A `break` before
    /// the next `case` ends that path.
    @Test func aSwitchFallingThroughRunsStraightIntoTheFree() {
        func remove(_ after: String) -> [String: String] {
            let filler = (1...10).map { "                gizmo_quiet(g, \($0));" }.joined(separator: "\n")
            return ["drivers/misc/gizmo.c": """
                #include <linux/device.h>
                struct gizmo { void *regs; struct cdev cdev; };
                void gizmo_quiet(struct gizmo *g, int step);
                void gizmo_remove(struct gizmo *g, int stage)
                {
                        switch (stage) {
                        case 2:
                                cdev_del(&g->cdev);
                                \(after)
                        case 1:
                \(filler)
                                fallthrough;
                        case 0:
                                kfree(g);
                                break;
                        }
                }
                """]
        }
        #expect(run(remove("fallthrough;")) == ["23 error [8]"])
        #expect(run(remove("break;")).isEmpty)
        #expect(run(remove("return;")).isEmpty)
    }

    /// A teardown and a free in one loop body run one after the other; a loop body (braced
    /// or not) that closes before the free leaves it on other paths too.
    @Test func aLoopBodyRunsStraightOnlyToItsOwnEnd() {
        func remove(_ body: String) -> [String: String] {
            ["drivers/misc/gizmo.c": """
                #include <linux/device.h>
                struct gizmo { void *regs; struct cdev cdev; };
                extern struct gizmo *gizmos[4];
                void gizmo_quiet(struct gizmo *g, int step);
                void gizmo_exit(void)
                {
                        int i;
                        for (i = 0; i < 4; i++) \(body)
                }
                """]
        }
        let filler = (1...8).map { "gizmo_quiet(g, \($0));" }.joined(separator: "\n")
        #expect(run(remove("{\nstruct gizmo *g = gizmos[i];\ncdev_del(&g->cdev);\n\(filler)\nkfree(g);\n}")) == ["19 error [10]"])
        let after = ["drivers/misc/gizmo.c": """
            #include <linux/device.h>
            struct gizmo { void *regs; struct cdev cdev; };
            void gizmo_quiet(struct gizmo *g, int step);
            void gizmo_remove(struct gizmo *g, int n)
            {
                    int i;
                    for (i = 0; i < n; i++)
                            cdev_del(&g->cdev);
                    gizmo_quiet(g, 1);
                    gizmo_quiet(g, 2);
                    gizmo_quiet(g, 3);
                    gizmo_quiet(g, 4);
                    gizmo_quiet(g, 5);
                    gizmo_quiet(g, 6);
                    kfree(g);
            }
            """]
        #expect(run(after).isEmpty)
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
