import Facts

/// Expressions: precedence climbing into the function's `ExprArena`, calls and casts.
extension Parser {
    // MARK: - Expressions

    mutating func node(_ kind: ExprKind, _ text: String = "", a: Int32 = -1, b: Int32 = -1, c: Int32 = 0) -> Int32 {
        let id: Int32 = text.isEmpty ? -1 : names.intern(text)
        arena.nodes.append(ExprNode(kind: kind, textID: id, a: a, b: b, c: c))
        return Int32(arena.nodes.count - 1)
    }

    mutating func node(_ kind: ExprKind, id: Int32, a: Int32 = -1, b: Int32 = -1, c: Int32 = 0) -> Int32 {
        arena.nodes.append(ExprNode(kind: kind, textID: id, a: a, b: b, c: c))
        return Int32(arena.nodes.count - 1)
    }

    /// The interned text of a punctuator, interned on first use as `node(kind, Punct.text(code))` would.
    mutating func punctID(_ code: Int32) -> Int32 {
        guard code >= 0 && Int(code) < punctIDs.count else { return names.intern(Punct.text(code)) }
        let cached = punctIDs[Int(code)]
        if cached >= 0 { return cached }
        let id = names.intern(Punct.text(code))
        punctIDs[Int(code)] = id
        return id
    }

    /// The interned text of a literal token, as `node(kind, literalText(t))` would intern it.
    mutating func literalID(_ t: Token) -> Int32 {
        let s = Int(t.start), e = min(Int(t.start) + Int(t.length), bytes.count, s + 200)
        guard s >= 0, s < e else { return -1 }
        return names.intern(UnsafeBufferPointer(rebasing: bytes[s..<e]))
    }

    mutating func typeNode(_ kind: ExprKind, _ type: TypeRef, operand: Int32 = -1) -> Int32 {
        arena.types.append(type)
        return node(kind, a: operand, b: Int32(arena.types.count - 1))
    }

    /// Records `lhs = value` / `T x = value` as the target of the call that produces value.
    mutating func attachTarget(value: Int32, lhs: Int32, declared: String) {
        let v = arena.strippingCasts(value)
        guard v >= 0, arena[v].kind == .call else { return }
        for k in stride(from: calls.count - 1, through: 0, by: -1) where calls[k].node == v {
            calls[k].target = lhs
            calls[k].targetIsDeclaration = !declared.isEmpty
            return
        }
    }

    mutating func markReturned(_ value: Int32) {
        let v = arena.strippingCasts(value)
        guard v >= 0, arena[v].kind == .call else { return }
        for k in stride(from: calls.count - 1, through: 0, by: -1) where calls[k].node == v {
            calls[k].isReturned = true
            return
        }
    }

    mutating func parseExpression() -> Int32 {
        var e = parseAssignment()
        while isPunct(Punct.comma) {
            p += 1
            let r = parseAssignment()
            e = node(.binary, id: punctID(Punct.comma), a: e, b: r)
        }
        return e
    }

    mutating func parseAssignment() -> Int32 {
        let lhs = parseConditional()
        let t = tok
        if t.kind == .punct && Punct.isAssignment(t.code) {
            p += 1
            let rhs = parseAssignment()
            assigns.append(AssignmentSite(lhs: lhs, rhs: rhs, line: t.line, column: t.column, isConditional: conditionalDepth > 0))
            if t.code == Punct.assign { attachTarget(value: rhs, lhs: lhs, declared: "") }
            return node(.assign, id: punctID(t.code), a: lhs, b: rhs)
        }
        return lhs
    }

    mutating func parseConditional() -> Int32 {
        let c = parseBinary(1)
        if isPunct(Punct.question) {
            p += 1
            conditionalDepth += 1
            let a = isPunct(Punct.colon) ? c : parseExpression()
            if isPunct(Punct.colon) { p += 1 }
            let b = parseConditional()
            conditionalDepth -= 1
            return node(.conditional, a: c, b: a, c: b)
        }
        return c
    }

    @inline(__always) func binaryPrecedence(_ t: Token) -> Int {
        guard t.kind == .punct else { return 0 }
        switch t.code {
        case Punct.logicalOr: return 1
        case Punct.logicalAnd: return 2
        case Punct.pipe: return 3
        case Punct.caret: return 4
        case Punct.ampersand: return 5
        case Punct.equal, Punct.notEqual: return 6
        case Punct.less, 62, Punct.lessEq, Punct.greaterEq: return 7
        case Punct.shiftLeft, Punct.shiftRight: return 8
        case Punct.plus, 45: return 9
        case Punct.star, 47, 37: return 10
        default: return 0
        }
    }

    mutating func parseBinary(_ minPrec: Int) -> Int32 {
        var lhs = parseUnary()
        while true {
            let t = tok
            let prec = binaryPrecedence(t)
            if prec == 0 || prec < minPrec { return lhs }
            p += 1
            let rhs = parseBinary(prec + 1)
            lhs = node(.binary, id: punctID(t.code), a: lhs, b: rhs)
        }
    }

    /// `(` starts a type name: `(struct foo *)`, `(u32)x`, `(foo_t *)`, `(__force u32)`.
    func parenStartsType() -> Bool {
        var k = p + 1
        var sawAnnotation = false
        while token(k).kind == .identifier && isAnnotation(token(k)) { k += 1; sawAnnotation = true }
        let n = token(k)
        guard n.kind == .identifier else { return false }
        let c = n.code
        if c == Keyword.kStruct.rawValue || c == Keyword.kUnion.rawValue || c == Keyword.kEnum.rawValue
            || Keyword.isBuiltin(c) || c == Keyword.kConst.rawValue || c == Keyword.kVolatile.rawValue
            || c == Keyword.kTypeof.rawValue || c == Keyword.kTypeof2.rawValue { return true }
        if c < Keyword.count { return false }
        k += 1
        var sawStar = false
        while isPunct(token(k), 42) || (token(k).kind == .identifier && isAnnotation(token(k))) || isKeyword(token(k), .kConst) { sawStar = true; k += 1 }
        guard isPunct(token(k), 41) else { return false }
        if sawStar || sawAnnotation { return true }
        // `(name)` followed by something that cannot follow a parenthesised expression.
        let after = token(k + 1 < toks.count ? k + 1 : k)
        switch after.kind {
        case .identifier:
            return !(after.code < Keyword.count && after.code != Keyword.kSizeof.rawValue)
        case .number, .string, .character: return true
        case .punct:
            if after.code == Punct.tilde || after.code == Punct.bang { return true }  // ~ !
            if after.code == Punct.openParen {
                // `(u32)(unsigned long)x`: a second cast follows.
                let inner = token(min(k + 2, toks.count - 1))
                if inner.kind == .identifier && (isAnnotation(inner) || Keyword.isBuiltin(inner.code)
                    || inner.code == Keyword.kStruct.rawValue || inner.code == Keyword.kConst.rawValue) { return true }
            }
            return false
        case .end: return false
        }
    }

    /// A type name in a cast, `sizeof` or macro argument: specifiers plus an abstract declarator.
    mutating func parseTypeName() -> TypeRef {
        let spec = parseSpecifiers(context: .parameter)
        var type = spec.type
        while !atEnd {
            if isPunct(Punct.star) { type.pointerDepth &+= 1; p += 1; continue }
            if isKeyword(.kConst) || isKeyword(.kVolatile) || isAnnotation(tok) { p += 1; if isPunct(Punct.openParen) { skipBalanced() }; continue }
            if isPunct(Punct.openBracket) { type.isArray = true; skipBalanced(); continue }
            if isPunct(Punct.openParen) && (isPunct(peek(), Punct.star)) {
                skipBalanced()
                if isPunct(Punct.openParen) { type.isFunctionPointer = true; skipBalanced() } else { type.pointerDepth &+= 1 }
                continue
            }
            break
        }
        return type
    }

    mutating func parseUnary() -> Int32 {
        if exprDepth >= Parser.maxExprDepth {
            // Absurd nesting: skip this operand iteratively.
            recover("expression nested too deep")
            while !atEnd {
                let t = tok
                if t.kind == .punct {
                    if t.code == Punct.semicolon || t.code == Punct.closeBrace || t.code == Punct.closeParen || t.code == Punct.closeBracket || t.code == Punct.comma { break }
                    if t.code == Punct.openParen || t.code == Punct.openBracket || t.code == Punct.openBrace { skipBalanced(); continue }
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
            case Punct.ampersand, 42, 45, 43, 33, 126, Punct.increment, Punct.decrement:
                p += 1
                let operand = parseUnary()
                return node(.unary, id: punctID(t.code), a: operand)
            case Punct.logicalAnd: // &&label
                p += 1
                if tok.kind == .identifier { p += 1 }
                return node(.other)
            case Punct.openParen:
                if parenStartsType() {
                    p += 1
                    let type = parseTypeName()
                    if isPunct(Punct.closeParen) { p += 1 } else { skipToCloser(Punct.closeParen) }
                    if isPunct(Punct.openBrace) {
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
            if isPunct(Punct.openParen) && parenStartsType() {
                p += 1
                let type = parseTypeName()
                if isPunct(Punct.closeParen) { p += 1 } else { skipToCloser(Punct.closeParen) }
                return typeNode(.sizeofType, type)
            }
            let operand = parseUnary()
            return node(.sizeofExpr, a: operand)
        }
        if isKeyword(.kExtension) { p += 1; return parseUnary() }
        return parsePostfix(parsePrimary())
    }

    mutating func parsePostfix(_ base: Int32) -> Int32 {
        var e = base
        while !atEnd {
            let t = tok
            guard t.kind == .punct else { break }
            switch t.code {
            case Punct.openParen:
                e = parseCall(callee: e, at: t)
            case Punct.openBracket:
                p += 1
                let idx = isPunct(Punct.closeBracket) ? node(.other) : parseExpression()
                if isPunct(Punct.closeBracket) { p += 1 } else { skipToCloser(Punct.closeBracket) }
                e = node(.index, a: e, b: idx)
            case Punct.dot, Punct.arrow:
                p += 1
                if tok.kind == .identifier {
                    e = node(.member, id: tok.code, a: e, b: t.code == Punct.dot ? 0 : 1)
                    p += 1
                } else { return e }
            case Punct.increment, Punct.decrement:
                p += 1
                e = node(.postfix, id: punctID(t.code), a: e)
            default:
                return e
            }
        }
        return e
    }

    mutating func parseCall(callee: Int32, at open: Token) -> Int32 {
        p += 1
        let base = pending.count
        while !atEnd && !isPunct(Punct.closeParen) {
            if isPunct(Punct.closeBrace) { break }
            let before = p
            let a: Int32
            if startsTypeArgument() {
                a = typeNode(.typeName, parseTypeName())
            } else {
                a = parseAssignment()
            }
            pending.append(a)
            if isPunct(Punct.comma) { p += 1; continue }
            if isPunct(Punct.closeParen) { break }
            // Macro arguments we do not understand: skip to the next ',' or ')'.
            while !atEnd && !isPunct(Punct.comma) && !isPunct(Punct.closeParen) && !isPunct(Punct.closeBrace) {
                if isPunct(Punct.openParen) || isPunct(Punct.openBracket) || isPunct(Punct.openBrace) { skipBalanced() } else { p += 1 }
            }
            if isPunct(Punct.comma) { p += 1 }
            if p == before { p += 1 }
        }
        if isPunct(Punct.closeParen) { p += 1 }
        let start = Int32(arena.lists.count)
        let argCount = popPending(from: base)
        let call = node(.call, a: callee, b: start, c: argCount)
        let calleeNode = arena[callee]
        let name = calleeNode.kind == .identifier ? names[calleeNode.textID] : ""
        calls.append(CallSite(callee: name, node: call, line: open.line, column: toks.indices.contains(p) ? columnOfCallee(callee, open) : open.column,
                              target: -1, targetIsDeclaration: false, isConditional: conditionalDepth > 0, isReturned: false))
        return call
    }

    func columnOfCallee(_ callee: Int32, _ open: Token) -> Int32 {
        // The callee identifier sits right before '(' in the common case.
        let n = arena[callee]
        if n.kind == .identifier { return max(1, open.column - Int32(names[n.textID].utf8.count)) }
        return open.column
    }

    /// A macro argument that is a type: `struct foo`, `const char *`, `unsigned long`.
    func startsTypeArgument() -> Bool {
        let t = tok
        guard t.kind == .identifier else { return false }
        let c = t.code
        if c == Keyword.kStruct.rawValue || c == Keyword.kUnion.rawValue || c == Keyword.kEnum.rawValue { return true }
        if Keyword.isBuiltin(c) { return true }
        if c == Keyword.kConst.rawValue || c == Keyword.kVolatile.rawValue { return true }
        return false
    }

    mutating func parseInitList() -> Int32 {
        guard isPunct(Punct.openBrace) else { return node(.other) }
        if exprDepth >= Parser.maxExprDepth { skipBalanced(); return node(.other) }
        exprDepth += 1
        defer { exprDepth -= 1 }
        p += 1
        let base = pending.count
        while !atEnd && !isPunct(Punct.closeBrace) {
            let before = p
            if isPunct(Punct.dot), peek().kind == .identifier {
                let field = text(peek())
                advance(by: 2)
                while isPunct(Punct.dot) || isPunct(Punct.openBracket) { if isPunct(Punct.openBracket) { skipBalanced() } else { advance(by: 2) } }
                if isPunct(Punct.assign) { p += 1 }
                let v = isPunct(Punct.openBrace) ? parseInitList() : parseAssignment()
                pending.append(node(.designated, field, a: v))
            } else if isPunct(Punct.openBracket) {
                skipBalanced()
                if isPunct(Punct.assign) { p += 1 }
                pending.append(isPunct(Punct.openBrace) ? parseInitList() : parseAssignment())
            } else if isPunct(Punct.openBrace) {
                pending.append(parseInitList())
            } else {
                pending.append(parseAssignment())
            }
            if isPunct(Punct.comma) { p += 1; continue }
            if !isPunct(Punct.closeBrace) {
                while !atEnd && !isPunct(Punct.comma) && !isPunct(Punct.closeBrace) && !isPunct(Punct.semicolon) {
                    if isPunct(Punct.openParen) || isPunct(Punct.openBracket) || isPunct(Punct.openBrace) { skipBalanced() } else { p += 1 }
                }
                if isPunct(Punct.comma) { p += 1 } else if isPunct(Punct.semicolon) { break }
            }
            if p == before { p += 1 }
        }
        if isPunct(Punct.closeBrace) { p += 1 }
        let start = Int32(arena.lists.count)
        let itemCount = popPending(from: base)
        return node(.initList, b: start, c: itemCount)
    }

    /// Moves the child nodes collected in `pending` since `base` to the arena's lists;
    /// returns how many there were.
    mutating func popPending(from base: Int) -> Int32 {
        guard base >= 0 && base <= pending.count else { return 0 }
        let count = pending.count - base
        arena.lists.append(contentsOf: pending[base...])
        pending.removeSubrange(base...)
        return Int32(clamping: count)
    }

    mutating func parsePrimary() -> Int32 {
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
            return node(.number, id: literalID(t))
        case .string, .character:
            p += 1
            let s = literalID(t)
            // Adjacent literals and macro names between them ("a" PRIx64 "b").
            if t.kind == .string {
                while tok.kind == .string || (tok.kind == .identifier && peek().kind == .string) { p += 1 }
            }
            return node(t.kind == .string ? .string : .number, id: s)
        case .punct:
            if t.code == Punct.openParen {
                p += 1
                if isPunct(Punct.openBrace) {
                    // GNU statement expression ({ … })
                    parseCompound()
                    if isPunct(Punct.closeParen) { p += 1 }
                    return node(.other)
                }
                let e = isPunct(Punct.closeParen) ? node(.other) : parseExpression()
                if isPunct(Punct.closeParen) { p += 1 } else { skipToCloser(Punct.closeParen) }
                return e
            }
            if t.code == Punct.openBrace { return parseInitList() }
            return node(.other)
        case .end:
            return node(.other)
        }
    }
}
