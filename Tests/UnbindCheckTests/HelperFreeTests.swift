import Testing
@testable import Facts
@testable import CFrontend
@testable import Indexing
@testable import Analysis
@testable import Findings
@testable import Checks

/// `kfree-outside-release` when the free is a helper's: `x_destroy(x)` whose own body ends
/// in `kfree(x)`, called right after the teardown, frees the container as a `kfree()` there
/// would. A helper that tears the object down itself, or drops a count whose release frees,
/// is not such a free.
@Suite struct HelperFreeTests {
    /// A remove function that unregisters the gizmo's device and then calls `free`, with
    /// `helpers` defined above it.
    static func remove(helpers: String, free: String) -> [String: String] {
        [
            "drivers/misc/gizmo.c": """
                #include <linux/device.h>
                struct gizmo { void *regs; struct device dev; struct kref ref; };
                \(helpers)
                void gizmo_remove(struct gizmo *g)
                {
                        device_unregister(&g->dev);
                        \(free)
                }
                """,
        ]
    }

    func run(_ files: [String: String]) -> [String] {
        findings(of: "kfree-outside-release", in: files).map { "\($0.line) \($0.severity) \($0.function)" }
    }

    @Test func aHelperThatKfreesItsParameterIsAFree() throws {
        let helper = "static void gizmo_destroy(struct gizmo *g) { iounmap(g->regs); kfree(g); }"
        let files = Self.remove(helpers: helper, free: "gizmo_destroy(g);")
        #expect(run(files) == ["7 error gizmo_remove"])
        let f = try #require(findings(of: "kfree-outside-release", in: files).first)
        #expect(f.message.hasPrefix("'struct gizmo' embeds a refcounted dev but is freed with gizmo_destroy() right after device_unregister() dropped its reference"))
    }

    @Test func aHelperThatOnlySometimesFreesOrDropsACountIsNoFree() {
        let conditional = "static void gizmo_destroy(struct gizmo *g, int last) { if (last) kfree(g); }"
        #expect(run(Self.remove(helpers: conditional, free: "gizmo_destroy(g, 1);")).isEmpty)
        let counted = """
            static void gizmo_free(struct kref *ref) { kfree(container_of(ref, struct gizmo, ref)); }
            static void gizmo_put(struct gizmo *g) { kref_put(&g->ref, gizmo_free); }
            """
        #expect(run(Self.remove(helpers: counted, free: "gizmo_put(g);")).isEmpty)
    }

    @Test func aHelperThatTearsDownAndFreesIsJudgedInItself() {
        let both = "static void gizmo_release_all(struct gizmo *g) { device_unregister(&g->dev); kfree(g); }"
        let files = [
            "drivers/misc/gizmo.c": """
                #include <linux/device.h>
                struct gizmo { void *regs; struct device dev; };
                \(both)
                void gizmo_remove(struct gizmo *g)
                {
                        gizmo_release_all(g);
                }
                """,
        ]
        #expect(run(files) == ["3 error gizmo_release_all"])
    }

    /// An error path of the function that sets the object up, before it publishes it: only
    /// the function's own initial reference exists, so the free harms no one.
    static func setup(_ body: String) -> [String: String] {
        [
            "drivers/misc/gizmo.c": """
                #include <linux/device.h>
                struct gizmo { void *regs; struct device dev; };
                int gizmo_check(struct gizmo *g);
                int gizmo_setup(struct gizmo *g)
                {
                        int err;
                \(body)
                }
                """,
        ]
    }

    @Test func aTeardownBeforeTheFunctionPublishesTheObjectIsNoHazard() {
        let unwind = "        if (gizmo_check(g)) {\n                device_unregister(&g->dev);\n                kfree(g);\n                return -1;\n        }"
        // Published only below the error path, or only initialized: no finding.
        #expect(run(Self.setup("        device_initialize(&g->dev);\n\(unwind)\n        return device_add(&g->dev);")).isEmpty)
        #expect(run(Self.setup("        device_initialize(&g->dev);\n\(unwind)\n        return 0;")).isEmpty)
        // Published above it: a user who opened it in between may hold it.
        #expect(run(Self.setup("        err = device_register(&g->dev);\n        if (err)\n                return err;\n\(unwind)\n        return 0;")) == ["12 warning gizmo_setup"])
    }

    /// A helper that registers the kobject and returns the registration's error leaves the
    /// kobject initialized when it fails: its caller must put it, not kfree() it. A helper
    /// that fails only before it initializes the device (`auxiliary_device_init()`'s
    /// checks) leaves the memory to its caller to free.
    static let registering = [
        "drivers/firmware/disk.c": """
            #include <linux/device.h>
            struct kobj_type { void (*release)(struct kobject *kobj); };
            struct disk_entry { int index; struct kobject kobj; };
            static const struct kobj_type disk_ktype;
            static int disk_entry_register(struct disk_entry *e, int i)
            {
                    e->index = i;
                    return kobject_init_and_add(&e->kobj, &disk_ktype, 0, "disk%d", i);
            }
            static int disk_init(void)
            {
                    struct disk_entry *e = kzalloc(sizeof(*e), 0);
                    int rc;
                    rc = disk_entry_register(e, 0);
                    if (rc) {
                            kfree(e);
                            return rc;
                    }
                    return 0;
            }
            """,
        "drivers/bus/link.c": """
            #include <linux/device.h>
            struct link_dev { const char *name; struct device dev; };
            static int link_dev_init(struct link_dev *l)
            {
                    if (!l->dev.parent)
                            return -22;
                    device_initialize(&l->dev);
                    return 0;
            }
            static int link_create(struct device *parent)
            {
                    struct link_dev *l = kzalloc(sizeof(*l), 0);
                    l->dev.parent = parent;
                    if (link_dev_init(l)) {
                            kfree(l);
                            return -22;
                    }
                    return 0;
            }
            """,
    ]

    @Test func aFreeOnTheFailureOfAHelperThatRegistersIsAWarning() throws {
        let found = findings(of: "kfree-outside-release", in: Self.registering)
        #expect(found.map { "\($0.file):\($0.line) \($0.severity) \($0.function)" } == ["drivers/firmware/disk.c:16 warning disk_init"])
        let f = try #require(found.first)
        #expect(f.message.hasPrefix("'struct disk_entry' embeds a refcounted kobj but is freed with kfree() on the error path of disk_entry_register(), which must be undone with kobject_put()"), "\(f.message)")
        #expect(f.notes.first?.message == "disk_entry_register() on e->kobj")
    }

    /// A subsystem's register helper in the driver's directory (`register` its body),
    /// failing through a `goto`. The tree also defines
    /// `device_register()` and `device_add()` (which take and drop a reference of their own):
    /// the driver core's calls keep exactly their table's effects.
    static func master(register: String, helperDirectory: String = "drivers/fsi") -> [String: String] {
        [
            "include/linux/fmaster.h": "#include <linux/device.h>\nstruct fmaster { int idx; struct device dev; };\n",
            "drivers/base/core.c": """
                #include <linux/device.h>
                int device_add(struct device *dev)
                {
                        dev = get_device(dev);
                        put_device(dev);
                        return 0;
                }
                int device_register(struct device *dev)
                {
                        device_initialize(dev);
                        return device_add(dev);
                }
                """,
            "\(helperDirectory)/core.c": """
                #include <linux/fmaster.h>
                int fmaster_register(struct fmaster *m)
                {
                        \(register)
                }
                """,
            "drivers/fsi/aspd.c": """
                #include <linux/fmaster.h>
                struct aspd { int x; struct fmaster master; };
                int fmaster_register(struct fmaster *m);
                static void aspd_release(struct device *dev) { kfree(container_of(dev, struct aspd, master.dev)); }
                static int aspd_probe(struct platform_device *pdev)
                {
                        struct aspd *a = kzalloc(sizeof(*a), 0);
                        int rc;
                        a->master.dev.release = aspd_release;
                        rc = fmaster_register(&a->master);
                        if (rc)
                                goto err_release;
                        return 0;
                err_release:
                        a->x = 0;
                        kfree(a);
                        return rc;
                }
                """,
        ]
    }

    @Test func aGotoOnTheFailureOfARegisteringHelperReachesTheFree() throws {
        let registers = "if (m->idx < 0)\nreturn m->idx;\nreturn device_register(&m->dev);"
        let found = findings(of: "kfree-outside-release", in: Self.master(register: registers))
        #expect(found.map { "\($0.file):\($0.line) \($0.severity)" } == ["drivers/fsi/aspd.c:16 warning"])
        #expect(found.first?.notes.map(\.line) == [10, 12])
        // A helper whose every return is 0 never fails; one of a core in another directory
        // may document that its callers free on failure.
        #expect(findings(of: "kfree-outside-release", in: Self.master(register: "device_register(&m->dev);\nreturn 0;")).isEmpty)
        #expect(findings(of: "kfree-outside-release", in: Self.master(register: registers, helperDirectory: "drivers/media/core")).isEmpty)
    }

    /// A device that nothing gives a release: put_device() alone would warn and free
    /// nothing, so the fix adds the release first.
    @Test func withoutAReleaseTheFixAddsOneBeforeThePut() throws {
        var files = Self.master(register: "return device_register(&m->dev);")
        files["drivers/fsi/aspd.c"] = files["drivers/fsi/aspd.c"]!.replacingOccurrences(of: "a->master.dev.release = aspd_release;", with: "a->x = 1;")
            .replacingOccurrences(of: "static void aspd_release(struct device *dev) { kfree(container_of(dev, struct aspd, master.dev)); }", with: "")
        let f = try #require(findings(of: "kfree-outside-release", in: files).first)
        #expect(f.message.hasSuffix("which must be undone with put_device(); the device has no release callback (the driver core warns when its last reference goes): free it in a release callback instead"), "\(f.message)")
        #expect(f.fix == "give the device a release callback that kfree()s struct aspd (container_of()), then call put_device() instead of kfree() on this error path: without a release, put_device() makes the driver core warn and frees nothing")
    }
}

/// The check reads only the functions whose calls can make an event
/// (`AnalysisContext.effectiveCallers`): a teardown spelled through a function-like macro
/// is one, and a function whose calls cannot be one is left out with no change to the
/// findings.
@Suite struct EffectiveCallerTests {
    @Test func aTeardownThroughAMacroStillMakesTheFreeAfterItAFinding() {
        let files = [
            "drivers/misc/gizmo.c": """
                #include <linux/device.h>
                #define gizmo_unregister(d) device_unregister(d)
                struct gizmo { void *regs; struct device dev; };
                void gizmo_remove(struct gizmo *g)
                {
                        gizmo_unregister(&g->dev);
                        kfree(g);
                }
                void gizmo_scratch(struct gizmo *g)
                {
                        kfree(g);
                }
                """,
        ]
        #expect(findings(of: "kfree-outside-release", in: files).map { "\($0.line) \($0.severity) \($0.function)" } == ["7 error gizmo_remove"])
        var all = files
        all["include/linux/device.h"] = deviceHeader
        let ctx = analyse(all)
        let remove = ctx.index.functionsByName["gizmo_remove"]?.first, scratch = ctx.index.functionsByName["gizmo_scratch"]?.first
        let callers = ctx.effectiveCallers(ofAny: ["device_unregister"])
        #expect(remove.map(callers.contains) == true)
        #expect(scratch.map(callers.contains) == false)
    }
}
