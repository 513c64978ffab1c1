import Testing
import Foundation
@testable import UnbindCheck

/// Runs the built `unbindcheck` executable (built by `swift test` alongside the tests).
struct CLI {
    static let binary: String? = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        for config in ["debug", "release"] {
            let p = root.appendingPathComponent(".build/\(config)/unbindcheck").path
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }()

    static func run(_ args: [String]) throws -> (status: Int32, out: String, err: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try #require(binary))
        p.arguments = args
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

@Suite(.enabled(if: CLI.binary != nil)) struct CommandLineTests {
    @Test func exitCodesAndGccStyle() throws {
        let dir = temporaryTree(subsystemFixture)
        defer { removeTree(dir) }
        let r = try CLI.run(["scan", dir])
        #expect(r.status == 1)
        let first = try #require(r.out.split(separator: "\n").first)
        #expect(first.hasPrefix("drivers/bus/host.c:") || first.hasPrefix("drivers/flash/chip.c:"))
        #expect(r.out.contains(": error: ") && r.out.contains("[devm-embedded-refcount]"))
        #expect(r.out.contains("\n  drivers/bus/host.c:2:1: note: struct host embeds struct bus_adapter → struct device (adap.dev)"))
        #expect(try CLI.run(["scan", dir, "--fail-on", "error", "--checks", "empty-release"]).status == 0)
        #expect(try CLI.run(["scan", dir + "/does-not-exist"]).status == 2)
        #expect(try CLI.run(["scan", dir, "--fail-on", "bogus"]).status == 64)
        let empty = temporaryTree(["notes.txt": "no C"])
        defer { removeTree(empty) }
        #expect(try CLI.run(["scan", empty]).status == 0)
    }

    @Test func baselineHidesKnownFindings() throws {
        let dir = temporaryTree(subsystemFixture)
        defer { removeTree(dir) }
        let json = try CLI.run(["scan", dir, "--format", "json", "-o", dir + "/baseline.json"])
        #expect(json.status == 1)
        let again = try CLI.run(["scan", dir, "--baseline", dir + "/baseline.json"])
        #expect(again.status == 0)
        #expect(again.out.isEmpty)
        #expect(again.err.contains("suppressed"))
    }

    @Test func everyFormatAndListing() throws {
        let dir = temporaryTree(subsystemFixture)
        defer { removeTree(dir) }
        let sarif = try CLI.run(["scan", dir, "--format", "sarif"])
        #expect(sarif.out.contains("\"version\": \"2.1.0\"") && sarif.out.contains("\"ruleId\": \"devm-embedded-refcount\""))
        let html = try CLI.run(["scan", dir, "--format", "html", "-o", dir + "/report/"])
        #expect(html.status == 1)
        #expect(FileManager.default.fileExists(atPath: dir + "/report/index.html"))
        let all = try CLI.run(["scan", dir, "--reports", dir + "/all"])
        #expect(all.status == 1)
        #expect(all.out.isEmpty)
        for name in ["report.txt", "report.json", "report.sarif", "index.html"] {
            #expect(FileManager.default.fileExists(atPath: dir + "/all/" + name), "\(name)")
        }
        let subs = try CLI.run(["subsystems", dir, "--format", "json"])
        #expect(subs.status == 0 && subs.out.contains("\"protection\": \"completion\""))
        let structs = try CLI.run(["structs", dir])
        #expect(structs.out.contains("struct chip: chip → flash → device (fl.dev) [indirect]"))
        let explain = try CLI.run(["explain", dir, "--struct", "chip"])
        #expect(explain.out.contains("devm_kzalloc() in chip_probe"))
        #expect(try CLI.run(["explain", dir, "--struct", "nope"]).status == 2)
        let help = try CLI.run(["--help"])
        #expect(help.out.contains("scan") && help.out.contains("subsystems") && help.out.contains("explain"))
        #expect(try CLI.run(["--version"]).out == "0.1.0\n")
    }
}
