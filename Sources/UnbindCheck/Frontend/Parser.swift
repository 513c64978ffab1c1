/// A tolerant parser for kernel C. It understands declarations, struct/union bodies,
/// typedefs, designated initializers and function bodies well enough to extract
/// `FileFacts`, and resynchronises at `;` and `}` on anything else. Nesting is bounded by
/// explicit depth limits; balanced regions past the limits are skipped iteratively.
public struct Parser {
    private let toks: [Token]
    /// Returned for reads past the last token (the lexer always ends the stream with one).
    private let endToken: Token
    fileprivate(set) var names: Names
    private let bytes: UnsafeBufferPointer<UInt8>
    private var p = 0
    public private(set) var facts: FileFacts

    // Per-function state.
    fileprivate(set) var arena = ExprArena()
    private var calls: [CallSite] = []
    private var assigns: [AssignmentSite] = []
    private var returns: [Int32] = []
    private var tests: [TestSite] = []
    /// Parameters of the function being parsed (for typing tested names).
    private var currentParams: [VarDecl] = []
    private var locals: [VarDecl] = []
    private var jumps: [Int32] = []
    private var branches: [Int32] = []
    private var conditionalDepth = 0
    private var statementCount: Int32 = 0
    private var exprDepth = 0
    private var blockDepth = 0
    private var aggregateDepth = 0

    static let maxExprDepth = 160
    static let maxBlockDepth = 160
    static let maxAggregateDepth = 48

    /// Every string the expression trees refer to.
    public var internedNames: [String] { names.strings }

    public init(tokens: [Token], names: Names, bytes: UnsafeBufferPointer<UInt8>, facts: FileFacts) {
        self.toks = tokens
        let last = tokens.last
        self.endToken = Token(kind: .end, code: 0, start: Int32(clamping: bytes.count), length: 0, line: last?.line ?? 1, column: last?.column ?? 1)
        self.names = names
        self.bytes = bytes
        self.facts = facts
    }

    // MARK: - Token helpers

    /// The token at `k`, clamped into the stream: before the start reads the first token,
    /// past the end reads the end token. Every token read goes through here.
    @inline(__always) private func token(_ k: Int) -> Token {
        if k >= 0 && k < toks.count { return toks[k] }
        return k < 0 && !toks.isEmpty ? toks[0] : endToken
    }
    @inline(__always) private var tok: Token { token(p) }
    @inline(__always) private func peek(_ k: Int = 1) -> Token { token(p &+ k) }
    @inline(__always) private var atEnd: Bool { token(p).kind == .end }
    @inline(__always) private func isPunct(_ t: Token, _ c: UInt8) -> Bool { t.kind == .punct && t.code == Int32(c) }
    @inline(__always) private func isPunct(_ c: UInt8) -> Bool { isPunct(tok, c) }
    @inline(__always) private func isKeyword(_ t: Token, _ k: Keyword) -> Bool { t.kind == .identifier && t.code == k.rawValue }
    @inline(__always) private func isKeyword(_ k: Keyword) -> Bool { isKeyword(tok, k) }
    @inline(__always) private func text(_ t: Token) -> String { t.kind == .identifier ? names[t.code] : "" }
    /// Moves `n` tokens ahead, never past the end token.
    @inline(__always) private mutating func advance(by n: Int) {
        for _ in 0..<max(0, n) where !atEnd { p += 1 }
    }

    private func literalText(_ t: Token) -> String {
        let s = Int(t.start), e = min(Int(t.start + t.length), bytes.count, s + 200)
        guard s >= 0, s <= e else { return "" }
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[s..<e]), as: UTF8.self)
    }

    /// From an opening bracket, moves past its matching closer (counting all bracket kinds).
    /// Unbalanced input resynchronises the kernel way: a `}` in column 1 ends a top-level
    /// construct, and a `static`/`typedef`/`extern` in column 1 starts a new declaration;
    /// skipping stops before either.
    private mutating func skipBalanced() {
        var depth = 0
        let startLine = tok.line
        repeat {
            let t = tok
            if t.kind == .end { return }
            if t.column == 1 && t.line != startLine && depth > 0 {
                if t.kind == .punct && t.code == 125 && depth > 1 {
                    // Leave the brace for the construct that owns it.
                    recover("unbalanced brackets")
                    return
                }
                if t.kind == .identifier && (t.code == Keyword.kStatic.rawValue || t.code == Keyword.kTypedef.rawValue || t.code == Keyword.kExtern.rawValue) {
                    recover("unbalanced brackets")
                    return
                }
            }
            if t.kind == .punct {
                switch t.code {
                case 40, 91, 123: depth += 1
                case 41, 93, 125: depth -= 1
                default: break
                }
            }
            p += 1
        } while depth > 0
    }

    /// Tokens that begin a file-scope declaration when they stand in column 1.
    private func startsDeclarationAtColumnOne(_ t: Token) -> Bool {
        guard t.column == 1, t.kind == .identifier else { return false }
        switch Keyword(rawValue: t.code) {
        case .kStruct, .kUnion, .kEnum, .kStatic, .kTypedef, .kExtern, .kInt, .kVoid, .kUnsigned, .kConst, .kChar, .kLong, .kBool, .kBool2:
            return true
        default:
            return false
        }
    }

    /// Skips to just past the next `;` at depth 0, or stops before an unmatched `}`. At file
    /// scope it also stops before a declaration keyword in column 1 on a later line.
    private mutating func skipToSemicolon(resyncAtColumnOne: Bool = false) {
        let startLine = tok.line
        while !atEnd {
            let t = tok
            if resyncAtColumnOne && t.line != startLine && startsDeclarationAtColumnOne(t) { return }
            if t.kind == .punct {
                if t.code == 59 { p += 1; return }
                if t.code == 125 { return }
                if t.code == 40 || t.code == 91 || t.code == 123 { skipBalanced(); continue }
            }
            p += 1
        }
    }

    private mutating func recover(_ message: String) {
        facts.recoveries += 1
        if facts.diagnostics.count < 50 {
            facts.diagnostics.append(FileDiagnostic(line: tok.line, column: tok.column, message: message))
        }
    }

    /// Parses a macro body as one expression; returns its call node if it is one call.
    mutating func parseMacroBody() -> Int32? {
        let e = parseExpression()
        let root = arena.strippingCasts(e)
        guard root >= 0, arena[root].kind == .call, arena[arena[root].a].kind == .identifier else { return nil }
        let map = arena.compact(roots: [root])
        let r = Int(root) < map.count ? map[Int(root)] : -1
        return r >= 0 ? r : nil
    }

    // MARK: - File level

    /// Parses the whole token stream.
    public mutating func parseFile() {
        while !atEnd {
            let before = p
            parseExternal()
            if p == before { recover("unexpected token"); p += 1 }
        }
    }

    private mutating func parseExternal() {
        let t = tok
        if t.kind == .punct {
            switch t.code {
            case 59: p += 1; return                      // ;
            case 125: recover("unmatched '}'"); p += 1; return
            case 123: recover("block outside a function"); skipBalanced(); return
            default: break
            }
        }
        if isKeyword(.kTypedef) { p += 1; parseDeclaration(context: .typedef); return }
        if isKeyword(.kStaticAssert) || isKeyword(.kStaticAssert2) { skipToSemicolon(); return }
        if isKeyword(.kAsm) || isKeyword(.kAsm2) || isKeyword(.kAsm3) { skipToSemicolon(); return }
        if isKeyword(.kExtern) && peek().kind == .string {
            advance(by: 2)
            if isPunct(123) { p += 1 }
            return
        }
        if t.kind == .identifier, isPunct(peek(), 40), text(t).hasPrefix("EXPORT_SYMBOL") {
            advance(by: 2)
            if tok.kind == .identifier { facts.exports.append(text(tok)) }
            skipToSemicolon()
            return
        }
        parseDeclaration(context: .file)
    }

    // MARK: - Declarations

    private enum DeclContext { case file, typedef, member, local, parameter }

    private struct Specifiers {
        var type = TypeRef.unknown
        var isStatic = false
        var isInline = false
        var isTypedef = false
        /// A macro invocation stood where the type should be (`static DEFINE_MUTEX(x);`).
        var macroName: String? = nil
        var macroFirstArg: String? = nil
        var definedAnonymous = false
    }

    private struct Declarator {
        var name = ""
        var line: Int32 = 0
        var column: Int32 = 0
        var pointerDepth: UInt8 = 0
        var isArray = false
        var isFunctionPointer = false
        var paramsStart = -1
        var paramsEnd = -1
        var isBitField = false
        var isFunction: Bool { paramsStart >= 0 && !isFunctionPointer }
    }

    /// Identifiers that annotate declarations without naming a type.
    static let annotations: Set<String> = [
        "__init", "__exit", "__initdata", "__initconst", "__exitdata", "__devinit", "__devexit",
        "__ref", "__refdata", "__meminit", "__iomem", "__user", "__kernel", "__rcu", "__percpu",
        "__force", "__nocast", "__safe", "__bitwise", "__must_check", "__always_inline", "__always_unused",
        "__maybe_unused", "__used", "__unused", "__weak", "__cold", "__hot", "__visible", "__noreturn",
        "__pure", "__packed", "__read_mostly", "__ro_after_init", "__cacheline_aligned",
        "____cacheline_aligned", "__cacheline_aligned_in_smp", "____cacheline_aligned_in_smp",
        "__randomize_layout", "__no_randomize_layout", "noinline", "__noinline", "notrace", "asmlinkage",
        "__sched", "__kprobes", "__noclone", "__nocfi", "__latent_entropy", "__private",
        "__attribute_const__", "__deprecated", "__malloc", "__flatten", "__naked", "__no_kcsan",
        "__no_sanitize_address", "noinstr", "__noinstr", "__irq_entry", "__init_or_module",
        "__net_initdata", "__head", "__nonstring", "__restrict", "__restrict__", "__volatile__",
        "__const__", "__signed__", "__data_racy", "__bpf_kfunc", "__ksym", "__weak", "__initdata_or_meminfo",
        "fastcall", "__fastcall", "__stdcall", "__cdecl", "__inline_maybe_unused", "__always_used",
        "__must_hold", "__acquires", "__releases", "__cond_acquires", "__aligned", "__section",
        "__printf", "__scanf", "__alias", "__counted_by", "__free", "__cleanup", "__guarded_by",
        "__alloc_size", "__realloc_size", "__diagnose_as", "__no_profile", "__nostackprotector",
        "__no_stack_protector", "__designated_init", "__ro_after_init_scope", "__lockfunc",
        "__user_ptr", "__exitcall", "__initcall", "__kcsan_disable", "__no_caller_saved_registers",
        "__section_align", "__page_aligned_data", "__page_aligned_bss", "__tracepoint_string",
        "__bpf_fastcall", "__randomize_layout_anon", "__no_kasan", "__noscs", "__noendbr",
    ]

    /// `__net_init`, `MEM_STATIC`, `VISIBLE_IF_KUNIT`: names that are probably annotation
    /// macros when another type name follows them.
    static func looksLikeAnnotationMacro(_ name: String) -> Bool {
        if name.hasPrefix("__") && !name.hasPrefix("__u") && !name.hasPrefix("__s") && !name.hasPrefix("__le") && !name.hasPrefix("__be") { return true }
        var upper = false
        for u in name.utf8 {
            if u >= 97 && u <= 122 { return false }
            if u >= 65 && u <= 90 { upper = true }
        }
        return upper
    }

    private func isAnnotation(_ t: Token) -> Bool {
        guard t.kind == .identifier else { return false }
        if t.code == Keyword.kAttribute.rawValue || t.code == Keyword.kAttribute2.rawValue { return true }
        return Parser.annotations.contains(text(t))
    }

    private static let builtinKeywords: Set<Int32> = [
        Keyword.kUnsigned.rawValue, Keyword.kSigned.rawValue, Keyword.kInt.rawValue, Keyword.kChar.rawValue,
        Keyword.kShort.rawValue, Keyword.kLong.rawValue, Keyword.kVoid.rawValue, Keyword.kFloat.rawValue,
        Keyword.kDouble.rawValue, Keyword.kBool.rawValue, Keyword.kBool2.rawValue,
    ]
    private static let qualifierKeywords: Set<Int32> = [
        Keyword.kConst.rawValue, Keyword.kVolatile.rawValue, Keyword.kRegister.rawValue,
        Keyword.kRestrict.rawValue, Keyword.kAuto.rawValue, Keyword.kExtension.rawValue,
        Keyword.kExtern.rawValue,
    ]

    /// Whether the token begins a declaration in a statement or parameter context.
    private func startsDeclaration() -> Bool {
        let t = tok
        guard t.kind == .identifier else { return false }
        let c = t.code
        if c == Keyword.kStruct.rawValue || c == Keyword.kUnion.rawValue || c == Keyword.kEnum.rawValue { return true }
        if Parser.builtinKeywords.contains(c) || Parser.qualifierKeywords.contains(c) { return true }
        if c == Keyword.kStatic.rawValue || c == Keyword.kTypeof.rawValue || c == Keyword.kTypeof2.rawValue
            || c == Keyword.kTypeofUnqual.rawValue || c == Keyword.kTypedef.rawValue { return true }
        if c < Int32(Keyword.allCases.count) { return false }
        if isAnnotation(t) { return false }
        let n = peek()
        if n.kind == .identifier {
            // `u32 val`, `spinlock_t *lock`, `foo_t bar(…)`: a type followed by a name.
            return true
        }
        if isPunct(n, 42) {
            // `T *x =`, `T *x;`, `T **x`
            var k = p + 1
            while isPunct(token(k), 42) || isKeyword(token(k), .kConst) { k += 1 }
            if token(k).kind == .identifier {
                let a = token(min(k + 1, toks.count - 1))
                return a.kind == .punct && (a.code == 61 || a.code == 59 || a.code == 44 || a.code == 91 || a.code == 41)
                    || (a.kind == .identifier && isAnnotation(a))
            }
        }
        return false
    }

    /// Reads declaration specifiers: storage, qualifiers, annotations, and the base type,
    /// defining any struct/union/enum whose body appears here.
    private mutating func parseSpecifiers(context: DeclContext) -> Specifiers {
        var s = Specifiers()
        var builtinName = ""
        var haveType = false
        var typeFromMacroLike = false
        while !atEnd {
            let t = tok
            if t.kind != .identifier {
                break
            }
            let c = t.code
            if c == Keyword.kStatic.rawValue { s.isStatic = true; p += 1; continue }
            if c == Keyword.kInline.rawValue || c == Keyword.kInline2.rawValue || c == Keyword.kInline3.rawValue { s.isInline = true; p += 1; continue }
            if c == Keyword.kTypedef.rawValue { s.isTypedef = true; p += 1; continue }
            if Parser.qualifierKeywords.contains(c) { p += 1; continue }
            if c == Keyword.kAttribute.rawValue || c == Keyword.kAttribute2.rawValue {
                p += 1
                if isPunct(40) { skipBalanced() }
                continue
            }
            if c == Keyword.kStruct.rawValue || c == Keyword.kUnion.rawValue || c == Keyword.kEnum.rawValue {
                if haveType && !typeFromMacroLike { break }
                typeFromMacroLike = false
                parseTagType(&s)
                haveType = true
                continue
            }
            if Parser.builtinKeywords.contains(c) {
                if haveType && s.type.kind != .builtin && !typeFromMacroLike { break }
                typeFromMacroLike = false
                let word = text(t)
                if word != "unsigned" && word != "signed" { builtinName = word }
                else if builtinName.isEmpty { builtinName = "int" }
                s.type = TypeRef(kind: .builtin, name: builtinName)
                haveType = true
                p += 1
                continue
            }
            if c == Keyword.kTypeof.rawValue || c == Keyword.kTypeof2.rawValue || c == Keyword.kTypeofUnqual.rawValue {
                if haveType { break }
                p += 1
                if isPunct(40) { skipBalanced() }
                s.type = TypeRef(kind: .named, name: "typeof")
                haveType = true
                continue
            }
            if c < Int32(Keyword.allCases.count) { break }
            // A plain identifier.
            let next = peek()
            if isAnnotation(t) {
                p += 1
                if isPunct(40) { skipBalanced() }
                continue
            }
            if isPunct(next, 40) {
                if haveType { break }   // the declarator: `int foo(`
                let name = text(t)
                if name.hasPrefix("__") || name.hasPrefix("_") && name.count > 1 && name.dropFirst().first == "_" {
                    // Unknown attribute macro before the type: `__printf(1, 2)`.
                    p += 1
                    skipBalanced()
                    continue
                }
                // A macro invocation where a declaration stands: `DEFINE_MUTEX(x)`, `SYSCALL_DEFINE1(..)`.
                s.macroName = name
                p += 1
                if peek().kind == .identifier, isPunct(peek(2), 44) || isPunct(peek(2), 41) { s.macroFirstArg = text(peek()) }
                break
            }
            if haveType {
                // After the type, another identifier followed by one more identifier or `*`
                // is an annotation (`int __init foo`, `void __iomem *base`) — unless the
                // "type" was itself an annotation-like macro (`MEM_STATIC u32 foo`).
                if next.kind == .identifier || isPunct(next, 42) {
                    if typeFromMacroLike { s.type = TypeRef(kind: .named, name: text(t)); typeFromMacroLike = false }
                    p += 1
                    continue
                }
                break
            }
            s.type = TypeRef(kind: .named, name: text(t))
            typeFromMacroLike = Parser.looksLikeAnnotationMacro(text(t)) && (next.kind == .identifier)
            haveType = true
            p += 1
        }
        return s
    }

    /// `struct|union|enum [attrs] [tag] [attrs] [{ body }]` at the current token.
    private mutating func parseTagType(_ s: inout Specifiers) {
        let kwTok = tok
        let isEnum = isKeyword(.kEnum)
        let isUnion = isKeyword(.kUnion)
        p += 1
        var tag = ""
        while !atEnd {
            if isAnnotation(tok) { p += 1; if isPunct(40) { skipBalanced() }; continue }
            if tok.kind == .identifier && tag.isEmpty && tok.code >= Int32(Keyword.allCases.count) {
                if isPunct(peek(), 40) && text(tok).hasPrefix("__") { p += 1; skipBalanced(); continue }
                tag = text(tok); p += 1; continue
            }
            break
        }
        let kind: TypeRef.Kind = isEnum ? .enumType : (isUnion ? .unionType : .structType)
        if isPunct(123) {
            if isEnum {
                skipBalanced()
                s.type = TypeRef(kind: .enumType, name: tag.isEmpty ? "<anon-enum>" : tag)
                return
            }
            let anonymous = tag.isEmpty
            let name = anonymous ? "<anon@\(kwTok.line):\(kwTok.column)>" : tag
            parseAggregateBody(name: name, isUnion: isUnion, anonymous: anonymous, at: kwTok)
            s.definedAnonymous = anonymous
            s.type = TypeRef(kind: kind, name: name)
        } else {
            s.type = TypeRef(kind: kind, name: tag)
        }
    }

    /// Reads one declarator after the specifiers.
    private mutating func parseDeclarator() -> Declarator {
        var d = Declarator()
        var guardCount = 0
        while !atEnd {
            guardCount += 1
            if guardCount > 10_000 { break }
            let t = tok
            if t.kind == .punct {
                switch t.code {
                case 42: // *
                    d.pointerDepth &+= 1; p += 1; continue
                case 40: // (
                    if d.name.isEmpty && (isPunct(peek(), 42) || isPunct(peek(), 94)) {
                        // `(*name)(…)` or `(*name)[N]`
                        let open = p
                        p += 1
                        while isPunct(42) || isPunct(94) || isKeyword(.kConst) || isAnnotation(tok) { p += 1 }
                        if tok.kind == .identifier && tok.code >= Int32(Keyword.allCases.count) {
                            d.name = text(tok); d.line = tok.line; d.column = tok.column
                            p += 1
                        }
                        while isPunct(91) { d.isArray = true; skipBalanced() }
                        if isPunct(40) { skipBalanced() }   // (*fn(args))(…)
                        if isPunct(41) { p += 1 } else { p = open; skipBalanced() }
                        if isPunct(40) { d.isFunctionPointer = true; skipBalanced() }
                        else { d.pointerDepth &+= 1 }
                        continue
                    }
                    if !d.name.isEmpty && d.paramsStart < 0 {
                        d.paramsStart = p
                        skipBalanced()
                        d.paramsEnd = p - 1
                        continue
                    }
                    if d.name.isEmpty {
                        // `int (foo)(…)` and other oddities: step inside.
                        p += 1; continue
                    }
                    return d
                case 41: // ) closing a parenthesised declarator
                    if d.name.isEmpty { return d }
                    return d
                case 91: // [
                    d.isArray = true; skipBalanced(); continue
                case 58: // : bit-field width
                    d.isBitField = true
                    p += 1
                    while !atEnd && !isPunct(44) && !isPunct(59) && !isPunct(125) && !isPunct(61) {
                        if isPunct(40) { skipBalanced() } else { p += 1 }
                    }
                    return d
                default:
                    return d
                }
            }
            if t.kind == .identifier {
                if isKeyword(t, .kAttribute) || isKeyword(t, .kAttribute2) || isKeyword(t, .kAsm) || isKeyword(t, .kAsm2) || isKeyword(t, .kAsm3) {
                    p += 1
                    while isKeyword(.kVolatile) || isKeyword(.kGoto) || isKeyword(.kInline) { p += 1 }
                    if isPunct(40) { skipBalanced() }
                    continue
                }
                if Parser.qualifierKeywords.contains(t.code) { p += 1; continue }
                if isAnnotation(t) {
                    p += 1
                    if isPunct(40) { skipBalanced() }
                    continue
                }
                if d.name.isEmpty && t.code >= Int32(Keyword.allCases.count) {
                    d.name = text(t); d.line = t.line; d.column = t.column
                    p += 1
                    continue
                }
                if !d.name.isEmpty {
                    // Trailing annotation macro: `foo __aligned(8)`, `x __free(kfree)`.
                    p += 1
                    if isPunct(40) { skipBalanced() }
                    continue
                }
                return d
            }
            return d
        }
        return d
    }

    /// A declaration: specifiers, then declarators separated by commas, ending at `;` or,
    /// for a function definition, at its body.
    private mutating func parseDeclaration(context: DeclContext) {
        let start = p
        var spec = parseSpecifiers(context: context)
        if context == .typedef { spec.isTypedef = true }
        if let macro = spec.macroName {
            // `DEFINE_X(args)` used as a declaration, or a macro that expands to a function
            // header (`SYSCALL_DEFINE2(name, …) { … }`).
            let nameTok = token(p - 1)
            let paramsStart = p
            if isPunct(40) { skipBalanced() }
            let paramsEnd = p - 1
            if isPunct(123) && context != .file {
                // `MACRO(args) { … }` inside a body is a loop or scope macro, not a nested
                // function: parsing it as one would reset this function's expression arena
                // under the expressions still being built (the parser-parsecall-arena crash).
                parseSubStatement()
                return
            }
            if isPunct(123) {
                var d = Declarator()
                d.name = macro; d.line = nameTok.line; d.column = nameTok.column
                d.paramsStart = paramsStart; d.paramsEnd = paramsEnd
                parseFunctionDefinition(spec: spec, declarator: d)
                return
            }
            if context == .file, let arg = spec.macroFirstArg {
                facts.globals.append(GlobalDecl(name: arg, type: TypeRef(kind: .named, name: macro), isStatic: spec.isStatic, line: nameTok.line, column: nameTok.column, designated: []))
            }
            // `BEGIN(x)` then `END(x)` on the next line, without semicolons: each is complete.
            if tok.kind == .identifier && tok.line != token(paramsEnd).line && isPunct(peek(), 40) { return }
            if isPunct(61) { p += 1; skipInitializer() }
            skipToSemicolon(resyncAtColumnOne: context == .file)
            return
        }
        var first = true
        while !atEnd {
            if isPunct(59) { p += 1; return }
            let d = parseDeclarator()
            var type = spec.type
            type.pointerDepth &+= d.pointerDepth
            type.isArray = d.isArray
            type.isFunctionPointer = d.isFunctionPointer
            if first && d.isFunction && isPunct(123) && context == .file {
                parseFunctionDefinition(spec: spec, declarator: d)
                return
            }
            first = false
            if !d.name.isEmpty {
                if spec.isTypedef {
                    if d.isFunction { type.isFunctionPointer = true }
                    facts.typedefs.append(TypedefDecl(name: d.name, type: type, line: d.line))
                } else if context == .file && !d.isFunction {
                    var designated: [DesignatedValue] = []
                    if isPunct(61) {
                        p += 1
                        if isPunct(123) { parseDesignatedInitializer(prefix: "", into: &designated, depth: 0) }
                        else { skipInitializer() }
                    }
                    facts.globals.append(GlobalDecl(name: d.name, type: type, isStatic: spec.isStatic, line: d.line, column: d.column, designated: designated))
                } else if context == .local {
                    locals.append(VarDecl(name: d.name, type: type, line: d.line, column: d.column))
                    if isPunct(61) {
                        let eq = tok
                        p += 1
                        let value = isPunct(123) ? parseInitList() : parseAssignment()
                        let lhs = node(.identifier, d.name)
                        assigns.append(AssignmentSite(lhs: lhs, rhs: value, line: eq.line, column: eq.column, isConditional: conditionalDepth > 0))
                        attachTarget(value: value, lhs: lhs, declared: d.name)
                    }
                }
            }
            if isPunct(61) { p += 1; skipInitializer() }
            if isPunct(44) { p += 1; continue }
            if isPunct(59) { p += 1; return }
            // Something we do not understand: resynchronise.
            if p == start || !isPunct(125) { recover("unexpected token in declaration") }
            skipToSemicolon(resyncAtColumnOne: context == .file)
            return
        }
    }

    /// Skips an initializer value up to the next `,` or `;` at depth 0.
    private mutating func skipInitializer() {
        while !atEnd {
            let t = tok
            if t.kind == .punct {
                if t.code == 44 || t.code == 59 || t.code == 125 || t.code == 41 { return }
                if t.code == 40 || t.code == 91 || t.code == 123 { skipBalanced(); continue }
            }
            p += 1
        }
    }

    /// `{ .a = x, .b = { .c = &y }, [0] = { … }, … }` into designated (path, value) pairs.
    private mutating func parseDesignatedInitializer(prefix: String, into out: inout [DesignatedValue], depth: Int) {
        guard isPunct(123) else { return }
        if depth > 16 || out.count > 4096 { skipBalanced(); return }
        p += 1
        while !atEnd && !isPunct(125) {
            var path = prefix
            var designated = false
            // Designators: .a.b[2].c =
            while isPunct(46) || isPunct(91) {
                if isPunct(46), peek().kind == .identifier {
                    path += (path.isEmpty || path.hasSuffix(".") ? "" : ".") + text(peek())
                    designated = true
                    advance(by: 2)
                } else if isPunct(91) {
                    skipBalanced()
                } else { p += 1 }
            }
            if designated || isPunct(61) {
                if isPunct(61) { p += 1 }
            }
            if isPunct(123) {
                parseDesignatedInitializer(prefix: designated ? path + "." : prefix, into: &out, depth: depth + 1)
            } else {
                let valueStart = p
                let line = tok.line
                skipInitializer()
                if designated {
                    out.append(DesignatedValue(path: path, value: simpleValue(from: valueStart, to: p), line: line))
                }
            }
            if isPunct(44) { p += 1; continue }
            if !isPunct(125) { skipInitializer(); if isPunct(44) { p += 1 } else if !isPunct(125) { break } }
        }
        if isPunct(125) { p += 1 }
    }

    /// The value of an initializer as a short string: `name`, `&name`, else its first tokens.
    private func simpleValue(from a: Int, to b: Int) -> String {
        var k = a
        // Skip casts: (type)value
        if k < b, isPunct(token(k), 40), k + 1 < b, token(k + 1).kind == .identifier {
            var j = k + 1
            while j < b && !isPunct(token(j), 41) { j += 1 }
            if j + 1 < b { k = j + 1 }
        }
        guard k < b else { return "" }
        if isPunct(token(k), 38), k + 1 < b, token(k + 1).kind == .identifier {
            return "&" + text(token(k + 1))
        }
        let t = token(k)
        if t.kind == .identifier { return text(t) }
        if t.kind == .number || t.kind == .string { return literalText(t) }
        return ""
    }

    // MARK: - Struct and union bodies

    private mutating func parseAggregateBody(name: String, isUnion: Bool, anonymous: Bool, at kwTok: Token) {
        let index = facts.aggregates.count
        facts.aggregates.append(AggregateDecl(name: name, isUnion: isUnion, isAnonymous: anonymous, fields: [], line: kwTok.line, column: kwTok.column))
        if aggregateDepth >= Parser.maxAggregateDepth {
            recover("struct nesting too deep")
            skipBalanced()
            return
        }
        aggregateDepth += 1
        defer { aggregateDepth -= 1 }
        p += 1 // {
        var fields: [FieldDecl] = []
        parseMembers(into: &fields, until: 125)
        if isPunct(125) { p += 1 }
        facts.aggregates[index].fields = fields
    }

    /// Member declarations up to (not past) the closing punctuator `closer`.
    private mutating func parseMembers(into fields: inout [FieldDecl], until closer: UInt8) {
        while !atEnd && !isPunct(closer) {
            if isPunct(59) { p += 1; continue }
            if closer != 125 && isPunct(125) { return }
            let start = p
            let t = tok
            // Macro members: struct_group(name, members…), DECLARE_BITMAP(name, n), …
            if t.kind == .identifier, t.code >= Int32(Keyword.allCases.count), !isAnnotation(t), isPunct(peek(), 40) {
                if parseMacroMember(into: &fields) { continue }
            }
            if isKeyword(.kStaticAssert) || isKeyword(.kStaticAssert2) { skipToSemicolon(); continue }
            let spec = parseSpecifiers(context: .member)
            if spec.macroName != nil {
                if isPunct(40) { skipBalanced() }
                skipToSemicolon()
                continue
            }
            var declared = false
            while !atEnd {
                if isPunct(59) || isPunct(closer) { break }
                let d = parseDeclarator()
                if !d.name.isEmpty {
                    var type = spec.type
                    type.pointerDepth &+= d.pointerDepth
                    type.isArray = d.isArray
                    type.isFunctionPointer = d.isFunctionPointer || d.isFunction
                    fields.append(FieldDecl(name: d.name, type: type, line: d.line, column: d.column, isBitField: d.isBitField))
                    declared = true
                } else if d.isBitField {
                    declared = true
                }
                if isPunct(61) { p += 1; skipInitializer() }
                if isPunct(44) { p += 1; continue }
                break
            }
            if !declared && spec.definedAnonymous {
                // Anonymous struct/union member: its fields belong to the enclosing one.
                fields.append(FieldDecl(name: "", type: spec.type, line: token(start).line, column: token(start).column))
            }
            if isPunct(59) { p += 1; continue }
            if isPunct(closer) { return }
            if p == start { recover("unexpected token in struct body"); p += 1 }
            else { recover("unexpected token in struct body"); skipToSemicolon() }
        }
    }

    /// Handles `NAME(…)` as a member. Groups whose arguments contain member declarations
    /// (`struct_group(tag, int a; struct device dev;)`) contribute those members.
    private mutating func parseMacroMember(into fields: inout [FieldDecl]) -> Bool {
        let nameTok = tok
        let open = p + 1
        // Find the matching ')' and the first ';' at depth 1.
        var k = open, depth = 0, firstSemi = -1, lastCommaBeforeSemi = -1
        repeat {
            let t = token(k)
            if t.kind == .end { return false }
            if t.kind == .punct {
                switch t.code {
                case 40, 91, 123: depth += 1
                case 41, 93, 125: depth -= 1
                case 59: if depth == 1 && firstSemi < 0 { firstSemi = k }
                case 44: if depth == 1 && firstSemi < 0 { lastCommaBeforeSemi = k }
                default: break
                }
            }
            k += 1
        } while depth > 0
        let close = k - 1
        let after = token(k)
        if firstSemi >= 0 {
            // Member declarations inside the macro's last argument.
            p = (lastCommaBeforeSemi >= 0 ? lastCommaBeforeSemi : open) + 1
            parseMembers(into: &fields, until: 41)
            p = close + 1
            // `struct_group(...) NAME;`? never: the group is its own member.
            while !atEnd && !isPunct(59) && !isPunct(125) { p += 1 }
            if isPunct(59) { p += 1 }
            return true
        }
        if isPunct(after, 59) || isPunct(after, 125) {
            // DECLARE_BITMAP(name, n); DECLARE_KFIFO(fifo, type, n);
            var fieldName = ""
            if token(open + 1).kind == .identifier { fieldName = text(token(open + 1)) }
            fields.append(FieldDecl(name: fieldName, type: TypeRef(kind: .named, name: text(nameTok)), line: nameTok.line, column: nameTok.column))
            p = close + 1
            if isPunct(59) { p += 1 }
            return true
        }
        return false
    }

    // MARK: - Functions

    private mutating func parseFunctionDefinition(spec: Specifiers, declarator d: Declarator) {
        arena = ExprArena()
        calls = []
        assigns = []
        returns = []
        tests = []
        locals = []
        jumps = []
        branches = []
        conditionalDepth = 0
        statementCount = 0
        exprDepth = 0
        blockDepth = 0
        var params: [VarDecl] = []
        if d.paramsStart >= 0 {
            let saved = p
            p = d.paramsStart + 1
            while !atEnd && p < d.paramsEnd {
                if isPunct(44) { p += 1; continue }
                if tok.kind == .punct && tok.code == Punct.ellipsis { p += 1; continue }
                let before = p
                let ps = parseSpecifiers(context: .parameter)
                let pd = parseDeclarator()
                var type = ps.type
                type.pointerDepth &+= pd.pointerDepth
                if pd.isArray { type.pointerDepth &+= 1 }
                type.isFunctionPointer = pd.isFunctionPointer
                if !pd.name.isEmpty || !(type.kind == .builtin && type.name == "void" && type.pointerDepth == 0) {
                    params.append(VarDecl(name: pd.name, type: type, line: pd.line, column: pd.column))
                }
                while !atEnd && p < d.paramsEnd && !isPunct(44) {
                    if isPunct(40) || isPunct(91) { skipBalanced() } else { p += 1 }
                }
                if p == before { p += 1 }
            }
            p = saved
        }
        var ret = spec.type
        ret.pointerDepth &+= d.pointerDepth
        let startLine = d.line
        currentParams = params
        parseCompound()
        currentParams = []
        let endLine = token(max(0, p - 1)).line
        // Keep only the expression nodes that recorded facts refer to.
        var roots = calls.map(\.node) + calls.map(\.target) + returns
        for a in assigns { roots.append(a.lhs); roots.append(a.rhs) }
        roots += tests.map(\.node)
        let map = arena.compact(roots: roots)
        func remap(_ x: Int32) -> Int32 { x >= 0 && Int(x) < map.count ? map[Int(x)] : -1 }
        for k in calls.indices { calls[k].node = remap(calls[k].node); calls[k].target = remap(calls[k].target) }
        for k in assigns.indices { assigns[k].lhs = remap(assigns[k].lhs); assigns[k].rhs = remap(assigns[k].rhs) }
        returns = returns.map(remap)
        for k in tests.indices { tests[k].node = remap(tests[k].node) }
        facts.functions.append(FunctionDecl(
            name: d.name, isStatic: spec.isStatic, isInline: spec.isInline, returnType: ret,
            params: params, locals: locals, calls: calls, assignments: assigns, returns: returns,
            exprs: arena, line: startLine, column: d.column, endLine: endLine, statementCount: statementCount,
            unconditionalJumps: jumps, branchLines: branches, tests: tests))
        arena = ExprArena()
        calls = []; assigns = []; returns = []; locals = []; tests = []
    }

    // MARK: - Statements

    private mutating func parseCompound() {
        guard isPunct(123) else { return }
        if blockDepth >= Parser.maxBlockDepth {
            recover("blocks nested too deep")
            skipBalanced()
            return
        }
        blockDepth += 1
        defer { blockDepth -= 1 }
        p += 1
        while !atEnd && !isPunct(125) {
            let before = p
            parseStatement()
            if p == before { recover("unexpected token in function body"); p += 1 }
        }
        if isPunct(125) { p += 1 }
    }

    private mutating func parseParenExpression() {
        if isPunct(40) {
            let line = tok.line
            p += 1
            if !isPunct(41) { recordTests(parseExpression(), line: line, depth: 0) }
            if isPunct(41) { p += 1 } else { recover("expected ')'"); skipToCloser(41) }
        }
    }

    /// Records what a condition tests for being set: `x`, `!p->m`, `p->m == NULL`, through
    /// `&&`, `||` and wrapper calls (`unlikely(!x)`, `WARN_ON(!p->m)`). Only names and
    /// member chains are kept, so a check can be matched to the value it guards.
    private mutating func recordTests(_ e: Int32, line: Int32, depth: Int) {
        guard depth < 8 else { return }
        let n = arena[e]
        switch n.kind {
        case .member:
            tests.append(TestSite(node: e, line: line))
        case .identifier:
            // Only pointers can hold what a check guards; `if (ret)` is not recorded.
            let name = names[n.textID]
            let local = locals.last { $0.name == name } ?? currentParams.first { $0.name == name }
            if let t = local?.type, t.pointerDepth > 0 || t.isFunctionPointer { tests.append(TestSite(node: e, line: line)) }
        case .unary where names[n.textID] == "!":
            recordTests(n.a, line: line, depth: depth + 1)
        case .binary:
            let op = names[n.textID]
            if op == "&&" || op == "||" {
                recordTests(n.a, line: line, depth: depth + 1)
                recordTests(n.b, line: line, depth: depth + 1)
            } else if op == "==" || op == "!=" {
                let other = arena[n.b]
                let rhsIsNull = (other.kind == .identifier && names[other.textID] == "NULL") || (other.kind == .number && names[other.textID] == "0")
                if rhsIsNull { recordTests(n.a, line: line, depth: depth + 1) }
            }
        case .call:
            if arena[n.a].kind == .identifier, let first = arena.list(of: n).first {
                recordTests(first, line: line, depth: depth + 1)
            }
        default:
            break
        }
    }

    /// Skips to just past the closer at depth 0 without crossing an unmatched `}`.
    private mutating func skipToCloser(_ c: UInt8) {
        while !atEnd {
            let t = tok
            if t.kind == .punct {
                if t.code == Int32(c) { p += 1; return }
                if t.code == 125 || t.code == 59 { return }
                if t.code == 40 || t.code == 91 || t.code == 123 { skipBalanced(); continue }
            }
            p += 1
        }
    }

    private mutating func parseSubStatement() {
        conditionalDepth += 1
        parseStatement()
        conditionalDepth -= 1
    }

    private mutating func parseStatement() {
        let t = tok
        if t.kind == .punct {
            if t.code == 123 { statementCount += 1; parseCompound(); return }
            if t.code == 59 { p += 1; return }
        }
        statementCount += 1
        if t.kind == .identifier, let keyword = Keyword(rawValue: t.code) {
            switch keyword {
            case .kIf:
                p += 1
                conditionalDepth += 1
                parseParenExpression()
                parseStatement()
                if isKeyword(.kElse) { branches.append(tok.line); p += 1; parseStatement() }
                conditionalDepth -= 1
                return
            case .kWhile, .kSwitch:
                p += 1
                conditionalDepth += 1
                parseParenExpression()
                parseStatement()
                conditionalDepth -= 1
                return
            case .kFor:
                p += 1
                conditionalDepth += 1
                if isPunct(40) {
                    p += 1
                    if startsDeclaration() { parseDeclaration(context: .local) }
                    else { if !isPunct(59) { _ = parseExpression() }; if isPunct(59) { p += 1 } }
                    if !isPunct(59) && !isPunct(41) { _ = parseExpression() }
                    if isPunct(59) { p += 1 }
                    if !isPunct(41) { _ = parseExpression() }
                    if isPunct(41) { p += 1 } else { skipToCloser(41) }
                }
                parseStatement()
                conditionalDepth -= 1
                return
            case .kDo:
                p += 1
                conditionalDepth += 1
                parseStatement()
                if isKeyword(.kWhile) { p += 1; parseParenExpression() }
                conditionalDepth -= 1
                if isPunct(59) { p += 1 }
                return
            case .kCase:
                branches.append(t.line)
                p += 1
                while !atEnd && !isPunct(58) && !isPunct(59) && !isPunct(125) {
                    if isPunct(40) { skipBalanced() } else { p += 1 }
                }
                if isPunct(58) { p += 1 }
                return
            case .kDefault:
                branches.append(t.line)
                p += 1
                if isPunct(58) { p += 1 }
                return
            case .kReturn:
                if conditionalDepth == 0 { jumps.append(t.line) }
                p += 1
                if !isPunct(59) {
                    let e = parseExpression()
                    returns.append(e)
                    markReturned(e)
                }
                if isPunct(59) { p += 1 } else { skipToSemicolon() }
                return
            case .kBreak, .kContinue:
                p += 1
                if isPunct(59) { p += 1 }
                return
            case .kGoto:
                if conditionalDepth == 0 { jumps.append(t.line) }
                skipToSemicolon()
                return
            case .kAsm, .kAsm2, .kAsm3:
                skipToSemicolon()
                return
            case .kElse:
                recover("'else' without 'if'")
                p += 1
                return
            case .kStaticAssert, .kStaticAssert2:
                skipToSemicolon()
                return
            default:
                break
            }
        }
        // label:
        if t.kind == .identifier && isPunct(peek(), 58) && t.code >= Int32(Keyword.allCases.count) {
            advance(by: 2)
            return
        }
        if startsDeclaration() {
            parseDeclaration(context: .local)
            return
        }
        let e = parseExpression()
        if isPunct(59) { p += 1; return }
        // A macro loop header: list_for_each_entry(pos, head, member) { … } / stmt;
        if arena.nodes.indices.contains(Int(e)) && arena[e].kind == .call && !isPunct(125) && !atEnd {
            parseSubStatement()
            return
        }
        if isPunct(125) { return }
        recover("expected ';'")
        skipToSemicolon()
    }

    // MARK: - Expressions

    private mutating func node(_ kind: ExprKind, _ text: String = "", a: Int32 = -1, b: Int32 = -1, c: Int32 = 0) -> Int32 {
        let id: Int32 = text.isEmpty ? -1 : names.intern(text)
        arena.nodes.append(ExprNode(kind: kind, textID: id, a: a, b: b, c: c))
        return Int32(arena.nodes.count - 1)
    }

    private mutating func node(_ kind: ExprKind, id: Int32, a: Int32 = -1, b: Int32 = -1, c: Int32 = 0) -> Int32 {
        arena.nodes.append(ExprNode(kind: kind, textID: id, a: a, b: b, c: c))
        return Int32(arena.nodes.count - 1)
    }

    private mutating func typeNode(_ kind: ExprKind, _ type: TypeRef, operand: Int32 = -1) -> Int32 {
        arena.types.append(type)
        return node(kind, a: operand, b: Int32(arena.types.count - 1))
    }

    /// Records `lhs = value` / `T x = value` as the target of the call that produces value.
    private mutating func attachTarget(value: Int32, lhs: Int32, declared: String) {
        let v = arena.strippingCasts(value)
        guard v >= 0, arena[v].kind == .call else { return }
        for k in stride(from: calls.count - 1, through: 0, by: -1) where calls[k].node == v {
            calls[k].target = lhs
            calls[k].targetIsDeclaration = !declared.isEmpty
            return
        }
    }

    private mutating func markReturned(_ value: Int32) {
        let v = arena.strippingCasts(value)
        guard v >= 0, arena[v].kind == .call else { return }
        for k in stride(from: calls.count - 1, through: 0, by: -1) where calls[k].node == v {
            calls[k].isReturned = true
            return
        }
    }

    private mutating func parseExpression() -> Int32 {
        var e = parseAssignment()
        while isPunct(44) {
            p += 1
            let r = parseAssignment()
            e = node(.binary, ",", a: e, b: r)
        }
        return e
    }

    private mutating func parseAssignment() -> Int32 {
        let lhs = parseConditional()
        let t = tok
        if t.kind == .punct && Punct.isAssignment(t.code) {
            p += 1
            let rhs = parseAssignment()
            assigns.append(AssignmentSite(lhs: lhs, rhs: rhs, line: t.line, column: t.column, isConditional: conditionalDepth > 0))
            if t.code == 61 { attachTarget(value: rhs, lhs: lhs, declared: "") }
            return node(.assign, Punct.text(t.code), a: lhs, b: rhs)
        }
        return lhs
    }

    private mutating func parseConditional() -> Int32 {
        let c = parseBinary(1)
        if isPunct(63) {
            p += 1
            conditionalDepth += 1
            let a = isPunct(58) ? c : parseExpression()
            if isPunct(58) { p += 1 }
            let b = parseConditional()
            conditionalDepth -= 1
            return node(.conditional, a: c, b: a, c: b)
        }
        return c
    }

    @inline(__always) private func binaryPrecedence(_ t: Token) -> Int {
        guard t.kind == .punct else { return 0 }
        switch t.code {
        case Punct.logicalOr: return 1
        case Punct.logicalAnd: return 2
        case 124: return 3
        case 94: return 4
        case 38: return 5
        case Punct.equal, Punct.notEqual: return 6
        case 60, 62, Punct.lessEq, Punct.greaterEq: return 7
        case Punct.shiftLeft, Punct.shiftRight: return 8
        case 43, 45: return 9
        case 42, 47, 37: return 10
        default: return 0
        }
    }

    private mutating func parseBinary(_ minPrec: Int) -> Int32 {
        var lhs = parseUnary()
        while true {
            let t = tok
            let prec = binaryPrecedence(t)
            if prec == 0 || prec < minPrec { return lhs }
            p += 1
            let rhs = parseBinary(prec + 1)
            lhs = node(.binary, Punct.text(t.code), a: lhs, b: rhs)
        }
    }

    /// `(` starts a type name: `(struct foo *)`, `(u32)x`, `(foo_t *)`, `(__force u32)`.
    private func parenStartsType() -> Bool {
        var k = p + 1
        var sawAnnotation = false
        while token(k).kind == .identifier && isAnnotation(token(k)) { k += 1; sawAnnotation = true }
        let n = token(k)
        guard n.kind == .identifier else { return false }
        let c = n.code
        if c == Keyword.kStruct.rawValue || c == Keyword.kUnion.rawValue || c == Keyword.kEnum.rawValue
            || Parser.builtinKeywords.contains(c) || c == Keyword.kConst.rawValue || c == Keyword.kVolatile.rawValue
            || c == Keyword.kTypeof.rawValue || c == Keyword.kTypeof2.rawValue { return true }
        if c < Int32(Keyword.allCases.count) { return false }
        k += 1
        var sawStar = false
        while isPunct(token(k), 42) || (token(k).kind == .identifier && isAnnotation(token(k))) || isKeyword(token(k), .kConst) { sawStar = true; k += 1 }
        guard isPunct(token(k), 41) else { return false }
        if sawStar || sawAnnotation { return true }
        // `(name)` followed by something that cannot follow a parenthesised expression.
        let after = token(k + 1 < toks.count ? k + 1 : k)
        switch after.kind {
        case .identifier:
            return !(after.code < Int32(Keyword.allCases.count) && after.code != Keyword.kSizeof.rawValue)
        case .number, .string, .character: return true
        case .punct:
            if after.code == 126 || after.code == 33 { return true }  // ~ !
            if after.code == 40 {
                // `(u32)(unsigned long)x`: a second cast follows.
                let inner = token(min(k + 2, toks.count - 1))
                if inner.kind == .identifier && (isAnnotation(inner) || Parser.builtinKeywords.contains(inner.code)
                    || inner.code == Keyword.kStruct.rawValue || inner.code == Keyword.kConst.rawValue) { return true }
            }
            return false
        case .end: return false
        }
    }

    /// A type name in a cast, `sizeof` or macro argument: specifiers plus an abstract declarator.
    private mutating func parseTypeName() -> TypeRef {
        let spec = parseSpecifiers(context: .parameter)
        var type = spec.type
        while !atEnd {
            if isPunct(42) { type.pointerDepth &+= 1; p += 1; continue }
            if isKeyword(.kConst) || isKeyword(.kVolatile) || isAnnotation(tok) { p += 1; if isPunct(40) { skipBalanced() }; continue }
            if isPunct(91) { type.isArray = true; skipBalanced(); continue }
            if isPunct(40) && (isPunct(peek(), 42)) {
                skipBalanced()
                if isPunct(40) { type.isFunctionPointer = true; skipBalanced() } else { type.pointerDepth &+= 1 }
                continue
            }
            break
        }
        return type
    }

    private mutating func parseUnary() -> Int32 {
        if exprDepth >= Parser.maxExprDepth {
            // Absurd nesting: skip this operand iteratively.
            recover("expression nested too deep")
            while !atEnd {
                let t = tok
                if t.kind == .punct {
                    if t.code == 59 || t.code == 125 || t.code == 41 || t.code == 93 || t.code == 44 { break }
                    if t.code == 40 || t.code == 91 || t.code == 123 { skipBalanced(); continue }
                }
                p += 1
            }
            return node(.other)
        }
        exprDepth += 1
        defer { exprDepth -= 1 }
        let t = tok
        if t.kind == .punct {
            switch t.code {
            case 38, 42, 45, 43, 33, 126, Punct.increment, Punct.decrement:
                p += 1
                let operand = parseUnary()
                return node(.unary, Punct.text(t.code), a: operand)
            case Punct.logicalAnd: // &&label
                p += 1
                if tok.kind == .identifier { p += 1 }
                return node(.other)
            case 40:
                if parenStartsType() {
                    p += 1
                    let type = parseTypeName()
                    if isPunct(41) { p += 1 } else { skipToCloser(41) }
                    if isPunct(123) {
                        let list = parseInitList()
                        return typeNode(.cast, type, operand: list)
                    }
                    let operand = parseUnary()
                    return typeNode(.cast, type, operand: operand)
                }
            default: break
            }
        }
        if isKeyword(.kSizeof) || isKeyword(.kAlignof) || isKeyword(.kAlignof2) {
            p += 1
            if isPunct(40) && parenStartsType() {
                p += 1
                let type = parseTypeName()
                if isPunct(41) { p += 1 } else { skipToCloser(41) }
                return typeNode(.sizeofType, type)
            }
            let operand = parseUnary()
            return node(.sizeofExpr, a: operand)
        }
        if isKeyword(.kExtension) { p += 1; return parseUnary() }
        return parsePostfix(parsePrimary())
    }

    private mutating func parsePostfix(_ base: Int32) -> Int32 {
        var e = base
        while !atEnd {
            let t = tok
            guard t.kind == .punct else { break }
            switch t.code {
            case 40:
                e = parseCall(callee: e, at: t)
            case 91:
                p += 1
                let idx = isPunct(93) ? node(.other) : parseExpression()
                if isPunct(93) { p += 1 } else { skipToCloser(93) }
                e = node(.index, a: e, b: idx)
            case 46, Punct.arrow:
                p += 1
                if tok.kind == .identifier {
                    e = node(.member, id: tok.code, a: e, b: t.code == 46 ? 0 : 1)
                    p += 1
                } else { return e }
            case Punct.increment, Punct.decrement:
                p += 1
                e = node(.postfix, Punct.text(t.code), a: e)
            default:
                return e
            }
        }
        return e
    }

    private mutating func parseCall(callee: Int32, at open: Token) -> Int32 {
        p += 1
        var args: [Int32] = []
        while !atEnd && !isPunct(41) {
            if isPunct(125) { break }
            let before = p
            let a: Int32
            if startsTypeArgument() {
                a = typeNode(.typeName, parseTypeName())
            } else {
                a = parseAssignment()
            }
            args.append(a)
            if isPunct(44) { p += 1; continue }
            if isPunct(41) { break }
            // Macro arguments we do not understand: skip to the next ',' or ')'.
            while !atEnd && !isPunct(44) && !isPunct(41) && !isPunct(125) {
                if isPunct(40) || isPunct(91) || isPunct(123) { skipBalanced() } else { p += 1 }
            }
            if isPunct(44) { p += 1 }
            if p == before { p += 1 }
        }
        if isPunct(41) { p += 1 }
        let start = Int32(arena.lists.count)
        arena.lists.append(contentsOf: args)
        let call = node(.call, a: callee, b: start, c: Int32(args.count))
        let calleeNode = arena[callee]
        let name = calleeNode.kind == .identifier ? names[calleeNode.textID] : ""
        calls.append(CallSite(callee: name, node: call, line: open.line, column: toks.indices.contains(p) ? columnOfCallee(callee, open) : open.column,
                              target: -1, targetIsDeclaration: false, isConditional: conditionalDepth > 0, isReturned: false))
        return call
    }

    private func columnOfCallee(_ callee: Int32, _ open: Token) -> Int32 {
        // The callee identifier sits right before '(' in the common case.
        let n = arena[callee]
        if n.kind == .identifier { return max(1, open.column - Int32(names[n.textID].utf8.count)) }
        return open.column
    }

    /// A macro argument that is a type: `struct foo`, `const char *`, `unsigned long`.
    private func startsTypeArgument() -> Bool {
        let t = tok
        guard t.kind == .identifier else { return false }
        let c = t.code
        if c == Keyword.kStruct.rawValue || c == Keyword.kUnion.rawValue || c == Keyword.kEnum.rawValue { return true }
        if Parser.builtinKeywords.contains(c) { return true }
        if c == Keyword.kConst.rawValue || c == Keyword.kVolatile.rawValue { return true }
        return false
    }

    private mutating func parseInitList() -> Int32 {
        guard isPunct(123) else { return node(.other) }
        if exprDepth >= Parser.maxExprDepth { skipBalanced(); return node(.other) }
        exprDepth += 1
        defer { exprDepth -= 1 }
        p += 1
        var items: [Int32] = []
        while !atEnd && !isPunct(125) {
            let before = p
            if isPunct(46), peek().kind == .identifier {
                let field = text(peek())
                advance(by: 2)
                while isPunct(46) || isPunct(91) { if isPunct(91) { skipBalanced() } else { advance(by: 2) } }
                if isPunct(61) { p += 1 }
                let v = isPunct(123) ? parseInitList() : parseAssignment()
                items.append(node(.designated, field, a: v))
            } else if isPunct(91) {
                skipBalanced()
                if isPunct(61) { p += 1 }
                items.append(isPunct(123) ? parseInitList() : parseAssignment())
            } else if isPunct(123) {
                items.append(parseInitList())
            } else {
                items.append(parseAssignment())
            }
            if isPunct(44) { p += 1; continue }
            if !isPunct(125) {
                while !atEnd && !isPunct(44) && !isPunct(125) && !isPunct(59) {
                    if isPunct(40) || isPunct(91) || isPunct(123) { skipBalanced() } else { p += 1 }
                }
                if isPunct(44) { p += 1 } else if isPunct(59) { break }
            }
            if p == before { p += 1 }
        }
        if isPunct(125) { p += 1 }
        let start = Int32(arena.lists.count)
        arena.lists.append(contentsOf: items)
        return node(.initList, b: start, c: Int32(items.count))
    }

    private mutating func parsePrimary() -> Int32 {
        let t = tok
        switch t.kind {
        case .identifier:
            if startsTypeArgument() {
                return typeNode(.typeName, parseTypeName())
            }
            if peek().kind == .string {
                // MACRO "literal": string concatenation with a macro.
                while tok.kind == .string || (tok.kind == .identifier && peek().kind == .string) { p += 1 }
                return node(.string, text(t))
            }
            p += 1
            return node(.identifier, id: t.code)
        case .number:
            p += 1
            return node(.number, literalText(t))
        case .string, .character:
            p += 1
            let s = literalText(t)
            // Adjacent literals and macro names between them ("a" PRIx64 "b").
            if t.kind == .string {
                while tok.kind == .string || (tok.kind == .identifier && peek().kind == .string) { p += 1 }
            }
            return node(t.kind == .string ? .string : .number, s)
        case .punct:
            if t.code == 40 {
                p += 1
                if isPunct(123) {
                    // GNU statement expression ({ … })
                    parseCompound()
                    if isPunct(41) { p += 1 }
                    return node(.other)
                }
                let e = isPunct(41) ? node(.other) : parseExpression()
                if isPunct(41) { p += 1 } else { skipToCloser(41) }
                return e
            }
            if t.code == 123 { return parseInitList() }
            return node(.other)
        case .end:
            return node(.other)
        }
    }
}

/// Reads and parses one file's bytes into `FileFacts`.
public enum FrontEnd {
    /// Larger files are not parsed: below this size every offset, line and column fits the
    /// `Int32` fields of `Token` and the facts, so no position arithmetic can overflow.
    public static let maxFileBytes = 256 << 20

    /// Functions with a (nearly) empty body and parameters whose name also occurs in a
    /// conditional branch that was not read: the file is lexed a second time with those
    /// groups' next branches, and the other definitions found are recorded. Only files with
    /// such a candidate pay for the second pass.
    static func alternateDefinitions(of facts: FileFacts, lexer: Lexer, bytes: UnsafeBufferPointer<UInt8>, path: String) -> [AlternateDefinition] {
        guard !lexer.groupsWithAlternatives.isEmpty, !lexer.alternativeRanges.isEmpty else { return [] }
        var candidates = Set<String>()
        for fn in facts.functions where !fn.params.isEmpty && fn.assignments.isEmpty && fn.statementCount <= Int32(fn.calls.count) {
            let name = Array(fn.name.utf8)
            guard !name.isEmpty else { continue }
            search: for r in lexer.alternativeRanges where r.lowerBound >= 0 && r.upperBound <= bytes.count && r.count >= name.count {
                var k = r.lowerBound
                while k + name.count <= r.upperBound {
                    if bytes[k] == name[0] {
                        var m = 1
                        while m < name.count && bytes[k + m] == name[m] { m += 1 }
                        if m == name.count { candidates.insert(fn.name); break search }
                    }
                    k += 1
                }
            }
        }
        guard !candidates.isEmpty else { return [] }
        var alt = Lexer()
        alt.readAlternativesOf = lexer.groupsWithAlternatives
        alt.run(bytes)
        var parser = Parser(tokens: alt.tokens, names: alt.names, bytes: bytes, facts: FileFacts(path: path, bytes: bytes.count))
        parser.parseFile()
        var out: [AlternateDefinition] = []
        for fn in parser.facts.functions where candidates.contains(fn.name) {
            out.append(AlternateDefinition(name: fn.name, callees: fn.calls.map(\.callee), assignments: fn.assignments.count, statementCount: fn.statementCount))
        }
        return out
    }

    /// Functions with an (almost) empty body that holds a comment, found by reading the
    /// bytes of their lines after the opening brace.
    static func commentedEmptyFunctions(of facts: FileFacts, bytes: UnsafeBufferPointer<UInt8>) -> [String] {
        let candidates = facts.functions.filter { !$0.params.isEmpty && $0.assignments.isEmpty && $0.statementCount <= Int32($0.calls.count) && $0.endLine > $0.line }
        guard !candidates.isEmpty else { return [] }
        var lineStarts: [Int] = [0]
        for k in 0..<bytes.count where bytes[k] == 10 { lineStarts.append(k + 1) }
        var out: [String] = []
        for fn in candidates {
            let first = Int(fn.line) - 1, last = Int(fn.endLine)
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
            if found { out.append(fn.name) }
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
        var parser = Parser(tokens: lexer.tokens, names: lexer.names, bytes: bytes, facts: facts)
        parser.parseFile()
        facts = parser.facts
        var names = parser.names
        for raw in lexer.macros {
            var body = raw.body
            let parsed: (ExprArena, Int32)? = body.withUnsafeMutableBufferPointer { buf in
                var sub = Lexer(names: names)
                sub.run(UnsafeBufferPointer(buf))
                var mp = Parser(tokens: sub.tokens, names: sub.names, bytes: UnsafeBufferPointer(buf), facts: FileFacts(path: path, bytes: 0))
                let root = mp.parseMacroBody()
                names = mp.names
                return root.map { (mp.arena, $0) }
            }
            if let (arena, root) = parsed {
                facts.macros.append(MacroDecl(name: raw.name, params: raw.params, exprs: arena, root: root, line: raw.line))
            }
        }
        facts.alternateDefinitions = alternateDefinitions(of: facts, lexer: lexer, bytes: bytes, path: path)
        facts.commentedEmptyFunctions = commentedEmptyFunctions(of: facts, bytes: bytes)
        let shared = names.strings
        for k in facts.macros.indices { facts.macros[k].exprs.names = shared }
        for k in facts.functions.indices { facts.functions[k].exprs.names = shared }
        facts.aggregates.sort { ($0.line, $0.column) < ($1.line, $1.column) }
        return facts
    }

    /// Parses a string (tests, fuzzing).
    public static func parse(path: String, source: String) -> FileFacts {
        var s = source
        return s.withUTF8 { parse(path: path, bytes: $0) }
    }
}
