import Testing
@testable import Facts
@testable import CFrontend
@testable import Indexing
@testable import Analysis
@testable import Findings
@testable import Checks
@testable import Reporting
@testable import Pipeline

/// `unrevoked-provider-ops` on a small provider core: each protection the check recognizes,
/// and each again with the check, the clearing or the lock taken away.
@Suite struct ProviderOpsTests {
    static let lockUse = """
        \tint ret = -19;
        \tmutex_lock(&w->lock);
        \tif (w->reg_read)
        \t\tret = w->reg_read(w->priv, off);
        \tmutex_unlock(&w->lock);
        \treturn ret;

        """
    static let lockTeardown = "\tmutex_lock(&w->lock);\n\tw->reg_read = NULL;\n\tmutex_unlock(&w->lock);\n"
    static let flagUse = """
        \tint ret = -19;
        \tmutex_lock(&w->lock);
        \tif (!w->exists)
        \t\tgoto out;
        \tret = w->reg_read(w->priv, off);
        out:
        \tmutex_unlock(&w->lock);
        \treturn ret;

        """
    static let flagTeardown = "\tmutex_lock(&w->lock);\n\tw->exists = 0;\n\tmutex_unlock(&w->lock);\n"
    static let waitTeardown = "\twait_for_completion(&w->done);\n"

    func findings(use: String, teardown: String) -> [Finding] {
        Analyzer.findings(analyse(ProviderFixture.core(use: use, teardown: teardown, marker: false)), checks: [UnrevokedProviderOpsCheck()])
    }

    /// Line of the first line of `text` in the fixture's core.c that contains `needle`.
    func line(of needle: String, use: String, teardown: String) -> Int32 {
        let core = ProviderFixture.core(use: use, teardown: teardown, marker: false)["drivers/widget/core.c"] ?? ""
        let lines = core.split(separator: "\n", omittingEmptySubsequences: false)
        return Int32((lines.firstIndex { $0.contains(needle) } ?? -1) + 1)
    }

    @Test(arguments: [("srcu", ProviderFixture.srcuUse, ProviderFixture.srcuTeardown),
                      ("lock", lockUse, lockTeardown),
                      ("flag", flagUse, flagTeardown),
                      ("wait", ProviderFixture.plainUse, waitTeardown)])
    func protectedProvidersAreNotReported(_ kind: String, _ use: String, _ teardown: String) {
        #expect(findings(use: use, teardown: teardown).isEmpty, "\(kind)")
        let ctx = analyse(ProviderFixture.core(use: use, teardown: teardown, marker: false))
        let group = ctx.providerOps.groups.first
        #expect(group?.members == ["priv", "reg_read"])
        #expect(group?.uses.allSatisfy { $0.protection == kind } == true, "\(kind): \(group?.uses.map { $0.protection ?? $0.reason } ?? [])")
    }

    @Test func unprotectedProviderIsReportedAtUnregister() throws {
        let all = findings(use: ProviderFixture.plainUse, teardown: "")
        #expect(all.count == 1)
        let f = try #require(all.first)
        #expect(f.severity == .error && f.function == "widget_unregister" && f.object == "widget_device")
        #expect(f.line == line(of: "void widget_unregister", use: ProviderFixture.plainUse, teardown: ""))
        #expect(f.members == ["priv", "reg_read"])
        #expect(f.useSites.map(\.function) == ["widget_do_read"] && f.useSites.map(\.entry) == ["widget_read"])
        #expect(f.message.hasPrefix("struct widget_device keeps the provider's priv, reg_read (stored by widget_register()), and widget_unregister() neither revokes them nor waits for users"))
        #expect(f.notes.contains { $0.message.contains("widget_do_read() uses reg_read: no lock, SRCU/RCU read section or check protects it; reached from widget_read() via widget_read → widget_do_read") })
        let json = JSONReporter.findingJSON(f).serialized(pretty: false)
        #expect(json.contains("\"members\":[\"priv\",\"reg_read\"]") && json.contains("\"use_sites\":[{\"function\":\"widget_do_read\""))
    }

    /// A lock the core's users take but unregister never does orders nothing: the note
    /// names it rather than saying no lock is held.
    @Test func aLockUnregisterNeverTakesIsNamedInTheNote() throws {
        let uncheckedUse = "\tint ret;\n\tmutex_lock(&w->lock);\n\tret = w->reg_read(w->priv, off);\n\tmutex_unlock(&w->lock);\n\treturn ret;\n"
        let f = try #require(findings(use: uncheckedUse, teardown: "").first)
        #expect(f.severity == .error)
        #expect(f.notes.contains { $0.message.contains("uses reg_read: holds widget_device.lock, which unregister does not take, and checks no state that unregister clears under a lock") },
                "\(f.notes.map(\.message))")
    }

    /// Consumers that can only be drivers bound to the object are unbound by unregister.
    @Test func objectsNeverHandedOutAreNotReported() {
        let files = ProviderFixture.core(use: ProviderFixture.plainUse, teardown: "", marker: false, handsOut: false)
        #expect(Analyzer.findings(analyse(files), checks: [UnrevokedProviderOpsCheck()]).isEmpty)
    }

    /// A get helper that checks the object under the teardown's lock and returns holding it
    /// protects what its caller does next (the tpm_try_get_ops() shape).
    @Test func getHelperReturningWithTheLockHeldProtects() {
        let teardown = "\tdown_write(&w->sem);\n\tw->reg_read = NULL;\n\tup_write(&w->sem);\n"
        var files = ProviderFixture.core(use: ProviderFixture.plainUse, teardown: teardown, marker: false)
        let helper = ProviderFixture.tryGet(exported: false) + """
            int widget_read(struct widget_device *w, int off)
            {
            \tif (widget_try_get(w))
            \t\treturn -19;
            \treturn widget_do_read(w, off);
            }
            """
        files["drivers/widget/core.c"] = files["drivers/widget/core.c"]?.replacingOccurrences(
            of: "int widget_read(struct widget_device *w, int off)\n{\n\treturn widget_do_read(w, off);\n}\n", with: helper)
        files["include/linux/widget.h"] = files["include/linux/widget.h"]?.replacingOccurrences(of: "struct mutex lock;", with: "struct mutex lock; struct rw_semaphore sem;")
        #expect(Analyzer.findings(analyse(files), checks: [UnrevokedProviderOpsCheck()]).isEmpty)
        // Without the helper's lock the same use is reported.
        files["drivers/widget/core.c"] = files["drivers/widget/core.c"]?.replacingOccurrences(of: "\tdown_read(&w->sem);\n\tif", with: "\tif")
        #expect(Analyzer.findings(analyse(files), checks: [UnrevokedProviderOpsCheck()]).count == 1)
    }

    /// A provider's own ops, placed in its static table in another file, use its state freely.
    @Test func providerOwnOpsAreNotUseSites() {
        var files = ProviderFixture.core(use: "\treturn 0;\n", teardown: "", marker: false)
        files["drivers/widget/prov.c"] = """
            #include <linux/device.h>
            #include <linux/widget.h>
            struct widget_ops { int (*peek)(struct widget_device *w); };
            static int prov_peek(struct widget_device *w)
            {
            \treturn w->reg_read(w->priv, 0);
            }
            static const struct widget_ops prov_ops = { .peek = prov_peek };
            """
        #expect(Analyzer.findings(analyse(files), checks: [UnrevokedProviderOpsCheck()]).isEmpty)
        files["drivers/widget/prov.c"]? += "int prov_export(struct widget_device *w) { return prov_peek(w); }\nEXPORT_SYMBOL(prov_export);\n"
        #expect(Analyzer.findings(analyse(files), checks: [UnrevokedProviderOpsCheck()]).isEmpty)
    }

    /// A lookup that hands out a bare pointer (no counted reference) is another bug.
    @Test func lookupsWithoutACountedReferenceDoNotHandOut() {
        var files = ProviderFixture.core(use: ProviderFixture.plainUse, teardown: "", marker: false)
        #expect(Analyzer.findings(analyse(files), checks: [UnrevokedProviderOpsCheck()]).count == 1)
        files["drivers/widget/core.c"] = files["drivers/widget/core.c"]?.replacingOccurrences(of: "\tget_device(&w->dev);\n", with: "")
        #expect(Analyzer.findings(analyse(files), checks: [UnrevokedProviderOpsCheck()]).isEmpty)
    }

    /// A consumer path that holds the lock unregister takes to tear the object down.
    @Test func usesReachedUnderTheTeardownLockAreProtected() {
        var files = ProviderFixture.core(use: ProviderFixture.plainUse, teardown: "\tmutex_lock(&w->lock);\n\tmutex_unlock(&w->lock);\n", marker: false)
        files["drivers/widget/core.c"] = files["drivers/widget/core.c"]?.replacingOccurrences(of: "\treturn widget_do_read(w, off);", with: "\tmutex_lock(&w->lock);\n\treturn widget_do_read(w, off);")
        #expect(Analyzer.findings(analyse(files), checks: [UnrevokedProviderOpsCheck()]).isEmpty)
    }

    @Test func srcuWithoutTheNullCheckIsReportedAtTheUse() throws {
        let use = ProviderFixture.srcuUse.replacingOccurrences(of: "\tif (fn)\n\t\t", with: "\t")
        let f = try #require(findings(use: use, teardown: ProviderFixture.srcuTeardown).first)
        #expect(f.function == "widget_unregister")
        #expect(f.message.contains("widget_unregister() clears them, but no user re-checks them under that protection"))
        #expect(f.notes.contains { $0.line == line(of: "ret = fn(w->priv", use: use, teardown: ProviderFixture.srcuTeardown) && $0.message.contains("never checked for NULL") })
    }

    @Test func srcuWithoutClearingIsReportedAtUnregister() throws {
        let all = findings(use: ProviderFixture.srcuUse, teardown: "\tsynchronize_srcu(&w->srcu);\n")
        #expect(all.map(\.function) == ["widget_unregister"])
        #expect(all.first?.notes.contains { $0.message.contains("unregister does not clear it and synchronize") } == true)
    }

    @Test func lockWithoutTheCheckIsReported() throws {
        let use = Self.lockUse.replacingOccurrences(of: "\tif (w->reg_read)\n\t\t", with: "\t")
        let f = try #require(findings(use: use, teardown: Self.lockTeardown).first)
        #expect(f.function == "widget_unregister")
        #expect(f.notes.contains { $0.message.contains("holds widget_device.lock, which unregister takes, but does not re-check") })
    }

    @Test func lockRemovedFromTheUseIsReported() throws {
        let use = Self.lockUse.replacingOccurrences(of: "\tmutex_lock(&w->lock);\n", with: "").replacingOccurrences(of: "\tmutex_unlock(&w->lock);\n", with: "")
        let f = try #require(findings(use: use, teardown: Self.lockTeardown).first)
        #expect(f.notes.contains { $0.message.contains("reg_read: checked without a lock that unregister takes") })
    }

    @Test func lockWithoutClearingIsReportedAtUnregister() {
        #expect(findings(use: Self.lockUse, teardown: "\tmutex_lock(&w->lock);\n\tmutex_unlock(&w->lock);\n").map(\.function) == ["widget_unregister"])
    }

    @Test func pointerReadBeforeTheLockIsReported() throws {
        let use = """
            \tint (*fn)(void *priv, int off) = w->reg_read;
            \tint ret = -19;
            \tmutex_lock(&w->lock);
            \tif (fn)
            \t\tret = fn(w->priv, off);
            \tmutex_unlock(&w->lock);
            \treturn ret;

            """
        let f = try #require(findings(use: use, teardown: Self.lockTeardown).first)
        #expect(f.notes.contains { $0.message.contains("reads reg_read before taking the lock that unregister takes")
            && $0.line == line(of: "ret = fn(w->priv", use: use, teardown: Self.lockTeardown) })
    }

    @Test func flagCheckedWithoutTheLockIsReported() throws {
        let use = Self.flagUse.replacingOccurrences(of: "\tmutex_lock(&w->lock);\n", with: "").replacingOccurrences(of: "\tmutex_unlock(&w->lock);\n", with: "")
        let f = try #require(findings(use: use, teardown: Self.flagTeardown).first)
        #expect(f.function == "widget_unregister")
        #expect(f.notes.contains { $0.message.contains("reg_read: checked without a lock that unregister takes") })
    }

    /// A pointer of the object's own cleared under a lock (a lock's owner task) is no flag:
    /// the core neither revokes nor waits.
    @Test func aPointerClearedUnderALockIsNoFlag() throws {
        let teardown = "\tmutex_lock(&w->lock);\n\tw->owner = NULL;\n\tmutex_unlock(&w->lock);\n"
        var files = ProviderFixture.core(use: ProviderFixture.plainUse, teardown: teardown, marker: false)
        files["include/linux/widget.h"] = files["include/linux/widget.h"]?.replacingOccurrences(of: "int exists;", with: "int exists; struct task_struct *owner;")
        let f = try #require(Analyzer.findings(analyse(files), checks: [UnrevokedProviderOpsCheck()]).first)
        #expect(f.message.contains("widget_unregister() neither revokes them nor waits for users"))
        // The same clearing of the scalar flag is a revocation (that no user re-checks).
        let flag = try #require(findings(use: ProviderFixture.plainUse, teardown: Self.flagTeardown).first)
        #expect(flag.message.contains("widget_unregister() clears them, but no user re-checks them under that protection"))
    }

    /// An unregister that warns when consumers still count (`WARN_ON(x->users)`) makes their
    /// going first a contract: a warning, with the assertion as evidence.
    @Test func anUnregisterAssertingNoUsersMakesAWarning() throws {
        var files = ProviderFixture.core(use: ProviderFixture.plainUse, teardown: "\tWARN_ON(w->users);\n", marker: false)
        files["include/linux/widget.h"] = files["include/linux/widget.h"]?.replacingOccurrences(of: "int exists;", with: "int exists; int users;")
        let all = Analyzer.findings(analyse(files), checks: [UnrevokedProviderOpsCheck()])
        #expect(all.count == 1)
        let f = try #require(all.first)
        #expect(f.severity == .warning && f.function == "widget_unregister")
        #expect(f.message.hasSuffix("; but widget_unregister() warns if w->users is not zero when it runs: by the core's contract, consumers let go before the provider is unbound, and nothing enforces it"))
        #expect(f.notes.last?.message == "widget_unregister() warns if w->users is not zero when it runs")
        // A pointer is no count of users.
        files["include/linux/widget.h"] = files["include/linux/widget.h"]?.replacingOccurrences(of: "int users;", with: "void *users;")
        #expect(Analyzer.findings(analyse(files), checks: [UnrevokedProviderOpsCheck()]).map(\.severity) == [.error])
    }

    /// A use that escaped the lock in a core whose other users take it: reported at the use.
    @Test func oneUnprotectedUseInARevokingCoreIsReportedAtTheUse() throws {
        var files = ProviderFixture.core(use: Self.lockUse, teardown: Self.lockTeardown, marker: false)
        files["drivers/widget/core.c", default: ""] += """

            int widget_peek(struct widget_device *w)
            {
            	return w->reg_read(w->priv, 0);
            }
            EXPORT_SYMBOL(widget_peek);
            """
        let all = Analyzer.findings(analyse(files), checks: [UnrevokedProviderOpsCheck()])
        let f = try #require(all.first)
        #expect(all.count == 1)
        #expect(f.function == "widget_peek" && f.protection == "revocation")
        #expect(f.message.hasPrefix("widget_peek() uses the provider's priv, reg_read of struct widget_device unprotected (no lock, SRCU/RCU read section or check protects it), although unregister revokes them"))
        // Revoked under a lock, not SRCU: the fix names the lock, and SRCU for atomic users.
        #expect(f.fix == "in widget_peek(), use priv, reg_read only while holding lock of struct widget_device, the lock unregister clears them under, and re-check them for NULL there, as the core's other users do; if widget_peek() can run in atomic context and lock of struct widget_device sleeps (a mutex or rw_semaphore), the core needs SRCU instead: unregister clears priv, reg_read and calls synchronize_srcu(), and every user takes srcu_read_lock() and re-checks them", "\(f.fix)")
    }

    /// An ops table may hold a few sizes and flags among its callbacks (two thirds or more
    /// callbacks).
    @Test(arguments: [("\tint hdr;\n", 1), ("\tint hdr;\n\tint flags;\n", 0)])
    func opsTablesWithSomeDataAreProviderOwned(_ data: String, _ expected: Int) {
        var files = ProviderFixture.core(use: "\treturn w->ops->peek(w, off);\n", teardown: "", marker: false)
        files["include/linux/widget.h"] = ProviderFixture.header.replacingOccurrences(of: "int exists;", with: "int exists; const struct widget_ops *ops;")
            .replacingOccurrences(of: "struct widget_config {", with: """
                struct widget_device;
                struct widget_ops {
                \(data)\tint (*peek)(struct widget_device *w, int off);
                \tint (*poke)(struct widget_device *w, int off);
                };
                struct widget_config { const struct widget_ops *ops;
                """)
        files["drivers/widget/core.c"] = files["drivers/widget/core.c"]?.replacingOccurrences(
            of: "\tw->reg_read = config->reg_read;\n\tw->priv = config->priv;\n", with: "\tw->ops = config->ops;\n")
        let all = Analyzer.findings(analyse(files), checks: [UnrevokedProviderOpsCheck()])
        #expect(all.count == expected)
        if expected == 1 { #expect(all.first?.members == ["ops"] && all.first?.function == "widget_unregister") }
    }

    /// A second register function whose error path unregisters again is not the teardown.
    @Test func aRegisterFunctionIsNeverTheTeardown() {
        var files = ProviderFixture.core(use: ProviderFixture.plainUse, teardown: "", marker: false)
        files["drivers/widget/core.c", default: ""] += """

            int widget_add(struct widget_device *w)
            {
            \tint ret = device_add(&w->dev);
            \tif (!w->priv) {
            \t\twidget_unregister(w);
            \t\treturn -1;
            \t}
            \treturn ret;
            }
            EXPORT_SYMBOL(widget_add);
            """
        #expect(Analyzer.findings(analyse(files), checks: [UnrevokedProviderOpsCheck()]).map(\.function) == ["widget_unregister"])
    }

    /// A consumer-side function that drops its own lookup on its failure path reaches the
    /// put, but a provider that registers in its probe and unregisters in its remove names
    /// the teardown: the finding sits on the unregister.
    @Test func theProvidersPairingNamesTheTeardown() {
        var files = ProviderFixture.core(use: ProviderFixture.plainUse, teardown: "", marker: false)
        files["drivers/widget/core.c", default: ""] += """

            struct widget_host { struct widget_device *w; int fail; };
            void widget_put(struct widget_device *w)
            {
            \tput_device(&w->dev);
            }
            EXPORT_SYMBOL(widget_put);
            int widget_attach(struct widget_host *h)
            {
            \tstruct widget_device *w = widget_find("x");
            \tif (h->fail) {
            \t\twidget_put(w);
            \t\treturn -1;
            \t}
            \th->w = w;
            \treturn 0;
            }
            EXPORT_SYMBOL(widget_attach);
            """
        files["drivers/misc/foo.c"] = """
            #include <linux/widget.h>
            struct foo { struct widget_device *w; struct widget_config cfg; };
            static int foo_probe(struct platform_device *pdev)
            {
            \tstruct foo *foo = devm_kzalloc(&pdev->dev, sizeof(*foo), GFP_KERNEL);
            \tfoo->w = widget_register(&foo->cfg);
            \tplatform_set_drvdata(pdev, foo);
            \treturn 0;
            }
            static void foo_remove(struct platform_device *pdev)
            {
            \tstruct foo *foo = platform_get_drvdata(pdev);
            \twidget_unregister(foo->w);
            }
            """
        #expect(Analyzer.findings(analyse(files), checks: [UnrevokedProviderOpsCheck()]).map(\.function) == ["widget_unregister"])
    }

    /// The provider-facing teardown may reach the object's unregister through a function-like
    /// macro of the core (`#define gcdev_unregister(g) gpiolib_cdev_unregister((g))`): it is
    /// still a teardown, and the provider's pairing names it.
    @Test func aTeardownReachingTheUnregisterThroughAMacroIsOne() {
        var files = ProviderFixture.core(use: ProviderFixture.plainUse, teardown: "", marker: false)
        files["drivers/widget/core.c", default: ""] += """

            #define widget_dev_unregister(w) widget_unregister((w))
            struct widget_chip { struct widget_device *w; };
            void widget_chip_remove(struct widget_chip *c)
            {
            \twidget_dev_unregister(c->w);
            }
            EXPORT_SYMBOL(widget_chip_remove);
            """
        files["drivers/misc/foo.c"] = """
            #include <linux/widget.h>
            struct foo { struct widget_chip chip; struct widget_config cfg; };
            static int foo_probe(struct platform_device *pdev)
            {
            \tstruct foo *foo = devm_kzalloc(&pdev->dev, sizeof(*foo), GFP_KERNEL);
            \tfoo->chip.w = widget_register(&foo->cfg);
            \tplatform_set_drvdata(pdev, foo);
            \treturn 0;
            }
            static void foo_remove(struct platform_device *pdev)
            {
            \tstruct foo *foo = platform_get_drvdata(pdev);
            \twidget_chip_remove(&foo->chip);
            }
            """
        #expect(Analyzer.findings(analyse(files), checks: [UnrevokedProviderOpsCheck()]).map(\.function) == ["widget_chip_remove"])
    }

    @Test func subsystemsSayRevocationWithTheEvidence() throws {
        let ctx = analyse(ProviderFixture.core(use: ProviderFixture.srcuUse, teardown: ProviderFixture.srcuTeardown, marker: false))
        let obj = try #require(ctx.subsystems.objects.values.first { $0.name == "widget_device" })
        #expect(obj.protection == .revocation)
        #expect(obj.evidence.map(\.message).prefix(2) == ["widget_unregister() clears w->reg_read", "widget_unregister() waits for readers (synchronize)"])
    }
}
