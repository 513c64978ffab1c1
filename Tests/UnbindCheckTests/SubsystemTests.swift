import Foundation
import Testing
@testable import Facts
@testable import CFrontend
@testable import Indexing
@testable import Analysis
@testable import Findings
@testable import Checks
@testable import Reporting
@testable import Pipeline

/// Small subsystems written after the patterns the seed talk describes.
let subsystemFixture: [String: String] = [
    "include/linux/device.h": deviceHeader,
    "include/linux/subsys.h": """
        #include <linux/device.h>
        struct flash { int index; struct device dev; };
        struct bus_adapter { struct device dev; struct completion released; };
        struct vdevice { int id; struct device dev; };
        struct controller { int num; struct device dev; };
        int flash_add(struct flash *f);
        #define flash_register(f) flash_add(f)
        int adapter_add(struct bus_adapter *a);
        int vdevice_register(struct vdevice *v);
        """,
    // MTD-like: release that does not free, no waiting: none.
    "drivers/flash/core.c": """
        #include <linux/subsys.h>
        static void flash_release(struct device *dev)
        {
                struct flash *f = container_of(dev, struct flash, dev);
                if (f->index)
                        kfree(f);
        }
        static const struct device_type flash_devtype = { .name = "flash", .release = flash_release };
        int flash_add(struct flash *f)
        {
                struct device *dev = &f->dev;
                dev->type = &flash_devtype;
                return device_register(dev);
        }
        EXPORT_SYMBOL(flash_add);
        void flash_del(struct flash *f) { device_unregister(&f->dev); }
        struct flash *flash_get(struct flash *f) { get_device(&f->dev); return f; }
        int flash_open(struct flash *f) { return flash_get(f) ? 0 : -1; }
        """,
    // I2C-like: release completes, unregister waits: completion.
    "drivers/bus/core.c": """
        #include <linux/subsys.h>
        static void adapter_release(struct device *dev)
        {
                struct bus_adapter *a = container_of(dev, struct bus_adapter, dev);
                complete(&a->released);
        }
        int adapter_add(struct bus_adapter *a)
        {
                a->dev.release = adapter_release;
                return device_register(&a->dev);
        }
        void adapter_del(struct bus_adapter *a)
        {
                device_unregister(&a->dev);
                wait_for_completion(&a->released);
        }
        struct bus_adapter *adapter_get(struct bus_adapter *a) { get_device(&a->dev); return a; }
        int adapter_open(struct bus_adapter *a) { return adapter_get(a) ? 0 : -1; }
        """,
    // virtio-like: the core leaves release to drivers: driver-release.
    "drivers/vbus/core.c": """
        #include <linux/subsys.h>
        int vdevice_register(struct vdevice *v) { return device_add(&v->dev); }
        """,
    "drivers/vbus/good.c": """
        #include <linux/subsys.h>
        struct good { int x; struct vdevice vdev; };
        static void good_release(struct device *dev) { kfree(container_of(dev, struct good, vdev.dev)); }
        static int good_probe(struct platform_device *pdev)
        {
                struct good *g = kzalloc(sizeof(*g), 0);
                g->vdev.dev.release = good_release;
                return vdevice_register(&g->vdev);
        }
        """,
    // spi-like: the core's alloc function installs a release that frees: release-frees.
    "drivers/ctl/core.c": """
        #include <linux/subsys.h>
        static void controller_release(struct device *dev) { kfree(container_of(dev, struct controller, dev)); }
        static const struct class ctl_class = { .name = "ctl", .dev_release = controller_release };
        struct controller *controller_alloc(struct device *parent)
        {
                struct controller *c = kzalloc(sizeof(*c), 0);
                c->dev.class = &ctl_class;
                device_initialize(&c->dev);
                return c;
        }
        int controller_register(struct controller *c) { return device_add(&c->dev); }
        """,
    // Drivers.
    "drivers/flash/chip.c": """
        #include <linux/subsys.h>
        struct chip { int id; struct flash fl; };
        static int chip_probe(struct platform_device *pdev)
        {
                struct chip *c = devm_kzalloc(&pdev->dev, sizeof(*c), 0);
                struct flash *f = &c->fl;
                return flash_register(f);
        }
        """,
    "drivers/bus/host.c": """
        #include <linux/subsys.h>
        struct host { struct bus_adapter adap; };
        static int setup(struct host *h) { return adapter_add(&h->adap); }
        static int host_probe(struct platform_device *pdev)
        {
                struct host *h;
                h = devm_kzalloc(&pdev->dev, sizeof(*h), 0);
                return setup(h);
        }
        static void host_remove(struct platform_device *pdev)
        {
                struct host *h = platform_get_drvdata(pdev);
                adapter_del(&h->adap);
        }
        static struct platform_driver host_driver = { .probe = host_probe, .remove = host_remove };
        """,
]

@Suite struct SubsystemTests {
    func object(_ ctx: AnalysisContext, _ name: String) -> SubsystemObject? {
        ctx.subsystems.objects.values.first { $0.name == name }
    }

    @Test func protectionKindsAreInferred() throws {
        let ctx = analyse(subsystemFixture)
        let flash = try #require(object(ctx, "flash"))
        #expect(flash.protection == .none)
        #expect(flash.release?.name == "flash_release")
        #expect(flash.release?.freesConditionally == true)
        #expect(flash.coreField == "dev")
        #expect(try #require(object(ctx, "bus_adapter")).protection == .completion)
        #expect(try #require(object(ctx, "vdevice")).protection == .driverRelease)
        let ctl = try #require(object(ctx, "controller"))
        #expect(ctl.protection == .releaseFrees)
        #expect(ctl.release?.name == "controller_release")
    }

    @Test func registerAndUnregisterFunctions() throws {
        let ctx = analyse(subsystemFixture)
        let flash = try #require(object(ctx, "flash"))
        #expect(flash.register.map { ctx.index.function($0).name } == ["flash_add"])
        #expect(flash.unregister.map { ctx.index.function($0).name } == ["flash_del"])
        let adapter = try #require(object(ctx, "bus_adapter"))
        #expect(adapter.unregister.map { ctx.index.function($0).name } == ["adapter_del"])
    }

    @Test func teardownThroughAKrefReleaseCallback() throws {
        // MTD-style: del drops a kref whose release unregisters the device it contains.
        var files = subsystemFixture
        files["drivers/flash/core.c"]! += """
            struct flash_ref { struct kref refcnt; struct flash fl; };
            static void flash_ref_release(struct kref *kref)
            {
                    struct flash_ref *r = container_of(kref, struct flash_ref, refcnt);
                    device_unregister(&r->fl.dev);
            }
            void flash_ref_del(struct flash_ref *r)
            {
                    kref_put(&r->refcnt, flash_ref_release);
            }
            void flash_ref_add(struct flash_ref *r)
            {
                    device_register(&r->fl.dev);
            }

            """
        let ctx = analyse(files)
        let del = try #require(ctx.index.functionsByName["flash_ref_del"]?.first)
        let effects = ctx.summaries.tearsDown[del]?.keys.map { $0.path } ?? []
        #expect(effects.contains(["fl", "dev"]))
        #expect(Summaries.normalize(["refcnt", "^refcnt", "fl", "dev"]) == ["fl", "dev"])
    }

    @Test func devmFindingsFollowProtection() throws {
        let ctx = analyse(subsystemFixture)
        let findings = Analyzer.findings(ctx, checks: [DevmEmbeddedRefcountCheck()])
        #expect(findings.count == 2)
        let chip = try #require(findings.first { $0.structName == "chip" })
        #expect(chip.severity == .error)
        #expect(chip.protection == "none")
        #expect(chip.object == "flash")
        #expect(chip.chain == ["chip", "flash", "device"])
        #expect(chip.file == "drivers/flash/chip.c" && chip.line == 5 && chip.column == 26)
        #expect(chip.function == "chip_probe")
        // Through a macro and a local alias; the note points at the registration.
        #expect(chip.notes.contains { $0.line == 7 && $0.message.hasPrefix("flash_register()") })
        let host = try #require(findings.first { $0.structName == "host" })
        #expect(host.severity == .warning)
        #expect(host.protection == "completion")
        // The core waits by design: nothing for the driver to free differently.
        #expect(host.fix.hasPrefix("nothing to free differently in the driver: the core's unregister (") == true)
        // Registration found interprocedurally through setup().
        #expect(host.notes.contains { $0.message.hasPrefix("setup()") })
    }
}

/// The C files of one example directory, with the shared kernel prelude under it.
func fixtureFiles(_ directory: String) -> [String: String] {
    var files: [String: String] = ["include/linux/device.h": KernelPrelude.device]
    let root = testsDirectory.appendingPathComponent("Fixtures/" + directory).path
    for case let rel as String in FileManager.default.enumerator(atPath: root) ?? FileManager.DirectoryEnumerator()
    where rel.hasSuffix(".c") || rel.hasSuffix(".h") {
        files[rel] = try? String(contentsOfFile: root + "/" + rel, encoding: .utf8)
    }
    return files
}

/// The example directories of a check: `triggering-N` and `non-triggering-N`.
func exampleDirectories(_ id: String, _ kind: String) -> [String] {
    let root = testsDirectory.appendingPathComponent("Fixtures/" + id).path
    return ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [])
        .filter { $0.hasPrefix(kind + "-") }.sorted().map { id + "/" + $0 }
}

@Suite struct CheckExampleTests {
    /// Every check's triggering examples (`Tests/Fixtures/<id>/triggering-N/`) produce
    /// exactly the findings of their `expected.txt` (position, severity and message), each
    /// at a `/*!check-id*/` marker; the non-triggering ones produce none of that check. With
    /// three jobs (the files dealt out to three workers) the findings are the same.
    @Test(arguments: allChecks.map { type(of: $0).description.id }, [1, 3])
    func examples(id: String, jobs: Int) throws {
        let check = try #require(allChecks.first { type(of: $0).description.id == id })
        let triggering = exampleDirectories(id, "triggering"), nonTriggering = exampleDirectories(id, "non-triggering")
        #expect(!triggering.isEmpty && !nonTriggering.isEmpty)
        for dir in triggering {
            let example = fixtureFiles(dir)
            let findings = Analyzer.findings(analyse(example, jobs: jobs), checks: [check])
            let got = findings.map { "\($0.file):\($0.line):\($0.column): \($0.severity.rawValue): \($0.message)" }
            let expectedPath = testsDirectory.appendingPathComponent("Fixtures/\(dir)/expected.txt").path
            if ProcessInfo.processInfo.environment["UNBINDCHECK_UPDATE_EXPECTED"] == "1" {
                try (got.joined(separator: "\n") + "\n").write(toFile: expectedPath, atomically: true, encoding: .utf8)
            }
            let expected = try String(contentsOfFile: expectedPath, encoding: .utf8).split(separator: "\n").map(String.init)
            #expect(got == expected, "\(dir)")
            let marked = markers(in: example).filter { $0.check == id }
            #expect(!marked.isEmpty, "example \(dir) has no marker")
            #expect(findings.map { Marker(file: $0.file, line: $0.line, column: $0.column, check: $0.check) } == marked, "\(dir)")
        }
        for dir in nonTriggering {
            let got = Analyzer.findings(analyse(fixtureFiles(dir), jobs: jobs), checks: [check])
            #expect(got.isEmpty, "\(dir): \(got.map(\.message))")
        }
    }

    @Test func virtioHistoryGetsReleaseDevmFree() {
        // The old virtio_mmio pattern from the talk: devm_kzalloc + devm_kfree in release.
        let all = Analyzer.findings(analyse(fixtureFiles("release-devm-free/triggering-1")))
        #expect(all.map(\.check).contains("release-devm-free"))
        #expect(all.contains { $0.check == "devm-embedded-refcount" && $0.protection == "driver-release" && $0.severity == .error })
    }
}
