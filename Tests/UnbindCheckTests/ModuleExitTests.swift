import Testing
@testable import Facts
@testable import CFrontend
@testable import Indexing
@testable import Analysis
@testable import Findings
@testable import Checks

/// `kfree-outside-release` at module unload: when the driver sets the object's `.owner` to
/// `THIS_MODULE` (its users pin the module), a free that only the module's exit function
/// reaches is a warning; on an unbind path it stays an error.
@Suite struct ModuleExitTests {
    /// A flash whose device is unregistered and whose container is then freed by `free`,
    /// which `caller` calls; `owner`: the driver sets `flash.owner = THIS_MODULE`.
    static func driver(owner: Bool, caller: String) -> [String: String] {
        [
            "include/linux/flash.h": """
                #include <linux/device.h>
                struct module;
                struct flash { int size; struct module *owner; struct device dev; };
                """,
            "drivers/mtd/ram.c": """
                #include <linux/flash.h>
                struct ram { int id; struct flash flash; };
                static struct ram *only;
                static void ram_release(struct device *dev) { }
                static int ram_init(void)
                {
                        only = kzalloc(sizeof(*only), 0);
                        \(owner ? "only->flash.owner = THIS_MODULE;" : "")
                        only->flash.dev.release = ram_release;
                        return device_register(&only->flash.dev);
                }
                static void ram_free(struct ram *r)
                {
                        device_unregister(&r->flash.dev);
                        kfree(r);
                }
                \(caller)
                module_init(ram_init);
                """,
        ]
    }

    func run(_ files: [String: String]) -> [String] {
        findings(of: "kfree-outside-release", in: files).map { "\($0.function) \($0.severity) \($0.message.contains("freed only at module unload"))" }
    }

    @Test func aFreeOnlyTheModuleExitReachesIsAWarningWhenUsersPinTheModule() {
        let exit = "static void __exit ram_exit(void) { ram_free(only); }\nmodule_exit(ram_exit);"
        #expect(run(Self.driver(owner: true, caller: exit)) == ["ram_free warning true"])
        // No owner set: nothing pins the module.
        #expect(run(Self.driver(owner: false, caller: exit)) == ["ram_free error false"])
    }

    @Test func aFreeOnAnUnbindPathStaysAnError() {
        let both = """
            static void __exit ram_exit(void) { ram_free(only); }
            module_exit(ram_exit);
            static void ram_remove(struct platform_device *pdev) { ram_free(only); }
            static struct platform_driver ram_driver = { .remove = ram_remove };
            """
        #expect(run(Self.driver(owner: true, caller: both)) == ["ram_free error false"])
    }

    /// A character device is opened through its file operations, whose `.owner` an open
    /// file pins; the free is reached from the exit function and, two calls down, from the
    /// init function's failure path.
    static func chardev(fopsOwner: Bool) -> [String: String] {
        [
            "drivers/char/reg.c": """
                #include <linux/device.h>
                struct reg_dev { struct cdev cdev; struct list_head list; };
                static struct reg_dev *only;
                static int reg_open(struct inode *inode, struct file *filp) { return 0; }
                static const struct file_operations reg_fops = {
                \t\(fopsOwner ? ".owner = THIS_MODULE," : "")
                \t.open = reg_open,
                };
                static void reg_cleanup(void)
                {
                \tcdev_del(&only->cdev);
                \tkfree(only);
                }
                static int reg_add(void)
                {
                \tonly = kzalloc(sizeof(*only), GFP_KERNEL);
                \tcdev_init(&only->cdev, &reg_fops);
                \tif (cdev_add(&only->cdev, 0, 1))
                \t\tgoto fail;
                \treturn 0;
                fail:
                \treg_cleanup();
                \treturn -1;
                }
                static int reg_create(void) { return reg_add(); }
                static int __init reg_init(void) { return reg_create(); }
                static void __exit reg_exit(void) { reg_cleanup(); }
                module_init(reg_init);
                module_exit(reg_exit);
                """,
        ]
    }

    @Test func aCharacterDeviceFreedAtLoadFailureOrUnloadIsAWarningWhenItsFileOperationsPinTheModule() throws {
        let pinned = findings(of: "kfree-outside-release", in: Self.chardev(fopsOwner: true))
        #expect(pinned.map { "\($0.function) \($0.severity)" } == ["reg_cleanup warning"])
        let f = try #require(pinned.first)
        #expect(f.message.hasSuffix("; it is freed only at module unload or load failure, and its file operations' .owner is THIS_MODULE, which every open file pins, so only a delayed release (CONFIG_DEBUG_KOBJECT_RELEASE) touches the freed memory"))
        #expect(findings(of: "kfree-outside-release", in: Self.chardev(fopsOwner: false)).map { "\($0.function) \($0.severity)" } == ["reg_cleanup error"])
        // Reached from the exit function only: freed at unload, never at a failed load.
        var exitOnly = Self.chardev(fopsOwner: true)
        exitOnly["drivers/char/reg.c"] = exitOnly["drivers/char/reg.c"]!.replacingOccurrences(of: "\treg_cleanup();\n\treturn -1;", with: "\treturn -1;")
        let unload = try #require(findings(of: "kfree-outside-release", in: exitOnly).first)
        #expect(unload.message.hasSuffix("; it is freed only at module unload, and its file operations' .owner is THIS_MODULE, which every open file pins, so only a delayed release (CONFIG_DEBUG_KOBJECT_RELEASE) touches the freed memory"), "\(unload.message)")
    }
}
