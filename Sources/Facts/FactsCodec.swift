#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A compact binary encoding of `FileFacts` for the persistent index: LEB128 varints
/// (zigzag for signed values), each distinct string of a file written once (length-prefixed
/// UTF-8) and later by its index, so that decoding makes it once and every use shares its
/// storage, and each file's interned name table written once and shared again
/// (copy-on-write) by the arenas that shared it.
///
/// The encoding leaves out `path`: facts are keyed by content, and the same content under
/// another path (another tree, another kernel version) decodes to the same facts with the
/// caller's path. Decoding checks every length and index it reads and throws
/// `FactsCodec.Malformed` instead of trapping, so a damaged blob is detected, never trusted.
public enum FactsCodec {
    /// Bumped whenever the encoding or the fact structs change; part of the cache schema.
    public static let formatVersion = 13

    struct Malformed: Error, CustomStringConvertible {
        public var description: String
    }

    public static func encode(_ facts: FileFacts) -> [UInt8] {
        var w = Writer(capacity: 4096 + facts.functions.count * 512)
        defer { w.deallocate() }
        w.facts(facts)
        return w.bytes
    }

    public static func decode(_ bytes: UnsafeRawBufferPointer, path: String) throws -> FileFacts {
        var r = Reader(base: bytes)
        var f = try r.facts(path: path)
        f.path = path
        guard r.offset == bytes.count else { throw Malformed(description: "trailing bytes") }
        return f
    }

    public static func decode(_ bytes: [UInt8], path: String) throws -> FileFacts {
        try bytes.withUnsafeBytes { try decode($0, path: path) }
    }

    // MARK: - Writer

    /// Writes through a pointer into storage it grows itself (appending to an Array byte by
    /// byte checks its uniqueness and capacity every time); `deallocate` frees it.
    struct Writer {
        private var base: UnsafeMutablePointer<UInt8>
        private var count = 0
        private var capacity: Int
        /// Name tables already written (an arena refers to them by index).
        var tables: [[String]] = []
        /// The strings written so far, by their bytes (hash, offset in the output, length);
        /// `stringSlots` indexes them (-1 for an empty slot, a power of two, at most half full).
        private var stringEntries: [(hash: UInt32, offset: Int, count: Int)] = []
        private var stringSlots = [Int32](repeating: -1, count: 256)

        init(capacity: Int) {
            self.capacity = Swift.max(64, capacity)
            base = .allocate(capacity: self.capacity)
        }

        func deallocate() { base.deallocate() }

        /// The bytes written so far.
        var bytes: [UInt8] { Array(UnsafeBufferPointer(start: base, count: count)) }

        @inline(__always) private mutating func reserve(_ n: Int) {
            if count &+ n > capacity { grow(count + n) }
        }

        @inline(never) private mutating func grow(_ needed: Int) {
            var c = capacity * 2
            while c < needed { c *= 2 }
            let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: c)
            bigger.update(from: base, count: count)
            base.deallocate()
            base = bigger
            capacity = c
        }

        @inline(__always) mutating func u(_ v: UInt64) {
            reserve(10)
            var x = v
            while x >= 0x80 { base[count] = UInt8(truncatingIfNeeded: x) | 0x80; count &+= 1; x >>= 7 }
            base[count] = UInt8(x)
            count &+= 1
        }
        @inline(__always) mutating func i(_ v: Int64) { u(UInt64(bitPattern: (v << 1) ^ (v >> 63))) }
        @inline(__always) mutating func i32(_ v: Int32) { i(Int64(v)) }
        @inline(__always) mutating func int(_ v: Int) { i(Int64(v)) }
        @inline(__always) mutating func b(_ v: Bool) { byte(v ? 1 : 0) }
        @inline(__always) mutating func byte(_ v: UInt8) {
            reserve(1)
            base[count] = v
            count &+= 1
        }
        /// A string: its index + 1 when written before in this blob (a file spells the same
        /// callees, types and members again and again), else 0, the length and the bytes.
        mutating func s(_ v: String) {
            var v = v
            v.withUTF8 { p in string(p) }
        }

        private mutating func string(_ p: UnsafeBufferPointer<UInt8>) {
            let h = SpellingHash.of(p)
            let mask = stringSlots.count - 1
            var slot = Int(truncatingIfNeeded: h) & mask
            while stringSlots[slot] >= 0 {
                let k = Int(stringSlots[slot])
                let e = stringEntries[k]
                if e.hash == h && e.count == p.count && (p.count == 0 || memcmp(base + e.offset, p.baseAddress!, p.count) == 0) {
                    u(UInt64(k) + 1)
                    return
                }
                slot = (slot + 1) & mask
            }
            u(0)
            u(UInt64(p.count))
            let offset = count
            if let from = p.baseAddress, p.count > 0 {
                reserve(p.count)
                (base + count).update(from: from, count: p.count)
                count &+= p.count
            }
            stringSlots[slot] = Int32(stringEntries.count)
            stringEntries.append((h, offset, p.count))
            if stringEntries.count * 2 > stringSlots.count { growStrings() }
        }

        private mutating func growStrings() {
            stringSlots = [Int32](repeating: -1, count: stringSlots.count * 2)
            let mask = stringSlots.count - 1
            for (k, e) in stringEntries.enumerated() {
                var slot = Int(truncatingIfNeeded: e.hash) & mask
                while stringSlots[slot] >= 0 { slot = (slot + 1) & mask }
                stringSlots[slot] = Int32(k)
            }
        }
        mutating func strings(_ v: [String]) { u(UInt64(v.count)); for x in v { s(x) } }
        mutating func i32s<C: Collection<Int32>>(_ v: C) { u(UInt64(v.count)); for x in v { i32(x) } }

        mutating func type(_ t: TypeRef) {
            byte(t.kind.rawValue)
            s(t.name)
            byte(t.pointerDepth)
            byte((t.isArray ? 1 : 0) | (t.isFunctionPointer ? 2 : 0))
        }

        mutating func arena(_ a: ExprTree) {
            u(UInt64(a.nodes.count))
            for n in a.nodes { byte(n.kind.rawValue); i32(n.textID); i32(n.a); i32(n.b); i32(n.c) }
            i32s(a.lists)
            u(UInt64(a.types.count))
            for t in a.types { type(t) }
            // Shared tables are written once: Array's == is an identity check first.
            if let k = tables.firstIndex(where: { $0 == a.names }) {
                u(UInt64(k) + 1)
            } else {
                u(0)
                strings(a.names)
                tables.append(a.names)
            }
        }

        mutating func vars<C: Collection<VarDecl>>(_ v: C) {
            u(UInt64(v.count))
            for x in v { s(x.name); type(x.type); i32(x.line); i32(x.column) }
        }

        mutating func facts(_ f: FileFacts) {
            int(f.bytes)
            u(UInt64(f.aggregates.count))
            for a in f.aggregates {
                s(a.name); b(a.isUnion); b(a.isAnonymous); i32(a.line); i32(a.column)
                u(UInt64(a.fields.count))
                for x in a.fields { s(x.name); type(x.type); i32(x.line); i32(x.column); b(x.isBitField) }
            }
            u(UInt64(f.typedefs.count))
            for t in f.typedefs { s(t.name); type(t.type); i32(t.line) }
            u(UInt64(f.functions.count))
            for fn in f.functions {
                s(fn.name); b(fn.isStatic); b(fn.isInline); type(fn.returnType)
                vars(fn.params); vars(fn.locals)
                u(UInt64(fn.calls.count))
                for c in fn.calls {
                    s(c.callee); i32(c.node); i32(c.line); i32(c.column); i32(c.target)
                    byte((c.targetIsDeclaration ? 1 : 0) | (c.isConditional ? 2 : 0) | (c.isReturned ? 4 : 0))
                }
                u(UInt64(fn.assignments.count))
                for x in fn.assignments { i32(x.lhs); i32(x.rhs); i32(x.line); i32(x.column); b(x.isConditional) }
                i32s(fn.returns)
                arena(fn.exprs)
                i32(fn.line); i32(fn.column); i32(fn.endLine); i32(fn.statementCount)
                i32s(fn.unconditionalJumps); i32s(fn.branchLines)
                u(UInt64(fn.tests.count))
                for t in fn.tests { i32(t.node); i32(t.line) }
                i32s(fn.gotoEdges); i32s(fn.blockEnds); i32s(fn.returnLines)
            }
            u(UInt64(f.globals.count))
            for g in f.globals {
                s(g.name); type(g.type); b(g.isStatic); i32(g.line); i32(g.column)
                u(UInt64(g.designated.count))
                for d in g.designated { s(d.path); s(d.value); i32(d.line) }
                strings(g.addressedObjects)
            }
            strings(f.exports)
            u(UInt64(f.macros.count))
            for m in f.macros { s(m.name); strings(m.params); arena(m.exprs); i32(m.root); i32(m.line) }
            strings(f.suppressBindMacros)
            u(UInt64(f.includes.count))
            for x in f.includes { s(x.path); b(x.isSystem); i32(x.line) }
            u(UInt64(f.diagnostics.count))
            for d in f.diagnostics { i32(d.line); i32(d.column); s(d.message) }
            u(UInt64(f.alternateDefinitions.count))
            for x in f.alternateDefinitions { s(x.name); strings(x.callees); int(x.assignments); i32(x.statementCount) }
            strings(f.commentedEmptyFunctions)
            int(f.recoveries)
            if let why = f.unreadable { b(true); s(why) } else { b(false) }
        }
    }

    // MARK: - Reader

    struct Reader {
        let base: UnsafeRawBufferPointer
        var offset = 0
        var tables: [[String]] = []
        /// The strings read so far, in order: a later use of one is its index.
        var stringsRead: [String] = []
        /// Arrays a function's parts are read into before they are packed into its one
        /// buffer, kept (with their capacity) from one function to the next.
        var scratch = Scratch()

        struct Scratch {
            var params: [VarDecl] = [], locals: [VarDecl] = [], calls: [CallSite] = [], assignments: [AssignmentSite] = []
            var returns: [Int32] = [], jumps: [Int32] = [], branches: [Int32] = [], tests: [TestSite] = []
            var gotos: [Int32] = [], blockEnds: [Int32] = [], returnLines: [Int32] = []
            var arena = ExprArena()

            mutating func clear() {
                params.removeAll(keepingCapacity: true); locals.removeAll(keepingCapacity: true)
                calls.removeAll(keepingCapacity: true); assignments.removeAll(keepingCapacity: true)
                returns.removeAll(keepingCapacity: true); jumps.removeAll(keepingCapacity: true)
                branches.removeAll(keepingCapacity: true); tests.removeAll(keepingCapacity: true)
                gotos.removeAll(keepingCapacity: true); blockEnds.removeAll(keepingCapacity: true)
                returnLines.removeAll(keepingCapacity: true)
                arena.nodes.removeAll(keepingCapacity: true); arena.lists.removeAll(keepingCapacity: true)
                arena.types.removeAll(keepingCapacity: true); arena.names = []
            }
        }

        init(base: UnsafeRawBufferPointer) { self.base = base }

        @inline(__always) mutating func byte() throws -> UInt8 {
            guard offset < base.count else { throw Malformed(description: "truncated") }
            let v = base[offset]
            offset += 1
            return v
        }
        @inline(__always) mutating func u() throws -> UInt64 {
            var shift: UInt64 = 0
            var v: UInt64 = 0
            while true {
                let x = try byte()
                v |= UInt64(x & 0x7f) << shift
                if x < 0x80 { return v }
                shift += 7
                if shift > 63 { throw Malformed(description: "varint too long") }
            }
        }
        @inline(__always) mutating func i() throws -> Int64 {
            let x = try u()
            return Int64(bitPattern: (x >> 1) ^ (0 &- (x & 1)))
        }
        @inline(__always) mutating func i32() throws -> Int32 {
            let v = try i()
            guard let r = Int32(exactly: v) else { throw Malformed(description: "value out of range") }
            return r
        }
        @inline(__always) mutating func int() throws -> Int {
            let v = try i()
            guard let r = Int(exactly: v) else { throw Malformed(description: "value out of range") }
            return r
        }
        @inline(__always) mutating func b() throws -> Bool {
            switch try byte() {
            case 0: return false
            case 1: return true
            default: throw Malformed(description: "bad flag")
            }
        }
        /// A count, checked against the bytes left (every element takes at least one byte).
        @inline(__always) mutating func count() throws -> Int {
            let n = try u()
            guard n <= UInt64(base.count - offset) else { throw Malformed(description: "count past the end") }
            return Int(n)
        }
        mutating func s() throws -> String {
            let k = try u()
            if k > 0 {
                guard k <= UInt64(stringsRead.count) else { throw Malformed(description: "string index out of range") }
                return stringsRead[Int(k - 1)]
            }
            let n = try count()
            let start = offset
            offset += n
            let v = String(decoding: UnsafeRawBufferPointer(rebasing: base[start..<start + n]), as: UTF8.self)
            stringsRead.append(v)
            return v
        }
        mutating func strings() throws -> [String] {
            let n = try count()
            var out: [String] = []
            out.reserveCapacity(n)
            for _ in 0..<n { out.append(try s()) }
            return out
        }
        mutating func i32s() throws -> [Int32] {
            var out: [Int32] = []
            try i32s(into: &out)
            return out
        }
        mutating func i32s(into out: inout [Int32]) throws {
            let n = try count()
            out.reserveCapacity(n)
            for _ in 0..<n { out.append(try i32()) }
        }
        mutating func type() throws -> TypeRef {
            guard let kind = TypeRef.Kind(rawValue: try byte()) else { throw Malformed(description: "bad type kind") }
            let name = try s()
            let depth = try byte()
            let flags = try byte()
            guard flags < 4 else { throw Malformed(description: "bad type flags") }
            return TypeRef(kind: kind, name: name, pointerDepth: depth, isArray: flags & 1 != 0, isFunctionPointer: flags & 2 != 0)
        }
        /// Reads an arena into `a` (empty, its storage kept).
        mutating func arena(into a: inout ExprArena) throws {
            let n = try count()
            a.nodes.reserveCapacity(n)
            for _ in 0..<n {
                guard let kind = ExprKind(rawValue: try byte()) else { throw Malformed(description: "bad node kind") }
                a.nodes.append(ExprNode(kind: kind, textID: try i32(), a: try i32(), b: try i32(), c: try i32()))
            }
            try i32s(into: &a.lists)
            let nt = try count()
            a.types.reserveCapacity(nt)
            for _ in 0..<nt { a.types.append(try type()) }
            let ref = try u()
            if ref == 0 {
                let names = try strings()
                tables.append(names)
                a.names = names
            } else {
                guard ref <= UInt64(tables.count) else { throw Malformed(description: "bad name table") }
                a.names = tables[Int(ref - 1)]
            }
        }
        mutating func vars(into out: inout [VarDecl]) throws {
            let n = try count()
            out.reserveCapacity(n)
            for _ in 0..<n { out.append(VarDecl(name: try s(), type: try type(), line: try i32(), column: try i32())) }
        }

        mutating func function() throws -> FunctionDecl {
            // Moved out (not copied: a copy would retain each array) and back.
            var k = Scratch()
            swap(&k, &scratch)
            defer { k.clear(); swap(&k, &scratch) }
            let name = try s(), isStatic = try b(), isInline = try b(), ret = try type()
            try vars(into: &k.params)
            try vars(into: &k.locals)
            let nc = try count()
            k.calls.reserveCapacity(nc)
            for _ in 0..<nc {
                let callee = try s(), node = try i32(), line = try i32(), column = try i32(), target = try i32()
                let flags = try byte()
                guard flags < 8 else { throw Malformed(description: "bad call flags") }
                k.calls.append(CallSite(callee: callee, node: node, line: line, column: column, target: target,
                                        targetIsDeclaration: flags & 1 != 0, isConditional: flags & 2 != 0, isReturned: flags & 4 != 0))
            }
            let nas = try count()
            k.assignments.reserveCapacity(nas)
            for _ in 0..<nas {
                k.assignments.append(AssignmentSite(lhs: try i32(), rhs: try i32(), line: try i32(), column: try i32(), isConditional: try b()))
            }
            try i32s(into: &k.returns)
            try arena(into: &k.arena)
            let line = try i32(), column = try i32(), endLine = try i32(), statements = try i32()
            try i32s(into: &k.jumps)
            try i32s(into: &k.branches)
            let ntests = try count()
            k.tests.reserveCapacity(ntests)
            for _ in 0..<ntests { k.tests.append(TestSite(node: try i32(), line: try i32())) }
            try i32s(into: &k.gotos)
            try i32s(into: &k.blockEnds)
            try i32s(into: &k.returnLines)
            return FunctionDecl(name: name, isStatic: isStatic, isInline: isInline, returnType: ret, params: k.params, locals: k.locals,
                                calls: k.calls, assignments: k.assignments, returns: k.returns, exprs: k.arena, line: line, column: column,
                                endLine: endLine, statementCount: statements, unconditionalJumps: k.jumps, branchLines: k.branches, tests: k.tests, gotoEdges: k.gotos,
                                blockEnds: k.blockEnds, returnLines: k.returnLines)
        }

        mutating func facts(path: String) throws -> FileFacts {
            var f = FileFacts(path: path, bytes: try int())
            let na = try count()
            f.aggregates.reserveCapacity(na)
            for _ in 0..<na {
                let name = try s(), isUnion = try b(), isAnon = try b(), line = try i32(), column = try i32()
                let nf = try count()
                var fields: [FieldDecl] = []
                fields.reserveCapacity(nf)
                for _ in 0..<nf {
                    fields.append(FieldDecl(name: try s(), type: try type(), line: try i32(), column: try i32(), isBitField: try b()))
                }
                f.aggregates.append(AggregateDecl(name: name, isUnion: isUnion, isAnonymous: isAnon, fields: fields, line: line, column: column))
            }
            let nt = try count()
            f.typedefs.reserveCapacity(nt)
            for _ in 0..<nt { f.typedefs.append(TypedefDecl(name: try s(), type: try type(), line: try i32())) }
            let nfn = try count()
            f.functions.reserveCapacity(nfn)
            for _ in 0..<nfn { f.functions.append(try function()) }
            let ng = try count()
            f.globals.reserveCapacity(ng)
            for _ in 0..<ng {
                let name = try s(), type = try type(), isStatic = try b(), line = try i32(), column = try i32()
                let nd = try count()
                var designated: [DesignatedValue] = []
                designated.reserveCapacity(nd)
                for _ in 0..<nd { designated.append(DesignatedValue(path: try s(), value: try s(), line: try i32())) }
                f.globals.append(GlobalDecl(name: name, type: type, isStatic: isStatic, line: line, column: column, designated: designated,
                                            addressedObjects: try strings()))
            }
            f.exports = try strings()
            let nm = try count()
            f.macros.reserveCapacity(nm)
            for _ in 0..<nm {
                let name = try s(), params = try strings()
                var exprs = ExprArena()
                try arena(into: &exprs)
                f.macros.append(MacroDecl(name: name, params: params, exprs: exprs, root: try i32(), line: try i32()))
            }
            f.suppressBindMacros = try strings()
            let ni = try count()
            f.includes.reserveCapacity(ni)
            for _ in 0..<ni { f.includes.append(IncludeDirective(path: try s(), isSystem: try b(), line: try i32())) }
            let nd = try count()
            f.diagnostics.reserveCapacity(nd)
            for _ in 0..<nd { f.diagnostics.append(FileDiagnostic(line: try i32(), column: try i32(), message: try s())) }
            let nalt = try count()
            f.alternateDefinitions.reserveCapacity(nalt)
            for _ in 0..<nalt {
                f.alternateDefinitions.append(AlternateDefinition(name: try s(), callees: try strings(), assignments: try int(), statementCount: try i32()))
            }
            f.commentedEmptyFunctions = try strings()
            f.recoveries = try int()
            f.unreadable = try b() ? try s() : nil
            return f
        }
    }
}
