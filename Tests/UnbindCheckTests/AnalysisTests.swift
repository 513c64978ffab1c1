import Testing
@testable import Facts
@testable import CFrontend
@testable import Indexing
@testable import Analysis
@testable import Findings
@testable import Checks
@testable import Reporting
@testable import Pipeline

let deviceHeader = KernelPrelude.device

@Suite struct EmbeddingTests {
    let files: [String: String] = [
        "include/linux/device.h": deviceHeader,
        "include/linux/mtd.h": """
            #include <linux/device.h>
            struct mtd_info { int size; struct device dev; };
            typedef struct mtd_info mtd_t;
            typedef mtd_t flash_t;
            typedef unsigned int u32;
            typedef u32 reg_t;
            """,
        "drivers/flash/nor.h": """
            #include <linux/mtd.h>
            struct nor { int id; struct mtd_info mtd; };
            struct via_typedef { mtd_t m; };
            struct via_two_typedefs { u32 id; reg_t reg; flash_t flash; };
            struct via_array { struct nor chips[2]; };
            struct via_anon { union { struct { struct kobject kobj; }; long raw; }; };
            struct only_pointer { struct device *dev; struct mtd_info *mtd; };
            """,
        // Two unrelated structs named `master`: only the one the file sees counts.
        "drivers/a/a.c": "#include <linux/device.h>\nstruct master { struct device dev; };\nstruct user_a { struct master m; };\n",
        "drivers/b/b.c": "struct master { int plain; };\nstruct user_b { struct master m; };\n",
    ]

    func row(_ rows: [StructRow], _ name: String) -> StructRow? { rows.first { $0.name == name } }

    @Test func chainsThroughStructsTypedefsArraysAndAnonymousUnions() throws {
        let rows = Listings.structs(analyse(files))
        let nor = try #require(row(rows, "nor"))
        #expect(nor.chain == ["nor", "mtd_info", "device"])
        #expect(nor.fields == "mtd.dev")
        #expect(!nor.direct)
        #expect(row(rows, "mtd_info")?.direct == true)
        #expect(row(rows, "via_typedef")?.chain == ["via_typedef", "mtd_info", "device"])
        #expect(row(rows, "via_array")?.chain == ["via_array", "nor", "mtd_info", "device"])
        let anon = try #require(row(rows, "via_anon"))
        #expect(anon.chain == ["via_anon", "kobject"])
        #expect(anon.direct)
        #expect(anon.core == "kobject")
    }

    /// A typedef of a typedef of a struct embeds it; a scalar typedef, however deep, names
    /// no aggregate and is answered without a look-up (`typedefsNamingAggregates`).
    @Test func typedefChainsReachTheirStructAndScalarTypedefsNameNone() throws {
        let ctx = analyse(files)
        let via = try #require(row(Listings.structs(ctx), "via_two_typedefs"))
        #expect(via.chain == ["via_two_typedefs", "mtd_info", "device"])
        #expect(via.fields == "flash.dev")
        let naming = ctx.index.typedefsNamingAggregates
        #expect(naming.isSuperset(of: ["mtd_t", "flash_t"]))
        #expect(naming.isDisjoint(with: ["u32", "reg_t"]))
    }

    @Test func pointersDoNotEmbedAndCoresAreNotListed() {
        let names = Set(Listings.structs(analyse(files)).map(\.name))
        #expect(!names.contains("only_pointer"))
        #expect(!names.contains("device") && !names.contains("kobject"))
    }

    @Test func sameNamedStructsResolveToTheVisibleDefinition() {
        let rows = Listings.structs(analyse(files))
        #expect(rows.filter { $0.name == "master" }.map(\.file) == ["drivers/a/a.c"])
        #expect(row(rows, "user_a")?.chain == ["user_a", "master", "device"])
        #expect(row(rows, "user_b") == nil)
    }
}

@Suite struct AllocationTypingTests {
    let files: [String: String] = [
        "include/linux/device.h": deviceHeader,
        "drivers/x/x.c": """
            #include <linux/device.h>
            struct big { int n; struct device dev; int tail[]; };
            typedef struct big big_t;
            struct holder { struct big *child; };
            static struct big template_big;
            struct big *make(struct device *d)
            {
                    return devm_kzalloc(d, sizeof(struct big), 0);
            }
            static int probe(struct platform_device *pdev, struct holder *h)
            {
                    struct big *a, *b, *c, *e, *f;
                    void *g;
                    a = devm_kzalloc(&pdev->dev, sizeof(*a), 0);
                    b = devm_kzalloc(&pdev->dev, sizeof(big_t), 0);
                    c = devm_kzalloc(&pdev->dev, struct_size(c, tail, 4), 0);
                    h->child = devm_kzalloc(&pdev->dev, sizeof(*h->child), 0);
                    e = devm_kmemdup(&pdev->dev, &template_big, sizeof(template_big), 0);
                    f = devm_kcalloc(&pdev->dev, 4, sizeof(f[0]), 0);
                    g = (struct big *)devm_kzalloc(&pdev->dev, 64, 0);
                    return 0;
            }
            static int by_target(struct device *d, unsigned long len)
            {
                    struct big *t;
                    t = devm_kzalloc(d, len, 0);
                    return 0;
            }
            static struct big *by_return(struct device *d, unsigned long len)
            {
                    return devm_kzalloc(d, len, 0);
            }
            static void *untyped(struct device *d, unsigned long len)
            {
                    void *buf = devm_kzalloc(d, len, 0);
                    return buf;
            }
            """,
    ]

    @Test func everyTypingForm() {
        let ctx = analyse(files)
        let sites = ctx.allocations.sites.sorted { $0.line < $1.line }
        #expect(sites.count == 11)
        #expect(sites.allSatisfy { $0.isDeviceManaged })
        #expect(sites.map { $0.aggregate.map { ctx.index.aggregate($0).name } ?? "-" } == Array(repeating: "big", count: 10) + ["-"])
        #expect(sites.map(\.typing) == [.sizeofType, .sizeofExpression, .sizeofType, .structSize, .sizeofExpression,
                                        .sizeofExpression, .sizeofExpression, .cast, .target, .returnType, .untyped])
        #expect(sites[4].targetText == "h->child")
        #expect(sites[4].target?.fields == ["child"])
    }
}

/// The summaries come from the flows of the functions that can have an effect only; the
/// fixed point is the one of every function's flows.
@Suite struct EffectCandidateTests {
    /// A driver that publishes through a macro chain and frees through a kref release.
    static let chains = ["include/linux/device.h": KernelPrelude.device, "drivers/misc/chain.c": """
        #define chain_publish(d) chain_do_add(d)
        #define chain_do_add(d) device_add(d)
        struct chain { struct device dev; struct kref ref; };
        static void chain_free(struct kref *k) { kfree(container_of(k, struct chain, ref)); }
        static int chain_add(struct chain *c) { return chain_publish(&c->dev); }
        static int chain_outer(struct chain *c, int n) { if (n) return 0; return chain_add(c); }
        static void chain_put(struct chain *c) { kref_put(&c->ref, chain_free); }
        static void chain_destroy(struct chain *c) { kfree(c); }
        static void chain_drop(struct chain *c, int n) { chain_put(c); chain_destroy(c); }
        """]

    @Test func candidatesGiveTheFixedPointOfEveryFunction() throws {
        var trees = [Self.chains, subsystemFixture]
        for check in allChecks.map({ type(of: $0).description.id }) {
            for dir in exampleDirectories(check, "triggering") + exampleDirectories(check, "non-triggering") { trees.append(fixtureFiles(dir)) }
        }
        #expect(trees.count > 10)
        for files in trees {
            let ctx = analyse(files)
            let full = Summaries(index: ctx.index, resolver: ctx.resolver, everyFunction: true)
            let found = Summaries(index: ctx.index, resolver: ctx.resolver, jobs: 2)
            #expect(found.publishes == full.publishes)
            #expect(found.tearsDown == full.tearsDown)
            #expect(found.frees == full.frees)
            #expect(found.reallyPublishes == full.reallyPublishes)
        }
        let ctx = analyse(Self.chains)
        let s = ctx.summaries
        let named = { (name: String) in try #require(ctx.index.functionsByName[name]?.first) }
        #expect(s.publishes[try named("chain_add")]?.keys.map(\.path) == [["dev"]])
        #expect(s.publishes[try named("chain_outer")]?.isEmpty == false)
        #expect(s.frees[try named("chain_destroy")] == [0])
        #expect(s.frees[try named("chain_drop")] == [0])
        #expect(s.publishes[try named("chain_put")] == nil)
    }
}

/// The pass manager runs a pass once, on first use, after its dependencies.
@Suite struct PassManagerTests {
    static let tree = ["include/linux/device.h": KernelPrelude.device,
                       "drivers/misc/a.c": "struct a { struct device dev; };\nstatic int a_add(struct a *p) { return device_add(&p->dev); }\n"]

    @Test func onlyTheNeededPassesRun() {
        let ctx = analyse(Self.tree)
        #expect(ctx.passTimes.isEmpty)
        _ = ctx.closure
        #expect(ctx.passTimes.map(\.0) == ["embedding closure"])
        _ = ctx.subsystems
        #expect(ctx.passTimes.map(\.0) == ["embedding closure", "registration summaries", "allocation typing",
                                           "subsystem protection", "provider ops", "provider revocation"])
        _ = ctx.subsystems
        _ = ctx.summaries
        #expect(ctx.passTimes.count == 6)
    }

    @Test(arguments: [1, 2, 3]) func aScanRunsEveryPassOnce(jobs: Int) {
        let ctx = analyse(Self.tree, jobs: jobs)
        _ = Analyzer.findings(ctx)
        #expect(ctx.passTimes.map(\.0).sorted() == ["allocation typing", "checks", "embedding closure", "object flow", "private areas", "provider ops", "provider revocation",
                                                    "reference keepers", "registration summaries", "release callbacks", "subsystem protection"])
        // The passes a pass depends on ran before it.
        let order = ctx.passTimes.map(\.0)
        #expect(order.firstIndex(of: "registration summaries")! < order.firstIndex(of: "subsystem protection")!)
        #expect(order.firstIndex(of: "subsystem protection")! < order.firstIndex(of: "provider ops")!)
        #expect(order.firstIndex(of: "subsystem protection")! < order.firstIndex(of: "reference keepers")!)
        #expect(order.last == "checks")
    }
}
