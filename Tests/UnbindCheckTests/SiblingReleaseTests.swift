import Testing
@testable import Facts
@testable import CFrontend
@testable import Indexing
@testable import Analysis
@testable import Findings
@testable import Checks

/// `kfree-outside-release`'s fix when the freed struct already has a release that frees
/// it, set on another of its refcounted members (a V4L2-like driver whose `v4l2_dev`
/// release `kfree()`s it): drop that member's reference instead, not add a release.
@Suite struct SiblingReleaseTests {
    static let header = """
        #include <linux/device.h>
        struct tv_dev { struct kref ref; void (*release)(struct tv_dev *t); };
        struct tv_node { struct device dev; struct tv_dev *tv; void (*release)(struct tv_node *n); };
        int tv_node_register(struct tv_node *n);
        void tv_node_unregister(struct tv_node *n);
        struct tv_node *tv_node_find(int minor);
        int tv_dev_put(struct tv_dev *t);
        void tv_node_release_empty(struct tv_node *n);
        """

    static let core = """
        #include <linux/tv.h>
        static struct tv_node *nodes[8];
        static void tv_dev_release(struct kref *ref)
        {
                struct tv_dev *t = container_of(ref, struct tv_dev, ref);
                if (t->release)
                        t->release(t);
        }
        int tv_dev_put(struct tv_dev *t)
        {
                return kref_put(&t->ref, tv_dev_release);
        }
        EXPORT_SYMBOL(tv_dev_put);
        static void tv_node_release(struct device *d)
        {
                struct tv_node *n = container_of(d, struct tv_node, dev);
                n->release(n);
        }
        void tv_node_release_empty(struct tv_node *n)
        {
        }
        int tv_node_register(struct tv_node *n)
        {
                n->dev.release = tv_node_release;
                nodes[0] = n;
                return device_register(&n->dev);
        }
        void tv_node_unregister(struct tv_node *n)
        {
                nodes[0] = NULL;
                device_unregister(&n->dev);
        }
        struct tv_node *tv_node_find(int minor)
        {
                struct tv_node *n = nodes[minor];
                get_device(&n->dev);
                return n;
        }
        """

    /// A driver whose `cam_release()` (the release of its `tv` member, when `setsRelease`)
    /// frees it, and whose probe frees it after unregistering its node.
    static func driver(setsRelease: Bool = true) -> String {
        """
        #include <linux/tv.h>
        struct cam { struct tv_dev tv; struct tv_node node; int irq; };
        static void cam_release(struct tv_dev *t)
        {
                struct cam *c = container_of(t, struct cam, tv);
                kfree(c);
        }
        static int cam_start(struct cam *c);
        static int cam_probe(struct platform_device *pdev)
        {
                struct cam *c = kzalloc(sizeof(*c), GFP_KERNEL);
                int ret;
                \(setsRelease ? "c->tv.release = cam_release;" : "")
                c->node.release = tv_node_release_empty;
                ret = tv_node_register(&c->node);
                if (ret)
                        goto free;
                ret = cam_start(c);
                if (ret)
                        goto unreg;
                return 0;
        unreg:
                tv_node_unregister(&c->node);
        free:
                kfree(c);
                return ret;
        }
        """
    }

    static func run(setsRelease: Bool = true) -> [Finding] {
        findings(of: "kfree-outside-release", in: [
            "include/linux/tv.h": header, "drivers/tv/core.c": core, "drivers/media/cam/cam.c": driver(setsRelease: setsRelease),
        ])
    }

    @Test func aFreeOfAStructWhoseOtherMemberReleasesItDropsThatReference() throws {
        let found = Self.run()
        #expect(found.map { "\($0.file):\($0.line) \($0.protection)" } == ["drivers/media/cam/cam.c:25 driver-release"])
        let f = try #require(found.first)
        #expect(f.fix.hasPrefix("do not kfree() struct cam here: it already has a release that frees it, cam_release(), the release of its tv; "
                                + "once tv is set up, call tv_dev_put() on tv instead and return, without undoing first anything cam_release() "
                                + "undoes again (what it unregisters or frees); a path that reaches this kfree() before tv is set up (a shared error label) keeps it"))
    }

    @Test func withoutThatReleaseTheFixAsksForOne() throws {
        let f = try #require(Self.run(setsRelease: false).first)
        #expect(!f.fix.contains("already has a release"))
        #expect(f.fix.hasPrefix("do not kfree() struct cam after the reference is dropped: move the kfree() into the release hook"))
    }
}
