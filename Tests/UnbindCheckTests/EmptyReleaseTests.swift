import Testing
@testable import Facts
@testable import CFrontend
@testable import Indexing
@testable import Analysis
@testable import Findings
@testable import Checks

/// `empty-release` on classes: a release runs only on objects that get the class, so a
/// class that the file registers but never gives a device has a release that never runs.
@Suite struct EmptyReleaseTests {
    /// A static class with an empty `dev_release`; `use` is what else the file does with it.
    static func classFile(_ use: String) -> [String: String] {
        ["drivers/misc/tgt.c": """
            #include <linux/device.h>
            struct class { const char *name; void (*dev_release)(struct device *dev); };
            int class_register(const struct class *cls);
            void class_unregister(const struct class *cls);
            struct device *device_create(const struct class *cls, struct device *parent, int devt, void *data, const char *fmt, ...);
            static void tgt_dev_release(struct device *dev) {}
            static struct class tgt_class = {
                    .name = "tgt",
                    .dev_release = tgt_dev_release,
            };
            static int tgt_init(void)
            {
                    int rc = class_register(&tgt_class);
                    if (rc)
                            return rc;
                    \(use)
                    return 0;
            }
            static void tgt_exit(void)
            {
                    class_unregister(&tgt_class);
            }
            """]
    }

    func run(_ files: [String: String]) -> [Finding] {
        findings(of: "empty-release", in: files)
    }

    @Test func aClassThatNoDeviceGetsHasAReleaseThatNeverRuns() {
        #expect(run(Self.classFile("")).isEmpty)
    }

    @Test func aClassGivenToADeviceKeepsItsEmptyRelease() {
        let created = run(Self.classFile("device_create(&tgt_class, NULL, 0, NULL, \"tgt0\");"))
        #expect(created.map(\.line) == [6])
        #expect(created.map(\.severity) == [.error])
        #expect(created.first?.message.contains("release callback tgt_dev_release() does nothing") == true)
        #expect(created.first?.notes.first?.message == "installed as .dev_release of struct class tgt_class")
        // Set on a device's member, or taken into a pointer: the device can get it.
        let assigned = run(Self.classFile("static struct device d; d.class = &tgt_class;"))
        #expect(assigned.map(\.line) == [6])
        let kept = run(Self.classFile("const struct class *c = &tgt_class; (void)c;"))
        #expect(kept.map(\.line) == [6])
    }

    @Test func aClassOfAHeaderOrNotStaticMayBeUsedElsewhere() {
        let exported = Self.classFile("")["drivers/misc/tgt.c"]!.replacingOccurrences(of: "static struct class tgt_class", with: "struct class tgt_class")
        #expect(run(["drivers/misc/tgt.c": exported]).map(\.line) == [6])
        // Named nowhere, not even registered: it may be named where the facts do not look.
        let unnamed = Self.classFile("")["drivers/misc/tgt.c"]!
            .replacingOccurrences(of: "int rc = class_register(&tgt_class);", with: "int rc = 0;")
            .replacingOccurrences(of: "class_unregister(&tgt_class);", with: "")
        #expect(run(["drivers/misc/tgt.c": unnamed]).map(\.line) == [6])
    }
    /// A release set in the initializer of a static device (`.release`, or `.dev.release` of
    /// a struct embedding one, arrays too) runs on static objects only: a warning. A file's
    /// `.release` is no device release.
    @Test func aReleaseInAStaticDevicesInitializerIsOnStaticObjects() {
        let files = ["drivers/misc/vbus.c": """
            #include <linux/device.h>
            struct platform_device { const char *name; int id; struct device dev; };
            struct file_operations { int (*release)(struct inode *inode, struct file *file); };
            static void vbus_release(struct device *dev)
            {
            }
            static void sub_release(struct device *dev)
            {
            }
            static int vbus_fop_release(struct inode *inode, struct file *file)
            {
                    return 0;
            }
            static struct device vbus = {
                    .init_name = "vbus",
                    .release = vbus_release,
            };
            static struct platform_device subs[] = {
                    { .name = "a", .id = -1, .dev = { .release = sub_release } },
            };
            static const struct file_operations vbus_fops = { .release = vbus_fop_release };
            """]
        let f = run(files)
        #expect(f.map { "\($0.line) \($0.severity) \($0.function)" } == ["4 warning vbus_release", "7 warning sub_release"])
        #expect(f.first?.message.contains("it is installed only on statically allocated objects") == true)
        #expect(f.last?.notes.first?.message == "installed as .dev.release of struct platform_device subs")
        #expect(f.first?.fix.hasPrefix("a static device has nothing to free, so its empty release is harmless only while nothing can hold it after it is unregistered: if the code never unregisters it (built in), say so in a comment in the release; if it is unregistered (a module's exit, an error path) while others may still hold a reference, allocate it at run time instead") == true)
    }

    /// A static initializer copied into allocated memory (`devm_kmemdup(dev, &tmpl, …)`) is
    /// a template: its release runs on the copies, which are not static.
    @Test func aTemplatesReleaseRunsOnItsAllocatedCopies() {
        let files = ["drivers/usb/udcx.c": """
            #include <linux/device.h>
            struct udcx { int id; struct device dev; };
            static void udcx_release(struct device *dev)
            {
            }
            static const struct udcx udcx_template = { .dev = { .release = udcx_release } };
            static int udcx_probe(struct platform_device *pdev)
            {
                    struct udcx *u = devm_kmemdup(&pdev->dev, &udcx_template, sizeof(*u), 0);
                    return device_register(&u->dev);
            }
            """]
        let f = run(files)
        #expect(f.map { "\($0.line) \($0.severity)" } == ["3 error"])
        #expect(f.first?.notes.first?.message == "installed as .dev.release of struct udcx udcx_template, a template its file copies")
    }
    /// A release that only finds its container and logs, through the driver's own debug
    /// macro, does nothing; one that also writes a member does something.
    @Test func aReleaseThatOnlyLogsThroughADriverMacroIsEmpty() {
        func file(_ body: String) -> [String: String] {
            ["drivers/misc/tport.c": """
                #include <linux/device.h>
                struct tport { int id; struct device dev; };
                static void tport_release(struct device *dev)
                {
                        struct tport *p = container_of(dev, struct tport, dev);
                        \(body)
                }
                int tport_add(struct tport *p)
                {
                        p->dev.release = tport_release;
                        return device_register(&p->dev);
                }
                """]
        }
        #expect(run(file("tport_debug(EXIT, dev, \"id=%d\", p->id);")).map { "\($0.line) \($0.severity)" } == ["3 error"])
        #expect(run(file("p->id = 0;")).isEmpty)
        #expect(run(file("tport_stop(p);")).isEmpty)
    }

    /// `(void)dev;` only silences a compiler warning: a release of it alone is empty. A
    /// call cast to void still runs, and a bare name may be a macro that expands to code.
    @Test func aReleaseThatOnlyCastsItsParameterToVoidIsEmpty() {
        func file(_ body: String) -> [String: String] {
            ["drivers/misc/tbox.c": """
                #include <linux/device.h>
                struct tbox { int id; struct device dev; };
                static void tbox_release(struct device *dev)
                {
                        \(body)
                }
                int tbox_add(struct tbox *b)
                {
                        b->dev.release = tbox_release;
                        return device_register(&b->dev);
                }
                """]
        }
        let cast = run(file("(void)dev;"))
        #expect(cast.map { "\($0.line) \($0.severity) \($0.function)" } == ["3 error tbox_release"])
        #expect(cast.first?.notes.first?.message == "installed by tbox_add: b->dev.release = tbox_release")
        #expect(run(file("(void)tbox_stop(dev);")).isEmpty)
        #expect(run(file("TBOX_CLEANUP;")).isEmpty)
    }

    /// A kobject in one CPU's instance of a per-CPU variable is static storage: its
    /// `kobj_type` without a release is the static-kobject warning of `missing-release`.
    @Test func aKobjectInAPerCPUVariableIsStatic() {
        func file(_ get: String) -> [String: String] {
            ["arch/x/kernel/cinfo.c": """
                #include <linux/device.h>
                struct kobj_type { void (*release)(struct kobject *kobj); const void *sysfs_ops; };
                struct cinfo { int midr; struct kobject kobj; };
                DEFINE_PER_CPU(struct cinfo, cinfo_data);
                static const struct kobj_type cinfo_ktype = { .sysfs_ops = 0 };
                static int cinfo_init(int cpu)
                {
                        struct cinfo *info = \(get);
                        kobject_init(&info->kobj, &cinfo_ktype);
                        return 0;
                }
                """]
        }
        for get in ["&per_cpu(cinfo_data, cpu)", "per_cpu_ptr(&cinfo_data, cpu)"] {
            let f = findings(of: "missing-release", in: file(get))
            #expect(f.map { "\($0.line) \($0.severity)" } == ["9 warning"], "\(get)")
            #expect(f.first?.message.contains("the kobject is static") == true)
        }
        #expect(findings(of: "missing-release", in: file("kzalloc(sizeof(struct cinfo), 0)")).map(\.severity) == [.error])
    }
}
