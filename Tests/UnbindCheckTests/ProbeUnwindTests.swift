import Testing
@testable import Facts
@testable import CFrontend
@testable import Indexing
@testable import Analysis
@testable import Findings
@testable import Checks

/// `kfree-outside-release` on a probe's own error path: unregistering what the same
/// function registered, when a later step fails, leaves only a user who opened the object
/// in between holding it (a warning); the registration's own failure branch, or a free
/// after a remove function's unregister, stays an error.
@Suite struct ProbeUnwindTests {
    static func probe() -> [String: String] {
        [
            "drivers/misc/gizmo.c": """
                #include <linux/device.h>
                struct gizmo { void *regs; struct cdev cdev; };
                int gizmo_start(struct gizmo *g);
                int gizmo_probe(struct device *parent)
                {
                        struct gizmo *g = kzalloc(sizeof(*g), 0);
                        int ret;
                        cdev_init(&g->cdev, 0);
                        ret = cdev_add(&g->cdev, 1, 1);
                        if (ret)
                                goto err_free;
                        ret = gizmo_start(g);
                        if (ret)
                                goto err_del;
                        return 0;
                err_del:
                        cdev_del(&g->cdev);
                err_free:
                        kfree(g);
                        return ret;
                }
                """,
        ]
    }

    func run(_ files: [String: String]) -> [String] {
        findings(of: "kfree-outside-release", in: files).map { f in
            "\(f.line) \(f.severity) \(f.message.contains("unwinds the registration through cdev_add() on line 9 of the same function"))"
        }
    }

    @Test func aLaterFailureUnwindingTheRegistrationIsAWarning() {
        #expect(run(Self.probe()) == ["19 warning true"])
    }

    /// The registration named is the one of the object torn down, not another one of the
    /// same allocation registered earlier.
    @Test func theRegistrationNamedIsTheTornDownObjects() {
        var files = Self.probe()
        files["drivers/misc/gizmo.c"] = files["drivers/misc/gizmo.c"]!
            .replacingOccurrences(of: "struct gizmo { void *regs; struct cdev cdev; };", with: "struct gizmo { void *regs; struct cdev cdev; struct device dev; };")
            .replacingOccurrences(of: "        cdev_init(&g->cdev, 0);\n", with: "        device_add(&g->dev);\n")
        let all = findings(of: "kfree-outside-release", in: files)
        #expect(all.count == 1)
        #expect(all.first?.message.contains("unwinds the registration through cdev_add() on line 9 of the same function, so only a user who found or opened it in between holds a reference") == true)
        #expect(all.first?.message.contains("device_add") == false)
    }

    /// The same teardown in a remove function, with nothing registered there, is an error.
    @Test func theSameFreeWithoutTheRegistrationIsAnError() {
        var files = Self.probe()
        files["drivers/misc/gizmo.c"] = files["drivers/misc/gizmo.c"]!.replacingOccurrences(of: "        ret = cdev_add(&g->cdev, 1, 1);\n", with: "        ret = 0;\n")
        #expect(run(files) == ["19 error false"])
    }

    /// `onFailureBranch`: right below the call, or under a label a goto just below it reaches.
    @Test func failureBranches() {
        let fn = parse("int f(int x)\n{\n        int r = g(x);\n        if (r)\n                goto out;\n        h(x);\n        k(x);\nout:\n        t(x);\n        return r;\n}\n").functions[0]
        #expect(KfreeOutsideReleaseCheck.onFailureBranch(of: 3, teardown: 9, in: fn))
        #expect(!KfreeOutsideReleaseCheck.onFailureBranch(of: 6, teardown: 9, in: fn))
        #expect(KfreeOutsideReleaseCheck.onFailureBranch(of: 7, teardown: 9, in: fn))
    }
}
