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

/// The deterministic half of fuzzing: every committed input (each crash ever found, the
/// seed corpus and the minimized corpora of long runs) is replayed through the same
/// harness the fuzz targets run. A crash here kills the test process, so CI goes red.
@Suite struct FuzzCorpusTests {
    static let repository: String = {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        return parts.joined(separator: "/")
    }()

    /// Regular files of a directory, sorted; empty when it does not exist.
    static func files(in directory: String) -> [String] {
        guard let dir = opendir(directory) else { return [] }
        defer { closedir(dir) }
        var out: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) { $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) } }
            if name.hasPrefix(".") { continue }
            let path = directory + "/" + name
            var st = stat()
            if stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG { out.append(path) }
        }
        return out.sorted()
    }

    static var crashInputs: [String] { files(in: repository + "/Tests/Fixtures/fuzz-crashes") }
    static var seedCorpus: [String] { files(in: repository + "/Fuzz/corpus") }
    static func minimizedCorpus(_ target: String) -> [String] { files(in: repository + "/Fuzz/corpus-min/" + target) }

    static func replay(_ target: String, _ paths: [String]) -> Int {
        var ran = 0
        for path in paths {
            let (data, error) = readWholeFile(path)
            #expect(error == nil, "\(path): \(error ?? "")")
            guard let bytes = data else { continue }
            let digest = bytes.withUnsafeBufferPointer { FuzzHarness.run(target, $0) }
            #expect(digest != nil)
            ran += 1
        }
        return ran
    }

    @Test func crashInputsAreKept() {
        let names = Self.crashInputs.map { String($0.split(separator: "/").last ?? "") }
        #expect(names.contains("parser-parsecall-arena.bin"))
        #expect(names.contains("parser-designator-past-end.bin"))
    }

    @Test(arguments: FuzzHarness.targets)
    func everyCrashInputRunsThroughEveryTarget(_ target: String) {
        #expect(Self.replay(target, Self.crashInputs) == Self.crashInputs.count)
    }

    @Test(arguments: FuzzHarness.targets)
    func seedAndMinimizedCorporaReplay(_ target: String) {
        let inputs = Self.seedCorpus + Self.minimizedCorpus(target)
        #expect(Self.seedCorpus.count >= 4)
        // The minimized corpora of the 20-minute runs (scripts/fuzz TARGET 1230 1).
        #expect(Self.minimizedCorpus(target).count >= 100, "\(target): \(Self.minimizedCorpus(target).count) inputs")
        #expect(Self.replay(target, inputs) == inputs.count)
    }

    /// The checks' example files (`Tests/Fixtures/<check-id>/*/…`), which `scripts/fuzz`
    /// also seeds every run with: each file through the parser target, and each example
    /// directory joined with NULs (the analysis target's file separator) through the others.
    @Test func checkExamplesReplay() {
        let ids = allChecks.map { type(of: $0).description.id }
        var files = 0, trees = 0
        for id in ids {
            for dir in exampleDirectories(id, "triggering") + exampleDirectories(id, "non-triggering") {
                let example = fixtureFiles(dir)
                for path in example.keys.sorted() {
                    let digest = Array(example[path]!.utf8).withUnsafeBufferPointer { FuzzHarness.run("parser", $0) }
                    #expect(digest != nil)
                    files += 1
                }
                let joined = Array(example.keys.sorted().suffix(3).map { example[$0]! }.joined(separator: "\0").utf8)
                for target in FuzzHarness.targets where target != "parser" {
                    #expect(joined.withUnsafeBufferPointer { FuzzHarness.run(target, $0) } != nil)
                }
                trees += 1
            }
        }
        #expect(trees >= 2 * ids.count) // at least one example of each kind per check
        #expect(files >= 3 * ids.count)
    }

    /// The root cause of parser-parsecall-arena: `MACRO(args) {` inside a function body was
    /// parsed as a nested function definition, which reset the expression arena while an
    /// enclosing call still held indices into it.
    @Test func macroBlockInsideACallArgumentKeepsTheEnclosingFunction() {
        let f = parse("""
        int f(struct a *p)
        {
        \tu32 v = g(p, ({ list_for_each(q, &p->l) { h(q); } 0; }));
        \tlist_for_each_entry(q, &p->l, node) { k(q); }
        \treturn m(v);
        }
        """)
        #expect(f.functions.map(\.name) == ["f"])
        let calls = f.functions.first?.calls.map(\.callee) ?? []
        #expect(calls.contains("g") && calls.contains("h") && calls.contains("k") && calls.contains("m"))
    }

    @Test func theArenaCrashInputParsesAsOneFile() throws {
        let (data, _) = readWholeFile(Self.repository + "/Tests/Fixtures/fuzz-crashes/parser-parsecall-arena.bin")
        let bytes = try #require(data)
        let facts = bytes.withUnsafeBufferPointer { FrontEnd.parse(path: "crash.c", bytes: $0) }
        #expect(facts.functions.first?.name == "f")
    }

    @Test func arenaLookupsOutOfRangeGiveTheMissingNode() {
        let arena = ExprArena()
        #expect(arena[5].kind == .other && arena[5].a == -1)
        #expect(arena[-1].kind == .other)
        #expect(arena.text(at: 7) == "")
        #expect(arena.render(3) == "…")
    }
}
