import Testing
@testable import Findings
@testable import Checks

/// A container freed right after its device is unregistered is an error only when someone
/// outside can still hold the device: the core hands out counted references (a lookup) or
/// a character device. With neither, only a delayed release touches the memory (a
/// warning, as for devm memory); a release that frees the container too stays an error.
@Suite struct OutsideHolderTests {
    /// A core registering `struct widget`, optionally with a lookup that returns a counted
    /// device, and a driver freeing its container right after the unregister.
    static func tree(lookup: Bool, release: String = "") -> [String: String] {
        [
            "drivers/widget/core.c": """
                #include <linux/device.h>
                #include <linux/widget.h>
                static const struct class widget_class = { .name = "widget" };
                int widget_register(struct widget *w)
                {
                        w->dev.class = &widget_class;
                        return device_register(&w->dev);
                }
                EXPORT_SYMBOL(widget_register);
                void widget_unregister(struct widget *w)
                {
                        device_unregister(&w->dev);
                }
                EXPORT_SYMBOL(widget_unregister);
                \(lookup ? """
                struct widget *widget_find(const char *name)
                {
                        struct device *d = class_find_device_by_name(&widget_class, name);
                        return d ? container_of(d, struct widget, dev) : NULL;
                }
                EXPORT_SYMBOL(widget_find);
                """ : "")
                """,
            "include/linux/widget.h": """
                struct widget { int id; struct device dev; };
                int widget_register(struct widget *w);
                void widget_unregister(struct widget *w);
                """,
            "drivers/widget/acme.c": """
                #include <linux/widget.h>
                struct acme { int irq; struct widget w; };
                \(release)
                static int acme_probe(struct platform_device *pdev)
                {
                        struct acme *a = kzalloc(sizeof(*a), 0);
                        \(release.isEmpty ? "" : "a->w.dev.release = acme_release;")
                        return widget_register(&a->w);
                }
                static void acme_remove(struct acme *a)
                {
                        widget_unregister(&a->w);
                        kfree(a);
                }
                """,
        ]
    }

    @Test func aFreeAfterTheUnregisterIsAWarningWhenNoOneOutsideCanHoldTheDevice() throws {
        let f = try #require(findings(of: "kfree-outside-release", in: Self.tree(lookup: false)).first)
        #expect(f.severity == .warning)
        #expect(f.line == 13)
        #expect(f.message.hasSuffix("; but no outside reference holder was found in its core (the core takes no counted reference and creates no character device), so only a delayed release (CONFIG_DEBUG_KOBJECT_RELEASE) could touch the freed memory"), "\(f.message)")
    }

    @Test func aLookupThatHandsOutTheDeviceKeepsItAnError() throws {
        let f = try #require(findings(of: "kfree-outside-release", in: Self.tree(lookup: true)).first)
        #expect(f.severity == .error)
        #expect(!f.message.contains("no outside reference holder"))
    }

    @Test func aReleaseThatFreesTheContainerTooKeepsItAnError() throws {
        let release = "static void acme_release(struct device *dev) { kfree(container_of(dev, struct acme, w.dev)); }"
        let f = try #require(findings(of: "kfree-outside-release", in: Self.tree(lookup: false, release: release)).first)
        #expect(f.severity == .error)
    }
}
