import Testing
@testable import Facts
@testable import CFrontend
@testable import Indexing
@testable import Analysis
@testable import Findings
@testable import Checks

/// A helper that returns a path inside its argument (`static inline struct flash_info
/// *to_flash(struct chip *c) { return &c->flash; }`) stands for that path where it is
/// called, so an object registered through it is the caller's member; and a teardown that
/// waits for its own release (`kobject_put(k); wait_for_completion(&holder->done);`) is
/// over before a later `kfree()`.
@Suite struct ReturnedPathTests {
    /// The flash core of the check's own example (`Tests/Fixtures/devm-embedded-refcount`).
    static func example(_ path: String) -> String {
        let url = GoldenTests.fixtures.appendingPathComponent("devm-embedded-refcount/triggering-1/" + path)
        return (try? String(contentsOf: url, encoding: .utf8)) ?? ""
    }
    static let flashHeader = example("include/linux/flash.h")
    static let flashCore = example("drivers/mtd/core.c")

    /// A driver whose devm-allocated chip embeds the flash, registered through `helper`.
    static func driver(helper: String, register: String) -> [String: String] {
        [
            "include/linux/flash.h": flashHeader,
            "drivers/mtd/core.c": flashCore,
            "drivers/mtd/chip.c": """
                #include <linux/flash.h>
                struct chip { int id; struct flash_info flash; };
                \(helper)
                static int chip_probe(struct platform_device *pdev)
                {
                        struct chip *c;
                        struct flash_info *f;
                        c = devm_kzalloc(&pdev->dev, sizeof(*c), GFP_KERNEL);
                        if (!c)
                                return -ENOMEM;
                        \(register)
                }
                """,
        ]
    }

    static let toFlash = "static struct flash_info *to_flash(struct chip *c) { return &c->flash; }"

    func devm(_ files: [String: String]) -> [String] {
        findings(of: "devm-embedded-refcount", in: files).map { "\($0.file):\($0.line) \($0.severity) \($0.chain.joined(separator: " → "))" }
    }

    @Test func aMemberReturnedByAHelperIsTheArgumentsMember() {
        let expected = ["drivers/mtd/chip.c:8 error chip → flash_info → device"]
        #expect(devm(Self.driver(helper: Self.toFlash, register: "return flash_register(to_flash(c));")) == expected)
        #expect(devm(Self.driver(helper: Self.toFlash, register: "f = to_flash(c);\n return flash_register(f);")) == expected)
        // Through a local in the helper, with error returns passed over.
        let guarded = """
            static struct flash_info *to_flash(struct chip *c)
            {
                    struct flash_info *f = &c->flash;
                    if (!c)
                            return NULL;
                    if (c->id < 0)
                            return ERR_PTR(-22);
                    return f;
            }
            """
        #expect(devm(Self.driver(helper: guarded, register: "return flash_register(to_flash(c));")) == ["drivers/mtd/chip.c:16 error chip → flash_info → device"])
    }

    @Test func aHelperReturningDifferentObjectsStaysOpaque() {
        let either = """
            static struct chip spare;
            static struct flash_info *to_flash(struct chip *c)
            {
                    if (c->id)
                            return &c->flash;
                    return &spare.flash;
            }
            """
        #expect(devm(Self.driver(helper: either, register: "return flash_register(to_flash(c));")).isEmpty)
    }

    /// `remove` frees a holder after `release_holder()`, which drops the kobject and, with
    /// `wait`, waits for the completion its release signals.
    static func holder(wait: Bool) -> [String: String] {
        [
            "drivers/md/holder.c": """
                #include <linux/device.h>
                struct holder { struct kobject kobj; struct completion done; };
                struct mapped { int minor; struct holder h; };
                static struct kobject *to_kobj(struct mapped *m) { return &m->h.kobj; }
                static struct completion *to_done(struct kobject *k) { return &container_of(k, struct holder, kobj)->done; }
                static void holder_release(struct kobject *k) { complete(to_done(k)); }
                static const struct kobj_type holder_ktype = { .release = holder_release };
                void release_holder(struct mapped *m)
                {
                        struct kobject *k = to_kobj(m);
                        kobject_put(k);
                        \(wait ? "wait_for_completion(to_done(k));" : "")
                }
                static void mapped_free(struct mapped *m)
                {
                        release_holder(m);
                        kfree(m);
                }
                """,
        ]
    }

    @Test func aTeardownThatWaitsForItsReleaseIsOverBeforeTheFree() {
        #expect(findings(of: "kfree-outside-release", in: Self.holder(wait: true)).isEmpty)
        let unwaited = findings(of: "kfree-outside-release", in: Self.holder(wait: false))
        #expect(unwaited.map { "\($0.file):\($0.line) \($0.function)" } == ["drivers/md/holder.c:17 mapped_free"])
        #expect(unwaited.first?.message.contains("right after release_holder() dropped its reference") == true)
    }

    /// A wait for another object's release (`i2c_del_adapter()` waiting for the adapter)
    /// does not make the teardown of the video device in the same call a waited one.
    @Test func aWaitForAnotherObjectDoesNotCount() {
        var files = Self.holder(wait: false)
        files["drivers/md/holder.c"] = files["drivers/md/holder.c"]!.replacingOccurrences(
            of: "struct mapped { int minor; struct holder h; };",
            with: "struct other { struct device dev; struct completion gone; };\nstruct mapped { int minor; struct holder h; struct other o; };"
        ).replacingOccurrences(of: "        kobject_put(k);\n", with: "        kobject_put(k);\n        device_unregister(&m->o.dev);\n        wait_for_completion(&m->o.gone);\n")
        let found = findings(of: "kfree-outside-release", in: files)
        #expect(found.map(\.function) == ["mapped_free"])
    }
}
