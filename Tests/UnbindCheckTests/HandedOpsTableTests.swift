import Testing
@testable import Facts
@testable import CFrontend
@testable import Indexing
@testable import Analysis
@testable import Findings
@testable import Checks

/// `devm-embedded-refcount`: an object handed to a core together with an ops table whose
/// slot registers it later (`snd_device_new(card, type, obj, &ops)` with `.dev_register`)
/// is published, by the object's type, not only initialized.
@Suite struct HandedOpsTableTests {
    static let header = """
        #include <linux/device.h>
        struct holder_entry { void *entry_data; };
        struct holder_ops { int (*entry_register)(struct holder_entry *h); void (*entry_free)(struct holder_entry *h); };
        struct tile { struct device dev; int id; };
        struct plate { struct device dev; int id; };
        int holder_entry_new(void *data, const struct holder_ops *ops);
        int tile_new(struct tile *t);
        """

    /// A core whose `tile_new()` initializes the tile's device and hands the tile with an
    /// ops table (`table`: a static local or a file-scope one) whose slot `registered` names
    /// what the slot registers.
    static func core(fileScopeTable: Bool = false, registered: String = "struct tile") -> String {
        let table = """
            static const struct holder_ops tile_ops = {
                    .entry_register = tile_entry_register,
                    .entry_free = tile_entry_free,
            };
            """
        return """
            #include <linux/tiles.h>
            static int tile_entry_register(struct holder_entry *h)
            {
                    \(registered) *t = h->entry_data;
                    return device_add(&t->dev);
            }
            static void tile_entry_free(struct holder_entry *h)
            {
            }
            \(fileScopeTable ? table : "")
            int tile_new(struct tile *t)
            {
                    \(fileScopeTable ? "" : table)
                    device_initialize(&t->dev);
                    return holder_entry_new(t, &tile_ops);
            }
            """
    }

    static let driver = """
        #include <linux/tiles.h>
        static int tile_probe(struct platform_device *pdev)
        {
                struct tile *t = devm_kzalloc(&pdev->dev, sizeof(*t), GFP_KERNEL);
                if (!t)
                        return -12;
                return tile_new(t);
        }
        """

    static func tree(core: String) -> [String: String] {
        ["include/linux/tiles.h": header, "sound/core/tile.c": core, "sound/soc/tile-drv.c": driver]
    }

    @Test(arguments: [false, true])
    func anObjectHandedWithAnOpsTableIsPublishedByItsSlot(fileScopeTable: Bool) throws {
        let found = findings(of: "devm-embedded-refcount", in: Self.tree(core: Self.core(fileScopeTable: fileScopeTable)))
        #expect(found.map { "\($0.file):\($0.line) \($0.chain.joined(separator: " → "))" } == ["sound/soc/tile-drv.c:4 tile → device"])
        let f = try #require(found.first)
        #expect(f.severity != .note)
        #expect(f.message.contains("(tile → device) registered through tile_new();"))
        let publish = try #require(f.notes.first { $0.kind == .publish })
        #expect(publish.line == 7)
        #expect(publish.message == "tile_new() publishes t->dev to the driver core: in tile_new(), holder_entry_new() is handed it "
                + "with tile_ops, whose .entry_register slot (tile_entry_register()) registers it later")
    }

    @Test func aSlotThatRegistersAnotherTypeLeavesTheObjectInitializedOnly() throws {
        let found = findings(of: "devm-embedded-refcount", in: Self.tree(core: Self.core(registered: "struct plate")))
        let f = try #require(found.first)
        #expect(found.count == 1)
        #expect(f.severity == .note)
        #expect(f.message.contains("initialized by tile_new() (no call that publishes it was found)"))
    }

    @Test func aDriverHandingItsOwnTableIsReadToo() throws {
        let driver = """
            #include <linux/tiles.h>
            static int tile_entry_add(struct holder_entry *h)
            {
                    struct tile *t = h->entry_data;
                    return device_register(&t->dev);
            }
            static const struct holder_ops my_ops = { .entry_register = tile_entry_add };
            static int tile_probe(struct platform_device *pdev)
            {
                    struct tile *t = devm_kzalloc(&pdev->dev, sizeof(*t), GFP_KERNEL);
                    return holder_entry_new(t, &my_ops);
            }
            """
        let found = findings(of: "devm-embedded-refcount", in: ["include/linux/tiles.h": Self.header, "sound/soc/tile-drv.c": driver])
        #expect(found.map { "\($0.file):\($0.line)" } == ["sound/soc/tile-drv.c:10"])
        let publish = try #require(found.first?.notes.first { $0.kind == .publish })
        #expect(publish.line == 11)
        #expect(publish.message == "holder_entry_new() publishes t->dev to the driver core: holder_entry_new() is handed it "
                + "with my_ops, whose .entry_register slot (tile_entry_add()) registers it later")
    }
}
