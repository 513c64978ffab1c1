import Facts

/// Reads and parses one file's bytes into `FileFacts`.
public enum FrontEnd {
    /// Larger files are not parsed: below this size every offset, line and column fits the
    /// `Int32` fields of `Token` and the facts, so no position arithmetic can overflow.
    public static let maxFileBytes = 256 << 20

    /// Parses `bytes` (the whole file) for the file at `path`.
    public static func parse(path: String, bytes: UnsafeBufferPointer<UInt8>) -> FileFacts {
        var facts = FileFacts(path: path, bytes: bytes.count)
        guard bytes.count <= maxFileBytes else {
            facts.unreadable = "file larger than 256 MB, skipped"
            return facts
        }
        var lexer = Lexer()
        lexer.run(bytes)
        facts.includes = lexer.includes
        facts.suppressBindMacros = lexer.suppressBindMacros
        facts.diagnostics = lexer.diagnostics
        // The name table is handed on (never copied) from lexer to parser and back, so that
        // interning never has to duplicate it.
        var parser = Parser(tokens: lexer.tokens, names: Names.take(&lexer.names), bytes: bytes, facts: facts)
        parser.parseFile()
        // Moved out, not copied: the renumbering below then rewrites each function's buffer
        // in place instead of copying it.
        swap(&facts, &parser.facts)
        var names = Names.take(&parser.names)
        for raw in lexer.macros {
            let parsed: (ExprArena, Int32)? = raw.body.withUnsafeBufferPointer { buf in
                var sub = Lexer(names: Names.take(&names))
                sub.run(buf)
                var mp = Parser(tokens: sub.tokens, names: Names.take(&sub.names), bytes: buf, facts: FileFacts(path: path, bytes: 0))
                let root = mp.parseMacroBody()
                names = Names.take(&mp.names)
                return root.map { (mp.arena, $0) }
            }
            if let (arena, root) = parsed {
                facts.macros.append(MacroDecl(name: raw.name, params: raw.params, exprs: arena, root: root, line: raw.line))
            }
        }
        facts.alternateDefinitions = alternateDefinitions(of: facts, lexer: lexer, bytes: bytes, path: path)
        facts.commentedEmptyFunctions = commentedEmptyFunctions(of: facts, bytes: bytes)
        let shared = keepReferencedNames(names.strings, in: &facts)
        for k in facts.macros.indices { facts.macros[k].exprs.names = shared }
        for k in facts.functions.indices { facts.functions[k].exprs.names = shared }
        facts.aggregates.sort { ($0.line, $0.column) < ($1.line, $1.column) }
        fitToCount(&facts)
        return facts
    }

    /// The spellings of `all` that a node of a function or macro refers to, in their order,
    /// with every node's text index renumbered to match. About half of a file's table goes:
    /// the keywords and the names only declarations spell, which no expression keeps.
    static func keepReferencedNames(_ all: [String], in facts: inout FileFacts) -> [String] {
        let count = all.count
        // Marked and read through buffers: a variable captured by a closure would have
        // every access checked for exclusivity, node by node.
        var marks = [Int32](repeating: -1, count: count)
        marks.withUnsafeMutableBufferPointer { map in
            for k in facts.functions.indices { mark(facts.functions[k].exprs.nodes, in: map) }
            for k in facts.macros.indices { mark(facts.macros[k].exprs.nodes, in: map) }
        }
        var kept: [String] = []
        kept.reserveCapacity(marks.reduce(0) { $1 == 0 ? $0 + 1 : $0 })
        for k in 0..<count where marks[k] == 0 {
            marks[k] = Int32(kept.count)
            kept.append(all[k])
        }
        let map = marks
        map.withUnsafeBufferPointer { map in
            for k in facts.functions.indices { facts.functions[k].exprs.renumberTexts(map) }
            for k in facts.macros.indices { facts.macros[k].exprs.renumberTexts(map) }
        }
        return kept
    }

    @inline(__always)
    private static func mark(_ nodes: FactsSlice<ExprNode>, in map: UnsafeMutableBufferPointer<Int32>) {
        for n in nodes { let t = Int(n.textID); if t >= 0 && t < map.count { map[t] = 0 } }
    }

    /// Gives the file's arrays that grew while parsing storage of their size (the facts of
    /// every file stay in memory for the whole analysis).
    static func fitToCount(_ facts: inout FileFacts) {
        facts.aggregates = facts.aggregates.fittedToCount()
        for k in facts.aggregates.indices { facts.aggregates[k].fields = facts.aggregates[k].fields.fittedToCount() }
        facts.globals = facts.globals.fittedToCount()
        for k in facts.globals.indices { facts.globals[k].designated = facts.globals[k].designated.fittedToCount() }
        facts.functions = facts.functions.fittedToCount()
        facts.typedefs = facts.typedefs.fittedToCount()
        facts.includes = facts.includes.fittedToCount()
        facts.macros = facts.macros.fittedToCount()
    }

    /// Parses a string (tests, fuzzing).
    public static func parse(path: String, source: String) -> FileFacts {
        var s = source
        return s.withUTF8 { parse(path: path, bytes: $0) }
    }
}
