import Facts

/// Struct and union bodies, and function definitions.
extension Parser {
    // MARK: - Struct and union bodies

    mutating func parseAggregateBody(name: String, isUnion: Bool, anonymous: Bool, at kwTok: Token) {
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
        parseMembers(into: &fields, until: Punct.closeBrace)
        if isPunct(Punct.closeBrace) { p += 1 }
        facts.aggregates[index].fields = fields
    }

    /// Member declarations up to (not past) the closing punctuator `closer`.
    mutating func parseMembers(into fields: inout [FieldDecl], until closer: Int32) {
        while !atEnd && !isPunct(closer) {
            if isPunct(Punct.semicolon) { p += 1; continue }
            if closer != Punct.closeBrace && isPunct(Punct.closeBrace) { return }
            let start = p
            let t = tok
            // Macro members: struct_group(name, members…), DECLARE_BITMAP(name, n), …
            if t.kind == .identifier, t.code >= Keyword.count, !isAnnotation(t), isPunct(peek(), Punct.openParen) {
                if parseMacroMember(into: &fields) { continue }
            }
            if isKeyword(.kStaticAssert) || isKeyword(.kStaticAssert2) { skipToSemicolon(); continue }
            let spec = parseSpecifiers(context: .member)
            if spec.macroName != nil {
                if isPunct(Punct.openParen) { skipBalanced() }
                skipToSemicolon()
                continue
            }
            var declared = false
            while !atEnd {
                if isPunct(Punct.semicolon) || isPunct(closer) { break }
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
                if isPunct(Punct.assign) { p += 1; skipInitializer() }
                if isPunct(Punct.comma) { p += 1; continue }
                break
            }
            if !declared && spec.definedAnonymous {
                // Anonymous struct/union member: its fields belong to the enclosing one.
                fields.append(FieldDecl(name: "", type: spec.type, line: token(start).line, column: token(start).column))
            }
            if isPunct(Punct.semicolon) { p += 1; continue }
            if isPunct(closer) { return }
            if p == start { recover("unexpected token in struct body"); p += 1 }
            else { recover("unexpected token in struct body"); skipToSemicolon() }
        }
    }

    /// Handles `NAME(…)` as a member. Groups whose arguments contain member declarations
    /// (`struct_group(tag, int a; struct device dev;)`) contribute those members.
    mutating func parseMacroMember(into fields: inout [FieldDecl]) -> Bool {
        let nameTok = tok
        let open = p + 1
        // Find the matching ')' and the first ';' at depth 1.
        var k = open, depth = 0, firstSemi = -1, lastCommaBeforeSemi = -1
        repeat {
            let t = token(k)
            if t.kind == .end { return false }
            if t.kind == .punct {
                switch t.code {
                case Punct.openParen, 91, 123: depth += 1
                case Punct.closeParen, 93, 125: depth -= 1
                case Punct.semicolon: if depth == 1 && firstSemi < 0 { firstSemi = k }
                case Punct.comma: if depth == 1 && firstSemi < 0 { lastCommaBeforeSemi = k }
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
            parseMembers(into: &fields, until: Punct.closeParen)
            p = close + 1
            // `struct_group(...) NAME;`? never: the group is its own member.
            while !atEnd && !isPunct(Punct.semicolon) && !isPunct(Punct.closeBrace) { p += 1 }
            if isPunct(Punct.semicolon) { p += 1 }
            return true
        }
        if isPunct(after, Punct.semicolon) || isPunct(after, Punct.closeBrace) {
            // DECLARE_BITMAP(name, n); DECLARE_KFIFO(fifo, type, n);
            var fieldName = ""
            if token(open + 1).kind == .identifier { fieldName = text(token(open + 1)) }
            fields.append(FieldDecl(name: fieldName, type: TypeRef(kind: .named, name: text(nameTok)), line: nameTok.line, column: nameTok.column))
            p = close + 1
            if isPunct(Punct.semicolon) { p += 1 }
            return true
        }
        return false
    }

    // MARK: - Functions

    /// Each goto of the body whose label is in it, as (goto line, label line), flattened.
    func gotoEdges() -> [Int32] {
        var edges: [Int32] = []
        for (label, line) in gotos {
            if let target = labels.first(where: { $0.0 == label }) { edges.append(line); edges.append(target.1) }
        }
        return edges
    }

    mutating func parseFunctionDefinition(spec: Specifiers, declarator d: Declarator) {
        // The arena's storage is reused from function to function; what a function keeps
        // is copied out by its compaction.
        arena.nodes.removeAll(keepingCapacity: true)
        arena.lists.removeAll(keepingCapacity: true)
        arena.types = []
        arena.names = []
        calls.removeAll(keepingCapacity: true)
        assigns.removeAll(keepingCapacity: true)
        returns.removeAll(keepingCapacity: true); returnLines.removeAll(keepingCapacity: true)
        tests.removeAll(keepingCapacity: true)
        locals.removeAll(keepingCapacity: true)
        jumps.removeAll(keepingCapacity: true)
        branches.removeAll(keepingCapacity: true); blockEnds.removeAll(keepingCapacity: true)
        afterJump = true
        labels.removeAll(keepingCapacity: true); gotos.removeAll(keepingCapacity: true)
        conditionalDepth = 0
        statementCount = 0
        exprDepth = 0
        blockDepth = 0
        var params: [VarDecl] = []
        if d.paramsStart >= 0 {
            let saved = p
            p = d.paramsStart + 1
            while !atEnd && p < d.paramsEnd {
                if isPunct(Punct.comma) { p += 1; continue }
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
                while !atEnd && p < d.paramsEnd && !isPunct(Punct.comma) {
                    if isPunct(Punct.openParen) || isPunct(Punct.openBracket) { skipBalanced() } else { p += 1 }
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
        var roots: [Int32] = []
        roots.reserveCapacity(2 * calls.count + returns.count + 2 * assigns.count + tests.count)
        for c in calls { roots.append(c.node) }
        for c in calls { roots.append(c.target) }
        roots += returns
        for a in assigns { roots.append(a.lhs); roots.append(a.rhs) }
        for t in tests { roots.append(t.node) }
        arena.compact(roots: roots, into: &compaction)
        let exprs = compaction.arena(from: arena)
        let map = compaction.map
        func remap(_ x: Int32) -> Int32 { x >= 0 && Int(x) < map.count ? map[Int(x)] : -1 }
        for k in calls.indices { calls[k].node = remap(calls[k].node); calls[k].target = remap(calls[k].target) }
        for k in assigns.indices { assigns[k].lhs = remap(assigns[k].lhs); assigns[k].rhs = remap(assigns[k].rhs) }
        returns = returns.map(remap)
        for k in tests.indices { tests[k].node = remap(tests[k].node) }
        facts.functions.append(FunctionDecl(
            name: d.name, isStatic: spec.isStatic, isInline: spec.isInline, returnType: ret,
            params: params, locals: locals, calls: calls, assignments: assigns, returns: returns,
            exprs: exprs, line: startLine, column: d.column, endLine: endLine, statementCount: statementCount,
            unconditionalJumps: jumps, branchLines: branches, tests: tests, gotoEdges: gotoEdges(),
            blockEnds: blockEnds, returnLines: returnLines))
        // The body's arrays were copied into its one buffer: keep their storage for the next.
        arena.nodes.removeAll(keepingCapacity: true)
        arena.lists.removeAll(keepingCapacity: true)
        arena.types = []
        calls.removeAll(keepingCapacity: true); assigns.removeAll(keepingCapacity: true)
        returns.removeAll(keepingCapacity: true); locals.removeAll(keepingCapacity: true); tests.removeAll(keepingCapacity: true)
    }
}
