import Testing
@testable import Facts
@testable import CFrontend
@testable import Indexing
@testable import Analysis
@testable import Findings
@testable import Checks
@testable import Reporting
@testable import Pipeline

/// A release left empty on purpose (a comment says so) makes a free elsewhere a deliberate
/// design: a warning, not an error; without the comment it stays an error.
@Suite struct DeliberateDesignTests {
    static func lun(commented: Bool) -> [String: String] {
        ["include/linux/device.h": deviceHeader,
         "drivers/usb/lun.c": """
            #include <linux/device.h>
            struct lun { int id; struct device dev; };
            static void lun_release(struct device *dev)
            {
            \(commented ? "\t/* Nothing to do: the owner frees the lun after unregistering it */" : "")
            }
            static int lun_create(struct lun **out)
            {
                    struct lun *l = kzalloc(sizeof(*l), 0);
                    l->dev.release = lun_release;
                    *out = l;
                    return device_register(&l->dev);
            }
            static void lun_destroy(struct lun *l)
            {
                    device_unregister(&l->dev);
                    kfree(l);
            }
            """]
    }

    @Test func kfreeAfterUnregisterWithACommentedEmptyReleaseIsAWarning() {
        let check = allChecks.first { type(of: $0).description.id == "kfree-outside-release" }!
        let warned = Analyzer.findings(analyse(Self.lun(commented: true)), checks: [check])
        #expect(warned.map(\.severity) == [.warning])
        #expect(warned.map { "\($0.file):\($0.line):\($0.column)" } == ["drivers/usb/lun.c:17:9"])
        #expect(warned.first?.message.hasSuffix("; lun_release() is empty on purpose (a comment says so): a deliberate design, which only a reference taken outside the driver could break") == true)
        let plain = Analyzer.findings(analyse(Self.lun(commented: false)), checks: [check])
        #expect(plain.map(\.severity) == [.error])
        #expect(plain.first?.message.contains("on purpose") == false)
    }

    /// A core that looks its devices up for others (`class_find_device()`, with `lookup`)
    /// hands out references the empty release's design cannot survive: then an error.
    static func port(lookup: Bool) -> [String: String] {
        ["include/linux/device.h": deviceHeader,
         "include/linux/port.h": """
            #include <linux/device.h>
            struct port { int id; struct device dev; };
            int port_register(struct port *p);
            """,
         "drivers/port/core.c": """
            #include <linux/port.h>
            static void port_release(struct device *dev)
            {
                    /* Nothing to do: the driver frees the port after unregistering it */
            }
            int port_register(struct port *p)
            {
                    p->dev.release = port_release;
                    return device_register(&p->dev);
            }
            \(lookup ? "struct device *port_find(const void *name) { return class_find_device(NULL, NULL, name, NULL); }" : "")
            """,
         "drivers/port/card.c": """
            #include <linux/port.h>
            void card_remove(struct port *p)
            {
                    device_unregister(&p->dev);
                    kfree(p);
            }
            """]
    }

    @Test func aCommentedEmptyReleaseWithADeviceLookupInTheCoreIsAnError() {
        let check = allChecks.first { type(of: $0).description.id == "kfree-outside-release" }!
        let found = Analyzer.findings(analyse(Self.port(lookup: true)), checks: [check])
        #expect(found.map { "\($0.file):\($0.line) \($0.severity)" } == ["drivers/port/card.c:5 error"])
        #expect(found.first?.message.contains("on purpose") == false)
        let alone = Analyzer.findings(analyse(Self.port(lookup: false)), checks: [check])
        #expect(alone.map(\.severity) == [.warning])
        #expect(alone.first?.message.contains("port_release() is empty on purpose") == true)
    }

    @Test func devmObjectWithACommentedEmptyReleaseIsAWarning() {
        let check = allChecks.first { type(of: $0).description.id == "devm-embedded-refcount" }!
        func files(_ commented: Bool) -> [String: String] {
            var f = Self.lun(commented: commented)
            f["drivers/usb/lun.c"] = f["drivers/usb/lun.c"]!.replacingOccurrences(of: "kzalloc(sizeof(*l), 0)", with: "devm_kzalloc(NULL, sizeof(*l), 0)")
            return f
        }
        let warned = Analyzer.findings(analyse(files(true)), checks: [check])
        #expect(warned.map(\.severity) == [.warning])
        #expect(warned.first?.message.contains("lun_release() is empty on purpose (a comment says so)") == true)
        #expect(Analyzer.findings(analyse(files(false)), checks: [check]).map(\.severity) == [.error])
    }
}

/// A device registered with no release is an error when the driver frees its container
/// itself (the failed registration cannot be undone with put_device()); a warning otherwise.
@Suite struct MissingReleaseOwnerFreesTests {
    static func card(freed: Bool) -> [String: String] {
        ["include/linux/device.h": deviceHeader,
         "arch/arm/card.c": """
            #include <linux/device.h>
            struct card { int slot; struct device dev; };
            static void card_free(struct card *c)
            {
            \(freed ? "\tkfree(c);" : "\tc->slot = 0;")
            }
            static int card_add(int slot)
            {
                    struct card *c = kzalloc(sizeof(*c), 0);
                    int ret;
                    c->slot = slot;
                    ret = device_register(&c->dev);
                    if (ret)
                            card_free(c);
                    return ret;
            }
            """]
    }

    @Test func containerFreedByTheDriverMakesAnError() {
        let check = allChecks.first { type(of: $0).description.id == "missing-release" }!
        let freed = Analyzer.findings(analyse(Self.card(freed: true)), checks: [check])
        #expect(freed.map(\.severity) == [.error])
        #expect(freed.map { "\($0.file):\($0.line):\($0.column)" } == ["arch/arm/card.c:12:15"])
        #expect(freed.first?.message.contains("a failed registration cannot be undone with put_device() (the driver core WARNs)") == true)
        let kept = Analyzer.findings(analyse(Self.card(freed: false)), checks: [check])
        #expect(kept.map(\.severity) == [.warning])
        #expect(kept.first?.message.hasSuffix("(dev.release, device_type or class)") == true)
    }

    /// A release handed to a helper that stores it in `dev->release` counts as a release.
    @Test func releasePassedToAHelperThatStoresItCounts() {
        let check = allChecks.first { type(of: $0).description.id == "missing-release" }!
        func files(_ stores: Bool) -> [String: String] {
            ["include/linux/device.h": deviceHeader,
             "drivers/tty/base.c": """
                #include <linux/device.h>
                struct port_dev { int id; struct device dev; };
                static void port_release(struct device *dev)
                {
                        kfree(container_of(dev, struct port_dev, dev));
                }
                static void base_init(struct device *dev, void (*release)(struct device *dev))
                {
                        device_initialize(dev);
                        \(stores ? "dev->release = release;" : "dev->parent = NULL;")
                }
                static int port_add(void)
                {
                        struct port_dev *p = kzalloc(sizeof(*p), 0);
                        base_init(&p->dev, port_release);
                        return device_add(&p->dev);
                }
                """]
        }
        #expect(Analyzer.findings(analyse(files(true)), checks: [check]).isEmpty)
        let missing = Analyzer.findings(analyse(files(false)), checks: [check])
        #expect(missing.map { "\($0.file):\($0.line):\($0.column) \($0.severity)" } == ["drivers/tty/base.c:16:16 warning"])
    }
}
