import Testing
@testable import Facts
@testable import CFrontend
@testable import Indexing
@testable import Analysis
@testable import Findings
@testable import Checks

/// `unrevoked-provider-ops` on consumer handles: a core hands each consumer a refcounted
/// handle holding a bare pointer to the struct a provider registered, and must clear those
/// pointers (or wait) when the provider unregisters.
@Suite struct ProviderHandleTests {
    static let header = """
        struct list_head { struct list_head *next, *prev; };
        struct gizmo_ctrl;
        struct gizmo_ctrl_ops { int (*fire)(struct gizmo_ctrl *c, unsigned long line); int (*hold)(struct gizmo_ctrl *c, unsigned long line); };
        struct gizmo_ctrl { const struct gizmo_ctrl_ops *ops; struct list_head node; struct list_head handles; unsigned int lines; };
        int gizmo_ctrl_add(struct gizmo_ctrl *c);
        void gizmo_ctrl_remove(struct gizmo_ctrl *c);
        """
    static let plainFire = "\treturn h->ctrl->ops->fire(h->ctrl, h->line);\n"
    static let lockedFire = """
        \tint ret = -19;
        \tmutex_lock(&gizmo_lock);
        \tif (h->ctrl)
        \t\tret = h->ctrl->ops->fire(h->ctrl, h->line);
        \tmutex_unlock(&gizmo_lock);
        \treturn ret;

        """
    static let clearing = "\tlist_for_each_entry(h, &c->handles, node)\n\t\th->ctrl = NULL;\n"

    /// The core, a provider that registers its own embedded controller, and a consumer-facing
    /// lookup that counts its reference (`kref_get`) unless `counted` is false.
    static func tree(fire: String = plainFire, teardown: String = "", counted: Bool = true, provider: Bool = true,
                     handleExtra: String = "") -> [String: String] {
        var files = [
            "include/linux/device.h": KernelPrelude.device,
            "include/linux/gizmo.h": header,
            "drivers/gizmo/core.c": """
                #include <linux/device.h>
                #include <linux/gizmo.h>
                struct gizmo_handle { struct gizmo_ctrl *ctrl; unsigned long line; struct kref refs; struct list_head node;\(handleExtra) };
                static DEFINE_MUTEX(gizmo_lock);
                static LIST_HEAD(gizmo_ctrls);
                int gizmo_ctrl_add(struct gizmo_ctrl *c)
                {
                \tmutex_lock(&gizmo_lock);
                \tlist_add(&c->node, &gizmo_ctrls);
                \tmutex_unlock(&gizmo_lock);
                \treturn 0;
                }
                EXPORT_SYMBOL(gizmo_ctrl_add);
                void gizmo_ctrl_remove(struct gizmo_ctrl *c)
                {
                \tstruct gizmo_handle *h;
                \tmutex_lock(&gizmo_lock);
                \tlist_del(&c->node);
                \(teardown)\tmutex_unlock(&gizmo_lock);
                }
                EXPORT_SYMBOL(gizmo_ctrl_remove);
                static struct gizmo_handle *gizmo_bind(struct gizmo_ctrl *c, unsigned long line)
                {
                \tstruct gizmo_handle *h;
                \tlist_for_each_entry(h, &c->handles, node) {
                \t\tif (h->line == line) {
                \t\t\t\(counted ? "kref_get(&h->refs);" : "")
                \t\t\treturn h;
                \t\t}
                \t}
                \th = kzalloc(sizeof(*h), GFP_KERNEL);
                \th->ctrl = c;
                \th->line = line;
                \tkref_init(&h->refs);
                \tlist_add(&h->node, &c->handles);
                \treturn h;
                }
                struct gizmo_handle *gizmo_get(unsigned long line)
                {
                \tstruct gizmo_ctrl *c;
                \tstruct gizmo_handle *h = NULL;
                \tmutex_lock(&gizmo_lock);
                \tlist_for_each_entry(c, &gizmo_ctrls, node)
                \t\tif (line < c->lines)
                \t\t\th = gizmo_bind(c, line);
                \tmutex_unlock(&gizmo_lock);
                \treturn h;
                }
                EXPORT_SYMBOL(gizmo_get);
                int gizmo_fire(struct gizmo_handle *h)
                {
                \(fire)}
                EXPORT_SYMBOL(gizmo_fire);

                """,
        ]
        if provider {
            files["drivers/misc/gizmo-prov.c"] = """
                #include <linux/device.h>
                #include <linux/gizmo.h>
                struct prov_priv { void *base; struct gizmo_ctrl ctrl; };
                static int prov_probe(struct platform_device *pdev)
                {
                \tstruct prov_priv *priv = devm_kzalloc(&pdev->dev, sizeof(*priv), GFP_KERNEL);
                \treturn gizmo_ctrl_add(&priv->ctrl);
                }
                """
        }
        return files
    }

    func findings(_ files: [String: String], jobs: Int = 1) -> [Finding] {
        Analyzer.findings(analyse(files, jobs: jobs), checks: [UnrevokedProviderOpsCheck()])
    }

    @Test func handleKeepingTheProviderStructIsReportedAtUnregister() throws {
        let files = Self.tree()
        let all = findings(files)
        #expect(all.count == 1)
        let f = try #require(all.first)
        #expect(f.severity == .error && f.function == "gizmo_ctrl_remove" && f.object == "gizmo_handle" && f.members == ["ctrl"])
        #expect(f.line == 14 && f.file == "drivers/gizmo/core.c")
        #expect(f.message == "struct gizmo_handle keeps the provider's ctrl (stored by gizmo_bind()), and gizmo_ctrl_remove() neither revokes "
            + "them nor waits for users: gizmo_fire() still uses them on paths consumers reach after the provider is unbound")
        #expect(f.notes.contains { $0.line == 32 && $0.message == "gizmo_bind() stores the provider's ctrl in struct gizmo_handle" })
        #expect(f.useSites.map(\.function) == ["gizmo_fire"] && f.useSites.map(\.line) == [52])
        // The same with two workers.
        #expect(findings(files, jobs: 2).map(\.fingerprint) == all.map(\.fingerprint))
    }

    /// Unregister clears every handle's pointer under the lock the users take and re-check.
    @Test func clearingUnderTheUsersLockIsProtection() {
        #expect(findings(Self.tree(fire: Self.lockedFire, teardown: Self.clearing)).isEmpty)
        // Without the users' re-check, or without the clearing, it is reported.
        #expect(findings(Self.tree(fire: Self.plainFire, teardown: Self.clearing)).count == 1)
        #expect(findings(Self.tree(fire: Self.lockedFire, teardown: "")).count == 1)
    }

    /// A lookup that takes no counted reference hands out a bare pointer: another bug.
    @Test func handlesWithoutACountedReferenceAreNotReported() {
        #expect(findings(Self.tree(counted: false)).isEmpty)
    }

    /// The struct must be one providers register from their own files.
    @Test func aStructNoProviderRegistersIsNotReported() {
        #expect(findings(Self.tree(provider: false)).isEmpty)
    }

    /// A refcounted provider struct has a lifetime of its own: the handle may point to it.
    @Test func refcountedProviderStructsAreNotHandles() {
        var files = Self.tree()
        files["include/linux/gizmo.h"] = Self.header.replacingOccurrences(of: "unsigned int lines; };", with: "unsigned int lines; struct device dev; };")
        #expect(findings(files).isEmpty)
    }
}
