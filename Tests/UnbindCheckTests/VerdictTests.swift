import Testing
@testable import Facts
@testable import CFrontend
@testable import Indexing
@testable import Analysis
@testable import Findings
@testable import Checks
@testable import Reporting
@testable import Pipeline

/// Issue 10: verdicts a maintainer can act on. Each mechanism has a triggering and a
/// non-triggering fixture, written from the driver core's documented behaviour.
@Suite struct VerdictTests {
    static let kset = """
        struct kset { struct kobject kobj; int count; };
        int kset_register(struct kset *k);
        void kset_unregister(struct kset *k);
        int wait_for_completion_timeout(struct completion *c, unsigned long t);
        int devm_add_action_or_reset(struct device *dev, void (*fn)(void *), void *data);
        """

    func run(_ id: String, _ files: [String: String], includeTests: Bool = false) -> [Finding] {
        var all = files
        all["include/linux/device.h"] = deviceHeader + "\n" + Self.kset
        let ctx = analyse(all)
        ctx.includeTests = includeTests
        let check = allChecks.first { type(of: $0).description.id == id }!
        return Analyzer.findings(ctx, checks: [check])
    }

    // MARK: 1. Publication, not initialization

    static func initOnly(_ publish: Bool) -> [String: String] {
        ["drivers/misc/w.c": """
            #include <linux/device.h>
            struct w { int id; struct device dev; };
            static int w_probe(struct platform_device *pdev)
            {
                    struct w *p = devm_kzalloc(&pdev->dev, sizeof(*p), 0);
                    device_initialize(&p->dev);
                    \(publish ? "return device_add(&p->dev);" : "return 0;")
            }
            """]
    }

    @Test func anObjectOnlyInitializedIsANoteThatNeverSaysPublished() {
        let f = run("devm-embedded-refcount", Self.initOnly(false))
        #expect(f.count == 1)
        #expect(f.first?.severity == .note)
        #expect(f.first.map { "\($0.file):\($0.line):\($0.column)" } == "drivers/misc/w.c:5:23")
        #expect(f.first?.message.contains("initialized by device_initialize() (no call that publishes it was found)") == true)
        #expect(f.first?.message.contains("never published") == true)
        #expect(!(f.first?.message.contains("publishes") ?? true) || f.first?.message.contains("no call that publishes") == true)
        #expect(f.first?.notes.allSatisfy { !$0.message.contains("to the driver core") } == true)
        // Control: the same object added is published: an error.
        let g = run("devm-embedded-refcount", Self.initOnly(true))
        #expect(g.map(\.severity) == [.error])
        #expect(g.first?.notes.contains { $0.message == "device_add() publishes p->dev to the driver core" } == true)
    }

    @Test func theChainDescribesTheRegisteredObjectNotTheFirstRefcountedMember() {
        let f = run("devm-embedded-refcount", ["drivers/misc/two.c": """
            #include <linux/device.h>
            struct holder { struct kref ref; };
            struct node { int id; struct device dev; };
            struct two { struct holder h; struct node n; };
            static int two_probe(struct platform_device *pdev)
            {
                    struct two *t = devm_kzalloc(&pdev->dev, sizeof(*t), 0);
                    return device_register(&t->n.dev);
            }
            """])
        #expect(f.count == 1)
        #expect(f.first?.chain == ["two", "node", "device"])
        #expect(f.first?.message.contains("embeds a refcounted struct device (two → node → device) registered through device_register()") == true)
        #expect(f.first?.notes.first?.message == "struct two embeds struct node → struct device (n.dev)")
    }

    // MARK: 2. Judge the driver, not only the subsystem

    static let gizmoHeader = """
        #include <linux/device.h>
        struct gizmo { int id; struct device dev; struct completion gone; };
        int gizmo_register(struct gizmo *g);
        void gizmo_unregister(struct gizmo *g);
        """

    static let waitingCore = """
        #include <linux/gizmo.h>
        static void gizmo_release(struct device *dev)
        {
                struct gizmo *g = container_of(dev, struct gizmo, dev);
                complete(&g->gone);
        }
        int gizmo_register(struct gizmo *g)
        {
                g->dev.release = gizmo_release;
                return device_register(&g->dev);
        }
        void gizmo_unregister(struct gizmo *g)
        {
                device_unregister(&g->dev);
                wait_for_completion(&g->gone);
        }
        """

    static func gizmoDriver(remove: String) -> [String: String] {
        ["drivers/gizmo/core.c": waitingCore, "include/linux/gizmo.h": gizmoHeader,
         "drivers/misc/board.c": """
            #include <linux/gizmo.h>
            struct board { int irq; struct gizmo gz; };
            static int board_probe(struct platform_device *pdev)
            {
                    struct board *b = devm_kzalloc(&pdev->dev, sizeof(*b), 0);
                    return gizmo_register(&b->gz);
            }
            \(remove)
            """]
    }

    @Test func aWaitingSubsystemOnlyHelpsADriverThatUnregisters() {
        // The driver's .remove calls the waiting unregister: a warning (unbind blocks).
        let good = run("devm-embedded-refcount", Self.gizmoDriver(remove: """
            static void board_remove(struct platform_device *pdev)
            {
                    struct board *b = platform_get_drvdata(pdev);
                    gizmo_unregister(&b->gz);
            }
            static struct platform_driver board_driver = { .probe = board_probe, .remove = board_remove };
            """))
        #expect(good.map(\.severity) == [.warning])
        #expect(good.first?.protection == "completion")
        // No .remove at all: the wait never runs, devres frees a published object.
        let none = run("devm-embedded-refcount", Self.gizmoDriver(remove: "static struct platform_driver board_driver = { .probe = board_probe };"))
        #expect(none.map(\.severity) == [.error])
        #expect(none.first.map { "\($0.line):\($0.column)" } == "5:27")
        #expect(none.first?.message.contains("but the driver has no unbind callback (.remove) and no devm action, so it never calls gizmo_unregister()") == true)
        #expect(none.first?.fix == "call gizmo_unregister() from the driver's unbind path (its .remove or a devm action), before devres frees the memory: it waits for the last user")
        #expect(good.first?.fix.hasPrefix("nothing to free differently in the driver: the core's unregister (gizmo_unregister()) waits for the last user by design") == true)
        // A neighbour in the same directory whose .remove unregisters (or which registers
        // through a devm_* helper) lends nothing to a driver of its own with no .remove.
        var neighbours = Self.gizmoDriver(remove: "static struct platform_driver board_driver = { .probe = board_probe };")
        neighbours["drivers/misc/other.c"] = """
            #include <linux/gizmo.h>
            struct other { struct gizmo gz; };
            static void other_remove(struct platform_device *pdev) { gizmo_unregister(platform_get_drvdata(pdev)); }
            static struct platform_driver other_driver = { .remove = other_remove };
            """
        #expect(run("devm-embedded-refcount", neighbours).filter { $0.file == "drivers/misc/board.c" }.map(\.severity) == [.error])
        // A split driver whose tables live in a sibling file still has that unbind path.
        var split = Self.gizmoDriver(remove: "")
        split["drivers/misc/board-main.c"] = """
            #include <linux/gizmo.h>
            struct board { int irq; struct gizmo gz; };
            static void board_remove(struct platform_device *pdev) { gizmo_unregister(platform_get_drvdata(pdev)); }
            static struct platform_driver board_driver = { .probe = board_probe, .remove = board_remove };
            """
        #expect(run("devm-embedded-refcount", split).map(\.severity) == [.warning])
        // A .remove that forgets the unregister: an error naming the remove.
        let forgets = run("devm-embedded-refcount", Self.gizmoDriver(remove: """
            static void board_remove(struct platform_device *pdev) { platform_set_drvdata(pdev, 0); }
            static struct platform_driver board_driver = { .probe = board_probe, .remove = board_remove };
            """))
        #expect(forgets.map(\.severity) == [.error])
        #expect(forgets.first?.message.contains("the driver's unbind path (board_remove()) never calls gizmo_unregister()") == true)
        #expect(forgets.first?.notes.contains { $0.message == "board_remove() runs at unbind and does not call gizmo_unregister()" } == true)
        // A devm action that unregisters counts as the unbind path.
        let action = run("devm-embedded-refcount", Self.gizmoDriver(remove: """
            static void board_unreg(void *data) { gizmo_unregister(data); }
            static int board_setup(struct platform_device *pdev, struct board *b)
            {
                    return devm_add_action_or_reset(&pdev->dev, board_unreg, &b->gz);
            }
            """))
        #expect(action.map(\.severity) == [.warning])
    }

    static func ownRelease(wait: Bool) -> [String: String] {
        ["drivers/misc/own.c": """
            #include <linux/device.h>
            struct own { int id; struct device dev; struct completion done; };
            static void own_release(struct device *dev)
            {
                    struct own *o = container_of(dev, struct own, dev);
                    complete(&o->done);
            }
            static int own_probe(struct platform_device *pdev)
            {
                    struct own *o = devm_kzalloc(&pdev->dev, sizeof(*o), 0);
                    o->dev.release = own_release;
                    return device_register(&o->dev);
            }
            static void own_remove(struct platform_device *pdev)
            {
                    struct own *o = platform_get_drvdata(pdev);
                    device_unregister(&o->dev);
                    \(wait ? "wait_for_completion(&o->done);" : "")
            }
            static struct platform_driver own_driver = { .probe = own_probe, .remove = own_remove };
            """]
    }

    @Test func aDriverThatWaitsForItsOwnReleaseIsNotAnError() {
        let waits = run("devm-embedded-refcount", Self.ownRelease(wait: true))
        #expect(waits.map(\.severity) == [.warning])
        #expect(waits.first?.message.contains("signals a completion that its unbind path waits for") == true)
        #expect(waits.first?.notes.contains { $0.message == "own_remove waits for the release before devres frees the memory" && $0.line == 18 } == true)
        #expect(run("devm-embedded-refcount", Self.ownRelease(wait: false)).map(\.severity) == [.error])
    }

    // MARK: 3. Follow the object across functions

    static func helperAllocates(_ how: String) -> [String: String] {
        let helper: String
        let probe: String
        switch how {
        case "return":
            helper = """
                static struct port *port_alloc(struct platform_device *pdev)
                {
                        struct port *p = devm_kzalloc(&pdev->dev, sizeof(*p), 0);
                        if (!p)
                                return NULL;
                        p->id = 1;
                        return p;
                }
                """
            probe = "struct port *p = port_alloc(pdev);"
        case "out":
            helper = """
                static int port_alloc(struct platform_device *pdev, struct port **out)
                {
                        struct port *p = devm_kzalloc(&pdev->dev, sizeof(*p), 0);
                        if (!p)
                                return -12;
                        *out = p;
                        return 0;
                }
                """
            probe = "struct port *p;\n        port_alloc(pdev, &p);"
        default:
            helper = """
                static struct port *port_alloc(struct platform_device *pdev)
                {
                        return kzalloc(sizeof(struct port), 0);
                }
                """
            probe = "struct port *p = port_alloc(pdev);"
        }
        return ["drivers/misc/port.c": """
            #include <linux/device.h>
            struct port { int id; struct device dev; };
            \(helper)
            static int port_probe(struct platform_device *pdev)
            {
                    \(probe)
                    return device_register(&p->dev);
            }
            """]
    }

    @Test func anObjectReturnedByItsAllocatingHelperIsFollowedToItsRegistration() {
        let f = run("devm-embedded-refcount", Self.helperAllocates("return"))
        #expect(f.map(\.severity) == [.error])
        #expect(f.first.map { "\($0.function):\($0.line):\($0.column)" } == "port_probe:13:26")
        #expect(f.first?.message.hasPrefix("'struct port' is allocated with devm_kzalloc() in port_alloc() but embeds a refcounted struct device (port → device) registered through device_register()") == true)
        let out = run("devm-embedded-refcount", Self.helperAllocates("out"))
        #expect(out.map(\.severity) == [.error])
        #expect(out.first.map { "\($0.function):\($0.line)" } == "port_probe:14")
        #expect(out.first?.notes.contains { $0.message == "device_register() publishes p->dev to the driver core" } == true)
        // Control: the helper allocates with kzalloc.
        #expect(run("devm-embedded-refcount", Self.helperAllocates("heap")).isEmpty)
    }

    // MARK: Outside reference holders

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

    @Test func withoutAnOutsideReferenceHolderADevmObjectIsAWarning() {
        let none = run("devm-embedded-refcount", Self.plainCore(holder: false))
        #expect(none.map(\.severity) == [.warning])
        #expect(none.first?.message.contains("but no outside reference holder was found") == true)
        let held = run("devm-embedded-refcount", Self.plainCore(holder: true))
        #expect(held.map(\.severity) == [.error])
        #expect(held.first?.notes.contains { $0.message == "users can hold a reference: lcd_get calls get_device()" && $0.file == "drivers/lcd/core.c" } == true)
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

    // MARK: 4. Core vocabulary: the kset API

    static func ksetDriver(register: Bool) -> [String: String] {
        ["drivers/misc/ks.c": """
            #include <linux/device.h>
            struct holder { int n; struct kset set; };
            static int holder_probe(struct platform_device *pdev)
            {
                    struct holder *h = devm_kzalloc(&pdev->dev, sizeof(*h), 0);
                    \(register ? "return kset_register(&h->set);" : "return 0;")
            }
            """]
    }

    @Test func ksetRegisterPublishesTheKsetsKobject() {
        let f = run("devm-embedded-refcount", Self.ksetDriver(register: true))
        #expect(f.map(\.severity) == [.error])
        #expect(f.first?.object == "kset")
        #expect(f.first?.message.contains("registered through kset_register()") == true)
        #expect(f.first?.notes.contains { $0.message == "kset_register() publishes h->set.kobj to sysfs" } == true)
        #expect(run("devm-embedded-refcount", Self.ksetDriver(register: false)).isEmpty)
    }

    @Test func kfreeAfterKsetUnregisterIsReported() {
        let body = """
            #include <linux/device.h>
            struct holder { int n; struct kset set; };
            void holder_drop(struct holder *h)
            {
                    kset_unregister(&h->set);
                    kfree(h);
            }
            """
        let f = run("kfree-outside-release", ["drivers/misc/ks.c": body])
        #expect(f.map(\.line) == [6])
        // A kset is a bare kobject: a warning (see kfreeAfterPuttingABareKobjectIsAWarning).
        #expect(f.first?.severity == .warning)
        #expect(f.first?.message.contains("right after kset_unregister() dropped its reference") == true)
        #expect(run("kfree-outside-release", ["drivers/misc/ks.c": body.replacingOccurrences(of: "kset_unregister(&h->set);", with: "")]).isEmpty)
    }

    @Test func kfreeAfterAFailedKsetRegisterIsRight() {
        // kset_register() undoes itself on failure; its callers free the kset.
        let body = """
            #include <linux/device.h>
            struct holder { int n; struct kset set; };
            int holder_add(struct holder *h)
            {
                    int err = kset_register(&h->set);
                    if (err)
                            kfree(h);
                    return err;
            }
            """
        #expect(run("kfree-outside-release", ["drivers/misc/ks.c": body]).isEmpty)
        // Control: the same shape after device_register() must put_device() instead.
        let dev = body.replacingOccurrences(of: "struct kset set;", with: "struct device dev;").replacingOccurrences(of: "kset_register(&h->set)", with: "device_register(&h->dev)")
        #expect(run("kfree-outside-release", ["drivers/misc/ks.c": dev]).map(\.severity) == [.warning])
    }

    @Test func aComponentUnbindOrALibraryTeardownIsOnTheUnbindPath() {
        // A component's .unbind runs at unbind.
        let component = run("devm-embedded-refcount", Self.gizmoDriver(remove: """
            static void board_unbind(struct device *dev, struct device *master, void *data)
            {
                    struct board *b = dev_get_drvdata(dev);
                    gizmo_unregister(&b->gz);
            }
            static const struct component_ops board_ops = { .bind = board_bind, .unbind = board_unbind };
            """))
        #expect(component.map(\.severity) == [.warning])
        // A put is not the waiting unregister.
        var files = Self.gizmoDriver(remove: """
            static void board_remove(struct platform_device *pdev)
            {
                    struct board *b = platform_get_drvdata(pdev);
                    gizmo_put(&b->gz);
            }
            static struct platform_driver board_driver = { .probe = board_probe, .remove = board_remove };
            """)
        files["drivers/gizmo/core.c"]! += "\nvoid gizmo_put(struct gizmo *g) { put_device(&g->dev); }\n"
        let put = run("devm-embedded-refcount", files)
        #expect(put.map(\.severity) == [.error])
        #expect(put.first?.message.contains("never calls gizmo_unregister()") == true)
    }

    // MARK: 5. Conditional compilation

    static func stubbed(real: Bool) -> [String: String] {
        ["drivers/misc/cond.c": """
            #include <linux/device.h>
            struct cond { int id; struct device dev; };
            #ifndef CONFIG_COND_FULL
            static void cond_release(struct device *dev)
            {
            }
            #else
            static void cond_release(struct device *dev)
            {
                    \(real ? "kfree(container_of(dev, struct cond, dev));" : "")
            }
            #endif
            static const struct device_type cond_type = { .release = cond_release };
            """]
    }

    @Test func anEmptyStubDoesNotHideTheRealDefinition() {
        #expect(run("empty-release", Self.stubbed(real: true)).isEmpty)
        // Control: both definitions are empty.
        let f = run("empty-release", Self.stubbed(real: false))
        #expect(f.map(\.line) == [4])
        #expect(f.first?.severity == .error)
        // The facts record the other definition.
        let facts = parse(Self.stubbed(real: true)["drivers/misc/cond.c"]!, path: "drivers/misc/cond.c")
        #expect(facts.alternateDefinitions.map(\.name) == ["cond_release"])
        #expect(facts.alternateDefinitions.first?.callees.contains("kfree") == true)
        #expect(facts.functions.filter { $0.name == "cond_release" }.count == 1)
    }

    // MARK: Deliberate designs the code comments on are warnings

    @Test func anEmptyReleaseWhoseBodyExplainsItselfIsAWarning() {
        let commented = """
            #include <linux/device.h>
            static void part_release(struct device *dev)
            {
                    /* nothing to do: the owning controller frees the parts */
            }
            static const struct device_type part_type = { .release = part_release };
            """
        let f = run("empty-release", ["drivers/misc/part.c": commented])
        #expect(f.map(\.severity) == [.warning])
        #expect(f.first?.line == 2)
        #expect(f.first?.message.contains("a comment in or right above it says so on purpose") == true)
        // The owner frees the memory: a free in the release too would be a double free.
        #expect(f.first?.shape == .freedByOwner)
        #expect(f.first.map { FixSuggestion.text(for: $0) }?.hasPrefix("keep the memory the owner's, as the comment says, but let the owner free it only after this release has run") == true)
        let bare = run("empty-release", ["drivers/misc/part.c": commented.replacingOccurrences(of: "/* nothing to do: the owning controller frees the parts */", with: "")])
        #expect(bare.map(\.severity) == [.error])
        #expect(bare.first.map { FixSuggestion.text(for: $0) }?.hasPrefix("free the container in the release: kfree(container_of(") == true)
        // A plain comment right above it explains it too; kernel-doc does not.
        let above = commented.replacingOccurrences(of: "        /* nothing to do: the owning controller frees the parts */\n", with: "")
            .replacingOccurrences(of: "static void part_release", with: "/* the controller owns the memory */\nstatic void part_release")
        #expect(run("empty-release", ["drivers/misc/part.c": above]).map(\.severity) == [.warning])
        let doc = above.replacingOccurrences(of: "/* the controller", with: "/** the controller")
        #expect(run("empty-release", ["drivers/misc/part.c": doc]).map(\.severity) == [.error])
    }

    static func ktype(ownerFrees: Bool) -> [String: String] {
        ["drivers/misc/kt.c": """
            #include <linux/device.h>
            struct kobj_type { void (*release)(struct kobject *kobj); const void *sysfs_ops; };
            int kobject_init_and_add(struct kobject *kobj, const struct kobj_type *t, struct kobject *parent, const char *fmt, ...);
            void kobject_put(struct kobject *kobj);
            static const struct kobj_type stat_ktype = { .sysfs_ops = 0 };
            struct stat_dir { int n; struct kobject kobj; };
            int stat_add(struct stat_dir *s, struct kobject *parent)
            {
                    return kobject_init_and_add(&s->kobj, &stat_ktype, parent, "stats");
            }
            void stat_del(struct stat_dir *s)
            {
                    kobject_put(&s->kobj);
                    \(ownerFrees ? "kfree(s);" : "")
            }
            """]
    }

    @Test func aKtypeWithoutReleaseWhoseOwnerFreesIsAWarning() {
        let owner = run("missing-release", Self.ktype(ownerFrees: true))
        #expect(owner.map(\.severity) == [.warning])
        #expect(owner.first?.line == 9)
        #expect(owner.first?.message.contains("its owner frees the memory itself (kfree() or devres)") == true)
        // A kobject allocated alone leaks, whatever else the directory frees.
        let alone = run("missing-release", ["drivers/misc/kt.c": Self.ktype(ownerFrees: false)["drivers/misc/kt.c"]! + """
            int lone_add(struct kobject *parent)
            {
                    struct kobject *k = kzalloc(sizeof(*k), 0);
                    return kobject_init_and_add(k, &stat_ktype, parent, "lone");
            }
            void other_free(struct kobject *k) { kfree(k); }
            """])
        #expect(alone.filter { $0.function == "lone_add" }.map(\.severity) == [.error])
        // Nobody frees it: it leaks.
        let leak = run("missing-release", Self.ktype(ownerFrees: false))
        #expect(leak.map(\.severity) == [.error])
        #expect(leak.first?.message.contains("the kobject can never be freed correctly") == true)
    }

    // MARK: 6. Test code and samples

    static let emptyRelease = """
        #include <linux/device.h>
        static void t_release(struct device *dev)
        {
        }
        static const struct device_type t_type = { .release = t_release };
        """

    @Test func findingsInTestCodeAreNotesUnlessIncluded() {
        for path in ["drivers/base/test/widget_kunit.c", "samples/kobject/demo.c", "tools/testing/x/mod.c"] {
            let f = run("empty-release", [path: Self.emptyRelease])
            #expect(f.map(\.severity) == [.note], "\(path)")
            #expect(f.first?.inTestCode == true)
            #expect(f.first?.message.contains("reported as a note (--include-tests keeps its severity)") == true)
            let kept = run("empty-release", [path: Self.emptyRelease], includeTests: true)
            #expect(kept.map(\.severity) == [.error])
            #expect(kept.first?.inTestCode == true)
        }
        // A KUnit suite is recognised by its include, wherever it lives.
        let kunit = run("empty-release", ["drivers/misc/checker.c": "#include <kunit/test.h>\n" + Self.emptyRelease])
        #expect(kunit.map(\.severity) == [.note])
        // Control: a driver.
        let driver = run("empty-release", ["drivers/misc/real.c": Self.emptyRelease])
        #expect(driver.map(\.severity) == [.error])
        #expect(driver.first?.inTestCode == false)
    }
}

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
