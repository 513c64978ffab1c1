import Testing
@testable import Facts
@testable import CFrontend
@testable import Indexing
@testable import Analysis
@testable import Findings
@testable import Checks

/// `devm-embedded-refcount` for an object refcounted by a bare `struct kref` that a core
/// publishes (`SharedCounts.swift`): the core initializes the count in its register
/// function, its users take references on it, and its release of the count calls a hook
/// the driver must supply.
@Suite struct SharedCountTests {
    /// A DMA-engine-like core; `initialize`, `get` and `release` are the statements of its
    /// register function, channel get and count release.
    static func core(initialize: String = "kref_init(&d->ref);",
                     get: String = "return kref_get_unless_zero(&c->dev->ref) ? 0 : -1;",
                     release: String = "if (d->release) d->release(d);") -> [String: String] {
        [
            "include/linux/xdma.h": """
                struct xdma_dev;
                struct xdma_chan { int id; struct xdma_dev *dev; };
                struct xdma_dev { int nr; struct kref ref; void (*release)(struct xdma_dev *d); };
                int xdma_register(struct xdma_dev *d);
                int xdmam_register(struct device *dev, struct xdma_dev *d);
                """,
            "drivers/xdma/core.c": """
                #include <linux/device.h>
                #include <linux/xdma.h>
                static void xdma_dev_release(struct kref *ref)
                {
                        struct xdma_dev *d = container_of(ref, struct xdma_dev, ref);
                        \(release)
                }
                static void xdma_dev_put(struct xdma_dev *d)
                {
                        kref_put(&d->ref, xdma_dev_release);
                }
                int xdma_chan_get(struct xdma_chan *c)
                {
                        \(get)
                }
                int xdma_request(struct xdma_chan *c)
                {
                        return xdma_chan_get(c);
                }
                int xdma_register(struct xdma_dev *d)
                {
                        if (d->nr < 0)
                                return -22;
                        \(initialize)
                        return 0;
                }
                void xdma_unregister(struct xdma_dev *d)
                {
                        xdma_dev_put(d);
                }
                int xdmam_register(struct device *dev, struct xdma_dev *d)
                {
                        return xdma_register(d);
                }
                """,
            "drivers/xdma/provider.c": """
                #include <linux/device.h>
                #include <linux/xdma.h>
                struct prov { int irq; struct xdma_dev xdma; };
                static int prov_probe(struct platform_device *pdev)
                {
                        struct prov *p = devm_kzalloc(&pdev->dev, sizeof(*p), 0);
                        return xdmam_register(&pdev->dev, &p->xdma);
                }
                """,
        ]
    }

    func run(_ files: [String: String]) -> [Finding] {
        findings(of: "devm-embedded-refcount", in: files).filter { $0.file == "drivers/xdma/provider.c" }
    }

    @Test func aSharedCountWhoseReleaseCallsTheDriversHookIsAnError() {
        let f = run(Self.core())
        #expect(f.map(\.severity) == [.error])
        #expect(f.first.map { "\($0.line):\($0.object):\($0.protection)" } == "6:xdma_dev:driver-release")
        #expect(f.first?.message == "'struct prov' is allocated with devm_kzalloc() but embeds a refcounted struct kref (prov → xdma_dev → kref) registered through xdmam_register(); xdma_dev relies on the driver's release, and no release of this driver was found that keeps the memory past devres (protection: driver-release)")
        let notes = f.first?.notes.map(\.message) ?? []
        #expect(notes.contains("xdmam_register() initializes p->xdma.ref, the count its core's users take references on"))
        // The register function's evidence is its kref_init() line.
        #expect(f.first?.notes.contains { $0.message == "xdma_register registers xdma_dev.ref" && $0.line == 24 } == true)
        #expect(notes.contains("xdma_dev_put drops xdma_dev.ref with kref_put(…, xdma_dev_release)"))
        #expect(notes.contains("xdma_dev_release calls a hook the driver supplies"))
        #expect(notes.contains("users can hold a reference: xdma_chan_get calls kref_get_unless_zero()"))
        #expect(f.first?.fix == "allocate struct prov with kzalloc() instead of devm_kzalloc() (with any other device-managed memory its users reach through it), kfree() it (container_of()) in the release hook of its struct xdma_dev that xdma_dev_release() calls when the last reference is dropped, and in remove() drop the reference registering took (the core's unregister or the core's put)")
    }

    /// An exported put of the object's type (`v4l2_device_put()`-like) is named in the fix:
    /// the core's unregister may not drop the reference registering took.
    @Test func theCoresExportedPutIsNamedInTheFix() {
        var files = Self.core()
        files["drivers/xdma/core.c"] = files["drivers/xdma/core.c"]!
            .replacingOccurrences(of: "static void xdma_dev_put(struct xdma_dev *d)", with: "void xdma_dev_put(struct xdma_dev *d)")
            + "\nEXPORT_SYMBOL(xdma_dev_put);\n"
        let f = run(files)
        #expect(f.map(\.severity) == [.error])
        #expect(f.first?.fix.hasSuffix("and in remove() drop the reference registering took (the core's unregister, then xdma_dev_put() where that does not drop it)") == true)
    }

    /// No one takes a reference on the count: it shares nothing.
    @Test func aCountNoOneGetsIsNoPublication() {
        #expect(run(Self.core(get: "return c->dev->nr;")).isEmpty)
    }

    /// A count initialized only under a condition is not known to count this object.
    @Test func aCountInitializedOnlyUnderAConditionIsNoPublication() {
        #expect(run(Self.core(initialize: "if (d->release) kref_init(&d->ref);")).isEmpty)
    }

    /// A release that frees the object itself when no hook is set serves drivers that opt
    /// in to the count; nor does a release that neither frees nor calls a hook tell who
    /// owns the memory.
    @Test func aCountReleaseThatFreesOrDoesNeitherIsNotJudged() {
        #expect(run(Self.core(release: "if (d->release) d->release(d); else kfree(d);")).isEmpty)
        #expect(run(Self.core(release: "d->nr = 0;")).isEmpty)
    }

    /// A device published by the same register function comes first: the finding names it.
    @Test func aDevicePublishedAlongsideTheCountComesFirst() {
        var files = Self.core()
        files["include/linux/xdma.h"] = files["include/linux/xdma.h"]!
            .replacingOccurrences(of: "void (*release)(struct xdma_dev *d); };", with: "void (*release)(struct xdma_dev *d); struct device dev; };")
        files["drivers/xdma/core.c"] = files["drivers/xdma/core.c"]!
            .replacingOccurrences(of: "return 0;\n}\nvoid xdma_unregister", with: "return device_register(&d->dev);\n}\nvoid xdma_unregister")
        let f = run(files)
        #expect(f.count == 1)
        #expect(f.first?.chain == ["prov", "xdma_dev", "device"])
        // An exported function that waits for the count's users unregisters the count, not
        // the device registered beside it.
        files["include/linux/xdma.h"] = files["include/linux/xdma.h"]!
            .replacingOccurrences(of: "struct device dev; };", with: "struct device dev; struct completion gone; };")
        files["drivers/xdma/core.c"]! += "void xdma_wait(struct xdma_dev *d) { wait_for_completion(&d->gone); }\nEXPORT_SYMBOL(xdma_wait);\n"
        files["include/linux/device.h"] = deviceHeader
        let ctx = analyse(files)
        let device = ctx.subsystems.objects.values.first { $0.name == "xdma_dev" }
        #expect(device?.coreField == "dev")
        #expect(device.map { $0.unregister.map { ctx.index.function($0).name } } == [])
    }
}
