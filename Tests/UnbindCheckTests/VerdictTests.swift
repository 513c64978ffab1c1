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
        struct gizmo *gizmo_get(struct gizmo *g) { get_device(&g->dev); return g; }
        int gizmo_open(struct gizmo *g) { return gizmo_get(g) ? 0 : -1; }
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
        // The driver's .remove calls the waiting unregister: a warning (unbind blocks while
        // a user holds what gizmo_get() hands out).
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
