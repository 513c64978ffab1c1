import Testing
@testable import Facts
@testable import CFrontend
@testable import Indexing
@testable import Analysis
@testable import Findings
@testable import Checks

/// `kfree-outside-release` on error paths reached by `goto`: a free under a label counts
/// what the driver core did to the object before each `goto` that reaches it.
@Suite struct GotoPathTests {
    /// A registration with `before` ahead of the device's initialization and `after` after
    /// its registration, both able to jump to the label that frees the container.
    static func widget(before: String = "", after: String = "", register: String = "ret = device_register(&w->dev);") -> [String: String] {
        [
            "drivers/misc/widget.c": """
                #include <linux/device.h>
                struct widget { int id; struct device dev; struct cdev cdev; };
                static void widget_release(struct device *dev) { kfree(container_of(dev, struct widget, dev)); }
                int widget_setup(struct widget *w);
                struct widget *widget_create(struct device *parent)
                {
                        struct widget *w = kzalloc(sizeof(*w), 0);
                        int ret;
                        if (!w)
                                return NULL;
                        \(before)
                        w->dev.parent = parent;
                        w->dev.release = widget_release;
                        dev_set_name(&w->dev, "widget");
                        \(register)
                        if (ret)
                                goto err_free;
                        \(after)
                        return w;
                err_free:
                        kfree(w);
                        return NULL;
                }
                """,
        ]
    }

    func run(_ files: [String: String]) -> [String] {
        findings(of: "kfree-outside-release", in: files).map { f in
            "\(f.line) \(f.severity) \(f.message.contains("error path of device_register()")) \(f.notes.map(\.line))"
        }
    }

    @Test func theFacts() {
        let f = parse("int f(int x)\n{\n        if (x)\n                goto out;\n        x++;\nout:\n        return x;\n}\n")
        #expect(Array(f.functions[0].gotoEdges) == [4, 6])
        // A goto to a label of another function, or to none, is no edge.
        let g = parse("int f(int x)\n{\n        goto nowhere;\n}\nint h(void)\n{\nnowhere:\n        return 0;\n}\n")
        #expect(g.functions[0].gotoEdges.isEmpty)
    }

    @Test func aFailedRegistrationReachingTheFreeByGoto() {
        #expect(run(Self.widget()) == ["21 warning true [15, 17]"])
    }

    @Test func aGotoBeforeTheObjectIsInitializedIsNoFinding() {
        #expect(run(Self.widget(before: "if (parent == NULL)\n                goto err_free;", register: "ret = 0;")).isEmpty)
        // Still reported for the goto after the registration.
        #expect(run(Self.widget(before: "if (parent == NULL)\n                goto err_free;")) == ["22 warning true [16, 18]"])
    }

    /// The label's path puts the device when it was registered and frees it otherwise.
    @Test func aFreeOnTheOtherBranchOfAPutIsNoFinding() {
        var files = Self.widget()
        files["drivers/misc/widget.c"] = files["drivers/misc/widget.c"]!.replacingOccurrences(
            of: "err_free:\n        kfree(w);",
            with: "err_free:\n        if (ret)\n                put_device(&w->dev);\n        else\n                kfree(w);")
        #expect(files["drivers/misc/widget.c"]!.contains("put_device(&w->dev);"))
        #expect(run(files).isEmpty)
    }

    @Test func aRegistrationThatUndoesItsOwnFailureIsNoFinding() {
        #expect(run(Self.widget(register: "ret = cdev_add(&w->cdev, 1, 1);")).isEmpty)
        // A later failure, once it succeeded, still needs cdev_del().
        let later = run(Self.widget(register: "ret = cdev_add(&w->cdev, 1, 1);\n        if (ret)\n                return NULL;\n        ret = widget_setup(w);"))
        #expect(later == ["24 warning false [15, 20]"])
    }

    /// A helper whose summary tears the object down, with the goto on its failure: the
    /// helper's clean-up of its own failure, not a teardown to hold against the free.
    @Test func aHelpersTeardownBeforeAGotoIsNotCounted() {
        var files = Self.widget(register: "ret = widget_setup(w);")
        files["drivers/misc/setup.c"] = """
            #include <linux/device.h>
            struct widget { int id; struct device dev; struct cdev cdev; };
            int widget_setup(struct widget *w)
            {
                    device_unregister(&w->dev);
                    return -5;
            }
            """
        #expect(run(files).isEmpty)
    }

    /// The container's pointer handed to the device once it is initialized (`g = NULL`),
    /// the put and the free under labels only `goto`s reach: the free frees NULL.
    static func handedOver(_ handOver: String) -> [String: String] {
        [
            "drivers/misc/gizmo.c": """
                #include <linux/device.h>
                struct gizmo { int id; struct device dev; };
                static void gizmo_release(struct device *dev) { kfree(container_of(dev, struct gizmo, dev)); }
                int gizmo_attach(struct device *parent, int quirk)
                {
                        struct gizmo *g;
                        struct device *dev;
                        int ret;
                        g = kzalloc(sizeof(*g), 0);
                        if (!g)
                                return -12;
                        dev = &g->dev;
                        dev->parent = parent;
                        dev->release = gizmo_release;
                        device_initialize(dev);
                        \(handOver)
                        ret = device_add(dev);
                        if (ret)
                                goto put;
                        return 0;

                put:
                        put_device(dev);
                        kfree(g);
                        return ret;
                }
                """,
        ]
    }

    @Test func aFreeOfAPointerSetToNullBeforeEveryGotoIsNoFinding() {
        #expect(findings(of: "kfree-outside-release", in: Self.handedOver("g = NULL;")).isEmpty)
        // Without the hand-over, or with it only on one branch, the free follows the put.
        let kept = findings(of: "kfree-outside-release", in: Self.handedOver(""))
        #expect(kept.map { "\($0.line) \($0.severity) \($0.notes.first?.line ?? 0)" } == ["24 error 23"])
        let conditional = findings(of: "kfree-outside-release", in: Self.handedOver("if (quirk)\n                g = NULL;"))
        #expect(conditional.map { "\($0.line) \($0.severity)" } == ["25 error"])
    }

    /// A release installed only once the registration succeeded (`late`), or before it.
    static func lateRelease(_ late: Bool) -> [String: String] {
        let install = "dev->release = gadget_release;"
        return [
            "drivers/misc/gadget_core.c": """
                #include <linux/device.h>
                const struct class gadget_class = { .name = "gadget" };
                """,
            "drivers/misc/gadget.h": """
                extern const struct class gadget_class;
                """,
            "drivers/misc/gadget.c": """
                #include <linux/device.h>
                #include "gadget.h"
                struct gadget { int id; struct device dev; };
                static void gadget_release(struct device *dev) { kfree(container_of(dev, struct gadget, dev)); }
                int gadget_add(struct gadget *g)
                {
                        struct device *dev = &g->dev;
                        int ret;
                        \(late ? "" : install)
                        device_initialize(dev);
                        dev->class = &gadget_class;
                        ret = dev_set_name(dev, "gadget");
                        if (ret)
                                goto free;
                        ret = device_add(dev);
                        if (ret)
                                goto free;
                        \(late ? install : "")
                        return 0;

                free:
                        put_device(dev);
                        kfree(g);
                        return ret;
                }
                """,
        ]
    }

    @Test func aPutBeforeTheReleaseIsInstalledIsAWarning() {
        let late = findings(of: "kfree-outside-release", in: Self.lateRelease(true))
        #expect(late.map { "\($0.line) \($0.severity)" } == ["23 warning"])
        #expect(late.first?.message.contains("installed only on line 18, after every path to this put_device() left") == true)
        // Installed before the first failure, the put frees and the kfree() frees again.
        #expect(findings(of: "kfree-outside-release", in: Self.lateRelease(false)).map { "\($0.line) \($0.severity)" } == ["23 error"])
    }

    /// The device reached through an accessor macro (`#define m(g) &g->core.conf_dev`),
    /// put and then its container freed on a failure path.
    static func accessor(_ define: String) -> [String: String] {
        [
            "drivers/misc/engine.c": """
                #include <linux/device.h>
                \(define)
                struct engine_core { int type; struct device conf_dev; };
                struct engine { int id; struct engine_core core; };
                static void engine_release(struct device *dev) { kfree(container_of(dev, struct engine, core.conf_dev)); }
                struct engine *engine_alloc(void)
                {
                        struct engine *g = kzalloc(sizeof(*g), 0);
                        int rc;
                        if (!g)
                                return NULL;
                        device_initialize(engine_confdev(g));
                        engine_confdev(g)->release = engine_release;
                        rc = dev_set_name(engine_confdev(g), "engine%d", g->id);
                        if (rc < 0)
                                goto err_name;
                        return g;
                err_name:
                        put_device(engine_confdev(g));
                        kfree(g);
                        return NULL;
                }
                """,
        ]
    }

    @Test func aDeviceReachedThroughAnAccessorMacro() {
        let found = findings(of: "kfree-outside-release", in: Self.accessor("#define engine_confdev(g) &g->core.conf_dev"))
        #expect(found.map { "\($0.line) \($0.severity) \($0.notes.first?.message ?? "")" } == ["20 error put_device() on g->core.conf_dev"])
        #expect(findings(of: "kfree-outside-release", in: Self.accessor("#define engine_confdev(g) (&(g)->core.conf_dev)")).count == 1)
        // Without the macro's definition nothing says what the call returns.
        #expect(findings(of: "kfree-outside-release", in: Self.accessor("")).isEmpty)
    }

    @Test func accessorMacrosAreRecorded() {
        let f = parse("#define a(x) &x->dev\n#define b(x) (&(x)->p.dev)\n#define c(x) x->dev\n#define d(x, y) x && y\n#define e(x) f(x)\n")
        #expect(f.macros.map(\.name) == ["a", "b", "e"])
        #expect(f.macros.map(\.calledName) == [nil, nil, "f"])
    }
}
