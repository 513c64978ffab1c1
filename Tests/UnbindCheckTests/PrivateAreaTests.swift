import Testing
@testable import Facts
@testable import CFrontend
@testable import Indexing
@testable import Analysis
@testable import Findings
@testable import Checks

/// A struct kept in the private area of another refcounted object (a host allocated with
/// room for it, found through an accessor that returns the space past the host's struct)
/// goes with that host: dropping the host after deleting the struct's cdev frees the cdev
/// under its open files.
@Suite struct PrivateAreaTests {
    static let host = """
        #include <linux/device.h>
        struct host { int id; struct device gendev; unsigned long hostdata[]; };
        struct host *host_alloc(int privsize);
        static inline void *host_priv(struct host *h)
        {
                return (void *)h->hostdata;
        }
        static inline void *host_first(struct host *h)
        {
                return &h->id;
        }
        void host_put(struct host *h);
        void host_remove(struct host *h);
        """

    static let core = """
        #include <linux/host.h>
        static void host_release(struct device *dev)
        {
                kfree(container_of(dev, struct host, gendev));
        }
        struct host *host_alloc(int privsize)
        {
                struct host *h = kzalloc(sizeof(*h) + privsize, 0);
                device_initialize(&h->gendev);
                h->gendev.release = host_release;
                return h;
        }
        void host_put(struct host *h)
        {
                put_device(&h->gendev);
        }
        void host_remove(struct host *h)
        {
                device_del(&h->gendev);
                put_device(&h->gendev);
        }
        void host_rename(struct host *h)
        {
                get_device(&h->gendev);
                put_device(&h->gendev);
        }
        """

    /// A driver keeping its cdev in the host's private area: its remove drops the host
    /// through the struct's back pointer, its shutdown through the host it took the area
    /// from; `host_remove()` also unpublishes, so it is no plain drop.
    static let raid = """
        #include <linux/host.h>
        struct raid { struct host *host; struct cdev cdev; int open; };
        static const struct file_operations raid_fops;
        static int raid_probe(struct pci_dev *pdev)
        {
                struct host *h = host_alloc(sizeof(struct raid));
                struct raid *r = host_priv(h);
                r->host = h;
                cdev_init(&r->cdev, &raid_fops);
                pci_set_drvdata(pdev, r);
                return cdev_add(&r->cdev, 1, 1);
        }
        static void raid_remove(struct pci_dev *pdev)
        {
                struct raid *r = pci_get_drvdata(pdev);
                cdev_del(&r->cdev);
                host_put(r->host);
        }
        static void raid_shutdown(struct host *h)
        {
                struct raid *r = host_priv(h);
                cdev_del(&r->cdev);
                host_put(h);
        }
        static void raid_detach(struct raid *r)
        {
                cdev_del(&r->cdev);
                host_remove(r->host);
        }
        """

    /// The same struct, with its cdev held by the host's device: the area outlives it.
    static let tied = raid.replacingOccurrences(of: "cdev_init(&r->cdev, &raid_fops);",
                                                with: "cdev_init(&r->cdev, &raid_fops);\n        cdev_set_parent(&r->cdev, &h->gendev.kobj);")

    static func files(_ driver: String) -> [String: String] {
        ["include/linux/device.h": KernelPrelude.device, "include/linux/host.h": host,
         "drivers/host/core.c": core, "drivers/raid/raid.c": driver]
    }

    @Test func accessorsAndDropsAreLearnedFromTheirBodies() {
        let ctx = analyse(Self.files(Self.raid))
        let areas = ctx.privateAreas
        #expect(areas.accessors.keys.sorted() == ["host_priv"])
        // (Not `host_remove()`, which also unpublishes, nor `host_rename()`, whose put
        // balances its own get.)
        #expect(areas.drops.keys.sorted() == ["host_put", "raid_shutdown"])
        let raid = try! #require(ctx.index.aggregatesByName["raid"]?.first)
        #expect(areas.areas[raid]?.map(\.accessor) == ["host_priv"])
        #expect(areas.areas[raid]?.first?.line == 7)
    }

    @Test func droppingTheOwnerAfterTheCdevIsDeletedFreesTheCdev() throws {
        let found = Analyzer.findings(analyse(Self.files(Self.raid))).filter { $0.check == "kfree-outside-release" }
        #expect(found.map(\.line) == [17, 23])
        let remove = try #require(found.first)
        #expect(remove.severity == .error)
        #expect(remove.function == "raid_remove")
        #expect(remove.message == "'struct raid' embeds a refcounted cdev but is freed with host_put() right after cdev_del() dropped its reference; it lives in the private area of struct host (host_priv()), which goes with that object's last reference, not with the cdev's")
        #expect(remove.notes.map(\.message) == ["cdev_del() on r->cdev", "raid_probe() takes struct raid from the private area of struct host (host_priv())"])
        #expect(remove.shape == .freedWithOwner(owner: "host", accessor: "host_priv"))
        #expect(FixSuggestion.text(for: remove) == "struct raid lives in the private area of struct host (host_priv()) and goes with it, not with its cdev: make the cdev hold struct host before cdev_add() (cdev_set_parent() to the kobject of its device) so that the area outlives every open file")
        #expect(found.last?.function == "raid_shutdown")
    }

    @Test func aCdevThatHoldsTheOwnerIsNotReported() {
        let found = Analyzer.findings(analyse(Self.files(Self.tied))).filter { $0.check == "kfree-outside-release" }
        #expect(found.isEmpty, "\(found.map(\.message))")
    }

    /// A device in the area whose release drops a reference (on its parent, the host's
    /// device, taken when it was set up) keeps the host, so the area outlives it; without
    /// that put, the drop of the host frees the device under its holders.
    static func port(releaseHoldsHost: Bool) -> String {
        """
        #include <linux/host.h>
        struct port { struct host *host; struct device dev; };
        static void port_release(struct device *dev)
        {
                \(releaseHoldsHost ? "put_device(dev->parent);" : "pr_debug(\"gone\");")
        }
        static int port_probe(struct host *h)
        {
                struct port *p = host_priv(h);
                p->host = h;
                p->dev.parent = get_device(&h->gendev);
                p->dev.release = port_release;
                return device_register(&p->dev);
        }
        static void port_remove(struct port *p)
        {
                device_unregister(&p->dev);
                host_put(p->host);
        }
        """
    }

    @Test func aDeviceWhoseReleaseHoldsTheOwnerIsNotReported() throws {
        let held = Analyzer.findings(analyse(Self.files(Self.port(releaseHoldsHost: true)))).filter { $0.check == "kfree-outside-release" }
        #expect(held.isEmpty, "\(held.map(\.message))")
        let loose = Analyzer.findings(analyse(Self.files(Self.port(releaseHoldsHost: false)))).filter { $0.check == "kfree-outside-release" }
        let f = try #require(loose.first)
        #expect(loose.count == 1)
        #expect(f.line == 18 && f.function == "port_remove")
        #expect(f.message.hasPrefix("'struct port' embeds a refcounted dev but is freed with host_put() right after device_unregister() dropped its reference; it lives in the private area of struct host (host_priv())"), "\(f.message)")
    }
}
