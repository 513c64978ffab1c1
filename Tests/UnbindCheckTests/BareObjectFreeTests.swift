import Testing
@testable import Facts
@testable import CFrontend
@testable import Indexing
@testable import Analysis
@testable import Findings
@testable import Checks

/// `kfree-outside-release` for a core object allocated on its own (no struct embeds it):
/// freed with `kfree()` on the failure path of its own registration.
@Suite struct BareObjectFreeTests {
    static func file(_ onFailure: String, target: String = "k") -> [String: String] {
        ["kernel/knobs.c": """
            #include <linux/device.h>
            struct knob_dir { struct kobject *child; };
            int kobject_init_and_add(struct kobject *kobj, const void *ktype, struct kobject *parent, const char *fmt, ...);
            static const int knob_ktype;
            int knob_dir_add(struct knob_dir *d, struct kobject *parent)
            {
                    struct kobject *k;
                    int err;

                    \(target) = kzalloc(sizeof(struct kobject), 0);
                    if (!\(target))
                            return -12;
                    err = kobject_init_and_add(\(target), &knob_ktype, parent, "knobs");
                    if (err) {
            \(onFailure)
                            return err;
                    }
                    return 0;
            }
            """]
    }

    @Test func aBareKobjectFreedOnItsRegistrationsFailureIsReported() throws {
        let found = findings(of: "kfree-outside-release", in: Self.file("                kfree(k);"))
        #expect(found.map { "\($0.file):\($0.line):\($0.column) \($0.severity)" } == ["kernel/knobs.c:15:17 warning"])
        let f = try #require(found.first)
        #expect(f.message == "'struct kobject' k, allocated on its own, is freed with kfree() on the error path of kobject_init_and_add(), which must be undone with kobject_put(): the reference count is initialized and the name it set leaks; free it in the release callback instead")
        #expect(f.notes.map { "\($0.kind) \($0.line)" } == ["allocation 10", "publish 13"])
        #expect(f.fix.hasPrefix("call kobject_put() instead of kfree() on this error path"))
        // Held in a member of a parameter (`d->child`), the same.
        #expect(findings(of: "kfree-outside-release", in: Self.file("                kfree(d->child);", target: "d->child")).count == 1)
    }

    @Test func aPutOnTheFailurePathIsRight() {
        #expect(findings(of: "kfree-outside-release", in: Self.file("                kobject_put(k);")).isEmpty)
    }
}
