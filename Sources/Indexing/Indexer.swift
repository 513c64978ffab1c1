import Dispatch
import Facts
import CFrontend

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs the front end over every file of a `SourceTree` in parallel. Each worker owns its
/// state; results land in per-file slots, so the merged order never depends on `jobs`.
public enum Indexer {
    /// Per-file parse time, kept apart from the facts so that facts stay deterministic.
    public struct Timing: Sendable {
        public var path: String
        public var seconds: Double
    }

    private final class Slots: @unchecked Sendable {
        var facts: UnsafeMutableBufferPointer<FileFacts?>
        var times: UnsafeMutableBufferPointer<Double>
        var next: Int = 0
        let lock = NSLockLite()
        init(count: Int) {
            facts = .allocate(capacity: count)
            facts.initialize(repeating: nil)
            times = .allocate(capacity: count)
            times.initialize(repeating: 0)
        }
        deinit {
            facts.deinitialize()
            facts.deallocate()
            times.deallocate()
        }
        func take() -> Int {
            lock.lock(); defer { lock.unlock() }
            let k = next
            next += 1
            return k
        }
    }

    /// Parses all files with `jobs` workers. Files are handed out largest first; `progress`
    /// is advanced once per file.
    static func parseAll(_ files: [SourceFile], jobs: Int, progress: ScanProgress? = nil) -> (facts: [FileFacts], timings: [Timing]) {
        let order = files.indices.sorted { (files[$0].size, files[$1].relativePath) > (files[$1].size, files[$0].relativePath) }
        let slots = Slots(count: files.count)
        let workers = max(1, min(jobs, files.count))
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while true {
                let k = slots.take()
                if k >= order.count { break }
                let i = order[k]
                let start = monotonicSeconds()
                slots.facts[i] = parseFile(files[i])
                slots.times[i] = monotonicSeconds() - start
                progress?.advance()
            }
        }
        var facts: [FileFacts] = []
        facts.reserveCapacity(files.count)
        var timings: [Timing] = []
        for i in files.indices {
            facts.append(slots.facts[i] ?? FileFacts(path: files[i].relativePath, bytes: 0))
            timings.append(Timing(path: files[i].relativePath, seconds: slots.times[i]))
        }
        return (facts, timings)
    }

    /// Reads and parses one file; unreadable or binary files give facts with `unreadable` set.
    public static func parseFile(_ file: SourceFile) -> FileFacts {
        CrashContext.reading(file.relativePath) { parseFileUnguarded(file) }
    }

    private static func parseFileUnguarded(_ file: SourceFile) -> FileFacts {
        let (data, error) = readWholeFile(file.fullPath)
        guard let bytes = data else {
            var f = FileFacts(path: file.relativePath, bytes: 0)
            f.unreadable = error ?? "cannot read"
            return f
        }
        return parse(bytes: bytes, path: file.relativePath)
    }

    /// Parses the bytes of one file (binary files give facts with `unreadable` set).
    static func parse(bytes: [UInt8], path: String) -> FileFacts {
        if looksBinary(bytes) {
            var f = FileFacts(path: path, bytes: bytes.count)
            f.unreadable = "binary file (NUL bytes), skipped"
            return f
        }
        CrashContext.checkDebugTrap(bytes)
        return bytes.withUnsafeBufferPointer { FrontEnd.parse(path: path, bytes: $0) }
    }

    /// A file with NUL bytes in its first 8 KiB is not C source.
    static func looksBinary(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return false }
            return memchr(base, 0, min(raw.count, 8192)) != nil
        }
    }
}

/// A minimal pthread mutex (Foundation-free).
final class NSLockLite: @unchecked Sendable {
    private var m = pthread_mutex_t()
    init() { pthread_mutex_init(&m, nil) }
    deinit { pthread_mutex_destroy(&m) }
    func lock() { pthread_mutex_lock(&m) }
    func unlock() { pthread_mutex_unlock(&m) }
}

/// Seconds from a monotonic clock.
public func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Maps `0..<count` in parallel with `jobs` workers, each owning a state made by
/// `makeState`; results come back in index order whatever the scheduling.
public func parallelMap<State, T>(count: Int, jobs: Int, makeState: @escaping @Sendable () -> State,
                                  _ body: @escaping @Sendable (Int, State) -> T) -> [T] {
    let box = ParallelResults<T>(count)
    let workers = max(1, min(jobs, count))
    DispatchQueue.concurrentPerform(iterations: workers) { _ in
        let state = makeState()
        while true {
            box.lock.lock()
            let k = box.next
            box.next += 1
            box.lock.unlock()
            if k >= count { break }
            let r = body(k, state)
            box.lock.lock()
            box.results[k] = r
            box.lock.unlock()
        }
    }
    return box.results.map { $0! }
}

/// Share `share` of `0..<count` cut into `shares` contiguous, nearly equal ranges (some
/// empty when there are more shares than items).
public func shareRange(_ share: Int, of count: Int, shares: Int) -> Range<Int> {
    let n = max(1, shares)
    return (share * count / n)..<((share + 1) * count / n)
}

/// Result slots and a work counter shared by `parallelMap`'s workers (guarded by a lock).
final class ParallelResults<T>: @unchecked Sendable {
    var results: [T?]
    var next = 0
    let lock = NSLockLite()
    init(_ n: Int) { results = Array(repeating: nil, count: n) }
}
