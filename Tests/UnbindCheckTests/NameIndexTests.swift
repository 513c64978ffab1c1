import Testing
@testable import Facts
@testable import Indexing
@testable import Analysis
@testable import Checks

/// The tree-wide indexes built once per scan must answer exactly what a scan of every
/// file would: who calls a name, who assigns a member, which files an include reaches.
@Suite struct NameIndexTests {
    /// Every fixture tree of the checks' examples, and the subsystem fixture.
    static var trees: [[String: String]] {
        var trees = [subsystemFixture, EffectCandidateTests.chains]
        for check in allChecks.map({ type(of: $0).description.id }) {
            for dir in exampleDirectories(check, "triggering") + exampleDirectories(check, "non-triggering") { trees.append(fixtureFiles(dir)) }
        }
        return trees
    }

    /// The functions calling any of `names`, by a scan of every call.
    static func scannedCallers(_ index: TreeIndex, _ names: Set<String>) -> [FunctionID] {
        var out: [FunctionID] = []
        for (fi, f) in index.files.enumerated() {
            for (ni, fn) in f.functions.enumerated() where fn.calls.contains(where: { names.contains($0.callee) }) {
                out.append(FunctionID(file: Int32(fi), index: Int32(ni)))
            }
        }
        return out
    }

    @Test func nameMapsListEveryDefinitionInFileThenDeclarationOrder() {
        for tree in Self.trees + [["a.h": "struct s { int x; };\nint f(void);\nstatic inline int f(void) { return 1; }\n",
                                   "b.c": "struct s { long y; };\nint f(void) { return 2; }\nint g;\nstatic int g2(void) { return 0; }\n",
                                   "c.c": "struct s { char z; };\nint g;\nint f(void) { return 3; }\n"]] {
            let index = analyse(tree).index
            var functions: [String: [FunctionID]] = [:], aggregates: [String: [AggregateID]] = [:], globals: [String: [EntryID]] = [:]
            for (fi, f) in index.files.enumerated() {
                for (k, fn) in f.functions.enumerated() { functions[fn.name, default: []].append(FunctionID(file: Int32(fi), index: Int32(k))) }
                for (k, a) in f.aggregates.enumerated() { aggregates[a.name, default: []].append(AggregateID(file: Int32(fi), index: Int32(k))) }
                for (k, g) in f.globals.enumerated() { globals[g.name, default: []].append(EntryID(file: Int32(fi), index: Int32(k))) }
            }
            #expect(Set(index.functionsByName.names) == Set(functions.keys))
            for (name, ids) in functions { #expect(index.functionsByName[name].map(Array.init) == ids) }
            for (name, ids) in aggregates { #expect(index.aggregatesByName[name].map(Array.init) == ids) }
            for (name, ids) in globals { #expect(index.globalsByName[name].map(Array.init) == ids) }
            #expect(index.functionsByName["no_such_function"] == nil)
        }
    }

    @Test func callersIndexAnswersAsAScanOfEveryCall() {
        var checked = 0
        for files in Self.trees {
            let index = analyse(files, jobs: 2).index
            var callees: [String] = []
            index.forEachCallee { name, _ in callees.append(name) }
            let spelled = Set(index.files.flatMap { $0.functions.flatMap { $0.calls.map(\.callee) } }).subtracting([""])
            #expect(Set(callees) == spelled)
            #expect(callees.count == spelled.count)
            for name in callees {
                #expect(index.callers(ofAny: [name]).functions == Self.scannedCallers(index, [name]), "\(name)")
                checked += 1
            }
            // Sets of names: the union, each function once, in file order.
            for k in stride(from: 0, to: callees.count, by: 3) {
                let set = Set(callees[k..<min(callees.count, k + 3)] + ["no_such_function"])
                let callers = index.callers(ofAny: set)
                #expect(callers.functions == Self.scannedCallers(index, set))
                for fi in index.files.indices {
                    #expect(callers.indices(inFile: Int32(fi)) == callers.functions.filter { $0.file == Int32(fi) }.map { Int($0.index) })
                }
            }
            #expect(index.callers(ofAny: ["no_such_function"]).functions.isEmpty)
        }
        #expect(checked > 50)
    }

    @Test func memberAssignmentIndexAnswersAsAScanOfEveryAssignment() {
        var checked = 0
        for files in Self.trees {
            let index = analyse(files).index
            var members = Set<String>()
            var scanned: [String: [AssignmentRef]] = [:]
            for (fi, f) in index.files.enumerated() {
                for (ni, fn) in f.functions.enumerated() {
                    let e = fn.exprs
                    for (ai, a) in fn.assignments.enumerated() where a.lhs >= 0 && e[a.lhs].kind == .member {
                        let name = e.text(e[a.lhs])
                        members.insert(name)
                        scanned[name, default: []].append(AssignmentRef(function: FunctionID(file: Int32(fi), index: Int32(ni)), assignment: Int32(ai)))
                    }
                }
            }
            for name in members {
                #expect(index.assignments(toMembers: [name]) == scanned[name], "\(name)")
                checked += 1
            }
            let all = index.assignments(toMembers: members.union(["no_such_member"]))
            #expect(all == scanned.values.flatMap { $0 }.sorted())
        }
        #expect(checked > 10)
    }

    /// Breadth first over `includes`, as the closure was first written.
    static func referenceClosure(_ file: Int, _ includes: [[Int32]], limit: Int) -> [Int32] {
        var seen: Set<Int32> = [Int32(file)]
        var order: [Int32] = []
        var queue = includes[file]
        var head = 0
        while head < queue.count && order.count < limit {
            let f = queue[head]; head += 1
            if !seen.insert(f).inserted { continue }
            order.append(f)
            queue.append(contentsOf: includes[Int(f)])
        }
        return order
    }

    /// The fast test for a path that needs no normalizing agrees with the normalizing.
    @Test func normalPathsAreThoseNormalizingLeavesAlone() {
        let paths = ["linux/device.h", "a/b/c.h", "", "/", "//", "a//b", "/a", "a/", ".", "..", "...", "./a", "a/.", "a/..", "../a",
                     "a/../b", "a/./b", ".a/b", "a./b", "a/.b", "a/b..", "..a", "a/...", ".../a", "a/b/./c", "x86/include/asm/io.h"]
        // The normalizing written out again, without the fast test.
        func normalized(_ p: String) -> String {
            var out: [Substring] = []
            for comp in p.split(separator: "/") where comp != "." {
                if comp == ".." { if !out.isEmpty { out.removeLast() } } else { out.append(comp) }
            }
            return out.joined(separator: "/")
        }
        for p in paths {
            #expect(TreeIndex.isNormalPath(p) == (normalized(p) == p && !p.isEmpty), "\(p)")
            #expect(TreeIndex.normalizePath(p) == normalized(p), "\(p)")
        }
        #expect(paths.filter(TreeIndex.isNormalPath).count == 11)
        // An include's context from the slashes of a normal path, as from its components.
        for f in paths + ["arch/arm/mach-x/board.c", "arch/arm", "arch/arm/", "arch/x86/include/asm/io.h", "arch", "tools",
                          "tools/lib/a.c", "toolsx/a.c", "drivers/mtd/core.c", "main.c", "arch//arm/a.c", "./arch/arm/a.c"] {
            let parts = f.split(separator: "/")
            let c = TreeIndex.includeContext(of: f)
            #expect(c.dir == parts.dropLast().joined(separator: "/"), "\(f)")
            #expect(c.arch == (parts.count > 2 && parts[0] == "arch" ? String(parts[1]) : "x86"), "\(f)")
            #expect(c.tools == (parts.first == "tools"), "\(f)")
        }
    }

    /// A function defined in several headers (static inline helpers with one name): each
    /// file reaches the one it includes, whichever file asked first and whichever resolver
    /// asks (the picks are shared by every resolver of the scan).
    @Test func eachFileReachesTheHelperItIncludes() throws {
        let files = [
            "drivers/a/helpers.h": "static inline int helper(int x) { return x; }\n",
            "drivers/b/helpers.h": "static inline int helper(int x) { return -x; }\n",
            "drivers/c/helpers.h": "static inline int helper(int x) { return 0; }\n",
            "drivers/a/a.c": "#include \"helpers.h\"\nint a(void) { return helper(1); }\n",
            "drivers/b/b.c": "#include \"helpers.h\"\nint b(void) { return helper(2); }\n",
        ]
        let ctx = analyse(files)
        let index = ctx.index
        let file = { (path: String) in try #require(index.files.firstIndex { $0.path == path }.map(Int32.init)) }
        let (a, b, ha, hb) = (try file("drivers/a/a.c"), try file("drivers/b/b.c"), try file("drivers/a/helpers.h"), try file("drivers/b/helpers.h"))
        let first = Resolver(index: index), second = Resolver(index: index)
        #expect(first.function(named: "helper", from: a)?.file == ha)
        #expect(first.function(named: "helper", from: b)?.file == hb)
        #expect(second.function(named: "helper", from: b)?.file == hb)
        #expect(second.function(named: "helper", from: a)?.file == ha)
    }

    @Test func includeClosureIsBreadthFirstWithinItsLimit() {
        // 0 includes 1 and 2; 1 includes 3 and 0 (a cycle); 2 includes 3, 4 and itself;
        // 4 includes 5; 5 includes 1.
        let includes: [[Int32]] = [[1, 2], [3, 0], [3, 4, 2], [], [5], [1], []]
        let graph = IncludeGraph(includes)
        var slot = ClosureSlot(fileCount: includes.count)
        for limit in [0, 1, 2, 3, 4, 10] {
            for file in includes.indices {
                let expected = Self.referenceClosure(file, includes, limit: limit)
                slot.start(Int32(file), graph: graph, limit: limit)
                #expect(slot.closure(graph: graph) == expected, "file \(file), limit \(limit)")
                for (rank, f) in expected.enumerated() { #expect(slot.rank(of: f, graph: graph) == Int32(rank)) }
                #expect(slot.rank(of: Int32(file), graph: graph) == nil)
                for f in includes.indices where !expected.contains(Int32(f)) { #expect(slot.rank(of: Int32(f), graph: graph) == nil) }
                // Questions asked before the walk is complete, farthest file first, then the
                // nearest of every pair (with the file itself and an unreached file among them).
                slot.start(Int32(file), graph: graph, limit: limit)
                for f in expected.reversed() { #expect(slot.rank(of: f, graph: graph) == expected.firstIndex(of: f).map(Int32.init)) }
                for a in includes.indices {
                    for b in includes.indices {
                        slot.start(Int32(file), graph: graph, limit: limit)
                        let ranks = [a, b].compactMap { f in f == file ? nil : expected.firstIndex(of: Int32(f)).map(Int32.init) }
                        #expect(slot.nearest([Int32(a), Int32(b)], graph: graph) == ranks.min(), "file \(file), limit \(limit), nearest of \(a), \(b)")
                    }
                }
                slot.start(Int32(file), graph: graph, limit: limit)
                let many = (0..<12).map { Int32($0 % includes.count) }.reversed().map { $0 }
                let manyRanks = many.compactMap { f in Int(f) == file ? nil : expected.firstIndex(of: f).map(Int32.init) }
                #expect(slot.nearest(many, graph: graph) == manyRanks.min())
                #expect(slot.closure(graph: graph) == expected)
            }
        }
        #expect(Self.referenceClosure(0, includes, limit: 10) == [1, 2, 3, 4, 5])
        // The fixture trees, through the resolver.
        for files in Self.trees {
            let ctx = analyse(files)
            let resolved = ctx.index.files.indices.map { Array(ctx.index.includes(of: Int32($0))) }
            for fi in ctx.index.files.indices {
                #expect(ctx.resolver.includeClosure(Int32(fi)) == Self.referenceClosure(fi, resolved, limit: Resolver.closureLimit))
            }
        }
    }

    @Test func structsHoldingANameAnswerAsAScanOfEveryMember() {
        var checked = 0
        for tree in Self.trees {
            let index = analyse(tree).index
            var scanned: [String: [AggregateID]] = [:]
            for (fi, f) in index.files.enumerated() {
                for (k, a) in f.aggregates.enumerated() where !a.isUnion {
                    for name in Set(a.fields.filter { $0.type.isEmbedded && $0.type.isAggregateTag }.map(\.type.name)) {
                        scanned[name, default: []].append(AggregateID(file: Int32(fi), index: Int32(k)))
                    }
                }
            }
            for (name, ids) in scanned {
                #expect(index.structs(holding: name) == ids.sorted(), "\(name)")
                checked += 1
            }
        }
        #expect(checked > 20)
    }

    @Test func structsHoldingANameAreByValueStructsInIndexOrder() throws {
        let index = analyse([
            "include/linux/device.h": "struct device { int refs; };\n",
            "drivers/x/x.c": """
                #include <linux/device.h>
                struct by_pointer { struct device *dev; };
                union either { struct device dev; int n; };
                struct twice { struct device a; struct device b; };
                struct once { int x; struct device dev; };
                typedef struct device device_t;
                struct through_typedef { device_t dev; };
                """,
        ]).index
        let x = try #require(index.files.firstIndex { $0.path == "drivers/x/x.c" }.map(Int32.init))
        let names = index.structs(holding: "device").map { index.aggregate($0).name }
        #expect(names == ["twice", "once"])
        #expect(index.structs(holding: "device").allSatisfy { $0.file == x })
        #expect(index.structs(holding: "no_such_struct").isEmpty)
    }

    @Test func localAssignmentsAreWorkedOutOncePerFunctionForEveryResolver() throws {
        let index = analyse([
            "drivers/x/x.c": """
                struct device { int refs; };
                struct foo { struct device dev; int n; };
                void put_device(struct device *dev);
                void f(struct foo *p, struct foo *q, int k)
                {
                    struct device *d = &p->dev;
                    struct device *e = &p->dev;
                    int n;
                    e = &q->dev;
                    n = k;
                    n = k + 1;
                    put_device(d);
                    put_device(e);
                }
                """,
        ]).index
        let id = try #require(index.functionsByName["f"]?.first)
        let one = FunctionView(id: id, resolver: Resolver(index: index))
        let other = FunctionView(id: id, resolver: Resolver(index: index))
        let e = one.exprs
        // `d` has one path; `e` two different ones; `n` one (`k + 1` is no path); `p` is
        // no local.
        #expect(one.aliases["d"].map { e.render($0) } == "&p->dev")
        #expect(one.aliases["n"].map { e.render($0) } == "k")
        #expect(one.aliases["e"] == nil && one.aliases["p"] == nil)
        #expect(one.localAssignments["e"].map { $0.map { e.render($0) } } == ["&p->dev", "&q->dev"])
        #expect(one.localAssignments["n"]?.count == 2)
        #expect(one.localAssignments["k"] == nil)
        // The second resolver's view reads the answer the first one stored.
        #expect(other.aliases["d"] == one.aliases["d"])
        var computed = false
        _ = index.sharedAnswers(LocalAssignments.self).get(id) { _ in computed = true; return LocalAssignments(order: [], aliases: [:], assigned: [:]) }
        #expect(!computed)
        #expect(one.accessPath(try #require(one.aliases["d"])).map { $0.fields } == ["dev"])
    }
}
