import Testing
@testable import Facts
@testable import CFrontend
@testable import Indexing
@testable import Analysis
@testable import Findings
@testable import Checks

/// `kfree-outside-release` through a helper of the driver's that only initializes the
/// object's reference count and can fail after that: its caller must put, not free.
@Suite struct InitializedOnFailureTests {
    static let header = """
        #include <linux/device.h>
        struct gadget_ctrl { struct device ctrl_device; struct device *device; struct cdev cdev; int instance; };
        int gadget_init_ctrl(struct gadget_ctrl *ctrl, struct device *parent);
        """

    /// The helper: `device_initialize()`, a name, a node added, a later step; the error
    /// labels below the initialization undo the node and `ending`.
    static func helper(_ body: String, ending: String) -> String {
        """
        #include <linux/gadget.h>
        static const struct file_operations gadget_fops;
        static void gadget_free_ctrl(struct device *dev)
        {
                struct gadget_ctrl *ctrl = container_of(dev, struct gadget_ctrl, ctrl_device);
                ctrl->instance = 0;
        }
        void gadget_get_ctrl(struct gadget_ctrl *ctrl)
        {
                get_device(ctrl->device);
        }
        void gadget_put_ctrl(struct gadget_ctrl *ctrl)
        {
                put_device(ctrl->device);
        }
        int gadget_init_ctrl(struct gadget_ctrl *ctrl, struct device *parent)
        {
                int ret;
        \(body)
                cdev_init(&ctrl->cdev, &gadget_fops);
                ret = cdev_device_add(&ctrl->cdev, ctrl->device);
                if (ret)
                        goto out_put;
                ret = gadget_setup(ctrl);
                if (ret)
                        goto out_del;
                return 0;
        out_del:
                cdev_device_del(&ctrl->cdev, ctrl->device);
        out_put:
        \(ending)
        out:
                return ret;
        }
        """
    }

    static let initialize = """
                device_initialize(&ctrl->ctrl_device);
                ctrl->device = &ctrl->ctrl_device;
                ctrl->device->release = gadget_free_ctrl;
                ret = dev_set_name(ctrl->device, "gadget%d", ctrl->instance);
                if (ret)
                        goto out;
        """

    /// A transport that embeds the controller and frees it when the helper fails.
    static let caller = """
        #include <linux/gadget.h>
        struct gadget_pci { struct gadget_ctrl ctrl; void *queues; };
        static struct gadget_pci *gadget_pci_alloc(struct device *parent)
        {
                struct gadget_pci *dev;
                int ret;

                dev = kzalloc(sizeof(*dev), GFP_KERNEL);
                if (!dev)
                        return NULL;
                ret = gadget_init_ctrl(&dev->ctrl, parent);
                if (ret)
                        goto out_free;
                return dev;
        out_free:
                kfree(dev);
                return NULL;
        }
        """

    static func tree(_ body: String, ending: String) -> [String: String] {
        ["include/linux/gadget.h": header, "drivers/gadget/core.c": helper(body, ending: ending), "drivers/gadget/pci.c": caller]
    }

    @Test func aHelperThatCanFailAfterInitializingLeavesTheCallerAPut() throws {
        // The helper's put balances its own get: the first reference is still held.
        let body = Self.initialize + "        gadget_get_ctrl(ctrl);\n"
        let found = findings(of: "kfree-outside-release", in: Self.tree(body, ending: "        gadget_put_ctrl(ctrl);"))
        #expect(found.map { "\($0.file):\($0.line) \($0.severity)" } == ["drivers/gadget/pci.c:16 warning"])
        let f = try #require(found.first)
        #expect(f.message == "'struct gadget_pci' embeds a refcounted ctrl.ctrl_device but is freed with kfree() after gadget_init_ctrl() initialized its reference count, which must be dropped with put_device(); its failures after that are gadget_init_ctrl()'s to unwind")
        #expect(f.notes.map { "\($0.file):\($0.line)" } == ["drivers/gadget/pci.c:11", "drivers/gadget/core.c:19", "drivers/gadget/pci.c:13"])
        #expect(f.notes.map(\.kind) == [.initialization, .initialization, .teardown])
        // The worst failure is named: the one after the node was added, not the name's.
        #expect(f.notes[1].message == "gadget_init_ctrl() runs device_initialize() on ctrl->ctrl_device here and can still fail after it without dropping that reference, also once cdev_device_add() on line 27 published it (the goto on line 32)")
        // The caller cannot tell which step failed: the fix is the helper's.
        #expect(f.fix.hasPrefix("the failure is gadget_init_ctrl()'s to unwind: it may return after initializing the reference count, and this caller cannot tell at which step it failed; make gadget_init_ctrl() drop the object itself with put_device()"))
        // Without the get, the helper's put on its way out is the last one: nothing is left.
        #expect(findings(of: "kfree-outside-release", in: Self.tree(Self.initialize, ending: "        gadget_put_ctrl(ctrl);")).isEmpty)
        #expect(findings(of: "kfree-outside-release", in: Self.tree(Self.initialize, ending: "        put_device(ctrl->device);")).isEmpty)
    }

    @Test func aHelperThatPublishesNothingNamesItsFirstFailureAfterTheInitialization() throws {
        let onlyNamed = """
            #include <linux/gadget.h>
            int gadget_init_ctrl(struct gadget_ctrl *ctrl, struct device *parent)
            {
                    int ret;
                    device_initialize(&ctrl->ctrl_device);
                    ret = dev_set_name(&ctrl->ctrl_device, "gadget");
                    if (ret)
                            goto out;
                    return 0;
            out:
                    return ret;
            }
            """
        let files = ["include/linux/gadget.h": Self.header, "drivers/gadget/core.c": onlyNamed, "drivers/gadget/pci.c": Self.caller]
        let f = try #require(findings(of: "kfree-outside-release", in: files).first)
        #expect(f.notes[1].message == "gadget_init_ctrl() runs device_initialize() on ctrl->ctrl_device here and can still fail after it without dropping that reference (the goto on line 8)")
    }

    @Test func aCallThatPutsWhatItGetsIsNoGetAndAHelperElsewhereCountsToo() {
        // `gadget_attach()` takes a reference and drops it again (as `device_add()` does):
        // the helper's put on its way out is then the last one, and nothing is left.
        let attach = """
            void gadget_attach(struct gadget_ctrl *ctrl)
            {
                    get_device(ctrl->device);
                    gadget_notify(ctrl);
                    put_device(ctrl->device);
            }
            """
        let balanced = Self.helper(Self.initialize + "        gadget_attach(ctrl);\n", ending: "        put_device(ctrl->device);") + attach
        // The caller in another directory than the helper (a core's helper).
        func tree(_ core: String) -> [String: String] {
            ["include/linux/gadget.h": Self.header, "drivers/gadget/core/core.c": core, "drivers/gadget/transport/pci.c": Self.caller]
        }
        #expect(findings(of: "kfree-outside-release", in: tree(balanced)).isEmpty)
        let kept = Self.helper(Self.initialize + "        gadget_get_ctrl(ctrl);\n", ending: "        gadget_put_ctrl(ctrl);")
        #expect(findings(of: "kfree-outside-release", in: tree(kept)).map { "\($0.file):\($0.line)" } == ["drivers/gadget/transport/pci.c:16"])
    }

    @Test func aHelperThatFailsOnlyBeforeInitializingLeavesTheFreeToItsCaller() {
        // Every goto lies above the initialization (the later steps cannot fail).
        let onlyBefore = """
            #include <linux/gadget.h>
            int gadget_init_ctrl(struct gadget_ctrl *ctrl, struct device *parent)
            {
                    if (!parent)
                            goto out;
                    device_initialize(&ctrl->ctrl_device);
                    return 0;
            out:
                    return -22;
            }
            """
        let files = ["include/linux/gadget.h": Self.header, "drivers/gadget/core.c": onlyBefore, "drivers/gadget/pci.c": Self.caller]
        #expect(findings(of: "kfree-outside-release", in: files).isEmpty)
    }

    /// An allocator that returns an object it already initialized (`platform_device_alloc()`
    /// returns `pa ? &pa->pdev : NULL` after `device_initialize(&pa->pdev.dev)`): its caller
    /// must put the object, not free it.
    static func allocator(_ undo: String) -> [String: String] {
        ["include/linux/gizmo.h": """
            #include <linux/device.h>
            struct gizmo { int id; struct device dev; };
            struct gizmo *gizmo_alloc(int id);
            int gizmo_add(struct gizmo *g);
            """,
         "drivers/base/gizmo.c": """
            #include <linux/gizmo.h>
            struct gizmo_object { struct gizmo g; char name[8]; };
            static void gizmo_release(struct device *dev) { kfree(container_of(dev, struct gizmo_object, g.dev)); }
            struct gizmo *gizmo_alloc(int id)
            {
                    struct gizmo_object *go = kzalloc(sizeof(*go), 0);
                    if (go) {
                            go->g.id = id;
                            device_initialize(&go->g.dev);
                            go->g.dev.release = gizmo_release;
                    }
                    return go ? &go->g : NULL;
            }
            """,
         "arch/arm/mach-board/board.c": """
            #include <linux/gizmo.h>
            static int board_init(void)
            {
                    struct gizmo *g = gizmo_alloc(2);
                    if (!g)
                            return -12;
                    if (gizmo_add(g))
                            goto fail;
                    return 0;
            fail:
                    \(undo)(g);
                    return -19;
            }
            """]
    }

    @Test func anObjectFromAnInitializingAllocatorIsPutNotFreed() {
        let freed = findings(of: "kfree-outside-release", in: Self.allocator("kfree"))
        #expect(freed.map { "\($0.file):\($0.line) \($0.severity)" } == ["arch/arm/mach-board/board.c:11 warning"])
        #expect(freed.first?.message.hasPrefix("'struct gizmo' embeds a refcounted dev but is freed with kfree() after gizmo_alloc() initialized its reference count, which must be dropped with put_device()") == true)
        #expect(freed.first?.notes.first.map { "\($0.kind) \($0.line)" } == "initialization 4")
        #expect(findings(of: "kfree-outside-release", in: Self.allocator("put_device")).isEmpty)
    }
}
