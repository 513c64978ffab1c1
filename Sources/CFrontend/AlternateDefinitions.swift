import Facts
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Second looks at a file for the analyses: definitions in `#if` branches that were not
/// read, and empty functions whose author explains them in a comment.
extension FrontEnd {
    /// Functions with a (nearly) empty body and parameters whose name also occurs in a
    /// conditional branch that was not read: the file is lexed a second time with those
    /// groups' next branches, and the other definitions found are recorded. Only files with
    /// such a candidate pay for the second pass.
    static func alternateDefinitions(of facts: FileFacts, lexer: Lexer, bytes: UnsafeBufferPointer<UInt8>, path: String) -> [AlternateDefinition] {
        guard !lexer.groupsWithAlternatives.isEmpty, !lexer.alternativeRanges.isEmpty else { return [] }
        var candidates = Set<String>()
        // By index: a `FunctionDecl` is not copied just to test it.
        let functions = facts.functions
        for f in functions.indices where looksEmpty(functions[f]) {
            let name = Array(functions[f].name.utf8)
            guard !name.isEmpty else { continue }
            let named = name.withUnsafeBytes { needle in
                lexer.alternativeRanges.contains { r in
                    r.lowerBound >= 0 && r.upperBound <= bytes.count && r.count >= needle.count
                        && ByteSearch.contains(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes[r])), needle)
                }
            }
            if named { candidates.insert(functions[f].name) }
        }
        guard !candidates.isEmpty else { return [] }
        var alt = Lexer()
        alt.readAlternativesOf = lexer.groupsWithAlternatives
        alt.run(bytes)
        var parser = Parser(tokens: alt.tokens, names: Names.take(&alt.names), bytes: bytes, facts: FileFacts(path: path, bytes: bytes.count))
        parser.parseFile()
        var out: [AlternateDefinition] = []
        let found = parser.facts.functions
        for f in found.indices where candidates.contains(found[f].name) {
            out.append(AlternateDefinition(name: found[f].name, callees: found[f].calls.map(\.callee), assignments: found[f].assignments.count, statementCount: found[f].statementCount))
        }
        return out
    }

    /// A body that does nothing or only calls, in a function with parameters.
    @inline(__always)
    private static func looksEmpty(_ fn: borrowing FunctionDecl) -> Bool {
        !fn.params.isEmpty && fn.assignments.isEmpty && fn.statementCount <= Int32(fn.calls.count)
    }

    /// Functions with an (almost) empty body that holds a comment, found by reading the
    /// bytes of their lines after the opening brace.
    static func commentedEmptyFunctions(of facts: FileFacts, bytes: UnsafeBufferPointer<UInt8>) -> [String] {
        let functions = facts.functions
        let candidates = functions.indices.filter { looksEmpty(functions[$0]) && functions[$0].endLine > functions[$0].line }
        guard !candidates.isEmpty else { return [] }
        // Line starts up to the last line any candidate reads (the rest is never looked at).
        var need = 0
        for f in candidates { need = max(need, Int(functions[f].line), Int(functions[f].endLine)) }
        var lineStarts: [Int] = [0]
        if let base = bytes.baseAddress {
            var k = 0
            while k < bytes.count && lineStarts.count <= need {
                guard let nl = memchr(base + k, 10, bytes.count - k) else { break }
                k = base.distance(to: nl.assumingMemoryBound(to: UInt8.self)) + 1
                lineStarts.append(k)
            }
        }
        var out: [String] = []
        for f in candidates {
            let first = Int(functions[f].line) - 1, last = Int(functions[f].endLine)
            guard first >= 0, last <= lineStarts.count, first < last else { continue }
            let end = last < lineStarts.count ? lineStarts[last] : bytes.count
            var k = lineStarts[first]
            // The body starts at the first '{'.
            while k < end && bytes[k] != 123 { k += 1 }
            var found = Self.plainCommentAbove(line: first, lineStarts: lineStarts, bytes: bytes)
            while !found && k + 1 < end {
                if bytes[k] == 47 && (bytes[k + 1] == 42 || bytes[k + 1] == 47) { found = true; break }
                k += 1
            }
            if found { out.append(functions[f].name) }
        }
        return out
    }

    /// Whether the lines right above 0-based line `line` are a comment that is not
    /// kernel-doc (`/**` documents an API; a plain comment explains a choice).
    static func plainCommentAbove(line: Int, lineStarts: [Int], bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        func trimmed(_ l: Int) -> ArraySlice<UInt8> {
            var a = lineStarts[l], b = l + 1 < lineStarts.count ? lineStarts[l + 1] : bytes.count
            while a < b && (bytes[a] == 32 || bytes[a] == 9) { a += 1 }
            while b > a && (bytes[b - 1] == 10 || bytes[b - 1] == 32 || bytes[b - 1] == 9 || bytes[b - 1] == 13) { b -= 1 }
            return ArraySlice(UnsafeBufferPointer(rebasing: bytes[a..<b]))
        }
        var l = line - 1
        guard l >= 0 else { return false }
        let last = trimmed(l)
        if last.starts(with: [47, 47]) { return true }                        // "//"
        guard last.count >= 2, last.suffix(2).elementsEqual([42, 47]) else { return false } // ends "*/"
        for _ in 0..<12 {
            let t = trimmed(l)
            if t.starts(with: [47, 42]) { return !t.starts(with: [47, 42, 42]) } // "/*", not "/**"
            l -= 1
            if l < 0 { break }
        }
        return false
    }
}
