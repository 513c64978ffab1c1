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
#if canImport(Glibc)
import Glibc
#endif

/// Runs the binary with stderr on a pseudo-terminal and returns everything written there.
func runOnTerminal(_ args: [String]) throws -> (status: Int32, terminal: String) {
    // /dev/ptmx by hand (posix_openpt is not exported to Swift): unlock, then ask the number.
    let master = open("/dev/ptmx", O_RDWR | O_NOCTTY)
    try #require(master >= 0, "cannot open /dev/ptmx")
    defer { close(master) }
    var unlock: Int32 = 0
    var number: UInt32 = 0
    let TIOCSPTLCK: UInt = 0x4004_5431, TIOCGPTN: UInt = 0x8004_5430
    try #require(ioctl(master, TIOCSPTLCK, &unlock) == 0 && ioctl(master, TIOCGPTN, &number) == 0)
    let name = "/dev/pts/\(number)"
    let slave = open(name, O_RDWR | O_NOCTTY)
    try #require(slave >= 0)
    let p = Process()
    p.executableURL = URL(fileURLWithPath: try CLI.path())
    p.environment = CLI.environment
    p.arguments = args
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle(fileDescriptor: slave, closeOnDealloc: false)
    try p.run()
    close(slave)
    // Drain the terminal while the child runs; EIO means every writer has closed it.
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        var fds = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
        let ready = poll(&fds, 1, 100)
        if ready > 0 {
            let n = read(master, &buffer, buffer.count)
            if n <= 0 { break }
            bytes += buffer[0..<n]
        } else if !p.isRunning {
            break
        }
    }
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: bytes, as: UTF8.self))
}

@Suite struct ProgressTests {
    @Test func progressLineOnATerminalIsRewrittenAndCleared() throws {
        let dir = temporaryTree(kernelFixture)
        defer { removeTree(dir) }
        // Without the persistent index: tests running at the same time share the default
        // one, and a run that finds it locked says so on stderr (a line this test does not expect).
        let r = try runOnTerminal(["scan", dir, "--no-cache"])
        #expect(r.status == 1)
        let clear = "\r\u{1B}[2K"
        // At least one progress line: phase, files done of total, rate, elapsed.
        let lines = r.terminal.components(separatedBy: clear).filter { $0.hasPrefix("unbindcheck: ") && !$0.contains("analysed") }
        #expect(!lines.isEmpty, "\(r.terminal.debugDescription)")
        #expect(r.terminal.range(of: #"unbindcheck: (discovering files|parsing \d+/6 files, \d+ files/s|indexing|analysing: [a-z ]+), \d+\.\d s"#, options: .regularExpression) != nil,
                "\(r.terminal.debugDescription)")
        // Cleared before the summary, which is the last thing written.
        let summary = try #require(r.terminal.range(of: "unbindcheck: 6 files analysed"))
        #expect(r.terminal[..<summary.lowerBound].hasSuffix(clear))
        #expect(!r.terminal[summary.upperBound...].contains("\u{1B}"))
    }

    @Test func noProgressWhenPipedOrQuiet() throws {
        let dir = temporaryTree(kernelFixture)
        defer { removeTree(dir) }
        let piped = try CLI.run(["scan", dir, "--no-cache"])
        #expect(piped.status == 1)
        #expect(!piped.err.contains("\r") && !piped.err.contains("\u{1B}"))
        #expect(piped.err.hasPrefix("unbindcheck: 6 files analysed"))
        let quiet = try runOnTerminal(["scan", dir, "--quiet", "--no-cache"])
        #expect(quiet.status == 1)
        #expect(quiet.terminal.isEmpty, "\(quiet.terminal.debugDescription)")
    }

    @Test func progressLineText() {
        let s = ScanProgress.Snapshot(phase: "parsing", done: 500, total: 2000, elapsed: 2.25, phaseElapsed: 2.0)
        #expect(ScanProgress.line(s) == "parsing 500/2000 files, 250 files/s, 2.2 s")
        let a = ScanProgress.Snapshot(phase: "analysing: release callbacks", done: 0, total: 0, elapsed: 21.37, phaseElapsed: 1)
        #expect(ScanProgress.line(a) == "analysing: release callbacks, 21.3 s")
        let p = ScanProgress()
        p.begin("parsing", total: 3)
        p.advance(); p.advance()
        #expect(p.snapshot.done == 2 && p.snapshot.total == 3 && p.snapshot.phase == "parsing")
    }
}
