import Facts
import CFrontend

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The second line of defence after a trap-free front end: which file each worker thread
/// is reading, kept in fixed C buffers so that a fatal-signal handler can name it with only
/// async-signal-safe calls (`pthread_self`, `write`, `_exit`).
///
/// `install()` sets handlers for SIGILL, SIGTRAP, SIGSEGV, SIGBUS, SIGFPE and SIGABRT (a
/// Swift runtime trap is SIGILL or SIGTRAP). The handler prints
/// `unbindcheck: crashed while reading PATH (please report; rerun with --exclude PATH)`
/// (or the phase, outside any one file), then the signal and the return addresses of the
/// crashing thread (glibc's `backtrace_symbols_fd`: `binary(+offset)`, which
/// `addr2line -f -C -e binary offset` names), and exits with `CrashContext.exitStatus`.
public enum CrashContext {
    /// The exit status after a crash; distinct from 0 (clean), 1 (findings), 2 (input errors).
    static let exitStatus: Int32 = 3

    /// Worker slots: a thread id and a NUL-terminated path each.
    static let slotCount = 64
    static let pathCapacity = 4096
    nonisolated(unsafe) static let threads = UnsafeMutablePointer<pthread_t>.allocate(capacity: slotCount)
    nonisolated(unsafe) static let inUse = UnsafeMutablePointer<Int32>.allocate(capacity: slotCount)
    nonisolated(unsafe) static let paths = UnsafeMutablePointer<UInt8>.allocate(capacity: slotCount * pathCapacity)
    nonisolated(unsafe) static let phase = UnsafeMutablePointer<UInt8>.allocate(capacity: 256)
    nonisolated(unsafe) static var installed = false
    nonisolated(unsafe) static var trapMarker: [UInt8] = []
    static let lock = NSLockLite()

    /// Installs the fatal-signal handlers (once). Reads the hidden test hook
    /// `UNBINDCHECK_DEBUG_TRAP_MARKER`: a file whose bytes contain that text traps on purpose.
    public static func install() {
        lock.lock(); defer { lock.unlock() }
        if installed { return }
        installed = true
        inUse.initialize(repeating: 0, count: slotCount)
        paths.initialize(repeating: 0, count: slotCount * pathCapacity)
        phase.initialize(repeating: 0, count: 256)
        Backtrace.prepare()
        if let m = getenv("UNBINDCHECK_DEBUG_TRAP_MARKER") {
            trapMarker = Array(String(cString: m).utf8)
        }
        for sig in [SIGILL, SIGTRAP, SIGSEGV, SIGBUS, SIGFPE, SIGABRT] {
            var action = sigaction()
            #if canImport(Glibc)
            action.__sigaction_handler.sa_handler = crashHandler
            #else
            action.__sigaction_u.__sa_handler = crashHandler
            #endif
            sigemptyset(&action.sa_mask)
            action.sa_flags = Int32(truncatingIfNeeded: SA_RESETHAND)
            sigaction(sig, &action, nil)
        }
    }

    /// Names the analysis phase running now, for crashes outside any one file.
    public static func setPhase(_ name: String) {
        guard installed else { return }
        let bytes = Array(name.utf8.prefix(255))
        for (k, b) in bytes.enumerated() { phase[k] = b }
        phase[bytes.count] = 0
    }

    /// Runs `body` with `path` recorded as what the calling thread reads.
    public static func reading<T>(_ path: String, _ body: () -> T) -> T {
        guard installed else { return body() }
        let slot = claim(path)
        defer { if slot >= 0 { inUse[slot] = 0 } }
        return body()
    }

    private static func claim(_ path: String) -> Int {
        lock.lock(); defer { lock.unlock() }
        for k in 0..<slotCount where inUse[k] == 0 {
            let bytes = Array(path.utf8.prefix(pathCapacity - 1))
            let base = paths + k * pathCapacity
            for (j, b) in bytes.enumerated() { base[j] = b }
            base[bytes.count] = 0
            threads[k] = pthread_self()
            inUse[k] = 1
            return k
        }
        return -1
    }

    /// The hidden test hook: traps when the marker is set and found in `bytes`.
    static func checkDebugTrap(_ bytes: [UInt8]) {
        guard !trapMarker.isEmpty, bytes.count >= trapMarker.count else { return }
        let m = trapMarker
        for i in 0...(bytes.count - m.count) where bytes[i] == m[0] {
            if bytes[i..<(i + m.count)].elementsEqual(m) {
                let empty: [Int] = []
                _ = empty[bytes.count]  // a real Swift bounds trap, as a parser bug would raise
            }
        }
    }
}

/// Async-signal-safe: only `pthread_self`, `pthread_equal`, `write` and `_exit`.
private func crashHandler(_ sig: Int32) {
    let me = pthread_self()
    var named = false
    for k in 0..<CrashContext.slotCount where CrashContext.inUse[k] != 0 && pthread_equal(CrashContext.threads[k], me) != 0 {
        let path = CrashContext.paths + k * CrashContext.pathCapacity
        rawWrite("unbindcheck: crashed while reading ")
        rawWrite(path)
        rawWrite(" (please report; rerun with --exclude ")
        rawWrite(path)
        rawWrite(")\n")
        named = true
    }
    if !named {
        rawWrite("unbindcheck: crashed")
        if CrashContext.phase[0] != 0 { rawWrite(" while "); rawWrite(CrashContext.phase) }
        rawWrite(" (please report, with the command line)\n")
    }
    rawWrite("unbindcheck: signal ")
    rawWriteNumber(Int(sig))
    rawWrite(", return addresses of the crashing thread:\n")
    Backtrace.write(to: 2)
    _exit(CrashContext.exitStatus)
}

/// glibc's `backtrace` and `backtrace_symbols_fd`, looked up once (`execinfo.h` is not in
/// Swift's Glibc module). `prepare()` also calls `backtrace` once, so that its lazy loading
/// of the unwinder happens outside the signal handler.
private enum Backtrace {
    typealias Collect = @convention(c) (UnsafeMutablePointer<UnsafeMutableRawPointer?>?, Int32) -> Int32
    typealias Print = @convention(c) (UnsafePointer<UnsafeMutableRawPointer?>?, Int32, Int32) -> Void
    nonisolated(unsafe) static var collect: Collect?
    nonisolated(unsafe) static var print: Print?
    static let capacity = 64
    nonisolated(unsafe) static let frames = UnsafeMutablePointer<UnsafeMutableRawPointer?>.allocate(capacity: capacity)
    nonisolated(unsafe) static let digits = UnsafeMutablePointer<UInt8>.allocate(capacity: 2)

    static func prepare() {
        #if canImport(Glibc)
        let me = dlopen(nil, RTLD_NOW)
        guard let c = dlsym(me, "backtrace"), let p = dlsym(me, "backtrace_symbols_fd") else { return }
        collect = unsafeBitCast(c, to: Collect.self)
        print = unsafeBitCast(p, to: Print.self)
        _ = collect?(frames, Int32(capacity))
        #endif
    }

    static func write(to fd: Int32) {
        guard let collect, let print else { return }
        let n = collect(frames, Int32(capacity))
        if n > 0 { print(frames, n, fd) }
    }
}

/// Writes a signal number (below 100) without allocating.
private func rawWriteNumber(_ value: Int) {
    let digits = Backtrace.digits
    let v = max(0, min(99, value))
    digits[0] = UInt8(48 + v / 10)
    digits[1] = UInt8(48 + v % 10)
    _ = v >= 10 ? write(2, digits, 2) : write(2, digits + 1, 1)
}

private func rawWrite(_ s: StaticString) {
    _ = write(2, s.utf8Start, s.utf8CodeUnitCount)
}

private func rawWrite(_ cstr: UnsafeMutablePointer<UInt8>) {
    var n = 0
    while cstr[n] != 0 { n += 1 }
    _ = write(2, cstr, n)
}
