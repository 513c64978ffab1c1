import Testing
@testable import Facts
@testable import CFrontend
@testable import Indexing
@testable import Analysis
@testable import Findings
@testable import Checks

/// `missing-release`: a device that gets its release without an assignment to its own
/// `.release`, `.type` or `.class`: copied whole from a template device, or sharing a
/// union with a member whose device is given one.
@Suite struct TemplateReleaseTests {
    /// A bus master registered after `copy` filled its device (nothing, when empty).
    static func master(_ copy: String) -> [String: String] {
        [
            "drivers/misc/bus.c": """
                #include <linux/device.h>
                struct bus_master { int id; struct device dev; };
                static void master_release(struct device *dev) { kfree(container_of(dev, struct bus_master, dev)); }
                struct device master_template = { .init_name = "master", .release = master_release };
                int master_add(struct bus_master *m, struct device *tmpl)
                {
                        \(copy)
                        dev_set_name(&m->dev, "master%d", m->id);
                        return device_register(&m->dev);
                }
                """,
        ]
    }

    @Test func aDeviceCopiedFromATemplateHasItsRelease() {
        #expect(findings(of: "missing-release", in: Self.master("memcpy(&m->dev, tmpl, sizeof(struct device));")).isEmpty)
        #expect(findings(of: "missing-release", in: Self.master("m->dev = *tmpl;")).isEmpty)
        let bare = findings(of: "missing-release", in: Self.master(""))
        #expect(bare.map { "\($0.line) \($0.severity)" } == ["9 warning"])
        // A copy into another member is no copy of the device.
        #expect(findings(of: "missing-release", in: Self.master("memcpy(&m->id, tmpl, 4);")).count == 1)
        // Nor is a local made to point at the device.
        #expect(findings(of: "missing-release", in: Self.master("struct device *d = &m->dev;\n        d->id = 1;")).count == 1)
    }

    /// An object whose device shares a union with a core device (`withClass`: the core
    /// device is given a class that has a release).
    static func unionDevice(withClass: Bool) -> [String: String] {
        [
            "drivers/misc/core.c": """
                #include <linux/device.h>
                struct class { const char *name; void (*dev_release)(struct device *dev); };
                struct core_dev { struct device dev; int port; };
                struct big_dev { int id; union { struct device dev; struct core_dev coredev; }; };
                static void big_release(struct device *dev) { kfree(container_of(dev, struct big_dev, dev)); }
                static struct class big_class = { .name = "big", .dev_release = big_release };
                static void init_coredev(struct core_dev *coredev)
                {
                        \(withClass ? "coredev->dev.class = &big_class;" : "coredev->port = 1;")
                        device_initialize(&coredev->dev);
                }
                int big_register(struct big_dev *b)
                {
                        init_coredev(&b->coredev);
                        return device_add(&b->dev);
                }
                """,
        ]
    }

    @Test func aDeviceInAUnionWithACoreDeviceHasItsRelease() {
        #expect(findings(of: "missing-release", in: Self.unionDevice(withClass: true)).isEmpty)
        let bare = findings(of: "missing-release", in: Self.unionDevice(withClass: false))
        #expect(bare.map { "\($0.line) \($0.severity) \($0.object)" } == ["15 warning big_dev"])
    }

    /// A device reached through an accessor macro, given its type through a local in one
    /// function (`setType`) and registered in another.
    static func accessorDevice(setType: Bool) -> [String: String] {
        [
            "drivers/misc/queue.c": """
                #include <linux/device.h>
                #define queue_confdev(q) &q->core.conf_dev
                struct queue_core { int type; struct device conf_dev; };
                struct queue { int id; struct queue_core core; };
                static void queue_release(struct device *dev) { kfree(container_of(dev, struct queue, core.conf_dev)); }
                static const struct device_type queue_type = { .name = "queue", .release = queue_release };
                void queue_setup(struct queue *q)
                {
                        struct device *conf_dev = queue_confdev(q);
                        device_initialize(conf_dev);
                        \(setType ? "conf_dev->type = &queue_type;" : "conf_dev->id = q->id;")
                }
                int queue_register(struct queue *q)
                {
                        return device_add(queue_confdev(q));
                }
                """,
        ]
    }

    @Test func aTypeSetThroughAnAccessorMacrosLocalIsTheDevicesRelease() {
        #expect(findings(of: "missing-release", in: Self.accessorDevice(setType: true)).isEmpty)
        let bare = findings(of: "missing-release", in: Self.accessorDevice(setType: false))
        #expect(bare.map { "\($0.line) \($0.object)" } == ["15 queue_core"])
    }

    /// A device whose class is a pointer that `class_create()` fills (`setRelease`: and
    /// that is then given a `.dev_release`).
    static func createdClass(setRelease: Bool) -> [String: String] {
        [
            "drivers/misc/port.c": """
                #include <linux/device.h>
                struct class { const char *name; void (*dev_release)(struct device *dev); };
                struct port { int id; struct device dev; };
                static struct class *port_class;
                static void port_release(struct device *dev) { kfree(container_of(dev, struct port, dev)); }
                int port_register(struct port *p)
                {
                        p->dev.class = port_class;
                        return device_register(&p->dev);
                }
                static int port_init(void)
                {
                        port_class = class_create("port");
                        \(setRelease ? "port_class->dev_release = port_release;" : "")
                        return 0;
                }
                """,
        ]
    }

    @Test func aClassFromClassCreateGivesNoRelease() {
        let bare = findings(of: "missing-release", in: Self.createdClass(setRelease: false))
        #expect(bare.map { "\($0.line) \($0.object)" } == ["9 port"])
        #expect(findings(of: "missing-release", in: Self.createdClass(setRelease: true)).isEmpty)
    }
}
