import Testing
@testable import Facts
@testable import CFrontend
@testable import Indexing
@testable import Analysis
@testable import Findings
@testable import Checks
@testable import Reporting
@testable import Pipeline

/// Messages say what the code does to the object: a cdev is undone with cdev_del(), and
/// only calls that publish are called registration.
@Suite struct MessageTests {
    static let files: [String: String] = [
        "include/linux/device.h": KernelPrelude.device,
        "include/linux/cdev.h": """
            #include <linux/device.h>
            struct kobj_type { void (*release)(struct kobject *kobj); };
            void kobject_init(struct kobject *kobj, const struct kobj_type *ktype);
            void cdev_init(struct cdev *cdev, const void *fops);
            int cdev_add(struct cdev *p, int dev, unsigned count);
            void cdev_del(struct cdev *p);
            """,
        // A char-device core written after the documented API: init only initializes.
        "fs/char_dev.c": """
            #include <linux/cdev.h>
            static void cdev_default_release(struct kobject *kobj)
            {
                    kfree(container_of(kobj, struct cdev, kobj));
            }
            static const struct kobj_type ktype_cdev_default = { .release = cdev_default_release };
            void cdev_init(struct cdev *cdev, const void *fops)
            {
                    kobject_init(&cdev->kobj, &ktype_cdev_default);
            }
            """,
        "drivers/char/widget.c": """
            #include <linux/cdev.h>
            struct widget { int id; struct cdev cdev; };
            static int widget_probe(struct platform_device *pdev)
            {
                    struct widget *w = devm_kzalloc(&pdev->dev, sizeof(*w), 0);
                    cdev_init(&w->cdev, 0);
                    return cdev_add(&w->cdev, 1, 1);
            }
            static int gadget_create(int n)
            {
                    struct widget *g = kzalloc(sizeof(*g), 0);
                    int err;
                    cdev_init(&g->cdev, 0);
                    err = cdev_add(&g->cdev, n, 1);
                    if (err)
                            return err;
                    err = gadget_start(n);
                    if (err)
                            kfree(g);
                    return err;
            }
            """,
        "drivers/misc/early.c": """
            #include <linux/device.h>
            struct early { int id; struct device dev; };
            static int early_probe(struct platform_device *pdev)
            {
                    struct early *e = devm_kzalloc(&pdev->dev, sizeof(*e), 0);
                    device_initialize(&e->dev);
                    return 0;
            }
            """,
    ]

    @Test func cdevMessagesNameCdevCalls() throws {
        let findings = Analyzer.findings(analyse(Self.files))
        let devm = try #require(findings.first { $0.check == "devm-embedded-refcount" && $0.function == "widget_probe" })
        #expect(devm.message.contains("registered through cdev_add()"), "\(devm.message)")
        #expect(!devm.message.contains("cdev_init"))
        #expect(devm.notes.contains { $0.message == "cdev_add() publishes w->cdev to the char device table (where open() finds it)" })
        let kfree = try #require(findings.first { $0.check == "kfree-outside-release" && $0.function == "gadget_create" })
        #expect(kfree.severity == .warning)
        #expect(kfree.message.contains("on the error path of cdev_add(), which must be undone with cdev_del()"), "\(kfree.message)")
        #expect(!kfree.message.contains("put_device"))
        // Nothing anywhere calls cdev_init() or device_initialize() a registration.
        for f in findings {
            let text = ([f.message] + f.notes.map(\.message)).joined(separator: "\n")
            #expect(!text.contains("registered through cdev_init") && !text.contains("registered through device_initialize"), "\(text)")
            #expect(!text.contains("cdev_init registers") && !text.contains("cdev_init() publishes"), "\(text)")
        }
    }

    @Test func initializationAloneIsNotCalledRegistration() throws {
        let findings = Analyzer.findings(analyse(Self.files))
        let early = try #require(findings.first { $0.check == "devm-embedded-refcount" && $0.function == "early_probe" })
        #expect(early.message.contains("initialized by device_initialize() (no call that publishes it was found)"), "\(early.message)")
        #expect(early.notes.contains { $0.message == "device_initialize() initializes the reference count of e->dev" })
    }

    /// A core whose device no code gives a release: the free after the put is named with
    /// what the driver core does when the last reference goes. Another core whose class
    /// gives one keeps the plain message.
    static let cores: [String: String] = [
        "include/linux/device.h": KernelPrelude.device,
        "drivers/bare/core.c": """
            #include <linux/device.h>
            struct bare { int id; struct device dev; };
            static struct class *bare_class;
            static int bare_init(void)
            {
                    bare_class = class_create("bare");
                    return 0;
            }
            struct bare *bare_create(struct device *parent)
            {
                    struct bare *b = kzalloc(sizeof(*b), 0);
                    int ret;
                    device_initialize(&b->dev);
                    b->dev.class = bare_class;
                    b->dev.parent = parent;
                    ret = device_add(&b->dev);
                    if (ret)
                            goto put_dev;
                    return b;
            put_dev:
                    put_device(&b->dev);
                    kfree(b);
                    return 0;
            }
            """,
        "drivers/kept/core.c": """
            #include <linux/device.h>
            struct kept { int id; struct device dev; };
            static void kept_release(struct device *dev)
            {
                    kfree(container_of(dev, struct kept, dev));
            }
            static struct class kept_class = { .name = "kept", .dev_release = kept_release };
            struct kept *kept_create(struct device *parent)
            {
                    struct kept *k = kzalloc(sizeof(*k), 0);
                    int ret;
                    device_initialize(&k->dev);
                    k->dev.class = &kept_class;
                    ret = device_add(&k->dev);
                    if (ret)
                            goto put_dev;
                    return k;
            put_dev:
                    put_device(&k->dev);
                    kfree(k);
                    return 0;
            }
            """,
    ]

    @Test func aFreeAfterThePutOfADeviceWithNoReleaseSaysSo() throws {
        let findings = Analyzer.findings(analyse(Self.cores)).filter { $0.check == "kfree-outside-release" }
        let bare = try #require(findings.first { $0.function == "bare_create" })
        #expect(bare.line == 22)
        #expect(bare.message == "'struct bare' embeds a refcounted dev but is freed with kfree() right after put_device() dropped its reference; the device has no release callback (the driver core warns when its last reference goes): free it in a release callback instead")
        let kept = try #require(findings.first { $0.function == "kept_create" })
        #expect(kept.line == 20)
        #expect(kept.message == "'struct kept' embeds a refcounted dev but is freed with kfree() right after put_device() dropped its reference; free it in the release callback instead")
        #expect(findings.count == 2)
    }
}
