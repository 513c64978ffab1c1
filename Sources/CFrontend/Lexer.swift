import Facts
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Turns the bytes of one C file into tokens. Comments, line continuations and string,
/// character and number literals are handled; preprocessor lines are consumed here:
/// `#include` is recorded, `#define` and other directives are skipped, `#if 0` groups are
/// skipped, and of every other conditional only the first live branch is kept (as
/// universal-ctags does), so that braces stay balanced.
public struct Lexer {
    public private(set) var tokens: [Token] = []
    public private(set) var includes: [IncludeDirective] = []
    public private(set) var diagnostics: [FileDiagnostic] = []
    /// Function-like macros whose body is one call (`#define f(a, b) g(a, NULL, b)`) or the
    /// address of a member (`#define f(p) &p->a.b`).
    public private(set) var macros: [RawMacro] = []
    public var names = Names()

    /// Macros whose body sets `suppress_bind_attrs` or registers through
    /// `platform_driver_probe()`, which sets it (driver registration helpers whose drivers
    /// cannot be unbound through sysfs).
    public private(set) var suppressBindMacros: [String] = []

    static let suppressBindAttrs = Array("suppress_bind_attrs".utf8)
    static let probeOnceRegistration = Array("platform_driver_probe".utf8)

    private mutating func recordSuppressingMacro(_ rest: [UInt8]) {
        var k = 0
        while k < rest.count && (rest[k] == 32 || rest[k] == 9) { k += 1 }
        let start = k
        while k < rest.count && isIdentByte(rest[k]) { k += 1 }
        if k > start { suppressBindMacros.append(String(decoding: rest[start..<k], as: UTF8.self)) }
    }

    /// A function-like macro before its body is parsed.
    public struct RawMacro: Sendable {
        public var name: String
        public var params: [String]
        public var body: [UInt8]
        public var line: Int32
    }

    private struct Conditional {
        var parentActive: Bool
        var active: Bool
        var branchTaken: Bool
        /// Which `#if` of the file opened the group (0-based, in file order, skipped ones too).
        var ordinal: Int = 0
        /// Where the current branch's text starts, and whether it is an `#if 0` branch.
        var branchStart: Int = 0
        var zeroBranch: Bool = false
    }

    /// Ordinals of the conditional groups that have a second branch (`#else`/`#elif`)
    /// besides one that was read: a definition in it was not seen.
    private(set) var groupsWithAlternatives: Set<Int> = []
    /// Byte ranges of live-but-not-taken branches (not `#if 0`): where alternatives lie.
    private(set) var alternativeRanges: [Range<Int>] = []
    /// When set, the groups with these ordinals start with their first branch skipped, so
    /// that the next branch is read instead: a second view of the file's alternatives.
    var readAlternativesOf: Set<Int>? = nil

    public init() {}

    /// A lexer that keeps interning into an existing name table.
    public init(names: Names) { self.names = names }

    // Scanning state of `run`.
    private var bytes = UnsafeBufferPointer<UInt8>(start: nil, count: 0)
    private var n = 0
    private var i = 0
    private var line: Int32 = 1
    private var lineStart = 0
    private var atLineStart = true
    private var conds: [Conditional] = []
    private var active = true
    private var reportedJunk = false
    private var ifOrdinal = 0
    /// The text of the directive being read (see `directiveRest`), reused line after line.
    private var rest: [UInt8] = []

    /// Where `run` writes its tokens before they are moved into `tokens`.
    private var output = TokenOutput()

    @inline(__always) private mutating func emit(_ token: Token) { output.append(token) }

    @inline(__always) private func byte(_ k: Int) -> UInt8 { k < n ? bytes[k] : 0 }

    /// Lexes `bytes` completely. Never traps on any input.
    public mutating func run(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
        n = bytes.count
        output.reserve(n / 5 + 16)
        i = 0; line = 1; lineStart = 0; atLineStart = true; conds = []; active = true; reportedJunk = false; ifOrdinal = 0
        if let base = bytes.baseAddress { scan(base) }
        if !conds.isEmpty {
            diagnostics.append(FileDiagnostic(line: line, column: 1, message: "\(conds.count) unterminated #if at end of file"))
        }
        emit(Token(kind: .end, code: 0, start: Int32(n), length: 0, line: line, column: Int32(max(0, n - lineStart) + 1)))
        output.move(appendingTo: &tokens)
        self.bytes = UnsafeBufferPointer(start: nil, count: 0)
    }

    /// The main loop. Its cursor is a local, kept in a register: spaces, newlines,
    /// identifiers and the punctuators that are one byte (most of what a file holds outside
    /// comments) are read here, and every other byte by `lexOther`, which reads and moves
    /// `self.i`.
    private mutating func scan(_ p: UnsafePointer<UInt8>) {
        let n = self.n
        var i = 0
        while i < n {
            let c = p[i]
            if c == 32 || c == 9 { i &+= 1; continue }
            if c == 10 { i &+= 1; line &+= 1; lineStart = i; atLineStart = true; continue }
            if active && isIdentStart(c) {
                var k = i &+ 1
                while k < n && isIdentByte(p[k]) { k &+= 1 }
                atLineStart = false
                let column = Int32(truncatingIfNeeded: i &- lineStart &+ 1)
                // `L"…"`, `u8'…'`: a literal's prefix; the literal's token starts at its quote.
                if k &- i <= 2 && k < n && (p[k] == 34 || p[k] == 39) && (c == 76 || c == 117 || c == 85) {
                    self.i = k
                    lexLiteral(col: column)
                    i = self.i
                    continue
                }
                let spelling = UnsafeBufferPointer(start: p + i, count: k &- i)
                let id = names.intern(spelling, hash: Names.hash(spelling))
                emit(Token(kind: .identifier, code: id, start: Int32(truncatingIfNeeded: i), length: Int32(truncatingIfNeeded: k &- i),
                           line: line, column: column))
                i = k
                continue
            }
            if active && isSingleBytePunctuator(c) {
                atLineStart = false
                emit(Token(kind: .punct, code: Int32(c), start: Int32(truncatingIfNeeded: i), length: 1,
                           line: line, column: Int32(truncatingIfNeeded: i &- lineStart &+ 1)))
                i &+= 1
                continue
            }
            self.i = i
            lexOther(c)
            i = self.i
        }
    }

    /// Every token or skip that `scan` does not do itself, at `self.i` (whose byte is `c`):
    /// never a space, tab or newline, nor, in live code, an identifier.
    private mutating func lexOther(_ c: UInt8) {
        // Only these bytes start other white space, a comment or a line continuation.
        if c <= 32 || c == 47 || c == 92, skipSpaceOrComment(c) { return }
        if c == 35 && atLineStart { lexDirective(); return }
        atLineStart = false
        if !active { skipInactiveLine(); return }
        let col = Int32(i - lineStart + 1)
        if (c >= 48 && c <= 57) || (c == 46 && byte(i + 1) >= 48 && byte(i + 1) <= 57) { lexNumber(col: col); return }
        if c == 34 || c == 39 { lexLiteral(col: col); return }
        lexPunctuator(c, col: col)
    }

    /// A carriage return, form feed or vertical tab (`scan` reads spaces, tabs and
    /// newlines itself), a line continuation or a comment at `i`: consumed, true.
    private mutating func skipSpaceOrComment(_ c: UInt8) -> Bool {
        if c == 13 || c == 12 || c == 11 {
            i += 1
            while i < n && (bytes[i] == 32 || bytes[i] == 9) { i += 1 }
            return true
        }
        // Line continuation outside directives
        if c == 92 && (byte(i + 1) == 10 || (byte(i + 1) == 13 && byte(i + 2) == 10)) {
            i += byte(i + 1) == 13 ? 3 : 2; line += 1; lineStart = i; return true
        }
        if c == 47 && byte(i + 1) == 42 {
            let startLine = line, col = Int32(i - lineStart + 1)
            let (end, terminated) = blockCommentEnd(from: i)
            i = end
            if !terminated {
                diagnostics.append(FileDiagnostic(line: startLine, column: col, message: "unterminated comment"))
            }
            return true
        }
        if c == 47 && byte(i + 1) == 47 {
            while i < n && bytes[i] != 10 {
                if bytes[i] == 92 && byte(i + 1) == 10 { i += 2; line += 1; lineStart = i; continue }
                i += 1
            }
            return true
        }
        return false
    }

    /// Skips a block comment starting at `k` (pointing at "/*"), moving `k` past it;
    /// false if unterminated.
    private mutating func skipBlockComment(_ k: inout Int) -> Bool {
        let (end, terminated) = blockCommentEnd(from: k)
        k = end
        return terminated
    }

    private mutating func blockCommentEnd(from k0: Int) -> (Int, Bool) {
        var k = k0 + 2
        while k + 1 < n {
            let c = bytes[k]
            if c == 10 { line += 1; lineStart = k + 1 }
            else if c == 42 && bytes[k + 1] == 47 { return (k + 2, true) }
            // On to the next newline or star.
            k = firstOf(10, 42, 42, from: k + 1)
        }
        return (n, false)
    }

    /// Reads a directive's logical line (with continuations, comments stripped) from `k` to
    /// its end into `rest` (the text after the directive name; left empty unless `store`),
    /// and moves `k` past the newline. `plainEnd` is `plainLineEnd(from: k)`.
    private mutating func directiveRest(_ k: inout Int, store: Bool, plainEnd: Int?) {
        rest.removeAll(keepingCapacity: true)
        // A line with no backslash and no slash (most are: `#define REG_X 0x1c`) is kept as
        // it is, found a word at a time instead of byte by byte.
        if let end = plainEnd {
            if store && end > k { rest.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[k..<min(end, k + 4096)])) }
            k = end
            if k < n { k += 1; line += 1; lineStart = k }
            return
        }
        while k < n {
            // A run of plain bytes is copied at once.
            let run = k
            while k < n {
                let d = bytes[k]
                if d == 92 || d == 10 || d == 47 { break }
                k += 1
            }
            if store && k > run && rest.count < 4096 {
                rest.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[run..<min(k, run + 4096 - rest.count)]))
            }
            if k >= n { break }
            let c = bytes[k]
            if c == 92 && (byte(k + 1) == 10 || (byte(k + 1) == 13 && byte(k + 2) == 10)) {
                k += byte(k + 1) == 13 ? 3 : 2
                line += 1; lineStart = k
                if store { rest.append(32) }
                continue
            }
            if c == 10 { break }
            if c == 47 && byte(k + 1) == 42 {
                let startLine = line
                if !skipBlockComment(&k) {
                    diagnostics.append(FileDiagnostic(line: startLine, column: 1, message: "unterminated comment"))
                }
                if store { rest.append(32) }
                continue
            }
            if c == 47 && byte(k + 1) == 47 {
                while k < n && bytes[k] != 10 { k += 1 }
                break
            }
            if store && rest.count < 4096 { rest.append(c) }
            k += 1
        }
        if k < n { k += 1; line += 1; lineStart = k }
    }

    /// Where the line from `k` ends (its newline, or the end of the file) when it holds no
    /// backslash and no slash, so no continuation and no comment: nil otherwise.
    @inline(__always)
    private func plainLineEnd(from k: Int) -> Int? {
        guard let base = bytes.baseAddress, k >= 0, k <= n else { return nil }
        let at = firstOf(10, 92, 47, from: k)
        return at == n || base[at] == 10 ? at : nil
    }

    /// The first index from `k` whose byte is `a`, `b` or `c`, or `n`. Eight bytes are
    /// tested at a time (no call per line: most lines are short); the lowest flagged byte
    /// of a word is always a real match.
    @inline(__always)
    private func firstOf(_ a: UInt8, _ b: UInt8, _ c: UInt8, from k0: Int) -> Int {
        guard let base = bytes.baseAddress, k0 >= 0 else { return n }
        let raw = UnsafeRawPointer(base)
        @inline(__always) func flags(_ w: UInt64, _ x: UInt8) -> UInt64 {
            let v = w ^ (0x0101_0101_0101_0101 &* UInt64(x))
            return (v &- 0x0101_0101_0101_0101) & ~v & 0x8080_8080_8080_8080
        }
        var k = k0
        while k &+ 8 <= n {
            let w = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: k, as: UInt64.self))
            let m = flags(w, a) | flags(w, b) | flags(w, c)
            if m != 0 { return k &+ m.trailingZeroBitCount / 8 }
            k &+= 8
        }
        while k < n {
            let d = base[k]
            if d == a || d == b || d == c { return k }
            k &+= 1
        }
        return n
    }

    /// Whether the `#define` whose text starts at `k` can be one `recordMacro` keeps or one
    /// that suppresses unbinding. Only a plain line (no continuation, no comment; most of
    /// them: `#define REG_X 0x1c`) with no `(` and neither word is not: its text is then
    /// never copied.
    private func defineNeedsText(from k: Int, plainEnd: Int?) -> Bool {
        guard let end = plainEnd, let base = bytes.baseAddress, end > k else { return true }
        let text = UnsafeRawBufferPointer(start: base + k, count: end - k)
        if memchr(base + k, 40, end - k) != nil { return true }
        return Lexer.suppressBindAttrs.withUnsafeBytes { ByteSearch.contains(text, $0) }
            || Lexer.probeOnceRegistration.withUnsafeBytes { ByteSearch.contains(text, $0) }
    }

    private static func trimmed(_ a: [UInt8]) -> ArraySlice<UInt8> {
        var s = a.startIndex, e = a.endIndex
        while s < e && (a[s] == 32 || a[s] == 9 || a[s] == 13) { s += 1 }
        while e > s && (a[e - 1] == 32 || a[e - 1] == 9 || a[e - 1] == 13) { e -= 1 }
        return a[s..<e]
    }

    private static func isZeroCondition(_ a: [UInt8]) -> Bool {
        let t = trimmed(a)
        guard let f = t.first, f == 48 else { return false }
        if t.count == 1 { return true }
        let next = t[t.startIndex + 1]
        return next == 32 || next == 9 || next == 41  // "0 ..." or "0)"
    }

    /// The directives the lexer acts on.
    private enum Directive {
        case ifGroup, ifdef, ifndef, elif, elifdef, elifndef, elseBranch, endif, include, define, other
    }

    @inline(__always) private static func spelled(_ a: UnsafeBufferPointer<UInt8>, _ s: StaticString) -> Bool {
        guard a.count == s.utf8CodeUnitCount else { return false }
        let p = s.utf8Start
        for k in 0..<a.count where a[k] != p[k] { return false }
        return true
    }

    private static func directive(_ name: UnsafeBufferPointer<UInt8>) -> Directive {
        switch name.count {
        case 2: return spelled(name, "if") ? .ifGroup : .other
        case 4: return spelled(name, "elif") ? .elif : spelled(name, "else") ? .elseBranch : .other
        case 5: return spelled(name, "ifdef") ? .ifdef : spelled(name, "endif") ? .endif : .other
        case 6: return spelled(name, "ifndef") ? .ifndef : spelled(name, "define") ? .define : .other
        case 7: return spelled(name, "elifdef") ? .elifdef : spelled(name, "include") ? .include : .other
        case 8: return spelled(name, "elifndef") ? .elifndef : .other
        case 12: return spelled(name, "include_next") ? .include : .other
        default: return .other
        }
    }

    /// A preprocessor line at `i` (a `#` first on its line): conditionals, includes and
    /// single-call macros are recorded, everything else skipped.
    private mutating func lexDirective() {
        var k = i + 1
        while k < n && (bytes[k] == 32 || bytes[k] == 9) { k += 1 }
        let nameStart = k
        while k < n && isIdentByte(bytes[k]) { k += 1 }
        let name = Lexer.directive(UnsafeBufferPointer(rebasing: bytes[nameStart..<k]))
        let dirLine = line
        // Where the line ends when it is plain (most are), found once.
        let plainEnd = plainLineEnd(from: k)
        // Only these read the directive's text; the rest is skipped without a copy.
        let store: Bool
        switch name {
        case .ifGroup, .elif: store = true
        case .include: store = active
        case .define: store = active && defineNeedsText(from: k, plainEnd: plainEnd)
        default: store = false
        }
        directiveRest(&k, store: store, plainEnd: plainEnd)
        i = k
        atLineStart = true
        switch name {
        case .ifGroup, .ifdef, .ifndef, .elif, .elifdef, .elifndef, .elseBranch, .endif:
            conditional(name, line: dirLine)
        case .include:
            if active { recordInclude(Lexer.trimmed(rest), line: dirLine) }
        case .define:
            if active {
                recordMacro(rest, line: dirLine)
                if rest.withUnsafeBytes({ r in Lexer.suppressBindAttrs.withUnsafeBytes { ByteSearch.contains(r, $0) }
                        || Lexer.probeOnceRegistration.withUnsafeBytes { ByteSearch.contains(r, $0) } }) { recordSuppressingMacro(rest) }
            }
        case .other:
            break
        }
    }

    /// `#if` and friends: `#if 0` groups are skipped, and of every other conditional only
    /// the first live branch is kept.
    private mutating func conditional(_ name: Directive, line dirLine: Int32) {
        switch name {
        case .ifGroup, .ifdef, .ifndef:
            if conds.count >= 100_000 {
                if reportedJunk == false {
                    diagnostics.append(FileDiagnostic(line: dirLine, column: 1, message: "conditional nesting too deep; ignoring deeper #if"))
                    reportedJunk = true
                }
            }
            let zero = name == .ifGroup && Lexer.isZeroCondition(rest)
            let ordinal = ifOrdinal
            ifOrdinal += 1
            // Reading alternatives: this group's first branch is skipped, not taken.
            let alternative = !zero && readAlternativesOf?.contains(ordinal) == true
            let nowActive = active && !zero && !alternative
            conds.append(Conditional(parentActive: active, active: nowActive, branchTaken: !zero && !alternative,
                                     ordinal: ordinal, branchStart: i, zeroBranch: zero))
            active = nowActive
        case .elif, .elifdef, .elifndef, .elseBranch:
            if var top = conds.popLast() {
                let wasActive = top.active
                if top.parentActive && !wasActive && !top.zeroBranch { alternativeRanges.append(top.branchStart..<i) }
                if name == .elseBranch {
                    top.active = top.parentActive && !top.branchTaken
                    top.branchTaken = true
                    top.zeroBranch = false
                } else if top.branchTaken { top.active = false; top.zeroBranch = false }
                else if name == .elif && Lexer.isZeroCondition(rest) { top.active = false; top.zeroBranch = true }
                else { top.active = top.parentActive; top.branchTaken = true; top.zeroBranch = false }
                if top.parentActive && wasActive && !top.active { groupsWithAlternatives.insert(top.ordinal) }
                top.branchStart = i
                active = top.active
                conds.append(top)
            }
        default: // endif
            if let top = conds.popLast() {
                if top.parentActive && !top.active && !top.zeroBranch { alternativeRanges.append(top.branchStart..<i) }
                active = top.parentActive
            }
        }
    }

    /// A line of a skipped group: consumed to its end, honouring block comments only.
    private mutating func skipInactiveLine() {
        while i < n && bytes[i] != 10 {
            if bytes[i] == 47 && byte(i + 1) == 42 {
                let (end, terminated) = blockCommentEnd(from: i)
                i = end
                if !terminated { break }
                continue
            }
            // On to the next newline or slash.
            i = firstOf(10, 47, 47, from: i + 1)
        }
    }

    private mutating func lexNumber(col: Int32) {
        var k = i + 1
        while k < n {
            let d = bytes[k]
            if isIdentByte(d) || d == 46 { k += 1; continue }
            if (d == 43 || d == 45) && (bytes[k - 1] == 101 || bytes[k - 1] == 69 || bytes[k - 1] == 112 || bytes[k - 1] == 80) { k += 1; continue }
            break
        }
        emit(Token(kind: .number, code: 0, start: Int32(i), length: Int32(k - i), line: line, column: col))
        i = k
    }

    /// A string or character literal starting at the quote at `i`.
    private mutating func lexLiteral(col: Int32) {
        let startLine = line
        let start = i
        let quote = bytes[i]
        var k = i + 1
        var terminated = false
        while k < n {
            let d = bytes[k]
            if d == 92 { // backslash escape, including line continuation
                if byte(k + 1) == 10 { line += 1; lineStart = k + 2 }
                k += 2; continue
            }
            if d == quote { k += 1; terminated = true; break }
            if d == 10 { break } // unterminated on this line
            k += 1
        }
        if k > n { k = n }
        if !terminated {
            diagnostics.append(FileDiagnostic(line: startLine, column: col, message: quote == 34 ? "unterminated string literal" : "unterminated character literal"))
        }
        emit(Token(kind: quote == 34 ? .string : .character, code: 0, start: Int32(start), length: Int32(k - start), line: startLine, column: col))
        i = k
    }

    /// A punctuator (longest match) at `i`; stray bytes are skipped, the first control
    /// byte reported.
    private mutating func lexPunctuator(_ c: UInt8, col: Int32) {
        let c1 = byte(i + 1), c2 = byte(i + 2)
        var code = Int32(c)
        var len = 1
        switch c {
        case 45: // -
            if c1 == 62 { code = Punct.arrow; len = 2 }
            else if c1 == 45 { code = Punct.decrement; len = 2 }
            else if c1 == 61 { code = Punct.compoundAssign(c); len = 2 }
        case 43: // +
            if c1 == 43 { code = Punct.increment; len = 2 }
            else if c1 == 61 { code = Punct.compoundAssign(c); len = 2 }
        case 60: // <
            if c1 == 60 { if c2 == 61 { code = Punct.shiftLeftAssign; len = 3 } else { code = Punct.shiftLeft; len = 2 } }
            else if c1 == 61 { code = Punct.lessEq; len = 2 }
        case 62: // >
            if c1 == 62 { if c2 == 61 { code = Punct.shiftRightAssign; len = 3 } else { code = Punct.shiftRight; len = 2 } }
            else if c1 == 61 { code = Punct.greaterEq; len = 2 }
        case 61: if c1 == 61 { code = Punct.equal; len = 2 }
        case 33: if c1 == 61 { code = Punct.notEqual; len = 2 }
        case 38: // &
            if c1 == 38 { code = Punct.logicalAnd; len = 2 }
            else if c1 == 61 { code = Punct.compoundAssign(c); len = 2 }
        case 124: // |
            if c1 == 124 { code = Punct.logicalOr; len = 2 }
            else if c1 == 61 { code = Punct.compoundAssign(c); len = 2 }
        case 42, 47, 37, 94:
            if c1 == 61 { code = Punct.compoundAssign(c); len = 2 }
        case 46: if c1 == 46 && c2 == 46 { code = Punct.ellipsis; len = 3 }
        case 35: if c1 == 35 { code = Punct.hashHash; len = 2 }
        default:
            if c >= 128 || c < 32 || c == 36 || c == 64 || c == 96 {
                // Stray byte (binary junk, invalid UTF-8, '$', '@', '`'): skip it.
                if !reportedJunk && (c == 0 || (c < 32)) {
                    diagnostics.append(FileDiagnostic(line: line, column: col, message: "stray control byte 0x\(String(c, radix: 16)) ignored"))
                    reportedJunk = true
                }
                i += 1
                return
            }
        }
        emit(Token(kind: .punct, code: code, start: Int32(i), length: Int32(len), line: line, column: col))
        i += len
    }

    private mutating func recordMacro(_ rest: [UInt8], line: Int32) {
        var k = 0
        while k < rest.count && (rest[k] == 32 || rest[k] == 9) { k += 1 }
        let nameStart = k
        while k < rest.count && isIdentByte(rest[k]) { k += 1 }
        guard k > nameStart, k < rest.count, rest[k] == 40 else { return }
        let nameEnd = k
        let paramsStart = k + 1
        var close = paramsStart
        while close < rest.count && rest[close] != 41 { close += 1 }
        guard close < rest.count else { return }
        k = close + 1
        // Keep only bodies that start like a call (`f(`, `(f(`, `(type)f(`) or like the
        // address of a member (`&p->a.b`, `(&(p)->a)`: an accessor).
        var b = k
        while b < rest.count && (rest[b] == 32 || rest[b] == 9 || rest[b] == 40) { b += 1 }
        let accessor = b < rest.count && rest[b] == 38 && (b + 1 == rest.count || rest[b + 1] != 38)
        if accessor { b += 1; while b < rest.count && (rest[b] == 32 || rest[b] == 9 || rest[b] == 40) { b += 1 } }
        let identStart = b
        while b < rest.count && isIdentByte(rest[b]) { b += 1 }
        while b < rest.count && (rest[b] == 32 || rest[b] == 9 || (accessor && rest[b] == 41)) { b += 1 }
        let follows = accessor ? b + 1 < rest.count && ((rest[b] == 45 && rest[b + 1] == 62) || rest[b] == 46) : b < rest.count && rest[b] == 40
        guard b > identStart, follows, rest.count - k < 2048 else { return }
        guard macros.count < 20_000 else { return }
        var params: [String] = []
        var current: [UInt8] = []
        for c in rest[paramsStart..<close] {
            if c == 44 { params.append(String(decoding: current, as: UTF8.self)); current = [] }
            else if c != 32 && c != 9 { current.append(c) }
        }
        if !current.isEmpty { params.append(String(decoding: current, as: UTF8.self)) }
        let name = String(decoding: rest[nameStart..<nameEnd], as: UTF8.self)
        macros.append(RawMacro(name: name, params: params, body: Array(rest[k...]), line: line))
    }

    private mutating func recordInclude(_ rest: ArraySlice<UInt8>, line: Int32) {
        guard let first = rest.first else { return }
        let close: UInt8
        if first == 60 { close = 62 } else if first == 34 { close = 34 } else { return }
        var k = rest.startIndex + 1
        while k < rest.endIndex && rest[k] != close { k += 1 }
        guard k < rest.endIndex else { return }
        let path = String(decoding: rest[(rest.startIndex + 1)..<k], as: UTF8.self)
        includes.append(IncludeDirective(path: path, isSystem: first == 60, line: line))
    }
}
