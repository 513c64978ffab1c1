import Facts
import CFrontend

/// Progress of a run, bumped by the workers and read by a display: the phase, and files
/// done of total while parsing. Thread-safe; the indexer calls `advance()` once per file.
public final class ScanProgress: @unchecked Sendable {
    private let lock = NSLockLite()
    private var phase = "starting"
    private var done = 0
    private var total = 0
    private let start = monotonicSeconds()
    private var phaseStart = monotonicSeconds()

    private let onPhase: (@Sendable (Snapshot) -> Void)?

    /// `onPhase` is called (on the caller's thread) each time a phase begins, so that a
    /// display shows every phase at least once however short.
    public init(onPhase: (@Sendable (Snapshot) -> Void)? = nil) {
        self.onPhase = onPhase
    }

    /// Enters a phase; `total` > 0 when the phase counts files.
    public func begin(_ phase: String, total: Int = 0) {
        lock.lock()
        self.phase = phase
        self.total = total
        done = 0
        phaseStart = monotonicSeconds()
        lock.unlock()
        onPhase?(snapshot)
    }

    /// One more file done.
    public func advance() {
        lock.lock(); done += 1; lock.unlock()
    }

    /// What a display shows now.
    public struct Snapshot: Sendable, Equatable {
        public var phase: String
        var done: Int
        public var total: Int
        var elapsed: Double
        /// Seconds since the phase began (for the rate).
        var phaseElapsed: Double
    }

    public var snapshot: Snapshot {
        lock.lock(); defer { lock.unlock() }
        let now = monotonicSeconds()
        return Snapshot(phase: phase, done: done, total: total, elapsed: now - start, phaseElapsed: now - phaseStart)
    }

    /// One line: `parsing 12034/59932 files, 1834 files/s, 6.5 s` or `analysing: … 21.3 s`.
    public static func line(_ s: Snapshot) -> String {
        let secs = String(Double(Int(s.elapsed * 10)) / 10)
        guard s.total > 0 else { return "\(s.phase), \(secs) s" }
        let rate = s.phaseElapsed > 0.05 ? Int(Double(s.done) / s.phaseElapsed) : 0
        return "\(s.phase) \(s.done)/\(s.total) files, \(rate) files/s, \(secs) s"
    }
}
