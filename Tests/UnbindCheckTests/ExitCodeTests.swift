import Testing
import Foundation
@testable import Facts
@testable import CFrontend
@testable import Indexing
@testable import Analysis
@testable import Findings
@testable import Checks
@testable import Reporting
@testable import Pipeline

/// Exit status 0 clean, 1 findings at or above --fail-on, 2 usage or input error — and a
/// message that says what was expected.
@Suite struct ExitCodeTests {
    @Test func usageErrorsExitTwo() throws {
        let dir = temporaryTree(kernelFixture)
        defer { removeTree(dir) }
        let bogus = try CLI.run(["scan", dir, "--fail-on", "bogus"])
        #expect(bogus.status == 2 && bogus.err.contains("Please provide one of 'error', 'warning' or 'note'"))
        #expect(try CLI.run(["scan", dir, "--no-such-option"]).status == 2)
        let missing = try CLI.run(["scan"])
        #expect(missing.status == 2 && missing.err.contains("Missing expected argument"))
        #expect(try CLI.run(["scan", dir, "--jobs", "0"]).status == 2)
        #expect(try CLI.run(["scan", dir, "--checks", "no-such-check"]).status == 2)
        // Listing commands offer only text and json.
        let sarif = try CLI.run(["structs", dir, "--format", "sarif"])
        #expect(sarif.status == 2 && sarif.err.contains("'text' and 'json'"))
        #expect(try CLI.run(["structs", "--help"]).out.contains("(values: text, json"))
        #expect(try CLI.run(["scan", "--help"]).out.contains("(values: text, json, sarif, html"))
        // A mistyped subcommand gets a suggestion, not "unexpected arguments".
        let typo = try CLI.run(["scna", dir])
        #expect(typo.status == 2)
        #expect(typo.err.contains("unknown command 'scna'. Did you mean 'scan'?"))
        #expect(!typo.err.contains("unexpected argument"))
        #expect(try CLI.run(["subsytems", dir]).err.contains("Did you mean 'subsystems'?"))
        let nested = try CLI.run(["baseline", "craete", dir])
        #expect(nested.status == 2 && nested.err.contains("Did you mean 'create'?") && !nested.err.contains("unexpected argument"))
        // -j is --jobs.
        #expect(try CLI.run(["scan", dir, "-j", "1", "--fail-on", "error", "--checks", "empty-release"]).status == 1)
    }

    @Test func statusFollowsFailOn() throws {
        let dir = temporaryTree(kernelFixture)
        defer { removeTree(dir) }
        // dummy_release is an error; nothing else runs.
        #expect(try CLI.run(["scan", dir + "/drivers/misc", "--fail-on", "error"]).status == 1)
        let onlyWarning = try CLI.run(["scan", dir + "/drivers/flash/core.c", "--fail-on", "error"])
        #expect(onlyWarning.status == 0 && onlyWarning.out.contains(": warning: "))
        #expect(try CLI.run(["scan", dir + "/drivers/flash/core.c"]).status == 1)
        #expect(try CLI.run(["scan", dir + "/include"]).status == 0)
    }

    @Test func inputsThatCannotBeAnalysedExitTwo() throws {
        let notC = try CLI.run(["scan", "/etc/passwd"])
        #expect(notC.status == 2)
        #expect(notC.err.contains("expected a .c or .h file, or a directory"))
        let empty = temporaryTree(["notes.txt": "no C here\n"])
        defer { removeTree(empty) }
        let none = try CLI.run(["scan", empty])
        #expect(none.status == 2 && none.err.contains("no C source files (.c or .h) found") && none.err.contains("expected a kernel tree"))
        let gone = try CLI.run(["scan", empty + "/nope"])
        #expect(gone.status == 2 && gone.err.contains("no such file or directory"))
        // A named input that is neither a file nor a directory.
        let fifo = empty + "/pipe.c"
        #expect(mkfifo(fifo, 0o644) == 0)
        let special = try CLI.run(["scan", fifo])
        #expect(special.status == 2 && special.err.contains("not a regular file or directory"))
        // Files in scope but none of them C.
        let dir = temporaryTree(kernelFixture)
        defer { removeTree(dir) }
        let makefile = try CLI.run(["scan", dir + "/Makefile"])
        #expect(makefile.status == 2 && makefile.err.contains("no C source files"))
        #expect(try CLI.run(["index", empty]).status == 2)
    }

    @Test func triageRejectsWhatIsNotAKernelLog() throws {
        let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("README.md").path
        // The tree does not exist: the log is rejected before the tree is looked at.
        for log in [readme, "/bin/ls"] {
            let r = try CLI.run(["triage", log, "--tree", "/nonexistent-tree"])
            #expect(r.status == 2, "\(log)")
            #expect(r.err.contains("this is not a kernel log"), "\(log)")
            #expect(!r.err.contains("nonexistent-tree: no such file"), "\(log)")
        }
        let unreadable = try CLI.run(["triage", "/nonexistent.log", "--tree", "/tmp"])
        #expect(unreadable.status == 2 && unreadable.err.contains("cannot read log /nonexistent.log"))
        #expect(CrashLog(kernelLog: Array("WARNING: CPU: 0 PID: 1 at lib/refcount.c:28\n".utf8)) != nil)
        #expect(CrashLog(kernelLog: Array("hello\nworld\n".utf8)) == nil)
        #expect(CrashLog(kernelLog: [0x7f, 0x45, 0x4c, 0x46, 0, 0]) == nil)
    }

    @Test func baselinesAreParsedAndCounted() throws {
        let dir = temporaryTree(kernelFixture)
        defer { removeTree(dir) }
        let full = try CLI.run(["scan", dir, "--format", "json"])
        let all = try fingerprints(full.out)
        #expect(all.count == kernelFixtureFingerprints.count && all.count >= 4)
        // Compact JSON, as `jq -c` writes it.
        let object = try JSONSerialization.jsonObject(with: Data(full.out.utf8))
        let compact = try JSONSerialization.data(withJSONObject: object)
        #expect(!compact.contains(UInt8(ascii: "\n")))
        try compact.write(to: URL(fileURLWithPath: dir + "/compact.json"))
        let r = try CLI.run(["scan", dir, "--baseline", dir + "/compact.json"])
        #expect(r.status == 0 && r.out.isEmpty)
        #expect(r.err.contains("\(all.count) findings suppressed, 0 baseline entries resolved"))

        // A fingerprint list with comments, one entry of which is fixed by now.
        let list = "# known\n" + all.joined(separator: "\n") + "\nempty-release|drivers/misc/gone.c|gone_release||\n"
        try list.write(toFile: dir + "/known.txt", atomically: true, encoding: .utf8)
        let l = try CLI.run(["scan", dir, "--baseline", dir + "/known.txt"])
        #expect(l.status == 0)
        #expect(l.err.contains("\(all.count) findings suppressed, 1 baseline entry resolved"))
        #expect(l.err.contains("  resolved: empty-release|drivers/misc/gone.c|gone_release||"))
        // Scoped: only entries in scope are counted as resolved.
        let s = try CLI.run(["scan", dir + "/drivers/flash", "--baseline", dir + "/known.txt"])
        #expect(s.err.contains("suppressed, 0 baseline entries resolved"))

        // Anything else is an error that says what a baseline is.
        let sarif = try CLI.run(["scan", dir, "--format", "sarif"])
        try sarif.out.write(toFile: dir + "/r.sarif", atomically: true, encoding: .utf8)
        try "".write(toFile: dir + "/empty", atomically: true, encoding: .utf8)
        try "some notes\nabout things\n".write(toFile: dir + "/notes.txt", atomically: true, encoding: .utf8)
        try "{\"tool\": {}}".write(toFile: dir + "/other.json", atomically: true, encoding: .utf8)
        for (file, reason) in [("r.sarif", "SARIF"), ("empty", "empty file"), ("notes.txt", "line 1 is not a fingerprint"), ("other.json", "without \"findings\"")] {
            let e = try CLI.run(["scan", dir, "--baseline", dir + "/" + file])
            #expect(e.status == 2, "\(file)")
            #expect(e.err.contains(reason) && e.err.contains("expected a JSON report"), "\(file): \(e.err)")
        }
        #expect(try CLI.run(["scan", dir, "--baseline", dir + "/missing"]).status == 2)
    }

    @Test func baselineParserRecognisesContent() throws {
        let pretty = "{\n  \"findings\": [\n    {\"fingerprint\": \"a-b|x.c|f|s|o\"}\n  ]\n}\n"
        #expect(try Baseline(parsing: pretty) == Baseline(fingerprints: ["a-b|x.c|f|s|o"], kind: .jsonReport))
        #expect(try Baseline(parsing: "{\"findings\":[]}").fingerprints.isEmpty)
        #expect(try Baseline(parsing: "# nothing known yet\n").fingerprints.isEmpty)
        #expect(try Baseline(parsing: "a-b|x.c|f|s|o\r\n").fingerprints == ["a-b|x.c|f|s|o"])
        #expect(throws: Baseline.Invalid.self) { try Baseline(parsing: "   \n") }
        #expect(throws: Baseline.Invalid.self) { try Baseline(parsing: "{\"findings\": [{\"file\": \"x\"}]}") }
        #expect(throws: Baseline.Invalid.self) { try Baseline(parsing: "{not json") }
        #expect(throws: Baseline.Invalid.self) { try Baseline(parsing: "[1, 2]") }
    }

    @Test func baselineCreateWritesWhatScanReads() throws {
        let dir = temporaryTree(kernelFixture)
        defer { removeTree(dir) }
        let c = try CLI.run(["baseline", "create", dir, "-o", dir + "/base.json"])
        #expect(c.status == 0)
        let text = try String(contentsOfFile: dir + "/base.json", encoding: .utf8)
        #expect(try fingerprints(text).sorted() == kernelFixtureFingerprints.sorted())
        #expect(try CLI.run(["scan", dir, "--baseline", dir + "/base.json"]).status == 0)
        let f = try CLI.run(["baseline", "create", dir + "/drivers/flash", "--format", "fingerprints"])
        #expect(f.status == 0)
        let lines = f.out.split(separator: "\n").filter { !$0.hasPrefix("#") }.map(String.init)
        #expect(lines == kernelFixtureFingerprints.filter { $0.contains("|drivers/flash/") }.sorted())
        try f.out.write(toFile: dir + "/flash.txt", atomically: true, encoding: .utf8)
        let rest = try CLI.run(["scan", dir, "--baseline", dir + "/flash.txt", "--format", "json"])
        #expect(try fingerprints(rest.out).sorted() == kernelFixtureFingerprints.filter { !$0.contains("|drivers/flash/") }.sorted())
    }
}
