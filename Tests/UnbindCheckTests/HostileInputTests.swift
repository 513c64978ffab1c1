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

/// Each hostile input gives at most a clear diagnostic naming the file; the scan goes on.
@Suite struct HostileInputTests {
    /// A well-formed file scanned next to the hostile one must still be understood.
    static let witness = "struct witness { int x; };\n"

    func scanWithWitness(_ name: String, _ bytes: [UInt8]) -> (IndexRun, FileFacts) {
        let dir = temporaryTree(["ok.c": Self.witness])
        defer { removeTree(dir) }
        let fd = open(dir + "/" + name, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        bytes.withUnsafeBufferPointer { _ = write(fd, $0.baseAddress, $0.count) }
        close(fd)
        let run = IndexRun(paths: [dir], jobs: 2)
        #expect(run.index.files.first { $0.path == "ok.c" }?.aggregates.map(\.name) == ["witness"])
        return (run, run.index.files.first { $0.path == name }!)
    }

    @Test func binaryFileIsSkippedWithADiagnostic() {
        let (run, f) = scanWithWitness("blob.c", [0x7f, 0x45, 0x4c, 0x46, 0, 0, 1, 2, 0xff, 0xfe])
        #expect(f.unreadable == "binary file (NUL bytes), skipped")
        #expect(run.problems.contains { $0.path == "blob.c" })
    }

    @Test func invalidUTF8AndStrayBytes() {
        let (_, f) = scanWithWitness("latin1.c", Array("struct caf".utf8) + [0xe9, 0xff, 0xc0] + Array(" { int x; };\nint y;\n".utf8))
        #expect(f.unreadable == nil)
        #expect(f.globals.map(\.name) == ["y"])
    }

    @Test func unterminatedLiteralsAtEndOfFile() {
        for (text, message) in [("int a;\n/* open", "unterminated comment"), ("char *s = \"open", "unterminated string literal"),
                                ("char c = 'x", "unterminated character literal")] {
            let f = parse(text)
            #expect(f.diagnostics.contains { $0.message == message }, "\(text)")
        }
    }

    @Test func fiftyMegabyteSingleLine() {
        var bytes = Array("int first; /* ".utf8)
        bytes += [UInt8](repeating: 97, count: 50 << 20)
        bytes += Array(" */ int last;".utf8)
        let (_, f) = scanWithWitness("huge.c", bytes)
        #expect(f.globals.map(\.name) == ["first", "last"])
        #expect(f.bytes > 50 << 20)
    }

    @Test func deepNestingIsBoundedNotRecursive() {
        let n = 100_000
        let parens = "int x = " + String(repeating: "(", count: n) + "1" + String(repeating: ")", count: n) + ";\nint after_parens;\n"
        let braces = "void f(void) " + String(repeating: "{", count: n) + String(repeating: "}", count: n) + "\nint after_braces;\n"
        let structs = String(repeating: "struct s { ", count: 2000) + String(repeating: "};", count: 2000) + "\nint after_structs;\n"
        let call = "void g(void) { h(" + String(repeating: "(", count: n) + "1" + String(repeating: ")", count: n) + "); }\nint after_call;\n"
        // Unbalanced: a function whose parentheses never close; the column-1 brace ends it.
        let unbalanced = "void u(void)\n{\n\th(" + String(repeating: "(", count: n) + ");\n}\nint tail;\n"
        let f = parse(parens + braces + structs + call + unbalanced)
        let names = f.globals.map(\.name)
        #expect(names == ["x", "after_parens", "after_braces", "after_structs", "after_call", "tail"])
        #expect(f.functions.map(\.name) == ["f", "g", "u"])
    }

    @Test func tenThousandDeepIf() {
        let text = String(repeating: "#ifdef A\n", count: 10_000) + "int inside;\n" + String(repeating: "#endif\n", count: 10_000) + "int outside;\n"
        #expect(parse(text).globals.map(\.name) == ["inside", "outside"])
        let unbalanced = String(repeating: "#if X\n", count: 10_000) + "int y;\n"
        #expect(parse(unbalanced).diagnostics.contains { $0.message.contains("unterminated #if") })
    }

    @Test func macroSoupParsesToNothingWithoutCrashing() {
        let soup = (0..<2000).map { "FOO\($0) BAR(((BAZ]] )) {{ QUX ;; }} ] ) ?: -> ## # @ $ `" }.joined(separator: "\n")
        let f = parse(soup + "\nint survivor;\n")
        #expect(f.globals.map(\.name).last == "survivor")
    }

    @Test func crlfLineEndings() throws {
        let f = parse("struct a {\r\n\tint x;\r\n\tstruct device dev;\r\n};\r\nint b;\r\n")
        let a = try #require(f.aggregates.first)
        #expect(a.fields.map(\.name) == ["x", "dev"])
        #expect(a.fields[1].line == 3)
        #expect(f.globals.first?.line == 5)
    }

    @Test func emptyFile() {
        let f = parse("")
        #expect(f.aggregates.isEmpty && f.diagnostics.isEmpty)
    }

    @Test func symlinkLoopAndMissingPathAndEmptyDirectory() {
        let dir = temporaryTree(["sub/a.c": "int a;\n"])
        defer { removeTree(dir) }
        symlink(dir, dir + "/sub/loop")
        symlink(dir + "/nowhere.c", dir + "/dangling.c")
        let run = IndexRun(paths: [dir, dir + "/missing"], jobs: 2)
        #expect(run.tree.files.map(\.relativePath) == ["sub/a.c"])
        #expect(run.problems.map(\.message) == ["no such file or directory"])
        let empty = temporaryTree(["README": "no C here"])
        defer { removeTree(empty) }
        #expect(IndexRun(paths: [empty], jobs: 1).tree.files.isEmpty)
    }

    /// A tree's files come in the byte order of their paths, whatever order the
    /// directories list them in: `a.c` before `a/b.c` ('.' < '/'), a prefix first,
    /// non-ASCII after ASCII.
    @Test func filesAreInTheByteOrderOfTheirPaths() {
        let names = ["a/b.c", "a.c", "a/a.h", "ab.c", "a-b.c", "é.c", "z/y/x.c", "z.h", "A.c", "a/b/c.c", "a/b.c.h"]
        let dir = temporaryTree(Dictionary(uniqueKeysWithValues: names.map { ($0, "int x;\n") }))
        defer { removeTree(dir) }
        let walked = SourceTree(paths: [dir]).files.map(\.relativePath)
        #expect(walked == names.sorted { SourceTree.bytewiseLess($0, $1) })
        #expect(walked == ["A.c", "a-b.c", "a.c", "a/a.h", "a/b.c", "a/b.c.h", "a/b/c.c", "ab.c", "z.h", "z/y/x.c", "é.c"])
        let files = names.map { SourceFile(fullPath: "/" + $0, relativePath: $0, size: 0) }
        #expect(SourceTree.sortedByPath(files).map(\.relativePath) == walked)
        #expect(SourceTree.sortedByPath([]).isEmpty)
    }

    /// A file listed at discovery that cannot be opened when it is read: reported as a
    /// problem, the rest indexed. Removing it between the two steps makes `open` fail for
    /// any user, root included (CI runs as root, where `chmod 0` would not stop a read).
    @Test func unreadableFile() {
        let dir = temporaryTree(["secret.c": "int s;\n", "ok.c": Self.witness])
        defer { removeTree(dir) }
        let tree = SourceTree(paths: [dir])
        #expect(tree.files.map(\.relativePath).sorted() == ["ok.c", "secret.c"])
        #expect(unlink(dir + "/secret.c") == 0)
        let (facts, _) = Indexer.parseAll(tree.files, jobs: 2)
        let f = facts.first { $0.path == "secret.c" }
        #expect(f?.unreadable == "cannot read: No such file or directory")
        let ok = facts.first { $0.path == "ok.c" }
        #expect(ok?.unreadable == nil)
        #expect(ok?.aggregates.map(\.name) == ["witness"])
    }

    /// Without read permission (meaningful only for a user other than root).
    @Test(.enabled(if: geteuid() != 0, "root reads a file whatever its mode"))
    func fileWithoutReadPermission() {
        let dir = temporaryTree(["secret.c": "int s;\n", "ok.c": Self.witness])
        defer { removeTree(dir) }
        chmod(dir + "/secret.c", 0)
        let run = IndexRun(paths: [dir], jobs: 1)
        #expect(run.index.files.first { $0.path == "secret.c" }?.unreadable?.hasPrefix("cannot read") == true)
        #expect(run.problems.contains { $0.path == "secret.c" })
    }
}

@Suite struct DeterminismTests {
    @Test func sameBytesForAnyJobsOrderAndRun() {
        let dir = temporaryTree(subsystemFixture)
        defer { removeTree(dir) }
        func json(_ paths: [String], jobs: Int) -> String {
            let run = IndexRun(paths: paths, jobs: jobs)
            let ctx = AnalysisContext(index: run.index, jobs: jobs)
            let findings = Analyzer.findings(ctx)
            let stats = ScanStats(index: run.index, context: ctx, seconds: 0)
            return JSONReporter().render(Report(root: "r", findings: findings, stats: stats, suppressed: 0, includeTimings: false))
                + Listings.subsystemsJSON(Listings.subsystems(ctx), ctx: ctx)
                + Listings.structsJSON(Listings.structs(ctx), root: "r")
        }
        let base = json([dir], jobs: 1)
        #expect(base.contains("devm-embedded-refcount"))
        #expect(json([dir], jobs: 4) == base)
        #expect(json([dir], jobs: 2) == base)
        let parts = [dir + "/drivers", dir + "/include"]
        #expect(json(parts, jobs: 2) == json(parts.reversed(), jobs: 3))
    }
}

@Suite struct OutputSafetyTests {
    static let evil = "evil\u{1b}[31m<script>alert(1)</script>\"\n.c"

    func report() -> Report {
        let f = Finding(check: "empty-release", severity: .error, file: Self.evil, line: 1, column: 2, function: "f\u{7}",
                        message: "bad </script><img src=x> \u{0}\u{1b}]0;title\u{7}", notes: [FindingNote(.release, file: Self.evil, line: 3, message: "n\r\n")])
        return Report(root: "/tmp/<root>", findings: [f], stats: ScanStats(files: 1, bytes: 1, structs: 0, functions: 0, seconds: 0,
                      allocations: 0, devmAllocations: 0, untypedDevmAllocations: 0), suppressed: 0, includeTimings: false)
    }

    @Test func textHasNoControlCharacters() {
        let out = TextReporter().render(report())
        let lines = out.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 3)  // finding, note, trailing empty
        #expect(!out.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" })
        #expect(out.contains("\\x1b[31m"))
    }

    @Test func jsonEscapesEverything() {
        let out = JSONReporter().render(report())
        #expect(!out.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" })
        #expect(out.contains("\\u001b") && out.contains("\\u0000") && out.contains("\\\"\\n.c"))
    }

    /// Strings that need no escape are copied whole; the others go scalar by scalar.
    @Test func jsonStringEscapes() {
        func escaped(_ s: String) -> String { var out = ""; JSONText.escape(s, into: &out); return out }
        #expect(escaped("drivers/mtd/core.c") == "\"drivers/mtd/core.c\"")
        #expect(escaped("") == "\"\"")
        #expect(escaped("a\"b\\c") == "\"a\\\"b\\\\c\"")
        #expect(escaped("l1\nl2\tx\r") == "\"l1\\nl2\\tx\\r\"")
        #expect(escaped("\u{7f}\u{1}") == "\"\\u007f\\u0001\"")
        #expect(escaped("caf\u{e9} \u{2028}") == "\"caf\u{e9} \\u2028\"")
    }

    @Test func htmlEscapesMarkup() {
        let out = HTMLReporter().render(report())
        #expect(!out.contains("<script>alert"))
        #expect(!out.contains("<img"))
        #expect(out.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(!out.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" && $0 != "\t" })
    }

    @Test func sarifEncodesUris() {
        let out = SARIFReporter().render(report())
        #expect(out.contains("evil%1B%5B31m%3Cscript%3Ealert%281%29%3C/script%3E%22%0A.c"))
        #expect(!out.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" })
    }
}
