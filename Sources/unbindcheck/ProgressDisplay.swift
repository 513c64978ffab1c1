import Foundation
import Facts
import Indexing
import Analysis
import Findings
import Checks
import Reporting
import Pipeline

#if canImport(Glibc)
import Glibc
#endif

/// One progress line on stderr, redrawn in place every 200 ms (`\r`, clear line) from a
/// background thread while the main thread works, and cleared by `stop()`. Only created
/// when stderr is a terminal and `--quiet` is not given.
final class ProgressDisplay: @unchecked Sendable {
    /// Serialises everything written to stderr, so that notes never interleave with the line.
    final class Console: @unchecked Sendable {
        private let lock = NSLock()
        private var lineShown = false

        /// Writes `text`, clearing the progress line first when one is shown.
        func write(_ text: String) {
            lock.lock(); defer { lock.unlock() }
            if lineShown { writeAll(2, ProgressDisplay.clear); lineShown = false }
            writeAll(2, text)
        }

        func draw(_ line: String) {
            lock.lock(); defer { lock.unlock() }
            writeAll(2, ProgressDisplay.clear + line)
            lineShown = true
        }

        func clearLine() {
            lock.lock(); defer { lock.unlock() }
            if lineShown { writeAll(2, ProgressDisplay.clear); lineShown = false }
        }
    }

    static let console = Console()
    /// Carriage return and ANSI "erase entire line".
    static let clear = "\r\u{1B}[2K"

    /// The progress this display shows; every phase change is drawn at once.
    let progress: ScanProgress
    private let wake = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var stopped = false

    init() {
        progress = ScanProgress(onPhase: { ProgressDisplay.draw($0) })
        Thread.detachNewThread { [self] in loop() }
    }

    /// Shows a progress display when stderr is a terminal and `quiet` is off.
    static func onTerminal(quiet: Bool) -> ProgressDisplay? {
        (!quiet && isatty(2) == 1) ? ProgressDisplay() : nil
    }

    static func draw(_ snapshot: ScanProgress.Snapshot) {
        let line = "unbindcheck: " + ScanProgress.line(snapshot)
        console.draw(String(line.prefix(max(20, columns() - 1))))
    }

    private func loop() {
        while wake.wait(timeout: .now() + .milliseconds(200)) == .timedOut {
            ProgressDisplay.draw(progress.snapshot)
        }
        ProgressDisplay.console.clearLine()
        finished.signal()
    }

    /// Stops redrawing and clears the line; safe to call more than once.
    func stop() {
        lock.lock()
        let first = !stopped
        stopped = true
        lock.unlock()
        guard first else { return }
        wake.signal()
        finished.wait()
    }

    /// The terminal's width (80 when unknown), so that the line never wraps.
    static func columns() -> Int {
        var ws = winsize()
        if ioctl(2, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_col > 0 { return Int(ws.ws_col) }
        return 80
    }
}
