import Testing
@testable import Facts
@testable import CFrontend
@testable import Indexing
@testable import Analysis
@testable import Findings
@testable import Checks

/// `devm-embedded-refcount` for a core that takes the object's release as an argument of
/// its register call (`usb_add_gadget_udc_release(parent, gadget, release)`): the release
/// the driver passes there is the driver's release.
@Suite struct SuppliedReleaseTests {
    static let core: [String: String] = [
        "include/linux/gadget.h": """
            struct gadget { int speed; struct device dev; };
            int gadget_add_release(struct device *parent, struct gadget *g, void (*release)(struct device *dev));
            void gadget_del(struct gadget *g);
            struct gadget *gadget_get(struct gadget *g);
            """,
        "drivers/gadget/core.c": """
            #include <linux/device.h>
            #include <linux/gadget.h>
            static void gadget_init(struct device *parent, struct gadget *g, void (*release)(struct device *dev))
            {
                    g->dev.parent = parent;
                    g->dev.release = release;
                    device_initialize(&g->dev);
            }
            int gadget_add_release(struct device *parent, struct gadget *g, void (*release)(struct device *dev))
            {
                    gadget_init(parent, g, release);
                    return device_add(&g->dev);
            }
            void gadget_del(struct gadget *g)
            {
                    device_unregister(&g->dev);
            }
            struct gadget *gadget_get(struct gadget *g)
            {
                    get_device(&g->dev);
                    return g;
            }
            int gadget_open(struct gadget *g) { return gadget_get(g) ? 0 : -1; }
            """,
    ]

    /// A UDC driver whose release signals a completion; `wait`: its remove waits for it.
    static func udc(wait: Bool) -> [String: String] {
        var files = core
        files["drivers/gadget/udc.c"] = """
            #include <linux/device.h>
            #include <linux/gadget.h>
            struct udc { int irq; struct gadget gadget; struct completion done; };
            static void udc_release(struct device *dev)
            {
                    struct udc *u = container_of(dev, struct udc, gadget.dev);
                    complete(&u->done);
            }
            static int udc_probe(struct platform_device *pdev)
            {
                    struct udc *u = devm_kzalloc(&pdev->dev, sizeof(*u), 0);
                    platform_set_drvdata(pdev, u);
                    return gadget_add_release(&pdev->dev, &u->gadget, udc_release);
            }
            static void udc_remove(struct platform_device *pdev)
            {
                    struct udc *u = platform_get_drvdata(pdev);
                    gadget_del(&u->gadget);
                    \(wait ? "wait_for_completion(&u->done);" : "")
            }
            static struct platform_driver udc_driver = { .probe = udc_probe, .remove = udc_remove };
            """
        return files
    }

    func run(_ files: [String: String]) -> [Finding] {
        findings(of: "devm-embedded-refcount", in: files).filter { $0.file == "drivers/gadget/udc.c" }
    }

    @Test func aReleasePassedToTheRegisterCallThatTheRemoveWaitsForIsAWarning() {
        let waits = run(Self.udc(wait: true))
        #expect(waits.map(\.severity) == [.warning])
        #expect(waits.first?.line == 11)
        #expect(waits.first?.protection == "driver-release")
        #expect(waits.first?.message.contains("the driver's release udc_release() signals a completion that its unbind path waits for") == true)
        #expect(waits.first?.notes.contains { $0.message == "udc_probe passes udc_release to gadget_add_release() as the release" && $0.line == 13 } == true)
        #expect(waits.first?.notes.contains { $0.message == "udc_remove waits for the release before devres frees the memory" && $0.line == 19 } == true)
    }

    /// The driver registers through a helper of its own, which passes the release: that
    /// release is the driver's (not "none").
    @Test func aReleasePassedByTheDriversOwnRegisterHelperCounts() {
        var files = Self.udc(wait: false)
        files["drivers/gadget/udc.c"] = files["drivers/gadget/udc.c"]!
            .replacingOccurrences(of: "static int udc_probe(struct platform_device *pdev)", with: """
                static int udc_setup(struct device *parent, struct udc *u)
                {
                        return gadget_add_release(parent, &u->gadget, udc_release);
                }
                static int udc_probe(struct platform_device *pdev)
                """)
            .replacingOccurrences(of: "return gadget_add_release(&pdev->dev, &u->gadget, udc_release);", with: "return udc_setup(&pdev->dev, u);")
        let f = run(files)
        #expect(f.map(\.severity) == [.error])
        #expect(f.first?.message.contains("registered through udc_setup(); the driver's release udc_release() does not keep the memory alive past unbind") == true)
        #expect(f.first?.notes.contains { $0.message == "udc_setup passes udc_release to gadget_add_release() as the release" && $0.line == 11 } == true)
    }

    @Test func aReleasePassedToTheRegisterCallThatNobodyWaitsForIsAnError() {
        let f = run(Self.udc(wait: false))
        #expect(f.map(\.severity) == [.error])
        #expect(f.first?.message.contains("the driver's release udc_release() does not keep the memory alive past unbind (protection: driver-release)") == true)
    }
}
