import Testing
@testable import Facts
@testable import Indexing
@testable import Analysis
@testable import Findings
@testable import Checks

/// Outside reference holders the object's own core does not show: code elsewhere hands the
/// object's device to a function that stores a counted reference on it (a sound card's
/// parent), so the device can outlive the driver's devm memory.
@Suite struct ReferenceKeeperTests {
    /// `VerdictTests.plainCore` (a core with no holder of its own) plus a card library whose
    /// constructor keeps its parent, and a user of the lcd that parents a card to one.
    static func files(user: String, keeper: String = "c->dev = get_device(parent);") -> [String: String] {
        var files = VerdictTests.plainCore(holder: false)
        files["sound/core/card.c"] = """
            #include <linux/device.h>
            struct card { int n; struct device *dev; };
            static void card_init(struct card *c, struct device *parent) { \(keeper) }
            struct card *card_new(struct device *parent)
            {
                    struct card *c = kzalloc(sizeof(*c), 0);
                    card_init(c, parent);
                    return c;
            }
            """
        files["drivers/lcd/audio.c"] = """
            #include <linux/lcd.h>
            struct card *card_new(struct device *parent);
            int lcd_audio_bind(struct lcd *l) { \(user) return 0; }
            """
        return files
    }

    @Test func aCardParentedToTheDeviceIsAnOutsideHolder() throws {
        let files = Self.files(user: "card_new(&l->dev);")
        let held = VerdictTests().run("devm-embedded-refcount", files)
        #expect(held.map(\.severity) == [.error])
        let note = try #require(held.first?.notes.first { $0.kind == .reference })
        #expect(note.message == "users can hold a reference: lcd_audio_bind() hands &l->dev to card_new(), which keeps a counted reference on it (card_init(): c->dev = get_device(parent))")
        #expect(note.file == "drivers/lcd/audio.c")
        #expect(note.line == 3)
        // The keepers: the storing function, and each passing its parameter (or its device) on.
        let ctx = analyse(files)
        let names = ctx.referenceKeepers.keeps.keys.map { ctx.index.function($0).name }.sorted()
        #expect(names == ["card_init", "card_new", "lcd_audio_bind"])
    }

    /// A reference taken and not stored, a keeper handed another member, or a keeper
    /// called only from the core's own files holds nothing from outside.
    @Test func aTemporaryGetOrAnotherMemberOrTheCoresOwnCallIsNoHolder() {
        let checks = VerdictTests()
        let temporary = Self.files(user: "card_new(&l->dev);", keeper: "get_device(parent); c->n = 1; put_device(parent);")
        #expect(checks.run("devm-embedded-refcount", temporary).map(\.severity) == [.warning])
        var other = Self.files(user: "card_new(l->dev.parent);")
        #expect(checks.run("devm-embedded-refcount", other).map(\.severity) == [.warning])
        other = Self.files(user: "")
        other["drivers/lcd/core.c"]! += "\nstruct card *card_new(struct device *parent);\nint lcd_card(struct lcd *l) { card_new(&l->dev); return 0; }\n"
        #expect(checks.run("devm-embedded-refcount", other).map(\.severity) == [.warning])
    }
}
