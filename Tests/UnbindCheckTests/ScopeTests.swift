import Testing
import Foundation
@testable import Facts
@testable import CFrontend
@testable import Indexing
@testable import Analysis
@testable import Findings
@testable import Checks
@testable import Reporting
@testable import Pipeline

/// A tiny kernel-shaped tree (Makefile, include/linux/, drivers/): a flash core whose
/// device has no release, two drivers that devm-allocate a struct embedding it, and an
/// unrelated driver with an empty release.
let kernelFixture: [String: String] = [
    "Makefile": "# top-level kernel makefile (fixture)\n",
    "include/linux/device.h": KernelPrelude.device,
    "include/linux/flash.h": """
        #include <linux/device.h>
        struct flash_info { int size; struct device dev; };
        int flash_register(struct flash_info *info);
        """,
    "drivers/flash/core.c": """
        #include <linux/flash.h>
        int flash_register(struct flash_info *info)
        {
                return device_register(&info->dev);
        }
        struct flash_info *flash_get(struct flash_info *info) { get_device(&info->dev); return info; }
        int flash_open(struct flash_info *info) { return flash_get(info) ? 0 : -1; }
        """,
    "drivers/flash/chip.c": """
        #include <linux/flash.h>
        struct chip { int id; struct flash_info flash; };
        static int chip_probe(struct platform_device *pdev)
        {
                struct chip *c = devm_kzalloc(&pdev->dev, sizeof(*c), 0);
                if (!c)
                        return -12;
                return flash_register(&c->flash);
        }
        """,
    "drivers/card/card.c": """
        #include <linux/flash.h>
        struct card { struct flash_info fl; int slots; };
        static int card_probe(struct platform_device *pdev)
        {
                struct card *k = devm_kzalloc(&pdev->dev, sizeof(*k), 0);
                return flash_register(&k->fl);
        }
        """,
    "drivers/misc/dummy.c": """
        #include <linux/device.h>
        struct dummy { int id; struct device dev; };
        static void dummy_release(struct device *dev)
        {
        }
        static const struct device_type dummy_type = { .name = "dummy", .release = dummy_release };
        """,
]

/// Report paths and fingerprints of the whole fixture, as the library computes them.
let kernelFixtureFingerprints: [String] = {
    let ctx = analyse(kernelFixture)
    return Analyzer.findings(ctx).map(\.fingerprint)
}()

@Suite struct ScopeTests {
    /// Checks restricted to some files report exactly the whole-tree findings located
    /// there, for every file of every multi-file fixture (the widget's device is
    /// initialized in one file and added in another: judged at the add, in either scope).
    @Test func checksRestrictedToFilesGiveTheWholeTreeFindingsThere() {
        let widget = ReleaseAliasTests.widget("").merging(["include/linux/device.h": deviceHeader]) { a, _ in a }
        for files in [kernelFixture, subsystemFixture, MessageTests.files, widget] {
            let ctx = analyse(files)
            let whole = Analyzer.findings(ctx)
            #expect(!whole.isEmpty)
            for (fi, f) in ctx.index.files.enumerated() {
                ctx.reportedFiles = [Int32(fi)]
                #expect(Analyzer.findings(ctx) == whole.filter { $0.file == f.path }, "\(f.path)")
            }
            ctx.reportedFiles = []
            #expect(Analyzer.findings(ctx).isEmpty)
            ctx.reportedFiles = nil
        }
    }

    @Test func kernelRootIsFoundAboveAPath() throws {
        let dir = temporaryTree(kernelFixture)
        defer { removeTree(dir) }
        #expect(ScanScope.kernelRoot(of: dir + "/drivers/flash") == dir)
        #expect(ScanScope.kernelRoot(of: dir + "/drivers/flash/chip.c") == dir)
        #expect(ScanScope.kernelRoot(of: dir) == dir)
        let scope = try ScanScope.resolve(paths: [dir + "/drivers/flash", dir + "/drivers/misc/dummy.c"])
        #expect(scope.root == dir && scope.indexPaths == [dir])
        #expect(scope.prefixes == ["drivers/flash", "drivers/misc/dummy.c"])
        #expect(scope.contains("drivers/flash/chip.c") && !scope.contains("drivers/flashy/x.c") && !scope.contains("drivers/card/card.c"))
        // A tree without the kernel's top-level files is scanned on its own.
        let plain = temporaryTree(["src/a.c": "int a;\n"])
        defer { removeTree(plain) }
        let own = try ScanScope.resolve(paths: [plain + "/src"])
        #expect(own.prefixes == nil && own.indexPaths == [plain + "/src"] && !own.isKernelTree)
        #expect(throws: ScanScope.Failure.self) { try ScanScope.resolve(paths: [dir + "/drivers", plain + "/src"]) }
    }

    @Test func scopedScanReportsTheWholeTreeFindingsUnderThePath() throws {
        let dir = temporaryTree(kernelFixture)
        defer { removeTree(dir) }
        let whole = try CLI.run(["scan", dir, "--format", "json"])
        #expect(whole.status == 1)
        let all = try bases(whole.out)
        #expect(all.sorted() == kernelFixtureFingerprints.map(base).sorted())
        #expect(all.contains("devm-embedded-refcount|drivers/flash/chip.c|chip_probe|chip|flash_info"))
        #expect(all.contains("devm-embedded-refcount|drivers/card/card.c|card_probe|card|flash_info"))
        #expect(all.contains("empty-release|drivers/misc/dummy.c|dummy_release||"))

        let flash = try CLI.run(["scan", dir + "/drivers/flash", "--format", "json"])
        #expect(flash.status == 1)
        #expect(try bases(flash.out).sorted() == all.filter { $0.contains("|drivers/flash/") }.sorted())
        #expect(flash.err.contains("6 files analysed, 2 in scope (drivers/flash)"))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(flash.out.utf8)) as? [String: Any])
        #expect(json["root"] as? String == dir)
        let stats = try #require(json["stats"] as? [String: Any])
        #expect(stats["files"] as? Int == 6 && stats["files_in_scope"] as? Int == 2)

        // One file: the core and headers outside it are still known.
        let one = try CLI.run(["scan", dir + "/drivers/flash/chip.c", "--format", "json"])
        #expect(try bases(one.out) == ["devm-embedded-refcount|drivers/flash/chip.c|chip_probe|chip|flash_info"])
        // Several paths, relative to the working directory.
        let two = try CLI.run(["scan", "drivers/card", "drivers/misc/dummy.c", "--format", "json"], in: dir)
        #expect(try bases(two.out).sorted() == all.filter { $0.contains("|drivers/card/") || $0.contains("|drivers/misc/") }.sorted())
        // A scope without findings is clean.
        let clean = try CLI.run(["scan", dir + "/include"])
        #expect(clean.status == 0 && clean.out.isEmpty)
    }

    @Test func rootOptionAndPlainDirectories() throws {
        // Without the kernel's top-level Makefile, a directory is scanned on its own: the
        // flash core outside it is unknown, so the driver's finding cannot be seen.
        var files = kernelFixture
        files["Makefile"] = nil
        let dir = temporaryTree(files)
        defer { removeTree(dir) }
        let alone = try CLI.run(["scan", dir + "/drivers/card", "--format", "json"])
        #expect(alone.status == 0)
        #expect(try bases(alone.out).isEmpty)
        // --root names the tree explicitly.
        let rooted = try CLI.run(["scan", dir + "/drivers/card", "--root", dir, "--format", "json"])
        #expect(rooted.status == 1)
        #expect(try bases(rooted.out) == ["devm-embedded-refcount|drivers/card/card.c|card_probe|card|flash_info"])
        #expect(try CLI.run(["scan", dir + "/drivers/card", "--root", dir + "/nope"]).status == 2)
        #expect(try CLI.run(["scan", "/tmp", "--root", dir]).err.contains("is not under the root"))
    }

    @Test func listingsAndTriageUseTheWholeTree() throws {
        let dir = temporaryTree(kernelFixture)
        defer { removeTree(dir) }
        let structs = try CLI.run(["structs", dir + "/drivers/card"])
        #expect(structs.status == 0)
        #expect(structs.out.contains("drivers/card/card.c:2: struct card: card → flash_info → device (fl.dev) [indirect]"))
        #expect(!structs.out.contains("struct chip") && !structs.out.contains("include/linux/flash.h"))
        let allocs = try CLI.run(["allocations", dir + "/drivers/flash"])
        #expect(allocs.out == "drivers/flash/chip.c:5:26: devm_kzalloc() in chip_probe → struct chip [sizeof(expr)]\n")
        let subs = try CLI.run(["subsystems", dir + "/drivers/flash", "--format", "json"])
        #expect(subs.out.contains("\"struct\": \"flash_info\""))
        let none = try CLI.run(["subsystems", dir + "/drivers/misc", "--format", "json"])
        #expect(!none.out.contains("\"struct\": \"flash_info\""))
        let explain = try CLI.run(["explain", dir + "/drivers/card", "--struct", "flash_info"])
        #expect(explain.status == 0 && explain.out.contains("include/linux/flash.h:2: struct flash_info") && explain.out.contains("register flash_register"))
        let log = dir + "/oops.txt"
        try "refcount_t: underflow; use-after-free.\nCall Trace:\n card_probe+0x1c/0x40\n flash_register+0x10/0x20\n".write(toFile: log, atomically: true, encoding: .utf8)
        let triage = try CLI.run(["triage", log, "--tree", dir + "/drivers/card"])
        #expect(triage.status == 0)
        #expect(triage.out.contains("#1 (score") && triage.out.contains("drivers/card/card.c:5:26: error:"))
        #expect(!triage.out.contains("drivers/flash/chip.c:5"))
    }

    /// The kernel's top-level build names the directories it descends into; the others
    /// (userspace and host programs) are left out unless asked for.
    @Test func builtDirectoriesComeFromTheTopLevelBuildFiles() {
        let text = """
            # comment naming tools/
            obj-y\t\t\t+= init/
            obj-y += arch/$(SRCARCH)/ $(ARCH_CORE)
            obj-$(CONFIG_NET)\t+= net/ # and not docs/
            drivers-y := drivers/ \\
            \tsound/
            libs-y\t\t:= lib/
            include-y\t:= scripts/Makefile.extrawarn
            tools/: FORCE
            KBUILD_EXTRA := samples/
            """
        #expect(KernelBuild.builtDirectories(makefile: text) == ["init", "arch", "net", "drivers", "sound", "lib"])
        #expect(KernelBuild.builtDirectories(makefile: "all:\n\techo\n").isEmpty)
    }

    /// Kernels before 6.1 list their directories in the top-level Makefile and name
    /// `arch/` only in the architecture's own Makefile: it is read all the same.
    @Test func olderKernelsKeepArchAndTheirMakefileDirectories() {
        let dir = temporaryTree([
            "Makefile": "init-y\t\t:= init/\ndrivers-y\t:= drivers/ sound/\nnet-y\t\t:= net/\nlibs-y\t\t:= lib/\ncore-y\t\t:= usr/\n"
                + "core-y\t\t+= kernel/ certs/ mm/ \\\n\t\t   fs/\nexport KBUILD_ALLDIRS := $(sort $(filter-out arch/%,$(vmlinux-alldirs)) arch include scripts tools)\n",
            "include/linux/a.h": "int a;\n", "drivers/x/x.c": "int x;\n", "arch/x86/kernel/k.c": "int k;\n",
            "fs/f.c": "int f;\n", "tools/perf/p.c": "int p;\n", "scripts/mod/m.c": "int m;\n",
        ])
        defer { removeTree(dir) }
        #expect(KernelBuild.unbuiltDirectories(root: dir) == ["scripts", "tools"])
    }

    @Test func topLevelDirectoriesTheKernelNeverBuildsAreSkipped() throws {
        var files = kernelFixture
        files["Kbuild"] = "obj-y += drivers/\n"
        // A userspace test program with the same devm pattern as the flash driver.
        files["tools/testing/mock.c"] = files["drivers/flash/chip.c"]
        let dir = temporaryTree(files)
        defer { removeTree(dir) }
        #expect(KernelBuild.unbuiltDirectories(root: dir) == ["tools"])
        let mock = "devm-embedded-refcount|tools/testing/mock.c|chip_probe|chip|flash_info"
        let plain = try CLI.run(["scan", dir, "--format", "json", "--verbose"])
        #expect(try !bases(plain.out).contains(mock))
        #expect(try bases(plain.out).sorted() == kernelFixtureFingerprints.map(base).sorted())
        #expect(plain.err.contains("  skipped: tools/ (never built into the kernel; --all-directories reads them)"))
        #expect(plain.err.contains("unbindcheck: 6 files analysed"))
        let all = try CLI.run(["scan", dir, "--format", "json", "--all-directories"])
        #expect(try bases(all.out).contains(mock))
        #expect(all.err.contains("unbindcheck: 7 files analysed"))
        // A warm run answered from the persistent index says so too.
        let db = dir + "/index.sqlite"
        _ = try CLI.run(["scan", dir, "--cache", db, "--format", "json"])
        let warm = try CLI.run(["scan", dir, "--cache", db, "--format", "json", "--verbose"])
        #expect(warm.err.contains("result read from the persistent index") && warm.err.contains("  skipped: tools/ ("))
        // A path inside the directory reads it.
        let inside = try CLI.run(["scan", dir + "/tools", "--format", "json"])
        #expect(try bases(inside.out) == [mock])
    }
}
