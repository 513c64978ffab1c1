import Testing
@testable import Facts
@testable import CFrontend
@testable import Indexing
@testable import Analysis
@testable import Findings
@testable import Checks
@testable import Reporting
@testable import Pipeline

/// Issue 10, outside reference holders: a devm object is an error only when someone outside
/// the driver can hold a reference (its core hands out counted references, a character
/// device, a lookup); otherwise only a delayed release touches the memory.
extension VerdictTests {
    static func plainCore(holder: Bool) -> [String: String] {
        ["include/linux/lcd.h": """
            #include <linux/device.h>
            struct lcd { int rows; struct device dev; };
            int lcd_register(struct lcd *l);
            """,
         "drivers/lcd/core.c": """
            #include <linux/lcd.h>
            static void lcd_release(struct device *dev) { struct lcd *l = container_of(dev, struct lcd, dev); l->rows = 0; }
            int lcd_register(struct lcd *l) { l->dev.release = lcd_release; return device_register(&l->dev); }
            void lcd_unregister(struct lcd *l) { device_unregister(&l->dev); }
            \(holder ? "struct lcd *lcd_get(struct lcd *l) { get_device(&l->dev); return l; }" : "")
            \(holder ? "int lcd_open(struct lcd *l) { return lcd_get(l) ? 0 : -1; }" : "")
            """,
         "drivers/lcd/panel.c": """
            #include <linux/lcd.h>
            struct panel { int id; struct lcd lcd; };
            static int panel_probe(struct platform_device *pdev)
            {
                    struct panel *p = devm_kzalloc(&pdev->dev, sizeof(*p), 0);
                    return lcd_register(&p->lcd);
            }
            """]
    }

    /// A core whose release is installed by a helper handed the device itself
    /// (`snd_device_initialize(&x->dev)`-like) and does nothing on purpose: the release is
    /// found (empty), and the deliberate design makes a warning only while no one outside
    /// the driver can hold a reference.
    static func helperInstalledRelease(holder: Bool) -> [String: String] {
        var files = plainCore(holder: holder)
        files["drivers/lcd/core.c"] = """
            #include <linux/lcd.h>
            /* The panel's memory is its driver's: nothing to free here. */
            static void lcd_release(struct device *dev)
            {
            }
            static void lcd_device_init(struct device *dev) { device_initialize(dev); dev->release = lcd_release; }
            int lcd_register(struct lcd *l) { lcd_device_init(&l->dev); return device_add(&l->dev); }
            void lcd_unregister(struct lcd *l) { device_unregister(&l->dev); }
            \(holder ? "struct lcd *lcd_get(struct lcd *l) { get_device(&l->dev); return l; }" : "")
            \(holder ? "int lcd_open(struct lcd *l) { return lcd_get(l) ? 0 : -1; }" : "")
            """
        return files
    }

    @Test func aReleaseInstalledByAHelperOnTheDeviceIsFoundAndAHolderBreaksItsDesign() {
        let alone = run("devm-embedded-refcount", Self.helperInstalledRelease(holder: false))
        #expect(alone.map { "\($0.severity) \($0.protection)" } == ["warning empty-release"])
        #expect(alone.first?.notes.contains { $0.file == "drivers/lcd/core.c" && $0.line == 6 && $0.message == "lcd_device_init sets dev->release = lcd_release" } == true)
        let held = run("devm-embedded-refcount", Self.helperInstalledRelease(holder: true))
        #expect(held.map { "\($0.severity) \($0.protection)" } == ["error empty-release"])
        #expect(held.first?.message.contains("a deliberate design") == false)
    }

    @Test func withoutAnOutsideReferenceHolderADevmObjectIsAWarning() {
        let none = run("devm-embedded-refcount", Self.plainCore(holder: false))
        #expect(none.map(\.severity) == [.warning])
        #expect(none.first?.message.contains("but no outside reference holder was found") == true)
        let held = run("devm-embedded-refcount", Self.plainCore(holder: true))
        #expect(held.map(\.severity) == [.error])
        #expect(held.first?.notes.contains { $0.message == "users can hold a reference: lcd_get calls get_device()" && $0.file == "drivers/lcd/core.c" } == true)
    }

    /// A core that numbers the device (`devt`) before adding it, in a helper of another
    /// file (`snd_register_device()`-like), makes a `/dev` node user space can open: an
    /// outside holder, as a cdev is.
    @Test func aCoreThatNumbersTheDeviceMakesANodeUsersCanHold() {
        var files = Self.plainCore(holder: false)
        files["drivers/lcd/node.c"] = """
            #include <linux/lcd.h>
            int lcd_add_node(struct device *dev, int minor) { dev->devt = minor; return device_add(dev); }
            """
        files["drivers/lcd/core.c"] = files["drivers/lcd/core.c"]!.replacingOccurrences(
            of: "return device_register(&l->dev); }", with: "device_initialize(&l->dev); return lcd_add_node(&l->dev, 1); }")
        files["include/linux/lcd.h"]! += "int lcd_add_node(struct device *dev, int minor);\n"
        let numbered = run("devm-embedded-refcount", files)
        #expect(numbered.map(\.severity) == [.error])
        #expect(numbered.first?.notes.contains {
            $0.kind == .reference && $0.file == "drivers/lcd/core.c" && $0.line == 3
                && $0.message == "users can hold a reference: lcd_register calls lcd_add_node(), which gives the device a number (devt): device_add() makes a /dev node that user space can open"
        } == true)
        files["drivers/lcd/node.c"] = files["drivers/lcd/node.c"]!.replacingOccurrences(of: "dev->devt = minor; ", with: "")
        #expect(run("devm-embedded-refcount", files).map(\.severity) == [.warning])
    }

    /// A driver that publishes devm memory and has no unbind path at all never unregisters
    /// the object: the message says so, with the driver's probe as the note, and the fix
    /// starts with an unregister at unbind. One whose `.remove` unregisters it does not.
    @Test func aDriverThatNeverUnregistersItsDevmObjectIsToldSo() {
        var files = Self.plainCore(holder: true)
        files["drivers/lcd/panel.c"]! += "\nstatic struct platform_driver panel_driver = { .probe = panel_probe };\n"
        let never = run("devm-embedded-refcount", files)
        #expect(never.map(\.severity) == [.error])
        #expect(never.first?.message.hasSuffix("; the driver's unbind path never calls lcd_unregister(): after unbind it stays published in the freed memory") == true
                || never.first?.message.hasSuffix("; the driver has no unbind callback (.remove) and no devm action, so it never calls lcd_unregister(): after unbind it stays published in the freed memory") == true)
        #expect(never.first?.notes.contains { $0.kind == .teardown && $0.message == "no .remove or devm action of this driver calls lcd_unregister()" } == true)
        #expect(never.first?.fix.hasPrefix("unregister it at unbind first with lcd_unregister(), from the driver's .remove() or a devm action") == true)
        files["drivers/lcd/panel.c"]! = files["drivers/lcd/panel.c"]!.replacingOccurrences(of: "{ .probe = panel_probe }", with: "{ .probe = panel_probe, .remove = panel_remove }")
        files["drivers/lcd/panel.c"]! += "static void panel_remove(struct platform_device *pdev) { struct panel *p = platform_get_drvdata(pdev); lcd_unregister(&p->lcd); }\n"
        let removes = run("devm-embedded-refcount", files)
        #expect(removes.map(\.severity) == [.error])
        #expect(removes.first?.message.contains("stays published") == false)
    }

    /// The same core, a driver that `kzalloc()`s the panel and `kfree()`s it right after
    /// unregistering it: the core's release frees nothing, so only someone outside who
    /// holds a reference reaches the freed memory. With a holder, an error that names it;
    /// with none, a warning saying that only a delayed release touches the memory.
    static func freedAfterUnregister(holder: Bool) -> [String: String] {
        var files = plainCore(holder: holder)
        files["drivers/lcd/panel.c"] = """
            #include <linux/lcd.h>
            struct panel { int id; struct lcd lcd; };
            static int panel_probe(struct platform_device *pdev)
            {
                    struct panel *p = kzalloc(sizeof(*p), 0);
                    platform_set_drvdata(pdev, p);
                    return lcd_register(&p->lcd);
            }
            static void panel_remove(struct platform_device *pdev)
            {
                    struct panel *p = platform_get_drvdata(pdev);
                    lcd_unregister(&p->lcd);
                    kfree(p);
            }
            static struct platform_driver panel_driver = { .probe = panel_probe, .remove = panel_remove };
            """
        return files
    }

    @Test func aFreeAfterUnregisterIsAnErrorOnlyWithAnOutsideHolder() {
        let held = run("kfree-outside-release", Self.freedAfterUnregister(holder: true))
        #expect(held.map { "\($0.severity) \($0.file):\($0.line)" } == ["error drivers/lcd/panel.c:13"])
        #expect(held.first?.notes.map(\.message) == ["lcd_unregister() on p->lcd.dev", "users can hold a reference: lcd_get calls get_device()"])
        let none = run("kfree-outside-release", Self.freedAfterUnregister(holder: false))
        #expect(none.map { "\($0.severity) \($0.file):\($0.line)" } == ["warning drivers/lcd/panel.c:13"])
        #expect(none.first?.message.hasSuffix("; but no outside reference holder was found in its core (the core takes no counted reference and creates no character device), so only a delayed release (CONFIG_DEBUG_KOBJECT_RELEASE) could touch the freed memory") == true)
    }

    /// A put on the failure of the registration undoes it: nothing was published, so the
    /// core's holders are no evidence there (the finding names none).
    @Test func aFreeAfterThePutOfAFailedRegistrationNamesNoHolder() {
        var files = Self.freedAfterUnregister(holder: true)
        files["drivers/lcd/panel.c"] = files["drivers/lcd/panel.c"]!.replacingOccurrences(
            of: "        return lcd_register(&p->lcd);",
            with: "        if (lcd_register(&p->lcd)) {\n                put_device(&p->lcd.dev);\n                kfree(p);\n                return -1;\n        }\n        return 0;")
        let found = run("kfree-outside-release", files)
        #expect(found.map { "\($0.severity) \($0.file):\($0.line)" } == ["error drivers/lcd/panel.c:9", "error drivers/lcd/panel.c:18"])
        #expect(found.first?.notes.map(\.message) == ["put_device() on p->lcd.dev"])
        #expect(found.last?.notes.last?.message == "users can hold a reference: lcd_get calls get_device()")
    }

    /// A put right after the core's unpublish (`lcd_del()`, then `put_device()`) drops what
    /// the unpublish left: the holders are judged as after an unregister.
    @Test func aFreeAfterAPutThatFollowsAnUnpublishNamesTheHolder() {
        var files = Self.freedAfterUnregister(holder: true)
        files["drivers/lcd/core.c"]! += "\nvoid lcd_del(struct lcd *l) { device_del(&l->dev); }\n"
        files["drivers/lcd/panel.c"] = files["drivers/lcd/panel.c"]!.replacingOccurrences(
            of: "        lcd_unregister(&p->lcd);", with: "        lcd_del(&p->lcd);\n        put_device(&p->lcd.dev);")
        let found = run("kfree-outside-release", files)
        #expect(found.map { "\($0.severity) \($0.file):\($0.line)" } == ["error drivers/lcd/panel.c:14"])
        #expect(found.first?.notes.map(\.message) == ["put_device() on p->lcd.dev", "users can hold a reference: lcd_get calls get_device()"])
    }

    /// A release that frees the container makes the free after the unregister a second
    /// free whoever holds a reference: an error even with no holder.
    @Test func aFreeAfterUnregisterStaysAnErrorWhenTheReleaseFrees() {
        var files = Self.freedAfterUnregister(holder: false)
        files["drivers/lcd/core.c"] = files["drivers/lcd/core.c"]!.replacingOccurrences(of: "l->rows = 0;", with: "kfree(l);")
        let found = run("kfree-outside-release", files)
        #expect(found.map { "\($0.severity) \($0.file):\($0.line)" } == ["error drivers/lcd/panel.c:13"])
        #expect(found.first?.message.contains("no outside reference holder") == false)
    }

    /// A core whose unregister waits for the last user: unbind blocks only while someone
    /// holds a reference. With a holder the warning stands and names it; with none the wait
    /// returns at once and devres frees the memory after it: a note.
    static func waitingCore(holder: Bool) -> [String: String] {
        var files = plainCore(holder: holder)
        files["include/linux/lcd.h"] = """
            #include <linux/device.h>
            struct lcd { int rows; struct device dev; struct completion done; };
            int lcd_register(struct lcd *l);
            void lcd_del(struct lcd *l);
            """
        files["drivers/lcd/core.c"] = """
            #include <linux/lcd.h>
            static void lcd_release(struct device *dev) { struct lcd *l = container_of(dev, struct lcd, dev); complete(&l->done); }
            int lcd_register(struct lcd *l) { l->dev.release = lcd_release; return device_register(&l->dev); }
            void lcd_del(struct lcd *l) { device_unregister(&l->dev); wait_for_completion(&l->done); }
            \(holder ? "struct lcd *lcd_get(struct lcd *l) { get_device(&l->dev); return l; }" : "")
            \(holder ? "int lcd_open(struct lcd *l) { return lcd_get(l) ? 0 : -1; }" : "")
            """
        files["drivers/lcd/panel.c"]! += """
            static void panel_remove(struct platform_device *pdev) { struct panel *p = platform_get_drvdata(pdev); lcd_del(&p->lcd); }
            static struct platform_driver panel_driver = { .probe = panel_probe, .remove = panel_remove };
            """
        return files
    }

    @Test func aWaitForTheLastUserBlocksUnbindOnlyWithAHolder() {
        let held = run("devm-embedded-refcount", Self.waitingCore(holder: true))
        #expect(held.map { "\($0.severity) \($0.protection) \($0.line)" } == ["warning completion 5"])
        #expect(held.first?.notes.last?.message == "users can hold a reference: lcd_get calls get_device()")
        let none = run("devm-embedded-refcount", Self.waitingCore(holder: false))
        #expect(none.map { "\($0.severity) \($0.protection) \($0.line)" } == ["note completion 5"])
        #expect(none.first?.message.hasSuffix("but no outside reference holder was found in its core (the core takes no counted reference and creates no character device), so the wait finds no user and the memory is freed after it") == true)
    }

    /// Weak evidence is no holder: a `*_get()` helper that no one calls, a reference the
    /// core takes on another object, or a temporary hold on the object's own unregister path.
    @Test func aGetNoOneCallsOrAHoldOnAnotherObjectIsNoHolder() {
        var uncalled = Self.plainCore(holder: true)
        uncalled["drivers/lcd/core.c"] = uncalled["drivers/lcd/core.c"]!.replacingOccurrences(
            of: "int lcd_open(struct lcd *l) { return lcd_get(l) ? 0 : -1; }", with: "")
        let none = run("devm-embedded-refcount", uncalled)
        #expect(none.map(\.severity) == [.warning])
        #expect(none.first?.message.contains("(the core takes no counted reference and creates no character device)") == true)
        var other = Self.plainCore(holder: false)
        other["drivers/lcd/core.c"]! += """
            struct lcd_host { int n; struct device dev; };
            int lcd_host_hold(struct lcd_host *h) { get_device(&h->dev); return 0; }
            int lcd_attach(struct lcd_host *h) { return lcd_host_hold(h); }
            """
        let weak = run("devm-embedded-refcount", other)
        #expect(weak.map(\.severity) == [.warning])
        #expect(weak.first?.message.contains("(the core takes counted references only on other objects and creates no character device)") == true)
        #expect(weak.first?.notes.map(\.message).contains("not an outside holder: lcd_host_hold calls get_device()") == true)
        var temporary = Self.plainCore(holder: false)
        temporary["drivers/lcd/core.c"] = temporary["drivers/lcd/core.c"]!.replacingOccurrences(
            of: "void lcd_unregister(struct lcd *l) { device_unregister(&l->dev); }",
            with: "void lcd_unregister(struct lcd *l) { get_device(&l->dev); device_unregister(&l->dev); put_device(&l->dev); }")
        let held = run("devm-embedded-refcount", temporary)
        #expect(held.map(\.severity) == [.warning])
        #expect(held.first?.message.contains("only on its own register and teardown paths") == true)
    }

    /// The fix names the unregister function this driver calls, not the first of the core's.
    @Test func theFixNamesTheUnregisterTheDriverCalls() {
        var files = Self.plainCore(holder: true)
        files["drivers/lcd/core.c"]! += "void lcd_unregister_all(struct lcd *l) { device_unregister(&l->dev); }\n"
        files["drivers/lcd/panel.c"]! += """
            static void panel_remove(struct platform_device *pdev) { struct panel *p = platform_get_drvdata(pdev); lcd_unregister_all(&p->lcd); }
            static struct platform_driver panel_driver = { .probe = panel_probe, .remove = panel_remove };
            """
        let f = run("devm-embedded-refcount", files)
        #expect(f.map(\.severity) == [.error])
        #expect(f.first?.fix.contains("after lcd_unregister_all() in remove()") == true)
        // The core installs its own release, which neither frees nor calls the driver back.
        #expect(f.first?.fix.hasPrefix("the core's release lcd_release() neither frees struct panel nor calls back the driver, so the fix needs the core: give struct lcd a release hook that lcd_release() calls") == true)
        #expect(run("devm-embedded-refcount", Self.plainCore(holder: true)).first?.fix.contains("after lcd_unregister() in remove()") == true)
    }

    /// The holder named is a `*_get()` of the object, not an earlier temporary hold on an
    /// unregister path nor a reference on another type.
    @Test func theHolderNamedIsAGetOfTheObject() {
        var files = Self.plainCore(holder: true)
        files["drivers/lcd/core.c"] = files["drivers/lcd/core.c"]!.replacingOccurrences(
            of: "void lcd_unregister(struct lcd *l) { device_unregister(&l->dev); }",
            with: """
                struct lcd_host { int n; struct device dev; };
                void lcd_host_hold(struct lcd_host *h) { get_device(&h->dev); }
                void lcd_unregister(struct lcd *l) { get_device(&l->dev); device_unregister(&l->dev); put_device(&l->dev); }
                """)
        let held = run("devm-embedded-refcount", files)
        #expect(held.map(\.severity) == [.error])
        #expect(held.first?.notes.filter { $0.message.hasPrefix("users can hold") }.map(\.message) == ["users can hold a reference: lcd_get calls get_device()"])
    }

    @Test func waitingForItsOwnReleaseBeforeKfreeIsRight() {
        let body = """
            #include <linux/device.h>
            struct entry { int n; struct completion gone; struct device dev; };
            void entry_drop(struct entry *e)
            {
                    device_unregister(&e->dev);
                    wait_for_completion(&e->gone);
                    kfree(e);
            }
            """
        #expect(run("kfree-outside-release", ["drivers/misc/e.c": body]).isEmpty)
        let control = run("kfree-outside-release", ["drivers/misc/e.c": body.replacingOccurrences(of: "wait_for_completion(&e->gone);", with: "")])
        #expect(control.map(\.severity) == [.error])
        #expect(control.first?.line == 7)
    }

    @Test func kfreeAfterPuttingABareKobjectIsAWarning() {
        let body = """
            #include <linux/device.h>
            void kobject_put(struct kobject *kobj);
            struct stats { int n; struct kobject kobj; };
            void stats_drop(struct stats *s)
            {
                    kobject_put(&s->kobj);
                    kfree(s);
            }
            """
        let f = run("kfree-outside-release", ["drivers/misc/s.c": body])
        #expect(f.map(\.severity) == [.warning])
        #expect(f.first?.message.contains("it is a bare kobject that only sysfs refers to") == true)
        // With a kobj_type that has no release, there is no release to move the kfree()
        // into: the fix says to add one.
        let typed = body.replacingOccurrences(of: "void stats_drop(struct stats *s)\n{\n        kobject_put(&s->kobj);", with: """
            static const struct kobj_type stats_ktype = { .sysfs_ops = NULL };
            int stats_add(struct stats *s)
            {
                    int rc = kobject_init_and_add(&s->kobj, &stats_ktype, NULL, "stats");
                    if (!rc)
                            return 0;
                    kobject_put(&s->kobj);
            """).replacingOccurrences(of: "kfree(s);\n}", with: "kfree(s);\n        return rc;\n}")
        let none = run("kfree-outside-release", ["drivers/misc/s.c": typed])
        #expect(none.map(\.protection) == ["none"])
        #expect(none.first?.fix == "do not kfree() struct stats after the reference is dropped: the release of struct stats (its kobj_type's .release, or its device's) must kfree() the container (container_of()): add one, or make the one it has do so; then drop this kfree() and any other of struct stats once its reference count is set up")
        // Control: a device's kobject is the device's.
        let dev = body.replacingOccurrences(of: "struct kobject kobj;", with: "struct device dev;").replacingOccurrences(of: "kobject_put(&s->kobj)", with: "put_device(&s->dev)")
        #expect(run("kfree-outside-release", ["drivers/misc/s.c": dev]).map(\.severity) == [.error])
    }
}
