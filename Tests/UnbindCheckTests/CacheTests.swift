import Foundation
import GRDB
import Testing
@testable import Facts
@testable import CFrontend
@testable import Indexing
@testable import Analysis
@testable import Findings
@testable import Checks
@testable import Reporting
@testable import Pipeline
#if canImport(Glibc)
import Glibc
#endif

/// The persistent index: same results with and without it, for any --jobs; damaged,
/// foreign and outdated databases are reported and rebuilt, never trusted.
@Suite(.serialized) struct CacheTests {
    /// Every report of a run (findings JSON, subsystems, structs) as one string.
    func reports(_ run: IndexRun, jobs: Int) -> String {
        let ctx = AnalysisContext(index: run.index, jobs: jobs)
        let findings = Analyzer.findings(ctx)
        let stats = ScanStats(index: run.index, context: ctx, seconds: 0)
        return JSONReporter().render(Report(root: "r", findings: findings, stats: stats, suppressed: 0, includeTimings: false))
            + Listings.subsystemsJSON(Listings.subsystems(ctx), ctx: ctx)
            + Listings.structsJSON(Listings.structs(ctx), root: "r")
    }

    func database() -> String { temporaryTree([:]) + "/index.sqlite" }

    /// The subsystem fixture in a temporary tree, its facts written to a new store (the
    /// caller removes both directories).
    func storedFixture() throws -> (dir: String, db: String, store: FactStore) {
        let dir = temporaryTree(subsystemFixture)
        let db = database()
        _ = IndexRun.written(paths: [dir], jobs: 1, cachePath: db)
        return (dir, db, try FactStore(path: db))
    }

    /// A stored result belongs to one build of the tool: a rebuilt binary misses it.
    @Test func aResultKeyNamesTheVersionTheBuildAndTheManifest() {
        let key = ResultCache.key(["scan", "/tree"], manifest: "abc")
        #expect(key.hasPrefix(FactStore.versionTag + "\u{1f}build "))
        #expect(key.hasSuffix("\u{1f}scan\u{1f}/tree|abc"))
        #expect(!ResultCache.build.contains("unknown"))
    }

    /// Storing a result drops those of other builds (this build never reads them) and the older
    /// one of its own tree and command, and keeps this build's results of other trees, even
    /// where a path differs only by a character a `LIKE` pattern would match (`_`, case).
    @Test func storingAResultDropsOtherBuildsResultsAndItsOwnOlderOne() throws {
        let db = database()
        defer { removeTree(SourceTree.dirname(db)) }
        let store = try FactStore(path: db)
        let otherBuild = FactStore.versionTag + "\u{1f}build 1 2.3\u{1f}scan\u{1f}/tree_a|abc"
        store.storeReport(keys: [otherBuild], value: [1])
        store.flush()
        #expect(store.report(key: otherBuild) == [1])
        let similar = [ResultCache.key(["scan", "/treeXa"], manifest: "m1"), ResultCache.key(["scan", "/Tree_a"], manifest: "m2")]
        for (k, key) in similar.enumerated() { ResultCache.save(CachedOutput(text: "\(k)", status: 0), key: key, store: store) }
        let older = ResultCache.key(["scan", "/tree_a"], manifest: "m3")
        ResultCache.save(CachedOutput(text: "older", status: 0), key: older, store: store)
        let newer = ResultCache.key(["scan", "/tree_a"], manifest: "m4")
        ResultCache.save(CachedOutput(text: "newer", status: 1), key: newer, store: store)
        store.flush()
        #expect(store.report(key: otherBuild) == nil)
        #expect(store.report(key: older) == nil)
        #expect(ResultCache.load(CachedOutput.self, key: newer, store: store)?.text == "newer")
        #expect(similar.map { ResultCache.load(CachedOutput.self, key: $0, store: store)?.text } == ["0", "1"])
        let rows = try DatabaseQueue(path: db).read { try Int.fetchOne($0, sql: "SELECT count(*) FROM report") }
        #expect(rows == 3)
    }

    /// A tree whose root is gone (a temporary checkout) is dropped at the next write with
    /// its stored results, which would otherwise stay forever; another tree's result, whose
    /// root starts with the gone one's, stays.
    @Test func aVanishedTreeLeavesNoStoredResults() throws {
        let gone = temporaryTree(["a.c": "int f(void) { return 0; }\n"])
        let kept = gone + "-kept"
        #expect(mkdir(kept, 0o755) == 0)
        #expect(FileManager.default.createFile(atPath: kept + "/b.c", contents: Data("int g(void) { return 1; }\n".utf8)))
        let db = database()
        defer { removeTree(kept); removeTree(SourceTree.dirname(db)) }
        _ = IndexRun.written(paths: [gone], jobs: 1, cachePath: db)
        let store = try FactStore(path: db)
        let goneKey = ResultCache.key(["scan", CachedIndexer.canonicalRoot(gone), "tests-as-notes"], manifest: "m1")
        let keptKey = ResultCache.key(["scan", CachedIndexer.canonicalRoot(kept), "tests-as-notes"], manifest: "m2")
        ResultCache.save(CachedOutput(text: "gone", status: 0), key: goneKey, store: store)
        ResultCache.save(CachedOutput(text: "kept", status: 0), key: keptKey, store: store)
        store.flush()
        removeTree(gone)
        // Any write of a manifest collects the garbage.
        _ = IndexRun.written(paths: [kept], jobs: 1, cachePath: db)
        #expect(store.report(key: goneKey) == nil)
        #expect(ResultCache.load(CachedOutput.self, key: keptKey, store: store)?.text == "kept")
        let roots = try DatabaseQueue(path: db).read { try String.fetchAll($0, sql: "SELECT root FROM tree") }
        #expect(roots == [CachedIndexer.canonicalRoot(kept)])
    }

    @Test func codecRoundTripsEveryFact() throws {
        for (path, text) in subsystemFixture.sorted(by: { $0.key < $1.key }) {
            let f = parse(text, path: path)
            let g = try FactsCodec.decode(FactsCodec.encode(f), path: path)
            #expect(g == f, "\(path)")
        }
        var weird = FileFacts(path: "x.c", bytes: 3)
        weird.unreadable = "binary file (NUL bytes), skipped"
        weird.recoveries = -1
        #expect(try FactsCodec.decode(FactsCodec.encode(weird), path: "x.c") == weird)
    }

    /// A file that fills every field of `FileFacts` (but `unreadable`, covered above).
    static let everyFact = """
        #include <linux/device.h>
        #include "local.h"
        #define to_widget(d) container_of(d, struct widget, dev)
        #define WIDGET_DRIVER(n) static struct platform_driver n = { .driver = { .suppress_bind_attrs = true } }
        typedef struct widget widget_t;
        struct widget { struct device dev; int n; unsigned ready:1; };
        static int widget_count;
        static void widget_release(struct device *dev)
        {
                /* the owner frees the widget */
        }
        #ifndef CONFIG_WIDGET_FULL
        static void widget_stub(struct device *dev)
        {
        }
        #else
        static void widget_stub(struct device *dev)
        {
                kfree(dev);
        }
        #endif
        int widget_probe(struct widget *w) { if (w->n) return devm_widget(w); w->n = 1; return 0; }
        EXPORT_SYMBOL_GPL(widget_probe);
        static struct device_type widget_type = { .release = widget_release };
        }
        """

    @Test func codecKeepsEveryFieldOfAFile() throws {
        let f = parse(Self.everyFact, path: "drivers/misc/widget.c")
        // Every field is filled, so that a field the codec leaves out fails the round trip.
        for child in Mirror(reflecting: f).children where child.label != "unreadable" && child.label != "path" {
            let filled: Bool
            switch child.value {
            case let v as any Collection: filled = !v.isEmpty
            case let v as Int: filled = v != 0
            default: filled = true
            }
            #expect(filled, "the fixture leaves \(child.label ?? "?") empty")
        }
        #expect(f.commentedEmptyFunctions == ["widget_release"])
        #expect(f.alternateDefinitions.map(\.name) == ["widget_stub"])
        let g = try FactsCodec.decode(FactsCodec.encode(f), path: f.path)
        #expect(g == f)
        #expect(g.commentedEmptyFunctions == f.commentedEmptyFunctions)
        #expect(g.alternateDefinitions == f.alternateDefinitions)
    }

    @Test func aBlobHoldsEachStringOnceAndItsDecodedUsesShareStorage() throws {
        // 300 long callees (past the writer's first table size), each called from two functions.
        var source = ""
        for k in 0..<300 { source += "void a_rather_long_callee_name_\(k)(void);\n" }
        for f in 0..<2 {
            source += "void caller_\(f)(void)\n{\n"
            for k in 0..<300 { source += "\ta_rather_long_callee_name_\(k)();\n" }
            source += "}\n"
        }
        let facts = FrontEnd.parse(path: "drivers/x/long.c", source: source)
        let blob = FactsCodec.encode(facts)
        // Each name's bytes are written once (declared, called twice, and in the name table).
        for k in [0, 150, 299] {
            let name = Array("a_rather_long_callee_name_\(k)".utf8)
            let count = (0...(blob.count - name.count)).filter { blob[$0..<$0 + name.count].elementsEqual(name) }.count
            #expect(count == 1, "callee \(k) written \(count) times")
        }
        let g = try FactsCodec.decode(blob, path: facts.path)
        #expect(g == facts)
        let first = g.functions[0].calls.map(\.callee), second = g.functions[1].calls.map(\.callee)
        #expect(first.count == 300 && first == second && Set(first).count == 300)
        func storage(_ s: String) -> UnsafeRawPointer? {
            var s = s
            return s.withUTF8 { UnsafeRawPointer($0.baseAddress) }
        }
        // The same storage for every repeat of a spelling, none for two different ones.
        for k in [0, 63, 64, 299] {
            #expect(storage(first[k]) == storage(second[k]))
            #expect(storage(first[k]) == storage(g.functions[0].exprs.names.first { $0 == first[k] }!))
        }
        #expect(storage(first[0]) != storage(first[1]))
    }

    @Test func anExpressionNodeTakesTwelveBytesAndKeepsItsKindTextAndThirdOperand() {
        #expect(MemoryLayout<ExprNode>.stride == 12)
        #expect(MemoryLayout<TypeRef>.stride == 24)
        #expect(MemoryLayout<VarDecl>.stride == 48)
        #expect(MemoryLayout<CallSite>.stride == 32)
        #expect(MemoryLayout<AssignmentSite>.stride == 16)
        // The flags packed beside a call's line are independent of it and of each other.
        for line: Int32 in [0, 1, 4_000_000, (1 << 29) - 1] {
            for flags in 0..<8 {
                let c = CallSite(callee: "f", node: 1, line: line, column: 2, target: -1,
                                 targetIsDeclaration: flags & 1 != 0, isConditional: flags & 2 != 0, isReturned: flags & 4 != 0)
                #expect(c.line == line && c.targetIsDeclaration == (flags & 1 != 0) && c.isConditional == (flags & 2 != 0) && c.isReturned == (flags & 4 != 0))
                let a = AssignmentSite(lhs: 1, rhs: 2, line: line, column: 3, isConditional: flags & 1 != 0)
                #expect(a.line == line && a.isConditional == (flags & 1 != 0))
            }
        }
        // A line that does not fit reads back as 0 and leaves the flags alone.
        let far = CallSite(callee: "", node: 0, line: 1 << 29, column: 0, target: 0, targetIsDeclaration: true, isConditional: true, isReturned: true)
        #expect(far.line == 0 && far.targetIsDeclaration && far.isConditional && far.isReturned)
        // Every stored kind byte reads back as the kind `init(rawValue:)` gives (or `.other`).
        for raw in UInt8.min...UInt8.max {
            var n = ExprNode(kind: .other, textID: -1, a: 0, b: 0, c: 0)
            withUnsafeMutableBytes(of: &n) { $0[3] = raw }
            #expect(n.kind == (ExprKind(rawValue: raw) ?? .other))
        }
        // Kinds with a text keep it beside the kind; `c` reads 0 and is not stored.
        for kind in [ExprKind.identifier, .member, .binary, .other] {
            for text: Int32 in [-1, 0, 1, 0x7F_FFFF, 0xFF_FFFE] {
                var n = ExprNode(kind: kind, textID: text, a: -1, b: 2, c: 5)
                #expect(n.kind == kind && n.textID == text && n.a == -1 && n.b == 2 && n.c == 0)
                n.kind = .unary
                #expect(n.kind == .unary && n.textID == text)
                n.textID = 7
                n.c = 9
                #expect(n.kind == .unary && n.textID == 7 && n.c == 0)
            }
        }
        // Calls, initializer lists and conditionals keep `c` there and have no text.
        for kind in [ExprKind.call, .initList, .conditional] {
            for c: Int32 in [-1, 0, 3, 0xFF_FFFE] {
                var n = ExprNode(kind: kind, textID: 4, a: 1, b: 2, c: c)
                #expect(n.kind == kind && n.textID == -1 && n.a == 1 && n.b == 2 && n.c == c)
                n.textID = 6
                #expect(n.c == c && n.textID == -1)
                n.c = 8
                #expect(n.c == 8 && n.kind == kind)
            }
        }
        // Past 24 bits a text index or `c` reads as "none", and the kind is kept.
        for v: Int32 in [0xFF_FFFF, 0x100_0000, Int32.max, -5] {
            let n = ExprNode(kind: .string, textID: v, a: 0, b: 0, c: 0)
            #expect(n.kind == .string && n.textID == -1)
            let m = ExprNode(kind: .conditional, textID: -1, a: 0, b: 0, c: v)
            #expect(m.kind == .conditional && m.c == -1)
        }
    }

    @Test func truncatedOrFlippedBlobsThrowNeverTrap() {
        let blob = FactsCodec.encode(parse(subsystemFixture.values.sorted().first!))
        for cut in stride(from: 0, to: blob.count, by: max(1, blob.count / 97)) {
            #expect(throws: FactsCodec.Malformed.self) { _ = try FactsCodec.decode(Array(blob[0..<cut]), path: "t.c") }
        }
        for k in stride(from: 0, to: blob.count, by: max(1, blob.count / 61)) {
            var bad = blob
            bad[k] ^= 0xff
            _ = try? FactsCodec.decode(bad, path: "t.c") // may decode or throw, must not trap
        }
    }

    @Test func identicalWithAndWithoutCacheForAnyJobs() {
        let dir = temporaryTree(subsystemFixture)
        let db = database()
        defer { removeTree(dir); removeTree(SourceTree.dirname(db)) }
        let plain = reports(IndexRun(paths: [dir], jobs: 1), jobs: 1)
        #expect(plain.contains("devm-embedded-refcount"))
        var messages: [String] = []
        let cold = IndexRun.written(paths: [dir], jobs: 2, cachePath: db, warn: { messages.append($0) })
        #expect(cold.cacheStats?.parsed == subsystemFixture.count)
        #expect(reports(cold, jobs: 2) == plain)
        for jobs in [1, 2] {
            let warm = IndexRun.written(paths: [dir], jobs: jobs, cachePath: db, warn: { messages.append($0) })
            #expect(warm.cacheStats?.parsed == 0)
            #expect(warm.cacheStats?.unchanged == subsystemFixture.count)
            #expect(warm.index.files == cold.index.files)
            #expect(reports(warm, jobs: jobs) == plain)
            #expect(warm.cacheStats?.manifestHash == cold.cacheStats?.manifestHash)
        }
        #expect(messages.isEmpty)
    }

    @Test func changedFileIsReparsedAndIdenticalContentElsewhereIsNot() {
        let dir = temporaryTree(subsystemFixture)
        let copy = temporaryTree(subsystemFixture)
        let db = database()
        defer { removeTree(dir); removeTree(copy); removeTree(SourceTree.dirname(db)) }
        let first = IndexRun.written(paths: [dir], jobs: 2, cachePath: db)
        // Another tree with the same content: hashed, never parsed.
        let other = IndexRun.written(paths: [copy], jobs: 2, cachePath: db)
        #expect(other.cacheStats?.parsed == 0)
        #expect(other.cacheStats?.hashed == subsystemFixture.count)
        // The same reports but for the tree's root (the subsystems listing names it).
        #expect(reports(other, jobs: 2).replacingRoot(copy) == reports(first, jobs: 2).replacingRoot(dir))
        // One file edited: only it is parsed, and the results follow the edit.
        let victim = subsystemFixture.keys.sorted().first { $0.hasSuffix(".c") }!
        let fd = open(dir + "/" + victim, O_WRONLY | O_APPEND)
        var extra = "\nstruct added_by_test { int x; };\n"
        extra.withUTF8 { _ = write(fd, $0.baseAddress, $0.count) }
        close(fd)
        let edited = IndexRun.written(paths: [dir], jobs: 2, cachePath: db)
        #expect(edited.cacheStats?.parsed == 1)
        #expect(edited.index.aggregatesByName["added_by_test"] != nil)
        #expect(reports(edited, jobs: 1) == reports(IndexRun(paths: [dir], jobs: 1), jobs: 1))
        #expect(edited.cacheStats?.manifestHash != first.cacheStats?.manifestHash)
    }

    @Test func corruptDatabaseIsReportedAndRebuilt() {
        let dir = temporaryTree(subsystemFixture)
        let db = database()
        defer { removeTree(dir); removeTree(SourceTree.dirname(db)) }
        let plain = reports(IndexRun(paths: [dir], jobs: 1), jobs: 1)
        _ = IndexRun.written(paths: [dir], jobs: 1, cachePath: db)
        // Overwrite the middle of the file (pages of tables and blobs) with garbage.
        let (data, _) = readWholeFile(db)
        var bytes = data!
        for k in stride(from: 100, to: bytes.count, by: 7) { bytes[k] = UInt8(truncatingIfNeeded: k &* 31) }
        let fd = open(db, O_WRONLY | O_TRUNC)
        bytes.withUnsafeBufferPointer { _ = write(fd, $0.baseAddress, $0.count) }
        close(fd)
        var messages: [String] = []
        let run = IndexRun.written(paths: [dir], jobs: 2, cachePath: db, warn: { messages.append($0) })
        #expect(messages.count == 1)
        #expect(messages.first?.contains("rebuilt") == true)
        #expect(reports(run, jobs: 2) == plain)
        // The rebuilt database serves the next run silently.
        messages = []
        let again = IndexRun.written(paths: [dir], jobs: 2, cachePath: db, warn: { messages.append($0) })
        #expect(messages.isEmpty)
        #expect(again.cacheStats?.parsed == 0)
        #expect(reports(again, jobs: 2) == plain)
    }

    @Test func damagedBlobIsDetectedByItsChecksum() throws {
        let dir = temporaryTree(subsystemFixture)
        let db = database()
        defer { removeTree(dir); removeTree(SourceTree.dirname(db)) }
        let plain = reports(IndexRun(paths: [dir], jobs: 1), jobs: 1)
        _ = IndexRun.written(paths: [dir], jobs: 1, cachePath: db)
        let store = try FactStore(path: db)
        try store.queue.write { db in
            // A valid blob of other content: it decodes, only the checksum tells.
            try db.execute(sql: "UPDATE content SET facts = (SELECT facts FROM content ORDER BY length(facts) LIMIT 1)")
        }
        try store.queue.close()
        var messages: [String] = []
        let run = IndexRun.written(paths: [dir], jobs: 2, cachePath: db, warn: { messages.append($0) })
        #expect(messages.count == 1)
        #expect(messages.first?.contains("checksum") == true)
        #expect(reports(run, jobs: 2) == plain)
    }

    @Test func otherSchemaVersionAndForeignDatabasesAreRebuilt() throws {
        let (dir, db, store) = try storedFixture()
        defer { removeTree(dir); removeTree(SourceTree.dirname(db)) }
        try store.queue.write { try $0.execute(sql: "UPDATE meta SET value = 'schema 0, facts 0, tool 0.0.1' WHERE key = 'version'") }
        try store.queue.close()
        var messages: [String] = []
        let run = IndexRun.written(paths: [dir], jobs: 1, cachePath: db, warn: { messages.append($0) })
        #expect(messages.count == 1)
        #expect(messages.first?.contains("schema 0, facts 0, tool 0.0.1") == true)
        #expect(messages.first?.contains("rebuilt") == true)
        #expect(run.cacheStats?.parsed == subsystemFixture.count)

        // A database of some other program at the cache path.
        FactStore.removeDatabaseFiles(db)
        let foreign = try DatabaseQueue(path: db)
        try foreign.write { try $0.execute(sql: "CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)") }
        try foreign.close()
        messages = []
        _ = IndexRun.written(paths: [dir], jobs: 1, cachePath: db, warn: { messages.append($0) })
        #expect(messages.count == 1)
        #expect(messages.first?.contains("foreign") == true)

        // Not a database at all.
        FactStore.removeDatabaseFiles(db)
        let fd = open(db, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        var text = String(repeating: "this is not sqlite\n", count: 400)
        text.withUTF8 { _ = write(fd, $0.baseAddress, $0.count) }
        close(fd)
        messages = []
        let rebuilt = IndexRun.written(paths: [dir], jobs: 1, cachePath: db, warn: { messages.append($0) })
        #expect(messages.count == 1)
        #expect(messages.first?.contains("rebuilt") == true)
        #expect(rebuilt.cacheStats?.parsed == subsystemFixture.count)
    }

    @Test func theManifestReadAheadFollowsAWrite() throws {
        let (dir, db, store) = try storedFixture()
        defer { removeTree(dir); removeTree(SourceTree.dirname(db)) }
        let root = CachedIndexer.canonicalRoot(dir)
        store.prefetch(root: root)
        let tree = try store.treeID(root: root)
        let ahead = try store.manifest(tree: tree)
        #expect(ahead.count == subsystemFixture.count)
        let known = try store.factsHashes()
        let (path, entry) = try #require(ahead.sorted { $0.key < $1.key }.first)
        // One file gets new content: the read-ahead answers as the database will.
        let facts = parse("int replaced_content;\n")
        let newHash = Array("new content".utf8).withUnsafeBytes { ContentHash(of: $0) }
        let content = FactStore.NewContent(hash: newHash, facts: facts)
        let factsHash = CachedIndexer.encodeWithoutSize(facts).withUnsafeBytes { ContentHash(of: $0) }
        #expect(content.factsHash == factsHash)
        let added = FactStore.ManifestUpdate(path: "drivers/new/added.c", size: 7, mtime: 42, hash: entry.hash)
        let edited = FactStore.ManifestUpdate(path: path, size: 9, mtime: 43, hash: newHash)
        store.storeInBackground(tree: tree, content: [content], manifest: [added, edited])
        let after = try store.manifest(tree: tree)
        #expect(after.count == ahead.count + 1)
        #expect(after["drivers/new/added.c"]?.mtime == 42 && after[path]?.hash == newHash)
        var expected = known
        expected[newHash] = factsHash
        #expect(try store.factsHashes() == expected)  // the old content is still used by added.c
        // And the database holds exactly that once the write is done.
        store.flush()
        let fresh = try FactStore(path: db)
        #expect(try fresh.manifest(tree: tree).mapValues(\.hash) == after.mapValues(\.hash))
        #expect(try fresh.factsHashes() == expected)
        // A content no row refers to any more is forgotten (the write may collect it).
        store.storeInBackground(tree: tree, content: [], manifest: [.init(path: "drivers/new/added.c", size: 7, mtime: 44, hash: newHash)])
        #expect(try store.factsHashes()[entry.hash] == nil)
        // A prefetch of a tree the store never saw answers nothing, and reads still work.
        store.prefetch(root: root + "-elsewhere")
        #expect(try store.manifest(tree: tree).count == after.count)
    }

    @Test func aBulkWriteGoesThroughARollbackJournalAndLeavesTheStoreInWALMode() throws {
        let db = database()
        defer { removeTree(SourceTree.dirname(db)) }
        let store = try FactStore(path: db)
        let tree = try store.treeID(root: SourceTree.dirname(db))  // a root that exists: not collected
        let facts = parse(subsystemFixture.values.sorted().first!)
        let blob = CachedIndexer.encodeWithoutSize(facts)
        let count = FactStore.bulkThreshold + 1
        var content: [FactStore.NewContent] = [], manifest: [FactStore.ManifestUpdate] = []
        for k in 0..<count {
            var key = Array("content \(k)".utf8)
            let hash = key.withUnsafeMutableBytes { ContentHash(of: UnsafeRawBufferPointer($0)) }
            content.append(.init(hash: hash, facts: facts))
            manifest.append(.init(path: "drivers/bulk/f\(k).c", size: 1, mtime: 1, hash: hash))
        }
        store.storeInBackground(tree: tree, content: content, manifest: manifest)
        store.flush()
        let (mode, stored, rows) = try store.queue.read { conn in
            (try String.fetchOne(conn, sql: "PRAGMA journal_mode"), try Int.fetchOne(conn, sql: "SELECT count(*) FROM content"),
             try Int.fetchOne(conn, sql: "SELECT count(*) FROM tree_file"))
        }
        let journal = FileManager.default.fileExists(atPath: db + "-journal")
        #expect(mode == "wal")
        #expect(stored == count && rows == count)
        let journalBytes = journal ? (try FileManager.default.attributesOfItem(atPath: db + "-journal")[.size] as? Int) : 0
        #expect(journalBytes == 0)
        // The new pages went to the database file, not through the WAL.
        let wal = (try? FileManager.default.attributesOfItem(atPath: db + "-wal")[.size] as? Int) ?? 0
        #expect(wal < count * blob.count / 2, "WAL of \(wal) bytes")
        // Every blob reads back and decodes to the facts.
        try FactStore.BlobReader(store).read { lookup in
            let first = try lookup.withBlob(content[0].hash) { raw, _, _ in try? FactsCodec.decode(raw, path: facts.path) }
            var expected = facts
            expected.bytes = 0
            #expect(first == expected)
        }
    }

    @Test func queryableTablesNameStructsMembersAndCalls() throws {
        let (dir, db, store) = try storedFixture()
        defer { removeTree(dir); removeTree(SourceTree.dirname(db)) }
        let (embeds, devm) = try store.queue.read { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM file_member WHERE embedded = 1 AND type_kind = 'struct'") ?? 0,
             try Int.fetchOne(db, sql: "SELECT count(*) FROM file_call WHERE kind = 'devm-alloc'") ?? 0)
        }
        #expect(embeds > 0)
        #expect(devm > 0)
    }

    @Test func queryableRowsHoldEveryValueAsWritten() throws {
        let dir = temporaryTree(["drivers/misc/widget.c": """
            struct widget { struct device dev; int *count; };
            static int widget_probe(struct platform_device *pdev)
            {
                struct widget *w = devm_kzalloc(&pdev->dev, sizeof(*w), GFP_KERNEL);
                return device_register(&w->dev);
            }
            static void widget_other(void) { register_thing(); }
            static void widget_named(void) { register_name("a \\"quoted\\" \\\\ name\\t"); }
            static void widget_accented(void) { register_accent("caf\u{e9}\t"); }
            """, "include/linux/device.h": "struct device { int x; };\n", "Makefile": ""])
        let db = database()
        defer { removeTree(dir); removeTree(SourceTree.dirname(db)) }
        _ = IndexRun.written(paths: [dir], jobs: 1, cachePath: db)
        let store = try FactStore(path: db)
        let (structs, members, calls, files) = try store.queue.read { db in
            (try Row.fetchAll(db, sql: "SELECT path, name, is_union, line FROM file_struct ORDER BY path, line").map { "\($0[0] as String) \($0[1] as String) \($0[2] as Int) \($0[3] as Int)" },
             try Row.fetchAll(db, sql: "SELECT struct, member, type_kind, type, embedded, line FROM file_member ORDER BY struct, member").map {
                "\($0[0] as String).\($0[1] as String) \($0[2] as String) \($0[3] as String) \($0[4] as Int) \($0[5] as Int)" },
             try Row.fetchAll(db, sql: "SELECT function, callee, kind, line, column, argument, typeof(argument) FROM file_call ORDER BY line").map {
                "\($0[0] as String) \($0[1] as String) \($0[2] as String) \($0[3] as Int):\($0[4] as Int) '\($0[5] as String)' \($0[6] as String)" },
             try Row.fetchAll(db, sql: "SELECT path, size, length(hash), typeof(hash) FROM tree_file ORDER BY path").map { "\($0[0] as String) \($0[1] as Int) \($0[2] as Int) \($0[3] as String)" })
        }
        #expect(structs == ["drivers/misc/widget.c widget 0 1", "include/linux/device.h device 0 1"])
        #expect(members == ["device.x builtin int 1 1", "widget.count builtin int 0 1", "widget.dev struct device 1 1"])
        #expect(calls == ["widget_probe devm_kzalloc devm-alloc 4:24 '&pdev->dev' text",
                          "widget_probe device_register driver-core 5:12 '&w->dev' text",
                          "widget_other register_thing register 7:34 '' text",
                          #"widget_named register_name register 8:34 '"a \"quoted\" \\ name\t"' text"#,
                          "widget_accented register_accent register 9:37 '\"caf\u{e9}\t\"' text"])
        #expect(files.count == 2)
        #expect(files.allSatisfy { $0.hasSuffix(" 32 blob") })
    }

    @Test func anEditedFilesOldRowsAreCollectedWithItsContent() throws {
        // A second path holds the same content and keeps it: its rows stay.
        let dir = temporaryTree(["drivers/misc/widget.c": "struct widget { int old_member; };\n",
                                 "drivers/misc/copy.c": "struct widget { int old_member; };\n", "Makefile": ""])
        let db = database()
        defer { removeTree(dir); removeTree(SourceTree.dirname(db)) }
        _ = IndexRun.written(paths: [dir], jobs: 1, cachePath: db)
        try "struct widget { long new_member; };\n".write(toFile: dir + "/drivers/misc/widget.c", atomically: false, encoding: .utf8)
        _ = IndexRun.written(paths: [dir], jobs: 1, cachePath: db)
        let store = try FactStore(path: db)
        let (members, contents, rows) = try store.queue.read { db in
            (try String.fetchAll(db, sql: "SELECT path || ' ' || member || ' ' || type FROM file_member ORDER BY 1"),
             try Int.fetchOne(db, sql: "SELECT count(*) FROM content") ?? -1,
             try Int.fetchOne(db, sql: "SELECT count(*) FROM content_rows") ?? -1)
        }
        #expect(members == ["drivers/misc/copy.c old_member int", "drivers/misc/widget.c new_member long"])
        #expect(contents == 2 && rows == 2)
        // Then the copy changes too: the old content and its rows go.
        try "struct widget { short newer; };\n".write(toFile: dir + "/drivers/misc/copy.c", atomically: false, encoding: .utf8)
        _ = IndexRun.written(paths: [dir], jobs: 1, cachePath: db)
        let (old, left) = try store.queue.read { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM struct_member WHERE member = 'old_member'") ?? -1,
             try Int.fetchOne(db, sql: "SELECT count(*) FROM content_rows") ?? -1)
        }
        #expect(old == 0 && left == 2)
    }
}

extension IndexRun {
    /// A run whose new facts are in the database when it returns (the store writes them
    /// in the background), so that the next run on the same database sees them.
    static func written(paths: [String], jobs: Int, cachePath: String, warn: (String) -> Void = { _ in }) -> IndexRun {
        let run = IndexRun(paths: paths, jobs: jobs, cachePath: cachePath, warn: warn)
        run.store?.flush()
        return run
    }
}

extension String {
    /// The text with every occurrence of `root` replaced by `ROOT`.
    func replacingRoot(_ root: String) -> String {
        split(separator: root, omittingEmptySubsequences: false).joined(separator: "ROOT")
    }
}

/// The command line with the persistent index: identical bytes with and without it, for
/// --jobs 1 and 2, for whole-tree and scoped scans, from the stored result or not.
@Suite(.serialized) struct CacheCommandLineTests {
    @Test func scanAndListingsAreIdenticalWithAndWithoutCache() throws {
        let dir = temporaryTree(subsystemFixture)
        let cache = temporaryTree([:])
        defer { removeTree(dir); removeTree(cache) }
        let db = cache + "/index.sqlite"
        for args in [["scan", dir, "--format", "json"], ["scan", dir, "--format", "text"], ["structs", dir, "--format", "json"],
                     ["subsystems", dir, "--format", "json"], ["scan", dir, "--format", "sarif", "--checks", "devm-embedded-refcount"]] {
            let plain = try CLI.run(args + ["--no-cache", "--quiet"])
            #expect(plain.status <= 1)
            for jobs in ["1", "2"] {
                // The first run with a cache stores facts and the result; the second reads the result back.
                for _ in 0..<2 {
                    let cached = try CLI.run(args + ["--cache", db, "--quiet", "--jobs", jobs])
                    #expect(cached.out == plain.out, "\(args) --jobs \(jobs)")
                    #expect(cached.status == plain.status)
                    #expect(cached.err == plain.err)
                }
            }
        }
        // A corrupt database: one line on stderr, then the same report.
        let (data, _) = readWholeFile(db)
        var bytes = data!
        for k in stride(from: 0, to: bytes.count, by: 5) { bytes[k] = 0x5a }
        try Data(bytes).write(to: URL(fileURLWithPath: db))
        let plain = try CLI.run(["scan", dir, "--format", "json", "--no-cache", "--quiet"])
        let recovered = try CLI.run(["scan", dir, "--format", "json", "--cache", db, "--quiet"])
        #expect(recovered.out == plain.out)
        let lines = recovered.err.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(lines.first?.contains("rebuilt") == true)
    }

    /// The analysis run on facts loaded from the index (what a code edit elsewhere in the
    /// tree does) gives the report of a run that parsed every file.
    @Test func analysisOnLoadedFactsEqualsAnalysisOnParsedFacts() throws {
        var files = subsystemFixture
        files["drivers/misc/widget.c"] = CacheTests.everyFact
        let dir = temporaryTree(files)
        let cache = temporaryTree([:])
        defer { removeTree(dir); removeTree(cache) }
        let db = cache + "/index.sqlite"
        let scan = ["scan", dir, "--format", "json", "--quiet"]
        let plain = try CLI.run(scan + ["--no-cache"])
        // The release empty on purpose is a warning, whichever way its facts were read.
        #expect(plain.out.contains("widget_release() does nothing, and a comment in or right above it says so"))
        _ = try CLI.run(scan + ["--cache", db])
        let loaded = try CLI.run(scan + ["--cache", db, "--reanalyse", "--verbose"])
        #expect(loaded.out == plain.out)
        #expect(loaded.err.contains("\(files.count) loaded from the index"))
    }

    /// Early cutoff: an edit that changes no fact (a comment) is answered from the stored
    /// result, with the new size; an edit of code runs the analysis. Both equal --no-cache.
    @Test func commentEditIsAnsweredFromTheStoredResultAndCodeEditIsAnalysed() throws {
        let dir = temporaryTree(subsystemFixture)
        let cache = temporaryTree([:])
        defer { removeTree(dir); removeTree(cache) }
        let db = cache + "/index.sqlite"
        let scan = ["scan", dir, "--format", "json", "--quiet"]
        _ = try CLI.run(scan + ["--cache", db])
        let victim = dir + "/" + subsystemFixture.keys.sorted().first { $0.hasSuffix(".c") }!
        func append(_ text: String) {
            let fd = open(victim, O_WRONLY | O_APPEND)
            var t = text
            t.withUTF8 { _ = write(fd, $0.baseAddress, $0.count) }
            close(fd)
        }
        append("\n/* a comment changes no fact */\n")
        let commented = try CLI.run(scan + ["--cache", db, "--verbose"])
        #expect(commented.err.contains("no file's facts changed"))
        let plainCommented = try CLI.run(scan + ["--no-cache"])
        #expect(commented.out == plainCommented.out)
        #expect(commented.out.contains("\"bytes\""))
        append("\nstruct added_by_test { int x; };\nint added_by_test(void) { return 0; }\n")
        let edited = try CLI.run(scan + ["--cache", db, "--verbose"])
        #expect(!edited.err.contains("no file's facts changed"))
        #expect(edited.err.contains("parse and index"))
        // Every phase of the run is listed, in the order it ran, then the whole time.
        let phases = ["walking the tree", "parse and index", "name indexes", "registration summaries", "checks",
                      "writing the result to the persistent index", "writing the reports", "in all"]
        let positions = phases.map { edited.err.range(of: "s  " + $0)?.lowerBound }
        #expect(positions.allSatisfy { $0 != nil })
        #expect(positions.compactMap { $0 } == positions.compactMap { $0 }.sorted())
        #expect(!commented.err.contains("name indexes"))
        #expect(edited.out == (try CLI.run(scan + ["--no-cache"])).out)
        #expect(edited.out != commented.out)
    }

    /// The `call_site.kind` column: which calls get a queryable row.
    @Test func callKindsOfTheQueryableCallRows() {
        #expect(FactStore.callKind("devm_kzalloc") == "devm-alloc")
        #expect(FactStore.callKind("devm_kcalloc") == "devm-alloc")
        #expect(FactStore.callKind("devm_kmemdup") == "devm-alloc")
        #expect(FactStore.callKind("devm_kmemdup_array") == nil)
        #expect(FactStore.callKind("kzalloc") == nil)
        #expect(FactStore.callKind("device_add") == "driver-core")
        #expect(FactStore.callKind("mtd_device_unregister") == "unregister")
        #expect(FactStore.callKind("misc_register") == "register")
        #expect(FactStore.callKind("devm_mtd_register") == "register")
        #expect(FactStore.callKind("") == nil)
        #expect(FactStore.callKind("regist") == nil)
        #expect(FactStore.callKind("register_then_unregister") == "unregister")
        #expect(FactStore.callKind("pre_registers") == "register")
        // The length and first-byte filter in front of the set lets every driver-core name through.
        for name in DriverCoreCalls.names.sorted() { #expect(FactStore.callKind(name) == "driver-core", "\(name)") }
        #expect(FactStore.callKind("device_add_x") == nil)
    }
}
