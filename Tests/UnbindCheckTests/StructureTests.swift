import Foundation
import Testing

/// `scripts/check-structure` (run by `scripts/test` before the build) on small source trees:
/// it must accept the repository and refuse each kind of violation.
@Suite struct StructureTests {
    static let script = testsDirectory.deletingLastPathComponent().appendingPathComponent("scripts/check-structure").path

    func check(_ files: [String: String]) throws -> (Int32, String) {
        let dir = temporaryTree(files)
        defer { removeTree(dir) }
        return try python("import runpy, sys; sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')", [Self.script, dir])
    }

    @Test func repositoryFollowsTheRules() throws {
        let (status, out) = try python("import runpy, sys; sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')", [Self.script])
        #expect(status == 0, "\(out)")
    }

    @Test func backwardImportFails() throws {
        let (status, out) = try check(["Facts/A.swift": "import Checks\nstruct A {}\n", "Checks/B.swift": "import Facts\nstruct B {}\n"])
        #expect(status == 1)
        #expect(out.contains("Facts/A.swift:1: error: Facts imports Checks, which is not below it"))
        #expect(!out.contains("Checks/B.swift"))
    }

    @Test func longFileAndLongFunctionFail() throws {
        let body = String(repeating: "    let x = 1\n", count: 81)
        let long = String(repeating: "// line\n", count: 601)
        let (status, out) = try check(["Analysis/F.swift": "func big() {\n" + body + "}\n", "Reporting/L.swift": long])
        #expect(status == 1)
        #expect(out.contains("Analysis/F.swift:1: error: function big has 83 lines (limit 80)"))
        #expect(out.contains("Reporting/L.swift:1: error: 602 lines (limit 600)"))
    }
}
