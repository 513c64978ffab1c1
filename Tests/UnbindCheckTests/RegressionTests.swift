import Testing
@testable import Facts
@testable import CFrontend
@testable import Indexing
@testable import Analysis
@testable import Findings
@testable import Checks
@testable import Reporting
@testable import Pipeline

/// Each test pins a false positive (or a wrong verdict) met on the real kernel tree.
@Suite struct RegressionTests {
    func findings(_ id: String, _ body: String, extra: [String: String] = [:]) -> [Finding] {
        var files = ["include/linux/device.h": deviceHeader, "drivers/x/x.c": "#include <linux/device.h>\n" + body]
        for (k, v) in extra { files[k] = v }
        let check = allChecks.first { type(of: $0).description.id == id }!
        return Analyzer.findings(analyse(files), checks: [check])
    }

    static let widget = "struct widget { int id; struct device dev; };\n"

    /// `body` gives no finding of `id`, while `control` — the same code without what makes
    /// it right — does: the test fails if the check stops looking at this shape at all.
    func expectQuiet(_ id: String, _ body: String, control: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(findings(id, body).isEmpty, sourceLocation: sourceLocation)
        #expect(!findings(id, control).isEmpty, "control variant gives no finding", sourceLocation: sourceLocation)
    }

    @Test func kfreeOfAPointerClearedAfterPutIsANoOp() {
        // driver core bus_register / siox_device_add: put_device(); p = NULL; …; kfree(p);
        let body = Self.widget + """
            int add(struct widget *w) {
                    put_device(&w->dev);
                    w = NULL;
                    kfree(w);
                    return 0;
            }
            """
        expectQuiet("kfree-outside-release", body, control: body.replacingOccurrences(of: "w = NULL;", with: ""))
    }

    @Test func kfreeInsideAReleaseCallbackIsRight() {
        // host1x_device_release: tears down, then frees, inside the release itself.
        let body = Self.widget + """
            static void widget_release(struct device *dev) {
                    struct widget *w = container_of(dev, struct widget, dev);
                    put_device(&w->dev);
                    kfree(w);
            }
            static const struct device_type widget_type = { .release = widget_release };
            """
        expectQuiet("kfree-outside-release", body, control: Self.widget + "void drop(struct widget *w) {\n        put_device(&w->dev);\n        kfree(w);\n}\n")
    }

    @Test func putAndKfreeOnDifferentBranches() {
        // blk-ia-ranges: if (registered) kobject_put(); else kfree();
        let body = Self.widget + """
            void drop(struct widget *w, int registered) {
                    if (registered) {
                            put_device(&w->dev);
                    } else {
                            kfree(w);
                    }
            }
            """
        expectQuiet("kfree-outside-release", body, control: body.replacingOccurrences(of: "} else {", with: ""))
    }

    @Test func returnBetweenPutAndFreeLabel() {
        // virtio_mmio probe: put_device() on one path, kfree() under a label reached by goto.
        let body = Self.widget + """
            int probe(struct widget *w, int rc) {
                    if (rc)
                            goto free;
                    rc = device_register(&w->dev);
                    if (rc)
                            put_device(&w->dev);
                    return rc;
            free:
                    kfree(w);
                    return rc;
            }
            """
        expectQuiet("kfree-outside-release", body, control: body.replacingOccurrences(of: "        return rc;\nfree:", with: "free:"))
    }

    @Test func elementOfAnArrayOfPointersIsNotTheArray() {
        // damon sysfs: kobject_put(&arr[i]->kobj) then kfree(arr).
        let body = "struct item { struct kobject kobj; };\n" + """
            void rm(struct item **arr, int n) {
                    int i;
                    for (i = 0; i < n; i++)
                            kobject_put(&arr[i]->kobj);
                    kfree(arr);
            }
            """
        expectQuiet("kfree-outside-release", body, control: "struct item { struct kobject kobj; };\nvoid rm(struct item *it) {\n        kobject_put(&it->kobj);\n        kfree(it);\n}\n")
    }

    @Test func aRegisterFunctionThatCleansUpIsNotATeardown() {
        // pmc551: if (mtd_device_register(mtd)) kfree(mtd); the register undid itself.
        let body = Self.widget + """
            int widget_add(struct widget *w) {
                    int ret = device_register(&w->dev);
                    if (ret)
                            device_unregister(&w->dev);
                    return ret;
            }
            void probe(struct widget *w) {
                    if (widget_add(w)) {
                            kfree(w);
                    }
            }
            """
        expectQuiet("kfree-outside-release", body, control: Self.widget + "void widget_del(struct widget *w) {\n        device_unregister(&w->dev);\n}\nvoid drop(struct widget *w) {\n        widget_del(w);\n        kfree(w);\n}\n")
    }

    @Test func kfreeRightAfterPutIsReported() {
        let f = findings("kfree-outside-release", Self.widget + """
            void fail(struct widget *w) {
                    put_device(&w->dev);
                    kfree(w);
            }
            """)
        #expect(f.map(\.line) == [5])
        #expect(f.first?.severity == .error)
    }

    static let emptyPrivate = Self.widget + """
        static void widget_release(struct device *dev) { }
        static const struct class widget_class = { .name = "w", .dev_release = widget_release };
        static int widget_probe(struct platform_device *pdev) {
                struct widget *w = devm_kzalloc(&pdev->dev, sizeof(*w), 0);
                w->dev.class = &widget_class;
                return device_register(&w->dev);
        }

        """

    @Test func privateObjectIsJudgedByTheReleaseItsPathInstalls() {
        // k3-udma-glue: devm container, class release is empty ("devm managed").
        let f = findings("devm-embedded-refcount", Self.emptyPrivate)
        #expect(f.count == 1)
        #expect(f.first?.protection == "empty-release" && f.first?.severity == .error)
    }

    @Test func builtinDriverThatSuppressesBindIsAWarning() {
        // mtk-pm-domains: builtin_platform_driver + .suppress_bind_attrs = true.
        let f = findings("devm-embedded-refcount", Self.emptyPrivate + """
            static struct platform_driver widget_driver = { .probe = widget_probe, .driver = { .name = "w", .suppress_bind_attrs = true } };
            builtin_platform_driver(widget_driver);
            """)
        #expect(f.first?.severity == .warning)
        // The same through a registration macro whose body sets suppress_bind_attrs.
        let g = findings("devm-embedded-refcount", Self.emptyPrivate + "CHIP_DRIVER_END(widget)\n",
                         extra: ["include/linux/chip.h": "#define CHIP_DRIVER_END(n) static struct platform_driver n##_driver = { .driver = { .suppress_bind_attrs = true } }; builtin_platform_driver(n##_driver)\n"])
        #expect(g.first?.severity == .warning)
        // A macro that registers through platform_driver_probe() (which suppresses them).
        let probeOnce = "#define module_probe_once(d, p) static int __init d##_init(void) { return platform_driver_probe(&(d), p); } module_init(d##_init)\n"
        let h = findings("devm-embedded-refcount", Self.emptyPrivate + "static struct platform_driver widget_driver = { .driver = { .name = \"w\" } };\nmodule_probe_once(widget_driver, widget_probe);\n",
                         extra: ["include/linux/chip.h": probeOnce])
        #expect(h.map(\.severity) == [.warning])
        #expect(h.first?.message.hasSuffix("the driver suppresses its bind attributes, so only a failed probe or module unload frees it") == true)
        // Without it, the same driver is an error.
        let plain = findings("devm-embedded-refcount", Self.emptyPrivate + "static struct platform_driver widget_driver = { .driver = { .name = \"w\" } };\nmodule_plain(widget_driver);\n",
                             extra: ["include/linux/chip.h": "#define module_plain(d) static int __init d##_init(void) { return platform_driver_register(&(d)); } module_init(d##_init)\n"])
        #expect(plain.map(\.severity) == [.error])
    }

    /// kfree-outside-release in a driver registered through platform_driver_probe(): no
    /// sysfs unbind reaches its remove, as for devm memory a warning.
    @Test func aFreeInADriverThatCannotBeUnboundIsAWarning() {
        let driver = """
            struct widget { int id; struct device dev; };
            static void widget_release(struct device *dev) { kfree(container_of(dev, struct widget, dev)); }
            static void widget_remove(struct platform_device *pdev) {
                    struct widget *w = platform_get_drvdata(pdev);
                    device_unregister(&w->dev);
                    kfree(w);
            }
            static struct platform_driver widget_driver = { .remove = widget_remove, .driver = { .name = "w" } };

            """
        let probeOnce = "#define module_probe_once(d, p) static int __init d##_init(void) { return platform_driver_probe(&(d), p); } module_init(d##_init)\n"
        let once = findings("kfree-outside-release", driver + "module_probe_once(widget_driver, widget_probe);\n", extra: ["include/linux/chip.h": probeOnce])
        #expect(once.map(\.severity) == [.warning])
        #expect(once.first?.message.hasSuffix("so no sysfs unbind runs this free, only module unload or a failed probe") == true)
        let plain = findings("kfree-outside-release", driver + "module_plain(widget_driver);\n",
                             extra: ["include/linux/chip.h": "#define module_plain(d) static int __init d##_init(void) { return platform_driver_register(&(d)); } module_init(d##_init)\n"])
        #expect(plain.map(\.severity) == [.error])
    }

    @Test func emptyReleaseOnStaticObjectsIsAWarning() {
        // floppy / mips vpe: an empty release on statically allocated devices only.
        let f = findings("empty-release", """
            static void vpe_release(struct device *d) { }
            static struct class vpe_class = { .name = "vpe", .dev_release = vpe_release };
            static struct device vpe_device;
            static int vpe_init(void) {
                    device_initialize(&vpe_device);
                    vpe_device.class = &vpe_class;
                    return device_add(&vpe_device);
            }
            """)
        #expect(f.map(\.severity) == [.warning])
        // control_led: installed through a local that only ever points into a static array.
        let g = findings("empty-release", """
            struct led { int n; struct device dev; };
            static struct led leds[4];
            static void led_release(struct device *d) { }
            static int leds_init(void) {
                    struct led *led;
                    int i;
                    for (i = 0; i < 4; i++) {
                            led = &leds[i];
                            led->dev.release = led_release;
                            device_register(&led->dev);
                    }
                    led = &leds[0];
                    return 0;
            }
            """)
        #expect(g.map(\.severity) == [.warning])
    }

    @Test func coreDevmHelperThatOnlyDropsAReferenceIsNotADevmAllocation() {
        // devm_spi_alloc_host-style: kzalloc inside, put_device as the devres action.
        let f = findings("devm-embedded-refcount", Self.widget + """
            static void widget_release(struct device *dev) { kfree(container_of(dev, struct widget, dev)); }
            static void widget_put(void *data) { struct widget *w = data; put_device(&w->dev); }
            struct widget *devm_widget_alloc(struct device *parent)
            {
                    struct widget *w = kzalloc(sizeof(*w), 0);
                    w->dev.release = widget_release;
                    device_initialize(&w->dev);
                    if (devm_add_action_or_reset(parent, widget_put, w))
                            return NULL;
                    return w;
            }
            static int probe(struct platform_device *pdev)
            {
                    struct widget *w = devm_widget_alloc(&pdev->dev);
                    return device_add(&w->dev);
            }
            """)
        #expect(f.isEmpty)
    }

    @Test func kobjTypeWithoutReleaseOnADynamicKobjectIsAnError() {
        let src = """
            struct item { int n; struct kobject kobj; };
            static const struct kobj_type item_ktype = { .sysfs_ops = &item_ops };
            static struct kobject static_kobj;
            int add(struct item *it) { return kobject_init_and_add(&it->kobj, &item_ktype, NULL, "x"); }
            int add_static(void) { return kobject_init_and_add(&static_kobj, &item_ktype, NULL, "y"); }
            """
        let f = findings("missing-release", src)
        #expect(f.map(\.severity) == [.error, .warning])
        #expect(f.map(\.line) == [5, 6])
    }

    /// A kobject reached through a file-scope array of addresses (`entry = entries[i]`)
    /// lives in static storage: only the warning remains. A list holding anything else
    /// says nothing about where its objects live.
    @Test func aKobjectFromAnArrayOfStaticAddressesIsStatic() {
        func src(_ list: String) -> String {
            """
            struct item { int n; struct kobject kobj; };
            static const struct kobj_type item_ktype = { .sysfs_ops = &item_ops };
            static struct item first, second;
            static struct item *items[] = { \(list) };
            int add_all(void)
            {
                    struct item *it;
                    int i;
                    for (i = 0; (it = items[i]); i++)
                            kobject_init_and_add(&it->kobj, &item_ktype, NULL, "x");
                    return 0;
            }
            """
        }
        let onStatic = findings("missing-release", src("&first, &second, NULL"))
        #expect(onStatic.map(\.severity) == [.warning])
        #expect(onStatic.first?.message.hasSuffix("the kobject is static, so nothing leaks, but the kobject core warns on its last put") == true)
        #expect(onStatic.first?.line == 11)
        #expect(findings("missing-release", src("&first, spare_item, NULL")).map(\.severity) == [.error])
    }

    /// The struct holding the kobject is itself a member of another struct: its memory is
    /// that struct's owner's to free, so the missing release is a warning, not "never freed".
    @Test func aKobjectHolderEmbeddedInAnotherStructIsAWarning() throws {
        let src = """
            struct item { int n; struct kobject kobj; };
            struct panel { int id; struct item item; };
            static const struct kobj_type item_ktype = { .sysfs_ops = &item_ops };
            int add(struct item *it) { return kobject_init_and_add(&it->kobj, &item_ktype, NULL, "x"); }
            """
        let f = try #require(findings("missing-release", src).first)
        #expect(f.severity == .warning)
        #expect(f.message == "kobject_init_and_add() uses kobj_type 'item_ktype', which has no .release: its struct lives inside struct panel, whose owner frees the memory, which is only safe if no reference outlives that")
        #expect(FixSuggestion.text(for: f).hasPrefix("give the kobj_type a .release, and let the owner of the struct that embeds it free that memory only after the release has run"))
        // A pointer member is no embedding.
        let pointer = src.replacingOccurrences(of: "struct item item;", with: "struct item *item;")
        #expect(findings("missing-release", pointer).map(\.severity) == [.error])
    }

    /// A device only initialized (never added) still gets its final `put_device()`, which
    /// needs a release; one initialized and then added here is judged once, at the add.
    @Test func anInitializedDeviceWithoutAReleaseIsReportedOnce() {
        let src = """
            struct domain { int n; struct device dev; };
            struct panel { int n; struct device dev; };
            int domain_init(struct domain *d)
            {
                    device_initialize(&d->dev);
                    return dev_set_name(&d->dev, "pd");
            }
            void domain_remove(struct domain *d) { put_device(&d->dev); }
            int panel_add(struct panel *p)
            {
                    device_initialize(&p->dev);
                    return device_add(&p->dev);
            }
            """
        let f = findings("missing-release", src)
        #expect(f.map(\.line) == [6, 13])
        #expect(f.map(\.function) == ["domain_init", "panel_add"])
        #expect(f.first?.message == "device_initialize() initializes the struct device embedded in 'struct domain' (dev) but no release callback is set for it (dev.release, device_type or class)")
        #expect(f.last?.message.hasPrefix("device_add() registers the struct device embedded in 'struct panel'") == true)
        // Initialized in one function and added in another (not its caller): judged at the add.
        let split = src + """

            struct part { int n; struct device dev; };
            void part_setup(struct part *p) { device_initialize(&p->dev); }
            int part_publish(struct part *p) { return device_add(&p->dev); }
            """
        #expect(findings("missing-release", split).map(\.function) == ["domain_init", "panel_add", "part_publish"])
        // A caller that adds a device makes the initializing function its helper.
        let helper = src.replacingOccurrences(of: "void domain_remove(struct domain *d) { put_device(&d->dev); }",
                                              with: "int domain_add(struct domain *d) { domain_init(d); return device_add(d->parent); }")
        #expect(findings("missing-release", helper).map(\.function) == ["panel_add"])
        // A release set on the type silences both.
        let released = src.replacingOccurrences(of: "device_initialize(&d->dev);", with: "d->dev.release = domain_release; device_initialize(&d->dev);")
        #expect(findings("missing-release", released).map(\.function) == ["panel_add"])
    }

    /// An array member of structs passed as a pointer (`mbox = pdata->mboxes`, or
    /// `pdata->mboxes` itself) is the address of its first element, inside `pdata`'s devm
    /// memory; a pointer member is not: what it points to is memory of its own.
    @Test func anArrayMemberPassedAsAPointerIsInsideItsStruct() {
        func src(_ member: String, _ pass: String) -> String {
            """
            #include <linux/device.h>
            struct mbox { int id; struct device dev; };
            struct pdata { int num; \(member); };
            static void mbox_release(struct device *dev) { kfree(container_of(dev, struct mbox, dev)); }
            static int mbox_add(struct mbox *m)
            {
                    m->dev.release = mbox_release;
                    return device_register(&m->dev);
            }
            static int pdata_probe(struct platform_device *pdev)
            {
                    struct pdata *p;
                    struct mbox *m;
                    p = devm_kzalloc(&pdev->dev, struct_size(p, mboxes, 4), GFP_KERNEL);
                    \(pass)
                    return 0;
            }
            """
        }
        let alias = findings("devm-embedded-refcount", src("struct mbox mboxes[]", "m = p->mboxes; mbox_add(m);"))
        #expect(alias.map { "\($0.line) \($0.function) \($0.chain.joined(separator: " > "))" } == ["15 pdata_probe pdata > mbox > device"])
        #expect(findings("devm-embedded-refcount", src("struct mbox mboxes[]", "mbox_add(p->mboxes);")).map(\.line) == [15])
        #expect(findings("devm-embedded-refcount", src("struct mbox *mboxes", "m = p->mboxes; mbox_add(m);")).isEmpty)
    }
}
