import Facts
import CFrontend
import Indexing
import Analysis
import Findings
import Checks
import Reporting

/// A kernel log reduced to what triage needs: the kind of failure and the stack frames.
public struct CrashLog: Sendable, Equatable {
    /// What the log reports.
    public enum Kind: String, Sendable {
        case refcountUnderflow = "refcount underflow"
        case refcountOnZero = "refcount increment on zero"
        case useAfterFree = "use-after-free (KASAN)"
        case missingRelease = "missing release() callback"
        case pagingFault = "oops (bad memory access)"
        case warning = "kernel warning"
        case unknown
    }

    /// Which stack a frame belongs to.
    public enum Section: String, Sendable {
        case call, allocated, freed
    }

    /// One `function+0xoff/0xsize` frame.
    public struct Frame: Sendable, Equatable {
        public var function: String
        public var section: Section
        /// Frames printed with `?` are unreliable guesses of the unwinder.
        public var reliable: Bool
    }

    public var kinds: [Kind]
    /// The first line that says what happened.
    public var title: String
    public var frames: [Frame]
    /// `WARNING: … at path:line` or KASAN's `… in function`.
    public var location: String

    /// Parses any text; lines that are not understood are ignored.
    public init(text: String) {
        var kinds: [Kind] = []
        var title = ""
        var frames: [Frame] = []
        var location = ""
        var section = Section.call
        var lines = 0
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            lines += 1
            if lines > 200_000 { break }
            let line = CrashLog.stripPrefix(Substring(rawLine.prefix(4096)))
            func note(_ k: Kind) { if !kinds.contains(k) { kinds.append(k) }; if title.isEmpty { title = String(line) } }
            if line.contains("refcount_t: underflow") || line.contains("refcount_t: saturated") { note(.refcountUnderflow) }
            else if line.contains("refcount_t: addition on 0") || line.contains("refcount_t: increment on 0") { note(.refcountOnZero) }
            else if line.contains("KASAN:") && (line.contains("use-after-free") || line.contains("double-free") || line.contains("invalid-free")) {
                note(.useAfterFree)
                if let r = line.firstRange(of: " in ") { location = String(line[r.upperBound...]).trimmingSpaces }
            } else if line.contains("does not have a release() function") { note(.missingRelease) }
            else if line.contains("Unable to handle kernel") || line.contains("general protection fault") || line.contains("BUG: unable to handle") { note(.pagingFault) }
            else if line.hasPrefix("WARNING:") {
                note(.warning)
                if location.isEmpty, let r = line.firstRange(of: " at ") { location = String(line[r.upperBound...]).trimmingSpaces }
            }
            if line.hasPrefix("Allocated by task") || line.hasPrefix("Allocated by") { section = .allocated; continue }
            if line.hasPrefix("Freed by task") || line.hasPrefix("Freed by") { section = .freed; continue }
            if line.hasPrefix("Call trace:") || line.hasPrefix("Call Trace:") { section = .call; continue }
            if line.hasPrefix("The buggy address") || line.hasPrefix("Last potentially related work") || line.hasPrefix("Second to last") { section = .call; continue }
            if let f = CrashLog.frame(in: line) {
                frames.append(Frame(function: f.0, section: section, reliable: f.1))
            }
        }
        if kinds.isEmpty { kinds = [.unknown] }
        self.kinds = kinds
        self.title = title
        self.frames = frames
        self.location = location
    }

    /// Parses a file's bytes when they look like a kernel log: text (no NUL bytes) with at
    /// least one recognised report (oops, WARNING, refcount_t, KASAN, missing release) or
    /// reliable stack frame; nil otherwise.
    public init?(kernelLog bytes: [UInt8]) {
        guard !bytes.prefix(1 << 16).contains(0) else { return nil }
        let log = CrashLog(text: String(decoding: bytes, as: UTF8.self))
        guard log.kinds != [.unknown] || log.frames.contains(where: \.reliable) else { return nil }
        self = log
    }

    /// Drops `[  12.345678]`, `<4>` and `[T123]`-style prefixes and leading blanks.
    static func stripPrefix(_ s: Substring) -> Substring {
        var t = s.drop(while: { $0 == " " || $0 == "\t" })
        for _ in 0..<3 {
            if t.first == "<", let close = t.firstIndex(of: ">"), t.distance(from: t.startIndex, to: close) <= 4 {
                t = t[t.index(after: close)...].drop(while: { $0 == " " })
            }
            if t.first == "[", let close = t.firstIndex(of: "]"), t.distance(from: t.startIndex, to: close) <= 24,
               t[t.index(after: t.startIndex)..<close].allSatisfy({ $0 == " " || $0 == "." || $0 == "T" || $0 == "C" || $0.isNumber }) {
                t = t[t.index(after: close)...].drop(while: { $0 == " " || $0 == "\t" })
            }
        }
        return t
    }

    /// `func+0x1c/0x40 [module]`, `[<ffff…>] func+0x1c/0x40`, `? func+0x1c/0x40`.
    static func frame(in line: Substring) -> (String, Bool)? {
        var t = line
        if t.hasPrefix("[<"), let close = t.firstRange(of: ">]") { t = t[close.upperBound...].drop(while: { $0 == " " }) }
        var reliable = true
        if t.hasPrefix("? ") { reliable = false; t = t.dropFirst(2) }
        guard let plus = t.firstRange(of: "+0x") else { return nil }
        let name = t[..<plus.lowerBound]
        guard !name.isEmpty, name.count < 200, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." }),
              let first = name.first, first.isLetter || first == "_" else { return nil }
        let rest = t[plus.upperBound...]
        guard rest.contains("/0x") else { return nil }
        // Compiler suffixes: foo.constprop.0, foo.isra.0, foo.part.0, foo.cold
        let base = name.split(separator: ".").first.map(String.init) ?? String(name)
        return (base, reliable)
    }
}

extension StringProtocol {
    var trimmingSpaces: String {
        String(self.drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " || $0 == "\r" }).reversed())
    }
}
