import Testing
@testable import Facts
@testable import CFrontend
@testable import Indexing
@testable import Analysis
@testable import Findings
@testable import Checks

/// `devm-embedded-refcount`: a devm array whose elements reach the registering function
/// through a list, not a parameter of the allocating function, is linked to it by the
/// struct's type, when every instance of the struct is that device-managed memory.
@Suite struct RegisteredElsewhereTests {
    /// A driver that allocates zones with `allocation`, queues them on a list and registers
    /// each in another function; `extra` is more code of the file.
    static func driver(allocation: String = "devm_kcalloc(&pdev->dev, n, sizeof(*z), GFP_KERNEL)", extra: String = "") -> [String: String] {
        [
            "include/linux/flash.h": ReturnedPathTests.flashHeader,
            "drivers/mtd/core.c": ReturnedPathTests.flashCore,
            "drivers/mtd/zones.c": """
                #include <linux/flash.h>
                struct zone { struct list_head node; struct flash_info flash; };
                struct zones { struct list_head list; struct zone *all; };
                static int zone_add(struct zones *zs)
                {
                        struct zone *z = list_first_entry(&zs->list, struct zone, node);
                        return flash_register(&z->flash);
                }
                static int zones_probe(struct platform_device *pdev, int n)
                {
                        struct zones *zs = devm_kzalloc(&pdev->dev, sizeof(*zs), GFP_KERNEL);
                        struct zone *z;
                        zs->all = \(allocation);
                        z = zs->all;
                        list_add_tail(&z->node, &zs->list);
                        return zone_add(zs);
                }
                \(extra)
                """,
        ]
    }

    @Test func aZoneRegisteredFromAListIsTheDevmArrays() throws {
        let found = findings(of: "devm-embedded-refcount", in: Self.driver())
        #expect(found.map { "\($0.file):\($0.line) \($0.severity) \($0.chain.joined(separator: " → "))" }
                == ["drivers/mtd/zones.c:13 error zone → flash_info → device"])
        let f = try #require(found.first)
        #expect(f.message.hasPrefix("'struct zone' is allocated with devm_kcalloc() but embeds a refcounted struct device (zone → flash_info → device) registered through flash_register() in zone_add(); "))
        let publish = try #require(f.notes.first { $0.kind == .publish })
        #expect(publish.line == 7)
        #expect(publish.message.hasPrefix("flash_register() in zone_add() publishes z->flash.dev"))
        #expect(publish.message.hasSuffix("zone_add() reaches it by type: every struct zone is allocated with devm_* and none is declared by value"))
    }

    @Test func anotherInstanceOfTheStructBreaksTheLink() {
        // A heap allocation of the same struct: the registered one may be that one.
        let heap = "static struct zone *spare(void) { return kzalloc(sizeof(struct zone), GFP_KERNEL); }"
        #expect(findings(of: "devm-embedded-refcount", in: Self.driver(extra: heap)).isEmpty)
        // A static zone, a zone inside another struct, a zone on the stack.
        #expect(findings(of: "devm-embedded-refcount", in: Self.driver(extra: "static struct zone boot_zone;")).isEmpty)
        #expect(findings(of: "devm-embedded-refcount", in: Self.driver(extra: "struct pair { struct zone a; int b; };")).isEmpty)
        #expect(findings(of: "devm-embedded-refcount", in: Self.driver(extra: "static void probe_one(void) { struct zone tmp; (void)tmp; }")).isEmpty)
    }

    @Test func anArrayOfPointersHoldsNoStruct() {
        // `kcalloc(n, sizeof(z), …)` with `z` a pointer allocates pointers, not zones: it
        // is no heap instance of the struct.
        let pointers = "static void **stack(int n) { struct zone *z; return kcalloc(n, sizeof(z), GFP_KERNEL); }"
        #expect(findings(of: "devm-embedded-refcount", in: Self.driver(extra: pointers)).count == 1)
        let zones = "static void *stack(int n) { struct zone *z; return kcalloc(n, sizeof(*z), GFP_KERNEL); }"
        #expect(findings(of: "devm-embedded-refcount", in: Self.driver(extra: zones)).isEmpty)
    }

    /// The struct in a header of the driver's directory, registered from another file of it.
    static func splitDriver(header: String) -> [String: String] {
        [
            "include/linux/flash.h": ReturnedPathTests.flashHeader,
            "drivers/mtd/core.c": ReturnedPathTests.flashCore,
            header: """
                #include <linux/flash.h>
                struct zone { struct list_head node; struct flash_info flash; };
                int zone_add(struct list_head *list);
                """,
            "drivers/mtd/zones/add.c": """
                #include "zone.h"
                int zone_add(struct list_head *list)
                {
                        struct zone *z = list_first_entry(list, struct zone, node);
                        return flash_register(&z->flash);
                }
                """,
            "drivers/mtd/zones/probe.c": """
                #include "zone.h"
                static int zones_probe(struct platform_device *pdev, struct list_head *list)
                {
                        struct zone *z = devm_kzalloc(&pdev->dev, sizeof(*z), GFP_KERNEL);
                        list_add_tail(&z->node, list);
                        return zone_add(list);
                }
                """,
        ]
    }

    @Test func aStructOfTheDriversOwnHeaderIsFollowedAcrossItsFiles() throws {
        let found = findings(of: "devm-embedded-refcount", in: Self.splitDriver(header: "drivers/mtd/zones/zone.h"))
        #expect(found.map { "\($0.file):\($0.line) \($0.severity)" } == ["drivers/mtd/zones/probe.c:4 error"])
        let publish = try #require(found.first?.notes.first { $0.kind == .publish })
        #expect("\(publish.file):\(publish.line)" == "drivers/mtd/zones/add.c:5")
        // A struct of a shared header may have instances anywhere in the tree.
        #expect(findings(of: "devm-embedded-refcount", in: Self.splitDriver(header: "include/linux/zone.h")).isEmpty)
    }
}
