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

/// Runs the built `unbindcheck` executable, found next to the test bundle (SwiftPM builds
/// both into the same directory). A missing binary fails the test instead of skipping it.
struct CLI {
    static let binary: String? = {
        var dirs: [URL] = []
        #if os(Linux)
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            dirs.append(URL(fileURLWithPath: exe).deletingLastPathComponent())
        }
        #endif
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            dirs.append(bundle.bundleURL.deletingLastPathComponent())
        }
        dirs.append(Bundle.main.bundleURL)
        for dir in dirs {
            let p = dir.appendingPathComponent("unbindcheck").path
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }()

    static func path() throws -> String {
        try #require(binary, "the unbindcheck executable was not found next to the test bundle; build it with `swift build --build-tests`")
    }

    /// The environment every run gets: the caller's, with `XDG_CACHE_HOME` in a directory
    /// of this test process, so that no test reads or writes the user's default index (an
    /// index of another tool version there would add a "rebuilt" line to stderr).
    static let environment: [String: String] = {
        let home = NSTemporaryDirectory() + "unbindcheck-tests-\(getpid())"
        try? FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        return ProcessInfo.processInfo.environment.merging(["XDG_CACHE_HOME": home]) { $1 }
    }()

    static func run(_ args: [String], in directory: String? = nil) throws -> (status: Int32, out: String, err: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try path())
        p.arguments = args
        p.environment = environment
        if let directory { p.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        // Read both pipes concurrently so that a full stderr pipe cannot block the child.
        let errData = LockedData()
        let reader = Thread { errData.set(err.fileHandleForReading.readDataToEndOfFile()) }
        reader.start()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        while !errData.done { usleep(1000) }
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: errData.data, as: UTF8.self))
    }
}

/// Data handed from a reader thread.
final class LockedData: @unchecked Sendable {
    private let lock = NSLock()
    private var value = Data()
    private var finished = false
    func set(_ d: Data) { lock.lock(); value = d; finished = true; lock.unlock() }
    var done: Bool { lock.lock(); defer { lock.unlock() }; return finished }
    var data: Data { lock.lock(); defer { lock.unlock() }; return value }
}

/// Fingerprints of a JSON report.
func fingerprints(_ json: String) throws -> [String] {
    let obj = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
    let findings = try #require(obj["findings"] as? [[String: Any]])
    return findings.compactMap { $0["fingerprint"] as? String }
}

/// The first five fields of a fingerprint (`check|file|function|struct|object`), without the
/// key that tells findings of one function apart.
func base(_ fp: String) -> String {
    fp.split(separator: "|", omittingEmptySubsequences: false).prefix(5).joined(separator: "|")
}

/// The first five fields of the fingerprints of a JSON report.
func bases(_ json: String) throws -> [String] { try fingerprints(json).map(base) }

@Suite struct CommandLineTests {
    @Test func exitCodesAndGccStyle() throws {
        let dir = temporaryTree(subsystemFixture)
        defer { removeTree(dir) }
        let r = try CLI.run(["scan", dir])
        #expect(r.status == 1)
        let first = try #require(r.out.split(separator: "\n").first)
        #expect(first.hasPrefix("drivers/bus/host.c:") || first.hasPrefix("drivers/flash/chip.c:"))
        #expect(r.out.contains(": error: ") && r.out.contains("[devm-embedded-refcount]"))
        #expect(r.out.contains("\n  drivers/bus/host.c:2:34: note: struct host embeds struct bus_adapter → struct device (adap.dev)"))
        #expect(try CLI.run(["scan", dir, "--fail-on", "error", "--checks", "empty-release"]).status == 0)
        #expect(try CLI.run(["scan", dir + "/does-not-exist"]).status == 2)
        #expect(try CLI.run(["scan", dir, "--fail-on", "bogus"]).status == 2)
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
