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

/// What a whole scan does with inputs that once crashed it, and how a crash is contained.
@Suite(.serialized) struct ReliabilityTests {
    /// The arena crash input with its NUL bytes made spaces, so that it is read as C source.
    static func nulFreeCrashInput() throws -> String {
        let path = FuzzCorpusTests.repository + "/Tests/Fixtures/fuzz-crashes/parser-parsecall-arena.bin"
        let bytes = try #require(readWholeFile(path).0)
        return String(decoding: bytes.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
    }

    @Test func scanOfATreeHoldingTheCrashInputCompletes() throws {
        var files = subsystemFixture
        files["drivers/odd/crash.c"] = try Self.nulFreeCrashInput()
        let dir = temporaryTree(files)
        defer { removeTree(dir) }
        let r = try CLI.run(["scan", dir, "--format", "json"])
        #expect(r.status == 1, "stderr: \(r.err)")
        #expect(r.out.contains("\"devm-embedded-refcount\""))
        #expect(!r.err.contains("crashed"))
    }

    @Test func aTrapWhileReadingAFileNamesTheFile() throws {
        var files = subsystemFixture
        files["drivers/odd/trap.c"] = "/* UNBINDCHECK-TEST-TRAP */\nint x;\n"
        let dir = temporaryTree(files)
        defer { removeTree(dir) }
        // (`--no-cache`: another test may have stored this content's facts, and a file whose
        // facts are stored is not parsed.)
        let r = try CLI.run(["scan", dir, "--jobs", "2", "--no-cache"], environment: ["UNBINDCHECK_DEBUG_TRAP_MARKER": "UNBINDCHECK-TEST-TRAP"])
        #expect(r.status == CrashContext.exitStatus)
        #expect(r.err.contains("unbindcheck: crashed while reading drivers/odd/trap.c (please report; rerun with --exclude drivers/odd/trap.c)"), "stderr: \(r.err)")
        #expect(r.err.contains("unbindcheck: signal 4, return addresses of the crashing thread:\n"), "stderr: \(r.err)")
        #expect(r.err.contains("unbindcheck(+0x"), "stderr: \(r.err)")
        // The advice works: excluding the file gives a complete scan.
        let again = try CLI.run(["scan", dir, "--exclude", "drivers/odd/trap.c"], environment: ["UNBINDCHECK_DEBUG_TRAP_MARKER": "UNBINDCHECK-TEST-TRAP"])
        #expect(again.status == 1)
        #expect(again.out.contains("[devm-embedded-refcount]"))
    }

    @Test func withoutTheHookTheMarkerIsJustText() throws {
        var files = subsystemFixture
        files["drivers/odd/trap.c"] = "/* UNBINDCHECK-TEST-TRAP */\nint x;\n"
        let dir = temporaryTree(files)
        defer { removeTree(dir) }
        let r = try CLI.run(["scan", dir])
        #expect(r.status == 1)
        #expect(!r.err.contains("crashed"))
    }
}

extension CLI {
    /// Runs the binary with extra environment variables.
    static func run(_ args: [String], environment: [String: String]) throws -> (status: Int32, out: String, err: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try #require(binary, "the unbindcheck binary was not built"))
        p.arguments = args
        p.environment = CLI.environment.merging(environment) { $1 }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }
}
