import Facts

/// Declarations: specifiers, declarators, typedefs, globals and designated initializers.
extension Parser {
    // MARK: - Declarations

    enum DeclContext { case file, typedef, member, local, parameter }

    struct Specifiers {
        var type = TypeRef.unknown
        var isStatic = false
        var isInline = false
        var isTypedef = false
        /// A macro invocation stood where the type should be (`static DEFINE_MUTEX(x);`).
        var macroName: String? = nil
        var macroFirstArg: String? = nil
        var definedAnonymous = false
    }

    struct Declarator {
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

    @inline(__always) func isAnnotation(_ t: Token) -> Bool {
        guard t.kind == .identifier else { return false }
        if t.code == Keyword.kAttribute.rawValue || t.code == Keyword.kAttribute2.rawValue { return true }
        return names.isAnnotation(t.code)
    }

    /// Whether the token begins a declaration in a statement or parameter context.
    func startsDeclaration() -> Bool {
        let t = tok
        guard t.kind == .identifier else { return false }
        let c = t.code
        if c == Keyword.kStruct.rawValue || c == Keyword.kUnion.rawValue || c == Keyword.kEnum.rawValue { return true }
        if Keyword.isBuiltin(c) || Keyword.isQualifier(c) { return true }
        if c == Keyword.kStatic.rawValue || c == Keyword.kTypeof.rawValue || c == Keyword.kTypeof2.rawValue
            || c == Keyword.kTypeofUnqual.rawValue || c == Keyword.kTypedef.rawValue { return true }
        if c < Keyword.count { return false }
        if isAnnotation(t) { return false }
        let n = peek()
        if n.kind == .identifier {
            // `u32 val`, `spinlock_t *lock`, `foo_t bar(…)`: a type followed by a name.
            return true
        }
        if isPunct(n, Punct.star) {
            // `T *x =`, `T *x;`, `T **x`
            var k = p + 1
            while isPunct(token(k), 42) || isKeyword(token(k), .kConst) { k += 1 }
            if token(k).kind == .identifier {
                let a = token(min(k + 1, toks.count - 1))
                return a.kind == .punct && (a.code == Punct.assign || a.code == Punct.semicolon || a.code == Punct.comma || a.code == Punct.openBracket || a.code == Punct.closeParen)
                    || (a.kind == .identifier && isAnnotation(a))
            }
        }
        return false
    }

    /// Reads declaration specifiers: storage, qualifiers, annotations, and the base type,
    /// defining any struct/union/enum whose body appears here.
    mutating func parseSpecifiers(context: DeclContext) -> Specifiers {
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
            if skipStorageClassOrQualifier(c, into: &s) { continue }
            if c == Keyword.kStruct.rawValue || c == Keyword.kUnion.rawValue || c == Keyword.kEnum.rawValue {
                if haveType && !typeFromMacroLike { break }
                typeFromMacroLike = false
                parseTagType(&s)
                haveType = true
                continue
            }
            if Keyword.isBuiltin(c) {
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
                if isPunct(Punct.openParen) { skipBalanced() }
                s.type = TypeRef(kind: .named, name: "typeof")
                haveType = true
                continue
            }
            if c < Keyword.count { break }
            // A plain identifier.
            let next = peek()
            if isAnnotation(t) {
                p += 1
                if isPunct(Punct.openParen) { skipBalanced() }
                continue
            }
            if isPunct(next, Punct.openParen) {
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
                if peek().kind == .identifier, isPunct(peek(2), Punct.comma) || isPunct(peek(2), Punct.closeParen) { s.macroFirstArg = text(peek()) }
                break
            }
            if haveType {
                // After the type, another identifier followed by one more identifier or `*`
                // is an annotation (`int __init foo`, `void __iomem *base`) — unless the
                // "type" was itself an annotation-like macro (`MEM_STATIC u32 foo`).
                if next.kind == .identifier || isPunct(next, Punct.star) {
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

    /// Consumes `static`, `inline`, `typedef`, a qualifier or an `__attribute__((…))` at the
    /// current token, recording the first three in `s`; false for anything else.
    mutating func skipStorageClassOrQualifier(_ c: Int32, into s: inout Specifiers) -> Bool {
        if c == Keyword.kStatic.rawValue { s.isStatic = true; p += 1; return true }
        if c == Keyword.kInline.rawValue || c == Keyword.kInline2.rawValue || c == Keyword.kInline3.rawValue { s.isInline = true; p += 1; return true }
        if c == Keyword.kTypedef.rawValue { s.isTypedef = true; p += 1; return true }
        if Keyword.isQualifier(c) { p += 1; return true }
        if c == Keyword.kAttribute.rawValue || c == Keyword.kAttribute2.rawValue {
            p += 1
            if isPunct(Punct.openParen) { skipBalanced() }
            return true
        }
        return false
    }

    /// `struct|union|enum [attrs] [tag] [attrs] [{ body }]` at the current token.
    mutating func parseTagType(_ s: inout Specifiers) {
        let kwTok = tok
        let isEnum = isKeyword(.kEnum)
        let isUnion = isKeyword(.kUnion)
        p += 1
        var tag = ""
        while !atEnd {
            if isAnnotation(tok) { p += 1; if isPunct(Punct.openParen) { skipBalanced() }; continue }
            if tok.kind == .identifier && tag.isEmpty && tok.code >= Keyword.count {
                if isPunct(peek(), Punct.openParen) && text(tok).hasPrefix("__") { p += 1; skipBalanced(); continue }
                tag = text(tok); p += 1; continue
            }
            break
        }
        let kind: TypeRef.Kind = isEnum ? .enumType : (isUnion ? .unionType : .structType)
        if isPunct(Punct.openBrace) {
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

    /// `(*name)(…)`, `(*name)[N]` or `(*fn(args))(…)` at the current `(`: a function pointer
    /// or a pointer to an array.
    mutating func parseParenthesizedPointer(_ d: inout Declarator) {
        let open = p
        p += 1
        while isPunct(Punct.star) || isPunct(Punct.caret) || isKeyword(.kConst) || isAnnotation(tok) { p += 1 }
        if tok.kind == .identifier && tok.code >= Keyword.count {
            d.name = text(tok); d.line = tok.line; d.column = tok.column
            p += 1
        }
        while isPunct(Punct.openBracket) { d.isArray = true; skipBalanced() }
        if isPunct(Punct.openParen) { skipBalanced() }   // (*fn(args))(…)
        if isPunct(Punct.closeParen) { p += 1 } else { p = open; skipBalanced() }
        if isPunct(Punct.openParen) { d.isFunctionPointer = true; skipBalanced() }
        else { d.pointerDepth &+= 1 }
    }

    /// Reads one declarator after the specifiers.
    mutating func parseDeclarator() -> Declarator {
        var d = Declarator()
        var guardCount = 0
        while !atEnd {
            guardCount += 1
            if guardCount > 10_000 { break }
            let t = tok
            if t.kind == .punct {
                switch t.code {
                case Punct.star: // *
                    d.pointerDepth &+= 1; p += 1; continue
                case Punct.openParen: // (
                    if d.name.isEmpty && (isPunct(peek(), Punct.star) || isPunct(peek(), Punct.caret)) {
                        parseParenthesizedPointer(&d)
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
                case Punct.closeParen: // ) closing a parenthesised declarator
                    if d.name.isEmpty { return d }
                    return d
                case Punct.openBracket: // [
                    d.isArray = true; skipBalanced(); continue
                case Punct.colon: // : bit-field width
                    d.isBitField = true
                    p += 1
                    while !atEnd && !isPunct(Punct.comma) && !isPunct(Punct.semicolon) && !isPunct(Punct.closeBrace) && !isPunct(Punct.assign) {
                        if isPunct(Punct.openParen) { skipBalanced() } else { p += 1 }
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
                    if isPunct(Punct.openParen) { skipBalanced() }
                    continue
                }
                if Keyword.isQualifier(t.code) { p += 1; continue }
                if isAnnotation(t) {
                    p += 1
                    if isPunct(Punct.openParen) { skipBalanced() }
                    continue
                }
                if d.name.isEmpty && t.code >= Keyword.count {
                    d.name = text(t); d.line = t.line; d.column = t.column
                    p += 1
                    continue
                }
                if !d.name.isEmpty {
                    // Trailing annotation macro: `foo __aligned(8)`, `x __free(kfree)`.
                    p += 1
                    if isPunct(Punct.openParen) { skipBalanced() }
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
    mutating func parseDeclaration(context: DeclContext) {
        let start = p
        var spec = parseSpecifiers(context: context)
        if context == .typedef { spec.isTypedef = true }
        if let macro = spec.macroName {
            // `DEFINE_X(args)` used as a declaration, or a macro that expands to a function
            // header (`SYSCALL_DEFINE2(name, …) { … }`).
            let nameTok = token(p - 1)
            let paramsStart = p
            if isPunct(Punct.openParen) { skipBalanced() }
            let paramsEnd = p - 1
            if isPunct(Punct.openBrace) && context != .file {
                // `MACRO(args) { … }` inside a body is a loop or scope macro, not a nested
                // function: parsing it as one would reset this function's expression arena
                // under the expressions still being built (the parser-parsecall-arena crash).
                parseSubStatement()
                return
            }
            if isPunct(Punct.openBrace) {
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
            if tok.kind == .identifier && tok.line != token(paramsEnd).line && isPunct(peek(), Punct.openParen) { return }
            if isPunct(Punct.assign) { p += 1; skipInitializer() }
            skipToSemicolon(resyncAtColumnOne: context == .file)
            return
        }
        var first = true
        while !atEnd {
            if isPunct(Punct.semicolon) { p += 1; return }
            let d = parseDeclarator()
            var type = spec.type
            type.pointerDepth &+= d.pointerDepth
            type.isArray = d.isArray
            type.isFunctionPointer = d.isFunctionPointer
            if first && d.isFunction && isPunct(Punct.openBrace) && context == .file {
                parseFunctionDefinition(spec: spec, declarator: d)
                return
            }
            first = false
            if !d.name.isEmpty {
                if spec.isTypedef {
                    if d.isFunction { type.isFunctionPointer = true }
                    facts.typedefs.append(TypedefDecl(name: d.name, type: type, line: d.line))
                } else if context == .file && !d.isFunction {
                    let (designated, addressed) = parseFileScopeInitializer()
                    facts.globals.append(GlobalDecl(name: d.name, type: type, isStatic: spec.isStatic, line: d.line, column: d.column, designated: designated,
                                                    addressedObjects: addressed))
                } else if context == .local {
                    locals.append(VarDecl(name: d.name, type: type, line: d.line, column: d.column))
                    if isPunct(Punct.assign) {
                        let eq = tok
                        p += 1
                        let value = isPunct(Punct.openBrace) ? parseInitList() : parseAssignment()
                        let lhs = node(.identifier, d.name)
                        assigns.append(AssignmentSite(lhs: lhs, rhs: value, line: eq.line, column: eq.column, isConditional: conditionalDepth > 0))
                        attachTarget(value: value, lhs: lhs, declared: d.name)
                    }
                }
            }
            if isPunct(Punct.assign) { p += 1; skipInitializer() }
            if isPunct(Punct.comma) { p += 1; continue }
            if isPunct(Punct.semicolon) { p += 1; return }
            // Something we do not understand: resynchronise.
            if p == start || !isPunct(Punct.closeBrace) { recover("unexpected token in declaration") }
            skipToSemicolon(resyncAtColumnOne: context == .file)
            return
        }
    }

    /// Skips an initializer value up to the next `,` or `;` at depth 0.
    mutating func skipInitializer() {
        while !atEnd {
            let t = tok
            if t.kind == .punct {
                if t.code == Punct.comma || t.code == Punct.semicolon || t.code == Punct.closeBrace || t.code == Punct.closeParen { return }
                if t.code == Punct.openParen || t.code == Punct.openBracket || t.code == Punct.openBrace { skipBalanced(); continue }
            }
            p += 1
        }
    }

    /// A file-scope declarator's initializer, if it has one (at `=`): its designated values,
    /// and the objects it names when it is a list of addresses (`GlobalDecl.addressedObjects`).
    mutating func parseFileScopeInitializer() -> ([DesignatedValue], [String]) {
        guard isPunct(Punct.assign) else { return ([], []) }
        p += 1
        guard isPunct(Punct.openBrace) else { skipInitializer(); return ([], []) }
        var designated: [DesignatedValue] = []
        var addressed: [String]? = []
        parseDesignatedInitializer(prefix: "", into: &designated, addresses: &addressed, depth: 0)
        return (designated, addressed ?? [])
    }

    /// `{ .a = x, .b = { .c = &y }, [0] = { … }, … }` into designated (path, value) pairs.
    /// `addresses`, when given, collects the names of a list whose every element is `&name`
    /// or null (`{ &a, &b, NULL }`), and becomes nil at the first element of another kind.
    mutating func parseDesignatedInitializer(prefix: String, into out: inout [DesignatedValue], depth: Int) {
        var none: [String]? = nil
        parseDesignatedInitializer(prefix: prefix, into: &out, addresses: &none, depth: depth)
    }

    mutating func parseDesignatedInitializer(prefix: String, into out: inout [DesignatedValue], addresses: inout [String]?, depth: Int) {
        guard isPunct(Punct.openBrace) else { addresses = nil; return }
        if depth > 16 || out.count > 4096 { skipBalanced(); return }
        p += 1
        while !atEnd && !isPunct(Punct.closeBrace) {
            var path = prefix
            var designated = false
            // Designators: .a.b[2].c =
            while isPunct(Punct.dot) || isPunct(Punct.openBracket) {
                if isPunct(Punct.dot), peek().kind == .identifier {
                    path += (path.isEmpty || path.hasSuffix(".") ? "" : ".") + text(peek())
                    designated = true
                    advance(by: 2)
                } else if isPunct(Punct.openBracket) {
                    skipBalanced()
                } else { p += 1 }
            }
            if designated || isPunct(Punct.assign) {
                if isPunct(Punct.assign) { p += 1 }
            }
            if isPunct(Punct.openBrace) {
                addresses = nil
                parseDesignatedInitializer(prefix: designated ? path + "." : prefix, into: &out, depth: depth + 1)
            } else {
                let valueStart = p
                let line = tok.line
                skipInitializer()
                if designated {
                    addresses = nil
                    out.append(DesignatedValue(path: path, value: simpleValue(from: valueStart, to: p), line: line))
                } else if addresses != nil {
                    // Only `&name` (nothing after it) or a null constant keeps the list one of addresses.
                    let value = simpleValue(from: valueStart, to: p), tokens = p - valueStart
                    if tokens == 2 && value.hasPrefix("&") { addresses?.append(String(value.dropFirst())) }
                    else if !(tokens == 1 && (value == "NULL" || value == "0")) { addresses = nil }
                }
            }
            if isPunct(Punct.comma) { p += 1; continue }
            if !isPunct(Punct.closeBrace) { skipInitializer(); if isPunct(Punct.comma) { p += 1 } else if !isPunct(Punct.closeBrace) { break } }
        }
        if isPunct(Punct.closeBrace) { p += 1 }
    }

    /// The value of an initializer as a short string: `name`, `&name`, else its first tokens.
    func simpleValue(from a: Int, to b: Int) -> String {
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
}
