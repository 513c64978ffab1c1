import Testing
@testable import Analysis
@testable import Findings
@testable import Checks

/// `missing-release` on an object that is one element of an array of structs: the fix must
/// not tell a release to `kfree()` one element.
@Suite struct ArrayElementTests {
    /// Channels allocated as one array; a helper registers each through a parameter, the
    /// caller passes `&info->chans[i]` (`element`), or a single object.
    static func files(_ element: String) -> [String: String] {
        ["arch/sh/drivers/dma/chan.c": """
            #include <linux/device.h>
            struct chan { int nr; struct device dev; };
            struct chan_info { int count; struct chan *chans; };
            static int chan_sysfs_add(struct chan *c)
            {
                    struct device *dev = &c->dev;

                    dev->id = c->nr;
                    return device_register(dev);
            }
            int chan_info_register(struct chan_info *info)
            {
                    int i;

                    info->chans = kzalloc(sizeof(struct chan) * info->count, 0);
                    for (i = 1; i < info->count; i++) {
                            struct chan *c = \(element);

                            chan_sysfs_add(c);
                    }
                    return 0;
            }
            """]
    }

    @Test func anArrayElementsFixDoesNotFreeOneElement() throws {
        let found = findings(of: "missing-release", in: Self.files("&info->chans[i]"))
        #expect(found.map { "\($0.file):\($0.line) \($0.severity)" } == ["arch/sh/drivers/dma/chan.c:9 warning"])
        let f = try #require(found.first)
        #expect(f.notes.map { "\($0.kind) \($0.line) \($0.message)" }.last
                == "allocation 19 the object is an element of the array info->chans (in chan_info_register()): only the whole array was allocated")
        #expect(f.fix.hasPrefix("a release cannot kfree() one element of info->chans: give the device a release that frees nothing, and free the array only after every element's release has run"), "\(f.fix)")
        #expect(f.fix.hasSuffix("or allocate each struct chan on its own (kzalloc(), and keep pointers in the array) with a release that kfree()s it (container_of())"), "\(f.fix)")
    }

    @Test func aSingleObjectKeepsTheUsualFix() throws {
        let f = try #require(findings(of: "missing-release", in: Self.files("kzalloc(sizeof(struct chan), 0)")).first)
        #expect(!f.notes.contains { $0.message.contains("element of the array") })
        #expect(f.fix.hasSuffix("that kfree()s struct chan via container_of()"), "\(f.fix)")
        // Index 0 may be one object used as an array of one: not an element.
        let first = try #require(findings(of: "missing-release", in: Self.files("&info->chans[0]")).first)
        #expect(!first.notes.contains { $0.message.contains("element of the array") })
    }
}
