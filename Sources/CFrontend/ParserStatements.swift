import Facts

/// Statements of a function body, and the tests and jumps they record.
extension Parser {
    // MARK: - Statements

    mutating func parseCompound() {
        guard isPunct(Punct.openBrace) else { return }
        if blockDepth >= Parser.maxBlockDepth {
            recover("blocks nested too deep")
            skipBalanced()
            return
        }
        blockDepth += 1
        defer { blockDepth -= 1 }
        p += 1
        while !atEnd && !isPunct(Punct.closeBrace) {
            let before = p
            parseStatement()
            if p == before { recover("unexpected token in function body"); p += 1 }
        }
        if isPunct(Punct.closeBrace) { p += 1 }
    }

    /// The body of an `if`, `else`, loop or `switch` (braced or not): where it ends, the
    /// statements after it no longer follow its own on every path.
    mutating func parseControlledStatement() {
        parseStatement()
        blockEnds.append(token(max(0, p - 1)).line)
    }

    mutating func parseParenExpression() {
        if isPunct(Punct.openParen) {
            let line = tok.line
            p += 1
            if !isPunct(Punct.closeParen) { recordTests(parseExpression(), line: line, depth: 0) }
            if isPunct(Punct.closeParen) { p += 1 } else { recover("expected ')'"); skipToCloser(Punct.closeParen) }
        }
    }

    /// Records what a condition tests for being set: `x`, `!p->m`, `p->m == NULL`, through
    /// `&&`, `||` and wrapper calls (`unlikely(!x)`, `WARN_ON(!p->m)`). Only names and
    /// member chains are kept, so a check can be matched to the value it guards.
    mutating func recordTests(_ e: Int32, line: Int32, depth: Int) {
        guard depth < 8 else { return }
        let n = arena[e]
        switch n.kind {
        case .member:
            tests.append(TestSite(node: e, line: line))
        case .identifier:
            // Pointers (what a check guards) and bool flags (`if (free_it)`); `if (ret)` is
            // not recorded.
            let name = names[n.textID]
            let local = locals.last { $0.name == name } ?? currentParams.first { $0.name == name }
            if let t = local?.type, t.pointerDepth > 0 || t.isFunctionPointer || t.isBool { tests.append(TestSite(node: e, line: line)) }
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
    mutating func skipToCloser(_ c: Int32) {
        while !atEnd {
            let t = tok
            if t.kind == .punct {
                if t.code == Int32(c) { p += 1; return }
                if t.code == Punct.closeBrace || t.code == Punct.semicolon { return }
                if t.code == Punct.openParen || t.code == Punct.openBracket || t.code == Punct.openBrace { skipBalanced(); continue }
            }
            p += 1
        }
    }

    mutating func parseSubStatement() {
        conditionalDepth += 1
        parseControlledStatement()
        conditionalDepth -= 1
    }

    mutating func parseStatement() {
        let t = tok
        if t.kind == .punct {
            // (A block ends as its last statement does.)
            if t.code == Punct.openBrace { statementCount += 1; parseCompound(); return }
            if t.code == Punct.semicolon { p += 1; return }
        }
        statementCount += 1
        if t.kind == .identifier, let keyword = Keyword(rawValue: t.code), parseKeywordStatement(keyword, at: t) { return }
        // label:
        if t.kind == .identifier && isPunct(peek(), Punct.colon) && t.code >= Keyword.count {
            labels.append((t.code, t.line))
            advance(by: 2)
            return
        }
        afterJump = false
        if startsDeclaration() {
            parseDeclaration(context: .local)
            return
        }
        let e = parseExpression()
        if isPunct(Punct.semicolon) {
            p += 1
            // `(void)dev;` only silences an unused-parameter warning: it does nothing.
            if namesOnlyAValue(e) { statementCount -= 1 }
            return
        }
        // A macro loop header: list_for_each_entry(pos, head, member) { … } / stmt;
        if arena.nodes.indices.contains(Int(e)) && arena[e].kind == .call && !isPunct(Punct.closeBrace) && !atEnd {
            parseSubStatement()
            return
        }
        if isPunct(Punct.closeBrace) { return }
        recover("expected ';'")
        skipToSemicolon()
    }

    /// Whether expression `e` is a cast of a name or a number (`(void)dev`): a statement of
    /// it alone has no effect. (A bare name is not: it may be a macro that expands to code.)
    func namesOnlyAValue(_ e: Int32) -> Bool {
        guard e >= 0, Int(e) < arena.nodeCount, arena[e].kind == .cast else { return false }
        let kind = arena[arena.strippingCasts(e)].kind
        return kind == .identifier || kind == .number
    }

    /// A statement that starts with a keyword (`if`, `for`, `return`, `case`, …); false when
    /// the keyword starts no statement of its own (a declaration or an expression follows).
    mutating func parseKeywordStatement(_ keyword: Keyword, at t: Token) -> Bool {
        switch keyword {
        case .kIf:
            p += 1
            conditionalDepth += 1
            parseParenExpression()
            parseControlledStatement()
            if isKeyword(.kElse) { branches.append(tok.line); p += 1; parseControlledStatement() }
            conditionalDepth -= 1
            afterJump = false
            return true
        case .kWhile, .kSwitch:
            p += 1
            conditionalDepth += 1
            parseParenExpression()
            // The first label is entered from the `switch`.
            if keyword == .kSwitch { afterJump = true }
            parseControlledStatement()
            conditionalDepth -= 1
            afterJump = false
            return true
        case .kFor:
            parseForStatement()
            afterJump = false
            return true
        case .kDo:
            p += 1
            conditionalDepth += 1
            parseControlledStatement()
            if isKeyword(.kWhile) { p += 1; parseParenExpression() }
            conditionalDepth -= 1
            if isPunct(Punct.semicolon) { p += 1 }
            afterJump = false
            return true
        case .kCase:
            if afterJump { branches.append(t.line) }
            p += 1
            while !atEnd && !isPunct(Punct.colon) && !isPunct(Punct.semicolon) && !isPunct(Punct.closeBrace) {
                if isPunct(Punct.openParen) { skipBalanced() } else { p += 1 }
            }
            if isPunct(Punct.colon) { p += 1 }
            return true
        case .kDefault:
            if afterJump { branches.append(t.line) }
            p += 1
            if isPunct(Punct.colon) { p += 1 }
            return true
        case .kReturn, .kBreak, .kContinue, .kGoto:
            parseJump(keyword, at: t)
            return true
        case .kAsm, .kAsm2, .kAsm3:
            skipToSemicolon()
            afterJump = false
            return true
        case .kElse:
            recover("'else' without 'if'")
            p += 1
            return true
        case .kStaticAssert, .kStaticAssert2:
            skipToSemicolon()
            return true
        default:
            return false
        }
    }

    /// `return`, `break`, `continue` or `goto`: the path ends here.
    mutating func parseJump(_ keyword: Keyword, at t: Token) {
        afterJump = true
        if keyword == .kReturn || keyword == .kGoto, conditionalDepth == 0 { jumps.append(t.line) }
        if keyword == .kGoto {
            let target = peek()
            if target.kind == .identifier { gotos.append((target.code, t.line)) }
            skipToSemicolon()
            return
        }
        p += 1
        var operand: Int32 = -1
        if keyword == .kReturn, !isPunct(Punct.semicolon) {
            let e = parseExpression()
            operand = Int32(returns.count)
            returns.append(e)
            markReturned(e)
        }
        if keyword == .kReturn { returnLines.append(t.line); returnLines.append(operand) }
        if isPunct(Punct.semicolon) { p += 1 } else if keyword == .kReturn { skipToSemicolon() }
    }

    /// `for (init; condition; step) statement`, the init possibly a declaration.
    mutating func parseForStatement() {
        p += 1
        conditionalDepth += 1
        if isPunct(Punct.openParen) {
            p += 1
            if startsDeclaration() { parseDeclaration(context: .local) }
            else { if !isPunct(Punct.semicolon) { _ = parseExpression() }; if isPunct(Punct.semicolon) { p += 1 } }
            if !isPunct(Punct.semicolon) && !isPunct(Punct.closeParen) { _ = parseExpression() }
            if isPunct(Punct.semicolon) { p += 1 }
            if !isPunct(Punct.closeParen) { _ = parseExpression() }
            if isPunct(Punct.closeParen) { p += 1 } else { skipToCloser(Punct.closeParen) }
        }
        parseControlledStatement()
        conditionalDepth -= 1
    }
}
