import Testing
@testable import Analysis
@testable import Checks
@testable import Findings

/// `unrevoked-provider-ops` and a core's calling contract: an exported helper that uses the
/// provider's callbacks unprotected, documented as "call with the ops held", is no consumer
/// entry when every caller in the tree first takes the ops through the core's get helper.
@Suite struct ProviderContractTests {
    /// The fixture core, revoking under a lock: `widget_try_get()` returns holding it after
    /// re-checking the callback, `widget_read()` uses the callback as the contract allows.
    func core() -> [String: String] {
        let teardown = "\tdown_write(&w->sem);\n\tw->reg_read = NULL;\n\tup_write(&w->sem);\n"
        var files = ProviderFixture.core(use: ProviderFixture.plainUse, teardown: teardown, marker: false)
        files["include/linux/widget.h"] = files["include/linux/widget.h"]?.replacingOccurrences(of: "struct mutex lock;", with: "struct mutex lock; struct rw_semaphore sem;")
        files["drivers/widget/core.c", default: ""] += "\n" + ProviderFixture.tryGet(exported: true) + """
            void widget_put_ops(struct widget_device *w)
            {
            \tup_read(&w->sem);
            }
            EXPORT_SYMBOL(widget_put_ops);
            """
        return files
    }

    /// A consumer in another subsystem that keeps the contract, through a static helper.
    static let keepingUser = """
        #include <linux/widget.h>
        static int user_load(struct widget_device *w)
        {
        \treturn widget_read(w, 4);
        }
        int user_op(struct widget_device *w)
        {
        \tint ret;
        \tif (widget_try_get(w))
        \t\treturn -19;
        \tret = user_load(w);
        \twidget_put_ops(w);
        \treturn ret;
        }
        EXPORT_SYMBOL(user_op);

        """

    func findings(_ files: [String: String]) -> [Finding] {
        Analyzer.findings(analyse(files), checks: [UnrevokedProviderOpsCheck()])
    }

    @Test func helpersCalledOnlyWithTheOpsHeldAreNotEntries() {
        var files = core()
        files["security/user/user.c"] = Self.keepingUser
        #expect(findings(files).isEmpty)
    }

    @Test func oneCallerWithoutTheOpsBreaksTheContract() throws {
        var files = core()
        files["security/user/user.c"] = Self.keepingUser + "int user_peek(struct widget_device *w)\n{\n\treturn widget_read(w, 0);\n}\nEXPORT_SYMBOL(user_peek);\n"
        let all = findings(files)
        #expect(all.count == 1)
        let f = try #require(all.first)
        #expect(f.function == "widget_unregister" && f.useSites.map(\.entry) == ["widget_read"])
        #expect(f.message.contains("widget_unregister() clears them, but no user re-checks them under that protection: widget_do_read()"))
    }

    /// The tree's callers are all it can read: a helper nobody calls stays an entry.
    @Test func aHelperNobodyCallsStaysAnEntry() {
        #expect(findings(core()).map(\.function) == ["widget_unregister"])
    }

    /// A provider calls the helper on its own object while bound.
    @Test func providersKeepTheContract() {
        var files = core()
        files["drivers/misc/prov.c"] = """
            #include <linux/widget.h>
            static struct widget_config cfg;
            static int prov_probe(struct platform_device *pdev)
            {
            \tstruct widget_device *w = widget_register(&cfg);
            \treturn widget_read(w, 0);
            }
            static int prov_resume(struct device *dev)
            {
            \treturn widget_read(dev_get_drvdata(dev), 0);
            }
            """
        #expect(findings(files).isEmpty)
    }
}
