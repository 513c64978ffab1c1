import Testing
@testable import Facts
@testable import CFrontend
@testable import Indexing
@testable import Analysis
@testable import Findings
@testable import Checks

/// Fix texts and notes that a driver author can apply as written: a cdev's container gets
/// its release through a device the cdev holds, a hook the core calls is named as such,
/// a container of several refcounted members is freed with the last, and the unregister
/// named is one the driver's own files call.
@Suite struct FixTextTests {
    static let cdevHeader = """
        #include <linux/device.h>
        void cdev_init(struct cdev *cdev, const void *fops);
        int cdev_add(struct cdev *p, int dev, unsigned count);
        void cdev_del(struct cdev *p);
        """

    /// A character device in devm memory, and one freed right after `cdev_del()`.
    static let cdevDriver: [String: String] = [
        "include/linux/cdev.h": cdevHeader,
        "drivers/char/icap.c": """
            #include <linux/cdev.h>
            struct icap { int id; struct cdev cdev; };
            static struct icap *spare;
            static int icap_probe(struct platform_device *pdev)
            {
                    struct icap *w = devm_kzalloc(&pdev->dev, sizeof(*w), 0);
                    cdev_init(&w->cdev, 0);
                    return cdev_add(&w->cdev, 1, 1);
            }
            static void icap_drop(void)
            {
                    cdev_del(&spare->cdev);
                    kfree(spare);
            }
            """,
    ]

    @Test func aCdevContainerGetsItsReleaseThroughADeviceTheCdevHolds() throws {
        let devm = try #require(findings(of: "devm-embedded-refcount", in: Self.cdevDriver).first)
        #expect(devm.fix == "allocate struct icap with kzalloc() instead of devm_kzalloc(): a cdev has no release of its own, so give struct icap a struct device whose release kfree()s it (container_of()) and add the cdev with cdev_device_add() (or cdev_set_parent()), so that the cdev holds that device until its last file is closed, and put_device() it in remove() after the cdev is deleted (cdev_device_del())")
        #expect(devm.notes.map(\.message).contains("cdev_add() publishes w->cdev to the char device table (where open() finds it)"))
        // A struct that already embeds a device beside its cdev: give that one the release.
        var withDevice = Self.cdevDriver
        withDevice["drivers/char/icap.c"] = withDevice["drivers/char/icap.c"]!.replacingOccurrences(of: "struct icap { int id; struct cdev cdev; };", with: "struct icap { int id; struct device sdev; struct cdev cdev; };")
        let held = try #require(findings(of: "devm-embedded-refcount", in: withDevice).first { $0.chain.last == "cdev" })
        #expect(held.fix.contains("a cdev has no release of its own, so give the struct device it embeds (sdev) a release that kfree()s it (container_of()) and add the cdev with cdev_device_add()"), "\(held.fix)")
        let freed = try #require(findings(of: "kfree-outside-release", in: Self.cdevDriver).first)
        #expect(freed.line == 13)
        #expect(freed.fix.hasPrefix("do not kfree() struct icap right after cdev_del(): give struct icap a struct device whose release kfree()s it"))
        #expect(freed.fix.hasSuffix("and replace this kfree() with put_device()"))
    }

    /// After an unregister that may drop the last reference, the function's remaining uses
    /// of the memory must move before it; an empty release must be made to free.
    @Test func aFreeAfterUnregisterAlsoMovesTheUsesAfterIt() throws {
        let files = ["drivers/misc/widg.c": """
            #include <linux/device.h>
            struct widg { int id; struct device dev; };
            static void widg_release(struct device *dev)
            {
            }
            int widg_add(struct widg *w)
            {
                    w->dev.release = widg_release;
                    return device_register(&w->dev);
            }
            void widg_remove(struct widg *w)
            {
                    device_unregister(&w->dev);
                    kfree(w);
            }
            """]
        let f = try #require(findings(of: "kfree-outside-release", in: files).first)
        #expect(f.fix.hasSuffix("; whatever the function still does with struct widg after the unregister must come before it, or the function holds its own reference across the unregister (get_device() before it, put_device() where this free is now)"), "\(f.fix)")
        #expect(f.fix.hasPrefix("do not kfree() struct widg after the reference is dropped: struct widg's release widg_release() is empty, so it must be made to free the container"), "\(f.protection) \(f.fix)")
    }

    @Test func aFreeOnLastCloseIsNotCalledAnErrorPath() throws {
        let f = try #require(findings(of: "kfree-outside-release", in: LastCloseTests.channel("kfree(c);")).first)
        #expect(f.fix.hasPrefix("do not free struct chan from the file's .release: give struct chan a struct device whose release kfree()s it"))
        #expect(!f.fix.contains("error path"))
    }

    /// The provider of `SharedCountTests` with a second engine in the same struct.
    @Test func aContainerOfSeveralRefcountedMembersIsFreedWithTheLast() throws {
        var files = SharedCountTests.core()
        files["drivers/xdma/provider.c"] = files["drivers/xdma/provider.c"]!.replacingOccurrences(
            of: "struct prov { int irq; struct xdma_dev xdma; };", with: "struct prov { int irq; struct xdma_dev xdma; struct xdma_dev spare; };")
        let f = try #require(findings(of: "devm-embedded-refcount", in: files).first { $0.file == "drivers/xdma/provider.c" })
        #expect(f.fix.contains("when the last reference is dropped (it has several refcounted members, xdma and spare: free it only when the last of them goes, from the release of the one the others keep a reference on, or through a kref of its own that each release puts), and in remove()"), "\(f.fix)")
        // A member struct that holds the refcounted objects counts too.
        var nested = SharedCountTests.core()
        nested["drivers/xdma/provider.c"] = nested["drivers/xdma/provider.c"]!.replacingOccurrences(
            of: "struct prov { int irq; struct xdma_dev xdma; };", with: "struct prov_extra { int n; struct xdma_dev spare; };\nstruct prov { int irq; struct xdma_dev xdma; struct prov_extra extra; };")
        let inner = try #require(findings(of: "devm-embedded-refcount", in: nested).first { $0.file == "drivers/xdma/provider.c" })
        #expect(inner.fix.contains("(it has several refcounted members, xdma and extra:"), "\(inner.fix)")
        // An array member holds several by itself.
        var array = SharedCountTests.core()
        array["drivers/xdma/provider.c"] = array["drivers/xdma/provider.c"]!.replacingOccurrences(
            of: "struct prov { int irq; struct xdma_dev xdma; };", with: "struct prov { int irq; struct xdma_dev xdma[4]; };")
        let arrayed = findings(of: "devm-embedded-refcount", in: array).first { $0.file == "drivers/xdma/provider.c" }
        #expect(arrayed?.fix.contains("(it has several refcounted members, each of xdma[]: free it only when the last of them goes") == true, "\(arrayed?.fix ?? "no finding")")
        // One member: no such clause.
        let one = try #require(findings(of: "devm-embedded-refcount", in: SharedCountTests.core()).first { $0.file == "drivers/xdma/provider.c" })
        #expect(!one.fix.contains("several refcounted members"))
    }

    /// A driver split over two files: the unregister its other file calls is named; with
    /// none in its directory, the one the most functions of the tree call, not the first
    /// of the core's list.
    @Test func theUnregisterNamedIsOneTheDriversDirectoryCalls() throws {
        var files = VerdictTests.plainCore(holder: true)
        files["drivers/lcd/core.c"]! += "void lcd_unregister_all(struct lcd *l) { device_unregister(&l->dev); }\n"
        files["drivers/other/a.c"] = """
            #include <linux/lcd.h>
            void lcd_unregister(struct lcd *l);
            void a_teardown(struct lcd *l) { lcd_unregister(l); }
            void a_teardown2(struct lcd *l) { lcd_unregister(l); }
            """
        files["drivers/other/b.c"] = """
            #include <linux/lcd.h>
            void lcd_unregister_all(struct lcd *l);
            void b_teardown(struct lcd *l) { lcd_unregister_all(l); }
            void b_teardown2(struct lcd *l) { lcd_unregister_all(l); }
            void b_teardown3(struct lcd *l) { lcd_unregister_all(l); }
            """
        let popular = try #require(findings(of: "devm-embedded-refcount", in: files).first { $0.file == "drivers/lcd/panel.c" })
        #expect(popular.fix.contains("after lcd_unregister_all() in remove()"), "\(popular.fix)")
        files["drivers/lcd/panel-remove.c"] = """
            #include <linux/lcd.h>
            void lcd_unregister(struct lcd *l);
            void panel_teardown(struct lcd *l) { lcd_unregister(l); }
            """
        let split = try #require(findings(of: "devm-embedded-refcount", in: files).first { $0.file == "drivers/lcd/panel.c" })
        #expect(split.fix.contains("after lcd_unregister() in remove()"), "\(split.fix)")
    }

    /// A driver function that holds an object across its unregister is a temporary hold on
    /// a teardown path, not the core's users' reference: the note names the core's get.
    @Test func aHoldAcrossUnregisterIsNotTheHolderNamed() throws {
        var files = VerdictTests.plainCore(holder: true)
        files["drivers/lcd/aaa.c"] = """
            #include <linux/lcd.h>
            void lcd_unregister(struct lcd *l);
            struct lcd *aaa_first(void);
            void aaa_unregister(struct lcd *l) { lcd_unregister(l); }
            void aaa_shutdown(void) { struct lcd *l = aaa_first(); get_device(&l->dev); lcd_unregister(l); put_device(&l->dev); }
            """
        let f = try #require(findings(of: "devm-embedded-refcount", in: files).first { $0.file == "drivers/lcd/panel.c" })
        #expect(f.severity == .error)
        let holders = f.notes.filter { $0.message.hasPrefix("users can hold a reference") }.map { "\($0.file): \($0.message)" }
        #expect(holders == ["drivers/lcd/core.c: users can hold a reference: lcd_get calls get_device()"])
    }

    @Test func aPutBeforeTheFreeIsNamedInTheMissingReleaseMessage() throws {
        let files = ["drivers/bus/zbus.c": """
            #include <linux/device.h>
            struct zbus { int n; struct device dev; };
            static int zbus_probe(struct platform_device *pdev)
            {
                    struct zbus *bus = kzalloc(sizeof(*bus), 0);
                    int error = device_register(&bus->dev);
                    if (error) {
                            put_device(&bus->dev);
                            kfree(bus);
                            return error;
                    }
                    return 0;
            }
            """]
        let f = try #require(findings(of: "missing-release", in: files).first)
        #expect(f.severity == .error)
        #expect(f.message.hasSuffix("; the driver frees the memory itself after the call, outside the reference count: its put_device() makes the driver core WARN for want of a release, and the kfree() after it frees memory others may still reference"))
    }

    /// A release installed through a parameter whose every caller passes a static device.
    @Test func aReleaseSetThroughAParameterOnAStaticDeviceIsOnStaticObjects() throws {
        func file(_ extra: String) -> [String: String] {
            ["drivers/misc/cmmx.c": """
                #include <linux/device.h>
                static struct device cmmx_dev;
                static void cmmx_release(struct device *dev)
                {
                }
                static int cmmx_sysfs_register(struct device *dev)
                {
                        dev->release = cmmx_release;
                        return device_register(dev);
                }
                static int cmmx_init(void)
                {
                        \(extra)
                        return cmmx_sysfs_register(&cmmx_dev);
                }
                """]
        }
        let onStatic = try #require(findings(of: "empty-release", in: file("")).first)
        #expect(onStatic.severity == .warning)
        #expect(onStatic.message.contains("it is installed only on statically allocated objects"))
        // A caller passing allocated memory: the release may run on it.
        let mixed = try #require(findings(of: "empty-release", in: file("cmmx_sysfs_register(kzalloc(sizeof(struct device), 0));")).first)
        #expect(mixed.severity == .error)
        // Taken as a value (a callback, an ops table): its callers are not all known.
        let taken = try #require(findings(of: "empty-release", in: file("void *hook; hook = cmmx_sysfs_register; use(hook);")).first)
        #expect(taken.severity == .error)
        var table = file("")
        table["drivers/misc/cmmx.c"]! += "struct cmmx_ops { int (*reg)(struct device *dev); };\nstatic struct cmmx_ops ops = { .reg = cmmx_sysfs_register };\n"
        #expect(findings(of: "empty-release", in: table).map(\.severity) == [.error])
    }

    /// A core whose unregister waits for the last user, with a put beside it that the driver
    /// also calls: the fix names the unregister that waits, not the put.
    @Test func theWaitingUnregisterIsNamedNotAPut() throws {
        var files = VerdictTests.plainCore(holder: true)
        files["include/linux/lcd.h"] = """
            #include <linux/device.h>
            struct lcd { int rows; struct device dev; struct completion done; };
            int lcd_register(struct lcd *l);
            void lcd_put(struct lcd *l);
            void lcd_del(struct lcd *l);
            """
        files["drivers/lcd/core.c"] = """
            #include <linux/lcd.h>
            static void lcd_release(struct device *dev) { struct lcd *l = container_of(dev, struct lcd, dev); complete(&l->done); }
            int lcd_register(struct lcd *l) { l->dev.release = lcd_release; return device_register(&l->dev); }
            void lcd_put(struct lcd *l) { put_device(&l->dev); }
            void lcd_del(struct lcd *l) { device_unregister(&l->dev); wait_for_completion(&l->done); }
            struct lcd *lcd_get(struct lcd *l) { get_device(&l->dev); return l; }
            int lcd_open(struct lcd *l) { return lcd_get(l) ? 0 : -1; }
            """
        files["drivers/lcd/panel.c"]! += """
            static void panel_release_bus(struct lcd *l) { lcd_put(l); }
            static void panel_remove(struct platform_device *pdev) { struct panel *p = platform_get_drvdata(pdev); lcd_del(&p->lcd); }
            static struct platform_driver panel_driver = { .probe = panel_probe, .remove = panel_remove };
            """
        let f = try #require(findings(of: "devm-embedded-refcount", in: files).first)
        #expect(f.protection == "completion")
        #expect(f.fix.hasPrefix("nothing to free differently in the driver: the core's unregister (lcd_del()) waits for the last user by design"), "\(f.fix)")
    }

    /// A devm array of several objects cannot be freed element by element: the fix has each
    /// allocated on its own; a bare kobject's release belongs in its kobj_type, freed by the
    /// last kobject_put().
    @Test func anArrayIsSplitAndAKobjectGetsItsKtypeRelease() throws {
        let counted = try #require(findings(of: "devm-embedded-refcount", in: RegisteredElsewhereTests.driver()).first)
        #expect(counted.fix.contains("allocate each struct zone on its own with kzalloc() instead of one devm_kcalloc() array and kfree() it"), "\(counted.fix)")
        let multiplied = RegisteredElsewhereTests.driver(allocation: "devm_kzalloc(&pdev->dev, n * sizeof(*z), GFP_KERNEL)")
        #expect(try #require(findings(of: "devm-embedded-refcount", in: multiplied).first).fix.contains("allocate each struct zone on its own with kzalloc() instead of one devm_kzalloc() array and kfree() it"))
        let single = RegisteredElsewhereTests.driver(allocation: "devm_kzalloc(&pdev->dev, sizeof(*z), GFP_KERNEL)")
        #expect(try #require(findings(of: "devm-embedded-refcount", in: single).first).fix.contains("allocate struct zone with kzalloc() instead of devm_kzalloc() and kfree() it"))
        let kobject = ["drivers/misc/stats.c": """
            #include <linux/device.h>
            struct stats { int n; struct kobject kobj; };
            static const struct kobj_type stats_ktype = { .sysfs_ops = NULL };
            static int stats_probe(struct platform_device *pdev)
            {
                    struct stats *s = devm_kzalloc(&pdev->dev, sizeof(*s), 0);
                    return kobject_init_and_add(&s->kobj, &stats_ktype, NULL, "stats");
            }
            """]
        let bare = try #require(findings(of: "devm-embedded-refcount", in: kobject).first)
        #expect(bare.fix.hasPrefix("allocate struct stats with kzalloc() instead of devm_kzalloc(), give the kobj_type of its struct stats a .release that kfree()s the container (container_of()), and let the last kobject_put() free it"), "\(bare.fix)")
    }

    /// A kfree() after a teardown: for a cdev torn down through a helper, the fix is a
    /// device the cdev holds (its kobj_type is the char device core's); for an object whose
    /// core installs its own release for every driver, the fix needs that core.
    @Test func aFreeAfterTeardownNamesWhereTheReleaseMustCome() throws {
        var cdev = Self.cdevDriver
        cdev["drivers/char/icap.c"]! += """
            static void icap_stop(struct icap *w) { cdev_del(&w->cdev); }
            void icap_remove(struct icap *w)
            {
                    icap_stop(w);
                    kfree(w);
            }
            """
        let helper = try #require(findings(of: "kfree-outside-release", in: cdev).first { $0.function == "icap_remove" })
        #expect(helper.chain == ["icap", "cdev"])
        #expect(helper.fix.hasPrefix("do not free struct icap right after its cdev is deleted: give struct icap a struct device whose release kfree()s it"), "\(helper.fix)")
        var flash = ReturnedPathTests.driver(helper: "", register: "return flash_register(&c->flash);")
        flash["drivers/mtd/core.c"]! += "void flash_unregister(struct flash_info *info) { device_unregister(&info->dev); }\n"
        flash["drivers/mtd/chip.c"]! += """
            void chip_remove(struct chip *c)
            {
                    flash_unregister(&c->flash);
                    kfree(c);
            }
            """
        let core = try #require(findings(of: "kfree-outside-release", in: flash).first)
        #expect(core.protection == "none")
        #expect(core.fix.hasPrefix("do not free struct chip after the reference is dropped: the core's release flash_release() neither frees struct chip nor calls back the driver, so the fix needs the core"), "\(core.fix)")
    }

    /// A cdev's container freed on an error path after `cdev_add()`: the undo is not a
    /// `put_device()` (it has no device) but a device the cdev holds, and the added cdev is
    /// deleted. The shape the check sets, not the message's words, picks the text.
    @Test func aCdevFreedOnAnErrorPathIsDeletedAndGetsAHeldDevice() throws {
        var files = Self.cdevDriver
        files["drivers/char/icap.c"]! += """
            int icap_enable(int x);
            int icap_setup(int fail)
            {
                    struct icap *w = kzalloc(sizeof(*w), 0);
                    int ret;
                    cdev_init(&w->cdev, 0);
                    ret = cdev_add(&w->cdev, 1, 1);
                    if (ret < 0)
                            goto err;
                    ret = icap_enable(fail);
                    if (ret < 0)
                            goto err;
                    return 0;
            err:
                    kfree(w);
                    return ret;
            }
            """
        let freed = try #require(findings(of: "kfree-outside-release", in: files).first { $0.function == "icap_setup" })
        #expect(freed.line == 28)
        #expect(freed.shape == .freedOnErrorPath(drop: "cdev_del()"))
        #expect(freed.fix == "do not kfree() struct icap on this error path: give struct icap a struct device whose release kfree()s it (container_of()) and add the cdev with cdev_device_add() (or cdev_set_parent()), so that the cdev holds that device until its last file is closed; delete the cdev (cdev_del()) once it was added, and drop that device's reference where this free is now (put_device())")
        let after = try #require(findings(of: "kfree-outside-release", in: Self.cdevDriver).first)
        #expect(after.shape == .freedAfterTeardown(teardown: "cdev_del"))
        // The same message with another shape gets another fix: the text follows the shape.
        var reshaped = freed
        reshaped.shape = .freedOnErrorPath(drop: "kobject_put()")
        #expect(FixSuggestion.text(for: reshaped).hasPrefix("call kobject_put() instead of kfree() on this error path"))
    }

    /// A file-scope device or kobject is never freed: its release must free nothing.
    @Test func aStaticObjectGetsAReleaseThatFreesNothing() throws {
        let device = ["drivers/bus/vbus.c": """
            #include <linux/device.h>
            struct vbus { int n; struct device dev; };
            static struct vbus vbus0;
            static int vbus_init(void)
            {
                    return device_register(&vbus0.dev);
            }
            static int vbus_add(void)
            {
                    struct vbus *b = kzalloc(sizeof(*b), 0);
                    return device_register(&b->dev);
            }
            """]
        let found = findings(of: "missing-release", in: device).sorted { $0.line < $1.line }
        #expect(found.map(\.severity) == [.warning, .warning])
        let (onStatic, allocated) = (try #require(found.first), try #require(found.last))
        #expect(onStatic.line == 6 && allocated.line == 11)
        #expect(onStatic.message.hasSuffix("(dev.release, device_type or class); the device is static, so nothing leaks, but the driver core complains of the missing release on its last put"), "\(onStatic.message)")
        #expect(onStatic.fix.hasPrefix("a statically allocated device is never freed: give it a release that frees nothing"), "\(onStatic.fix)")
        #expect(allocated.message.hasSuffix("(dev.release, device_type or class)"))
        #expect(allocated.fix.hasSuffix("that kfree()s struct vbus via container_of()"), "\(allocated.fix)")
        let kobject = ["drivers/misc/stats.c": """
            #include <linux/device.h>
            static struct kobject stats_kobj;
            static const struct kobj_type stats_ktype = { .sysfs_ops = NULL };
            static int stats_init(void)
            {
                    return kobject_init_and_add(&stats_kobj, &stats_ktype, NULL, "stats");
            }
            """]
        let k = try #require(findings(of: "missing-release", in: kobject).first)
        #expect(k.severity == .warning)
        #expect(k.fix.hasPrefix("give the kobj_type a .release that frees nothing (the kobject is static"), "\(k.fix)")
    }

    /// On an error path after the count is set up, the put runs the release: whatever that
    /// release frees, the path must stop freeing itself.
    @Test func anErrorPathPutNamesTheReleaseItRuns() throws {
        let files = ["drivers/dax/hub.c": """
            #include <linux/device.h>
            struct hub { int *ranges; struct device dev; };
            static void hub_release(struct device *dev)
            {
                    struct hub *h = container_of(dev, struct hub, dev);
                    kfree(h->ranges);
                    kfree(h);
            }
            static const struct device_type hub_type = { .release = hub_release };
            int hub_register(struct hub *h)
            {
                    h->dev.type = &hub_type;
                    return device_add(&h->dev);
            }
            int hub_create(struct device *parent)
            {
                    struct hub *h = kzalloc(sizeof(*h), 0);
                    device_initialize(&h->dev);
                    h->ranges = kzalloc(64, 0);
                    if (dev_set_name(&h->dev, "hub"))
                            goto fail;
                    return hub_register(h);
            fail:
                    kfree(h->ranges);
                    kfree(h);
                    return -1;
            }
            """]
        let f = try #require(findings(of: "kfree-outside-release", in: files).first)
        #expect(f.line == 25)
        #expect(f.fix == "call put_device() instead of kfree() on this error path: once the reference count is initialized, only the release callback may free struct hub; put_device() then runs hub_release(), so this path must no longer free what that release frees", "\(f.fix)")
    }
}

extension FixTextTests {
    /// An empty release the driver defines itself is the driver's to mend: its fix does
    /// not send the author to a core.
    @Test func theDriversOwnEmptyReleaseIsItsToMend() throws {
        let files = ["drivers/misc/cpp.c": """
            #include <linux/device.h>
            struct cpp { int id; struct device dev; };
            static void cpp_release(struct device *dev) { }
            struct cpp *cpp_new(struct device *parent)
            {
                    struct cpp *c = kzalloc(sizeof(*c), 0);
                    c->dev.release = cpp_release;
                    c->dev.parent = parent;
                    if (device_register(&c->dev)) { put_device(&c->dev); return 0; }
                    return c;
            }
            void cpp_free(struct cpp *c)
            {
                    device_unregister(&c->dev);
                    kfree(c);
            }
            """]
        let own = try #require(findings(of: "kfree-outside-release", in: files).first)
        #expect("\(own.line) \(own.protection)" == "15 empty-release")
        #expect(own.fix == "do not kfree() struct cpp after the reference is dropped: struct cpp's release cpp_release() is empty, so it must be made to free the container (kfree(container_of(…))) when the last reference goes; whatever the function still does with struct cpp after the unregister must come before it, or the function holds its own reference across the unregister (get_device() before it, put_device() where this free is now)")
        // The same empty release defined by a core elsewhere: the core must mend it.
        var shared = files
        shared["drivers/misc/cpp.c"] = files["drivers/misc/cpp.c"]!.replacingOccurrences(of: "static void cpp_release(struct device *dev) { }", with: "void cpp_release(struct device *dev);")
        shared["drivers/base/cpp_core.c"] = "#include <linux/device.h>\nvoid cpp_release(struct device *dev) { }\n"
        let core = try #require(findings(of: "kfree-outside-release", in: shared).first)
        #expect(core.fix.contains("when the last reference goes — in the core, for every driver of it;"))
        // A driver's struct that embeds the core's object: the core's release cannot know
        // it, so the core must call back the driver.
        let embedded = [
            "include/linux/cpp.h": "#include <linux/device.h>\nstruct cpp { int id; struct device dev; };\n",
            "drivers/base/cpp_core.c": """
                #include <linux/cpp.h>
                void cpp_release(struct device *dev) { }
                int cpp_register(struct cpp *c)
                {
                        c->dev.release = cpp_release;
                        return device_register(&c->dev);
                }
                """,
            "drivers/misc/cpp_card.c": """
                #include <linux/cpp.h>
                struct cpp_card { int irq; struct cpp port; };
                void cpp_card_remove(struct cpp_card *card)
                {
                        device_unregister(&card->port.dev);
                        kfree(card);
                }
                """]
        let card = try #require(findings(of: "kfree-outside-release", in: embedded).first { $0.file == "drivers/misc/cpp_card.c" })
        #expect(card.fix == "do not kfree() struct cpp_card after the reference is dropped: the core's release cpp_release() is empty and cannot know which driver's struct embeds struct cpp, so the fix needs the core: give struct cpp a release hook that cpp_release() calls when the last reference goes, and move this free into the driver's hook (kfree(container_of(…))); whatever the function still does with struct cpp_card after the unregister must come before it, or the function holds its own reference across the unregister (get_device() before it, put_device() where this free is now)", "\(card.fix)")
    }
}
