import Testing
@testable import Facts
@testable import CFrontend
@testable import Indexing
@testable import Analysis
@testable import Findings
@testable import Checks

/// `missing-put-on-failure`: a registration that fails leaving the object refcounted, and
/// an error path that returns without the put.
@Suite struct MissingPutOnFailureTests {
    static let header = """
        #include <linux/device.h>
        struct widget_master { int idx; struct device dev; };
        int widget_master_register(struct widget_master *master);
        int widget_prepare(struct device *parent);
        void widget_prepare_undo(struct device *parent);
        """

    /// The core's register helper: on `device_register()`'s failure it returns without a
    /// put (`ending` is what its error path does).
    static func core(_ ending: String, early: String = "") -> String {
        """
        #include <linux/widget.h>
        int widget_master_register(struct widget_master *master)
        {
                int rc;
        \(early)
                rc = device_register(&master->dev);
                if (rc) {
        \(ending)
                        return rc;
                }
                return 0;
        }
        """
    }

    /// A driver that allocates a master and registers it through the helper; `onFailure` is
    /// its error label's body.
    static func driver(_ onFailure: String) -> String {
        """
        #include <linux/widget.h>
        struct widget_hub { int links; struct widget_master master; };
        static void widget_hub_release(struct device *dev)
        {
                kfree(container_of(dev, struct widget_hub, master.dev));
        }
        static int widget_hub_probe(struct device *parent)
        {
                struct widget_hub *hub;
                int rc;

                hub = kzalloc(sizeof(*hub), 0);
                if (!hub)
                        return -12;
                hub->master.dev.release = widget_hub_release;
                rc = widget_prepare(parent);
                if (rc)
                        return rc;
                rc = widget_master_register(&hub->master);
                if (rc)
                        goto err;
                return 0;
        err:
        \(onFailure)
                return rc;
        }
        """
    }

    static func tree(core ending: String = "", early: String = "", driver onFailure: String) -> [String: String] {
        ["include/linux/widget.h": header, "drivers/widget/core.c": core(ending, early: early), "drivers/widget/hub/hub.c": driver(onFailure)]
    }

    @Test func aHelperThatLeavesTheReferenceMakesItsCallerPut() throws {
        let found = findings(of: "missing-put-on-failure", in: Self.tree(driver: "        widget_prepare_undo(parent);"))
        #expect(found.map { "\($0.file):\($0.line):\($0.column) \($0.severity)" } == ["drivers/widget/hub/hub.c:19:14 warning"])
        let f = try #require(found.first)
        #expect(f.message == "when widget_master_register() fails (leaving the reference on hub->master.dev to its caller), the error path (the goto on line 21, leaving on line 25) never calls put_device(&hub->master.dev): hub (kzalloc() on line 12) and the device's name leak")
        #expect(f.notes.map { "\($0.kind) \($0.file):\($0.line)" } == ["allocation drivers/widget/hub/hub.c:12", "publish drivers/widget/core.c:6", "reference drivers/widget/hub/hub.c:25"])
        #expect(f.notes[1].message == "widget_master_register() returns device_register()'s failure from here without dropping the reference on master->dev")
        #expect(f.structName == "widget_hub")
        #expect(f.fix.hasPrefix("on this failure, drop the reference with put_device(&hub->master.dev) instead of leaving: the last put calls the release, which frees struct widget_hub"))
        // A helper that can also fail before `device_register()` initialized the reference:
        // the caller cannot tell which failure it got, so the fix is the helper's.
        let early = findings(of: "missing-put-on-failure", in: Self.tree(early: "        if (master->idx < 0)\n                return -22;", driver: ""))
        #expect(early.first?.fix.hasPrefix("the failure is widget_master_register()'s to unwind: it can also fail before device_register() initialized the reference") == true)
    }

    @Test func aPutOnEitherSideOfTheHelperEndsTheReference() {
        // The caller puts on its error path, or the helper puts on its own failure.
        #expect(findings(of: "missing-put-on-failure", in: Self.tree(driver: "        put_device(&hub->master.dev);")).isEmpty)
        #expect(findings(of: "missing-put-on-failure", in: Self.tree(core: "                put_device(&master->dev);", driver: "")).isEmpty)
        // A `device_del()` keeps the reference; a free of the container is another check's.
        #expect(findings(of: "missing-put-on-failure", in: Self.tree(core: "                device_del(&master->dev);", driver: "")).count == 1)
        #expect(findings(of: "missing-put-on-failure", in: Self.tree(driver: "        kfree(hub);")).isEmpty)
    }

    @Test func aReturnedRegistrationOfAnObjectAllocatedHereLeaks() throws {
        let files = ["drivers/widget/one.c": """
            #include <linux/device.h>
            struct widget { int id; struct device dev; };
            int widget_add_one(int id)
            {
                    struct widget *w = kzalloc(sizeof(*w), 0);

                    if (!w)
                            return -12;
                    w->id = id;
                    return device_register(&w->dev);
            }
            int widget_add_two(int id)
            {
                    struct widget *w = kzalloc(sizeof(*w), 0);

                    if (!w)
                            return -12;
                    if (device_register(&w->dev) == 0)
                            return 0;
                    put_device(&w->dev);
                    return -22;
            }
            int widget_add_three(int id)
            {
                    struct widget *w = kzalloc(sizeof(*w), 0);
                    int ret;

                    if (!w)
                            return -12;
                    ret = device_register(&w->dev);
                    if (!ret)
                            return ret;
                    put_device(&w->dev);
                    return ret;
            }
            """]
        // (The first jump below the call in the other two is their success: a return of 0,
        // or one whose fall-through puts the device.)
        let found = findings(of: "missing-put-on-failure", in: files)
        #expect(found.map { "\($0.file):\($0.line) \($0.function)" } == ["drivers/widget/one.c:10 widget_add_one"])
        #expect(found.first?.message == "when device_register() fails, the error path (returned right here) never calls put_device(&w->dev): w (kzalloc() on line 5) and the device's name leak")
    }

    @Test func anObjectStoredOrHandedToDevresIsLeftToWhoeverHoldsIt() {
        func files(_ between: String) -> [String: String] {
            ["drivers/widget/one.c": """
                #include <linux/device.h>
                struct widget { int id; struct device dev; };
                struct widget_priv { struct widget *w; };
                int devm_add_action_or_reset(struct device *dev, void (*action)(void *), void *data);
                void widget_undo(void *data);
                int widget_add(struct widget_priv *priv, struct device *parent)
                {
                        struct widget *w = kzalloc(sizeof(*w), 0);
                        int ret;

                        if (!w)
                                return -12;
                \(between)
                        ret = device_register(&w->dev);
                        if (ret)
                                return ret;
                        return 0;
                }
                """]
        }
        #expect(findings(of: "missing-put-on-failure", in: files("        w->id = 1;")).count == 1)
        #expect(findings(of: "missing-put-on-failure", in: files("        priv->w = w;")).isEmpty)
        #expect(findings(of: "missing-put-on-failure", in: files("        devm_add_action_or_reset(parent, widget_undo, w);")).isEmpty)
        // The local may hold the caller's object rather than the one allocated here.
        #expect(findings(of: "missing-put-on-failure", in: files("        w = priv->w;")).isEmpty)
    }
}
