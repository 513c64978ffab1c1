import Testing
@testable import Facts
@testable import CFrontend
@testable import Indexing
@testable import Analysis
@testable import Findings
@testable import Checks
@testable import Reporting
@testable import Pipeline

@Suite struct LexerTests {
    /// The shared byte search and order, against `String`'s, on edge cases.
    @Test func byteSearchAgreesWithStrings() {
        let words = ["", "a", "ab", "aab", "suppress_bind_attrs", "x.suppress_bind_attrs = true", "register", "unregister", "regist", "é"]
        for hay in words {
            for needle in words {
                let h = Array(hay.utf8), n = Array(needle.utf8)
                let found = h.withUnsafeBytes { hb in n.withUnsafeBytes { ByteSearch.contains(hb, $0) } }
                #expect(found == (!needle.isEmpty && hay.utf8.count >= needle.utf8.count && hay.contains(needle)), "\(hay) / \(needle)")
                let less = h.withUnsafeBytes { hb in n.withUnsafeBytes { ByteSearch.less(hb, $0) } }
                #expect(less == h.lexicographicallyPrecedes(n), "\(hay) < \(needle)")
            }
        }
    }

    /// The byte classes behind identifiers, against their plain definitions, for every byte.
    @Test func identifierBytesAreLettersDigitsAndUnderscore() {
        for b in 0...255 {
            let c = UInt8(b)
            let letter = (97...122).contains(c) || (65...90).contains(c)
            #expect(isIdentStart(c) == (letter || c == 95), "byte \(b)")
            #expect(isIdentByte(c) == (letter || c == 95 || (48...57).contains(c)), "byte \(b)")
        }
    }

    /// Directive lines read whole a word at a time (no backslash, no slash) and those read byte by
    /// byte (a comment, a continuation) keep the same text and the same line count.
    @Test func plainAndCommentedDirectiveLinesKeepTheirTextAndLines() {
        let f = parse("""
            #define PLAIN(x) plain_call(x)
            #define COMMENTED(x) /* why */ commented_call(x)
            #define CONTINUED(x) \\
                continued_call(x)
            #define REG_OFFSET 0x1c
            #define LAST(x) last_call(x)
            int after(void) { return PLAIN(1); }
            """)
        #expect(f.macros.map(\.name) == ["PLAIN", "COMMENTED", "CONTINUED", "LAST"])
        #expect(f.macros.map(\.calledName) == ["plain_call", "commented_call", "continued_call", "last_call"])
        #expect(f.macros.map(\.line) == [1, 2, 3, 6])
        #expect(f.functions.map(\.name) == ["after"])
        #expect(f.functions.first?.line == 7)
        // The last line, with no newline after it, is read whole too.
        let g = parse("#define AT_END(x) end_call(x)")
        #expect(g.macros.map(\.calledName) == ["end_call"])
    }

    /// Block comments, skipped lines and directive lines are searched eight bytes at a time:
    /// wherever the newline, star, slash or backslash falls within a word, every line is
    /// still counted and every definition after them found on its line.
    @Test func wordAtATimeSearchesCountEveryLine() {
        var source = ""
        var expected: [(String, Int32)] = []
        var line: Int32 = 1
        for pad in 0..<17 {
            let fill = String(repeating: "x", count: pad)
            source += "/* \(fill) * \(fill)\n \(fill)*/ int c\(pad)(void) { return 0; }\n"
            expected.append(("c\(pad)", line + 1)); line += 2
            source += "#if 0\n\(fill) /* \(fill)\n\(fill) */ \(fill)\n#endif\nint i\(pad)(void) { return 0; }\n"
            expected.append(("i\(pad)", line + 4)); line += 5
            source += "#define D\(pad) \(fill) // \(fill)\n#define E\(pad) \(fill) \\\n \(fill)\nint d\(pad)(void) { return 0; }\n"
            expected.append(("d\(pad)", line + 3)); line += 4
        }
        let f = parse(source)
        #expect(f.functions.map(\.name) == expected.map(\.0))
        #expect(f.functions.map(\.line) == expected.map(\.1))
        #expect(f.diagnostics.isEmpty)
    }

    /// The main loop's own paths (identifiers, one-byte punctuators, newlines) and the ones it
    /// leaves to the rest (prefixed literals, longer punctuators, CR, numbers), token by
    /// token: kind, code or spelling, line and column (a prefixed literal's token starts at
    /// its quote, its column is the prefix's).
    @Test func tokensOfTheMainLoopAndTheRest() {
        var source = "a(b,c);\r\n\tx = L\"w\" u8'y' u 8;\n{ [p->q] ? r : s; } ~t\r\n#define M 1\nz"
        let tokens = source.withUTF8 { bytes -> [Token] in
            var lexer = Lexer()
            lexer.run(bytes)
            return lexer.tokens
        }
        func show(_ t: Token) -> String {
            let text = String(decoding: Array(source.utf8)[Int(t.start)..<Int(t.start + t.length)], as: UTF8.self)
            return "\(t.kind):\(text)@\(t.line):\(t.column)"
        }
        #expect(tokens.map(show) == [
            "identifier:a@1:1", "punct:(@1:2", "identifier:b@1:3", "punct:,@1:4", "identifier:c@1:5", "punct:)@1:6", "punct:;@1:7",
            "identifier:x@2:2", "punct:=@2:4", "string:\"w\"@2:6", "character:'y'@2:11", "identifier:u@2:17", "number:8@2:19", "punct:;@2:20",
            "punct:{@3:1", "punct:[@3:3", "identifier:p@3:4", "punct:->@3:5", "identifier:q@3:7", "punct:]@3:8", "punct:?@3:10",
            "identifier:r@3:12", "punct::@3:14", "identifier:s@3:16", "punct:;@3:17", "punct:}@3:19", "punct:~@3:21", "identifier:t@3:22",
            "identifier:z@5:1", "end:@5:2",
        ])
        #expect(tokens.filter { $0.kind == .punct }.map(\.code).prefix(3) == [40, 44, 41])
    }

    @Test func aFileDenserInTokensThanTheLexerReservedKeepsThemAll() {
        // One token a byte (the lexer reserves one per five), so its buffer grows twice.
        var source = String(repeating: "(", count: 300) + "x" + String(repeating: ")", count: 300)
        let tokens = source.withUTF8 { bytes -> [Token] in
            var lexer = Lexer()
            lexer.run(bytes)
            return lexer.tokens
        }
        #expect(tokens.count == 602)
        #expect(tokens[299].code == 40 && tokens[300].kind == .identifier && tokens[300].column == 301 && tokens[601].kind == .end)
        #expect(tokens.enumerated().allSatisfy { $0.offset == 300 || $0.offset == 601 || Int($0.element.start) == $0.offset && $0.element.length == 1 })
    }

    @Test func skipsIfZeroAndKeepsFirstLiveBranch() {
        let f = parse("""
            #if 0
            struct hidden { int x; };
            don't care about 'quotes here
            #else
            struct shown_else { int y; };
            #endif
            #ifdef CONFIG_FOO
            struct first { int a; };
            #else
            struct second { int b; };
            #endif
            """)
        #expect(f.aggregates.map(\.name) == ["shown_else", "first"])
        #expect(f.diagnostics.isEmpty)
    }

    @Test func aFileKeepsOnlyTheSpellingsItsExpressionsUse() {
        let f = parse("""
            struct widget { int unused_field; struct device dev; };
            #define WIDGET_PUT(w) put_device(&(w)->dev)
            static int widget_probe(struct widget *w, unsigned long flags)
            {
                w->dev.release = widget_release;
                return device_add(&w->dev);
            }
            """)
        let fn = try! #require(f.functions.first)
        let names = fn.exprs.names
        // Keywords, types and declaration-only names are dropped; expressions still read right.
        for gone in ["static", "int", "struct", "unsigned", "unused_field", "widget_probe", "flags"] {
            #expect(!names.contains(gone), "\(gone) kept")
        }
        for kept in ["w", "dev", "release", "widget_release", "device_add", "put_device"] {
            #expect(names.contains(kept), "\(kept) dropped")
        }
        let call = try! #require(fn.calls.first { $0.callee == "device_add" })
        #expect(fn.exprs.render(call.node) == "device_add(&w->dev)")
        // The macro's arena shares the file's one table.
        let macro = try! #require(f.macros.first)
        #expect(macro.exprs.names == names)
        #expect(macro.exprs.render(macro.root) == "put_device(&w->dev)")
    }

    @Test func equalSubexpressionsOfAFunctionAreOneNode() throws {
        let f = parse("""
            static void widget_stop(struct widget *priv, struct device *dev)
            {
                foo(dev);
                bar(dev);
                baz(priv->dev);
                qux(priv->dev);
            }
            """)
        let fn = try #require(f.functions.first)
        let e = fn.exprs
        // 4 calls (each owns its argument list), the 4 callees, `dev`, `priv` and one
        // `priv->dev`: 11 nodes, where one node per occurrence took 14.
        #expect(e.nodes.count == 11)
        let args = fn.calls.map { Array(e.arguments($0.node)) }
        #expect(args.count == 4)
        #expect(args[0] == args[1])
        #expect(args[2] == args[3])
        #expect(args[0] != args[2])
        #expect(Set(fn.calls.map(\.node)).count == 4)
        #expect(fn.calls.map { e.render($0.node) } == ["foo(dev)", "bar(dev)", "baz(priv->dev)", "qux(priv->dev)"])
    }

    /// `a ? b : c` (node 2) whose `c` (node 3) comes after it: only the third operand is
    /// out of order, and it must not be lost.
    static func lateThirdOperand() -> ExprArena {
        var e = ExprArena()
        e.names = ["a", "b", "c"]
        e.nodes = [ExprNode(kind: .identifier, textID: 0, a: -1, b: -1, c: 0),
                   ExprNode(kind: .identifier, textID: 1, a: -1, b: -1, c: 0),
                   ExprNode(kind: .conditional, textID: -1, a: 0, b: 1, c: 3),
                   ExprNode(kind: .identifier, textID: 2, a: -1, b: -1, c: 0)]
        return e
    }

    @Test func aConditionalWhoseThirdOperandComesLaterIsCompactedWithoutMerging() {
        let (kept, map) = Self.lateThirdOperand().compacted(roots: [2])
        #expect(map == [0, 1, 2, 3])
        #expect(kept.render(2) == "a ? b : c")
    }

    @Test func anArenaWithAChildAfterItsParentIsCompactedWithoutMerging() {
        var e = ExprArena()
        e.names = ["x", "f"]
        // Node 0 is `x.f` whose base (node 2) comes after it; node 1 is an unreachable `x`.
        e.nodes = [ExprNode(kind: .member, textID: 1, a: 2, b: 0, c: 0),
                   ExprNode(kind: .identifier, textID: 0, a: -1, b: -1, c: 0),
                   ExprNode(kind: .identifier, textID: 0, a: -1, b: -1, c: 0)]
        let (kept, map) = e.compacted(roots: [0])
        #expect(map == [0, -1, 1])
        #expect(kept.nodes.count == 2)
        #expect(kept.render(0) == "x.f")
    }

    @Test func aCompactionReusedFromArenaToArenaGivesWhatAFreshOneGives() {
        // `f(a, a)` with an unread `b`: the two `a` become one node, `b` goes.
        var call = ExprArena()
        call.names = ["a", "f", "b"]
        call.nodes = [ExprNode(kind: .identifier, textID: 0, a: -1, b: -1, c: 0),
                      ExprNode(kind: .identifier, textID: 0, a: -1, b: -1, c: 0),
                      ExprNode(kind: .identifier, textID: 1, a: -1, b: -1, c: 0),
                      ExprNode(kind: .call, textID: -1, a: 2, b: 0, c: 2),
                      ExprNode(kind: .identifier, textID: 2, a: -1, b: -1, c: 0)]
        call.lists = [0, 1]
        // `a ? b : c` whose `c` comes after it: the merge gives up part way.
        let late = Self.lateThirdOperand()
        var work = ArenaCompaction()
        // The larger arena first, so the smaller one finds longer arrays left in `work`;
        // each kind of compaction after each.
        let f = (call, Int32(3), [Int32(0), 0, 1, 2, -1], "f(a, a)"), c = (late, Int32(2), [Int32(0), 1, 2, 3], "a ? b : c")
        for (arena, root, map, rendered) in [f, f, c, c, f] {
            arena.compact(roots: [root], into: &work)
            let kept = work.arena(from: arena)
            #expect(work.map == map)
            #expect(kept.render(map[Int(root)]) == rendered)
            let (fresh, freshMap) = arena.compacted(roots: [root])
            #expect(kept == fresh)
            #expect(work.map == freshMap)
        }
        #expect(work.nodes.count == 3 && work.lists == [0, 0])
    }

    @Test func parsedArraysAreSizedToTheirCount() {
        var grown: [Int32] = []
        grown.reserveCapacity(1000)
        grown.append(contentsOf: [1, 2, 3])
        let fitted = grown.fittedToCount()
        #expect(fitted == [1, 2, 3])
        #expect(fitted.capacity < 16)
        var calls = "static void many(void)\n{\n"
        for k in 0..<33 { calls += "    f\(k)();\n" }
        calls += "}\nstatic void none(void)\n{\n}\nstatic int one(int a)\n{\n    return g(a);\n}\n"
        let functions = parse(calls).functions
        #expect(functions.map(\.name) == ["many", "none", "one"])
        // A body's arrays live in one buffer holding exactly their elements.
        let many = functions[0]
        #expect(many.calls.map(\.callee) == (0..<33).map { "f\($0)" })
        #expect(many.calls.map(\.line) == (0..<33).map { Int32($0 + 3) })
        let storage = many.exprs.storage
        #expect(storage.usedBytes == 33 * MemoryLayout<CallSite>.stride + many.exprs.nodeCount * MemoryLayout<ExprNode>.stride
                + many.exprs.lists.count * 4)
        #expect(storage.capacity * 8 >= storage.usedBytes && storage.capacity * 8 < storage.usedBytes + 24)
        // Bodies with no element share one empty buffer.
        #expect(functions[1].body.storage === FunctionBodyStorage.empty)
        #expect(many.params.isEmpty && functions[1].calls.isEmpty)
        let one = functions[2]
        #expect(one.params.map(\.name) == ["a"])
        #expect(one.calls.map(\.callee) == ["g"])
        #expect(one.calls[0].isReturned && !one.calls[0].isConditional)
        #expect(one.returns.count == 1)
        #expect(one.exprs.render(one.returns[0]) == "g(a)")
    }

    @Test func aPackedTreeReadsAsItsArena() {
        var e = ExprArena()
        e.names = ["f", "x", "T"]
        e.types = [TypeRef(kind: .structType, name: "T", pointerDepth: 1)]
        e.nodes = [ExprNode(kind: .identifier, textID: 0, a: -1, b: -1, c: 0),
                   ExprNode(kind: .identifier, textID: 1, a: -1, b: -1, c: 0),
                   ExprNode(kind: .cast, textID: -1, a: 1, b: 0, c: 0),
                   ExprNode(kind: .call, textID: -1, a: 0, b: 0, c: 2)]
        e.lists = [2, 1]
        let tree = ExprTree(e)
        #expect(tree.nodeCount == 4 && Array(tree.nodes) == e.nodes && Array(tree.lists) == [2, 1] && Array(tree.types) == e.types)
        #expect(tree.render(3) == e.render(3) && tree.render(3) == "f((struct T *)x, x)")
        #expect(Array(tree.arguments(3)) == [2, 1] && tree.strippingCasts(2) == 1 && tree.text(at: 0) == "f")
        // Out of range reads give the empty node and type, never a trap.
        for i: Int32 in [-1, 4, Int32.max] { #expect(tree[i].kind == .other && tree[i].a == -1 && tree.text(at: i) == "") }
        #expect(tree.type(of: ExprNode(kind: .cast, textID: -1, a: 0, b: 7, c: 0)) == .unknown)
        #expect(tree.list(of: ExprNode(kind: .call, textID: -1, a: 0, b: 1, c: 5)).isEmpty)
        // Rewriting the nodes of a shared tree leaves the other value alone.
        var changed = tree
        changed.updateNodes { $0.textID = $0.textID == 1 ? 0 : $0.textID }
        #expect(tree.render(3) == "f((struct T *)x, x)" && changed.render(3) == "f((struct T *)f, f)")
        #expect(changed != tree && ExprTree(e) == tree)
    }

    @Test func aFunctionBodyReadsBackEveryArrayItWasGiven() {
        let t = TypeRef(kind: .structType, name: "a_rather_long_struct_name", pointerDepth: 1)
        let params = [VarDecl(name: "dev", type: t, line: 1, column: 2)]
        let locals = [VarDecl(name: "priv", type: t, line: 3, column: 4), VarDecl(name: "i", type: .unknown, line: 5, column: 6)]
        let calls = [CallSite(callee: "a_long_callee_name_here", node: 7, line: 8, column: 9, target: -1,
                              targetIsDeclaration: true, isConditional: false, isReturned: true)]
        let assigns = [AssignmentSite(lhs: 1, rhs: 2, line: 10, column: 11, isConditional: true)]
        let tests = [TestSite(node: 3, line: 12)]
        let body = FunctionBody(params: params, locals: locals, calls: calls, assignments: assigns, returns: [4, 5],
                                unconditionalJumps: [13], branchLines: [14, 15, 16], tests: tests)
        #expect(Array(body.params) == params && Array(body.locals) == locals && Array(body.calls) == calls)
        #expect(Array(body.assignments) == assigns && Array(body.tests) == tests)
        #expect(Array(body.returns) == [4, 5] && Array(body.unconditionalJumps) == [13] && Array(body.branchLines) == [14, 15, 16])
        // A slice keeps its parent's indices, like ArraySlice.
        let tail = body.branchLines[1..<3]
        #expect(tail.startIndex == 1 && tail.first == 15 && Array(tail) == [15, 16])
        // Equal contents are equal bodies, whatever their buffers.
        let copy = FunctionBody(params: params, locals: locals, calls: calls, assignments: assigns, returns: [4, 5],
                                unconditionalJumps: [13], branchLines: [14, 15, 16], tests: tests)
        #expect(copy == body && copy.hashValue == body.hashValue && copy.storage !== body.storage)
        #expect(copy != FunctionBody(params: params))
        // An absurdly long array keeps its first 128 MB (the header's offsets stay in range).
        let huge = FunctionBody(returns: [Int32](repeating: 7, count: (1 << 25) + 3), branchLines: [1, 2])
        #expect(huge.returns.count == 1 << 25 && huge.returns.last == 7 && Array(huge.branchLines) == [1, 2])
    }

    @Test func recordsIncludesAndContinuations() {
        let f = parse("#include <linux/device.h>\n#include \"local.h\"\n#define LONG(a) \\\n  foo(a)\nint x;\n")
        #expect(f.includes.map(\.path) == ["linux/device.h", "local.h"])
        #expect(f.includes.map(\.isSystem) == [true, false])
        #expect(f.globals.map(\.name) == ["x"])
        #expect(f.macros.map(\.name) == ["LONG"])
    }

    @Test func unterminatedCommentIsADiagnosticNotACrash() {
        let f = parse("int a;\n/* never closed\nstruct x { int y; };")
        #expect(f.globals.map(\.name) == ["a"])
        #expect(f.diagnostics.map(\.message) == ["unterminated comment"])
        #expect(f.diagnostics.first?.line == 2)
    }

    @Test func compoundAssignmentsAreAssignments() {
        let f = parse("void f(struct s *p) { p->flags |= 4; p->n ^= 1; p->m <<= 2; }")
        #expect(f.functions.first?.assignments.count == 3)
        #expect(f.recoveries == 0)
    }
}

@Suite struct ParserStructTests {
    let source = """
        struct device;
        struct inner { int a; };
        struct outer {
                struct device dev;
                struct device *parent;
                struct inner items[4];
                unsigned int flags : 3, mode : 2;
                void (*release)(struct device *dev);
                union {
                        struct inner u_inner;
                        long raw;
                };
                struct_group(hdr,
                        int version;
                        struct inner grouped;
                );
                DECLARE_BITMAP(mask, 64);
                const char *name __aligned(8);
        } __randomize_layout ____cacheline_aligned;
        typedef struct { struct inner in; } inner_t;
        typedef struct outer outer_t;
        """

    @Test func fieldsWithTypesPointersAndArrays() throws {
        let f = parse(source)
        let outer = try #require(f.aggregates.first { $0.name == "outer" })
        let byName = Dictionary(outer.fields.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        #expect(byName["dev"]?.type == TypeRef(kind: .structType, name: "device"))
        #expect(byName["dev"]?.type.isEmbedded == true)
        #expect(byName["parent"]?.type.pointerDepth == 1)
        #expect(byName["items"]?.type.isArray == true)
        #expect(byName["flags"]?.isBitField == true && byName["mode"]?.isBitField == true)
        #expect(byName["release"]?.type.isFunctionPointer == true)
        #expect(byName["version"] != nil && byName["grouped"]?.type.name == "inner")
        #expect(byName["mask"]?.type.name == "DECLARE_BITMAP")
        #expect(byName["name"]?.type.pointerDepth == 1)
        // The anonymous union is a member with an empty name and a synthetic type.
        let anon = try #require(outer.fields.first { $0.name.isEmpty })
        #expect(anon.type.kind == .unionType && anon.type.name.hasPrefix("<anon@"))
        #expect(f.recoveries == 0)
    }

    @Test func typedefs() {
        let f = parse(source)
        let tds = Dictionary(f.typedefs.map { ($0.name, $0.type) }, uniquingKeysWith: { a, _ in a })
        #expect(tds["outer_t"] == TypeRef(kind: .structType, name: "outer"))
        #expect(tds["inner_t"]?.name.hasPrefix("<anon@") == true)
    }
}

@Suite struct ParserFunctionTests {
    let source = """
        static inline struct foo *to_foo(struct device *d) { return container_of(d, struct foo, dev); }
        static int __init foo_probe(struct platform_device *pdev)
        {
                struct foo *priv;
                struct device *dev = &pdev->dev;
                int ret;

                priv = devm_kzalloc(dev, sizeof(*priv), GFP_KERNEL);
                if (!priv)
                        return -ENOMEM;
                priv->adap.dev.parent = dev;
                ret = i2c_add_adapter(&priv->adap);
                list_for_each_entry(pos, &head, node) {
                        kfree(pos);
                }
                return ret;
        }
        EXPORT_SYMBOL_GPL(foo_probe);
        static const struct device_type foo_type = {
                .name = "foo",
                .release = foo_release,
                .pm = &foo_pm_ops,
                .groups = { [0] = { .x = bar } },
        };
        """

    @Test func functionsParamsLocalsAndCalls() throws {
        let f = parse(source)
        #expect(f.functions.map(\.name) == ["to_foo", "foo_probe"])
        let probe = f.functions[1]
        #expect(probe.isStatic)
        #expect(probe.params.map(\.name) == ["pdev"])
        #expect(probe.params[0].type == TypeRef(kind: .structType, name: "platform_device", pointerDepth: 1))
        #expect(probe.locals.map(\.name) == ["priv", "dev", "ret"])
        let alloc = try #require(probe.calls.first { $0.callee == "devm_kzalloc" })
        #expect(alloc.line == 8 && alloc.column == 16)
        #expect(probe.exprs.render(alloc.target) == "priv")
        let args = Array(probe.exprs.arguments(alloc.node))
        #expect(args.count == 3)
        #expect(probe.exprs[args[1]].kind == .sizeofExpr)
        #expect(probe.exprs.render(args[1]) == "sizeof(*priv)")
        let add = try #require(probe.calls.first { $0.callee == "i2c_add_adapter" })
        #expect(probe.exprs.render(Array(probe.exprs.arguments(add.node))[0]) == "&priv->adap")
        let free = try #require(probe.calls.first { $0.callee == "kfree" })
        #expect(free.isConditional)
        #expect(!add.isConditional)
        #expect(f.exports == ["foo_probe"])
        #expect(f.recoveries == 0)
    }

    @Test func containerOfTakesATypeArgument() throws {
        let f = parse(source)
        let c = try #require(f.functions[0].calls.first)
        #expect(c.callee == "container_of" && c.isReturned)
        let args = Array(f.functions[0].exprs.arguments(c.node))
        #expect(f.functions[0].exprs[args[1]].kind == .typeName)
        #expect(f.functions[0].exprs.type(of: f.functions[0].exprs[args[1]]) == TypeRef(kind: .structType, name: "foo"))
    }

    @Test func designatedInitializers() throws {
        let g = try #require(parse(source).globals.first { $0.name == "foo_type" })
        #expect(g.type == TypeRef(kind: .structType, name: "device_type"))
        let d = Dictionary(g.designated.map { ($0.path, $0.value) }, uniquingKeysWith: { a, _ in a })
        #expect(d["release"] == "foo_release")
        #expect(d["pm"] == "&foo_pm_ops")
        #expect(d["groups.x"] == "bar")
    }

    @Test func castsAndMacroStrings() throws {
        let f = parse("""
            void f(void *p) {
                    struct foo *a = (struct foo *)p;
                    u32 v = (__force u32)(unsigned long)p;
                    dev->name = DRIVER_NAME "-x";
            }
            """)
        #expect(f.recoveries == 0)
        let fn = f.functions[0]
        #expect(fn.exprs[fn.assignments[0].rhs].kind == .cast)
        #expect(fn.assignments.count == 3)
    }

    @Test func macroInvocationsWithoutSemicolons() {
        let f = parse("DRIVER_BEGIN(foo)\nDRIVER_MATCH(\"x\", foo_init)\nDRIVER_END(foo)\nMODULE_LICENSE(\"GPL\");\nint after;\n")
        #expect(f.globals.map(\.type.name) == ["DRIVER_BEGIN", "DRIVER_END", "int"])
    }

    @Test func functionLikeMacroBodies() throws {
        let f = parse("#define my_register(m, p, n) real_register(m, NULL, NULL, p, n)\n#define to_x(d) container_of(d, struct x, dev)\n")
        #expect(f.macros.map(\.name) == ["my_register", "to_x"])
        let m = f.macros[0]
        #expect(m.params == ["m", "p", "n"])
        #expect(m.exprs.render(m.root) == "real_register(m, NULL, NULL, p, n)")
    }
}

@Suite struct ConditionTests {
    /// Conditions record the pointers and members they test, through `!`, `== NULL`,
    /// `&&`/`||` and wrapper calls; integer locals such as `ret` are not recorded.
    @Test func testedPointersAndMembers() throws {
        let f = parse("""
        int f(struct w *p)
        {
        \tstruct chip *gc = p->chip;
        \tint ret = 0;
        \tif (!gc || p->flags == NULL)
        \t\treturn -1;
        \tif (ret)
        \t\treturn ret;
        \twhile (unlikely(!p->ops))
        \t\tcpu_relax();
        \treturn 0;
        }
        """)
        let fn = try #require(f.functions.first)
        #expect(fn.tests.map { "\($0.line):" + fn.exprs.render($0.node) } == ["5:gc", "5:p->flags", "9:p->ops"])
    }

    /// A file-scope initializer list of addresses and nulls names the objects it points at;
    /// any other element (a number, a nested list, an address of a member, a designator)
    /// leaves none.
    @Test func anInitializerListOfAddressesNamesItsObjects() throws {
        let f = parse("""
            static struct item a, b;
            static struct item *all[] = { &a, &b, NULL, };
            static struct item *mixed[] = { &a, (void *)1 };
            static struct item *members[] = { &a.next, &b };
            static struct item *nested[][1] = { { &a }, { &b } };
            static struct item *none[] = { };
            static struct holder h = { .first = &a, .second = &b };
            static struct item *zero[] = { 0, &b };
            """)
        let addressed = Dictionary(uniqueKeysWithValues: f.globals.map { ($0.name, $0.addressedObjects) })
        #expect(addressed["all"] == ["a", "b"])
        #expect(addressed["mixed"] == [])
        #expect(addressed["members"] == [])
        #expect(addressed["nested"] == [])
        #expect(addressed["none"] == [])
        #expect(addressed["h"] == [])
        #expect(addressed["zero"] == ["b"])
        #expect(try FactsCodec.decode(FactsCodec.encode(f), path: f.path) == f)
    }
}
