import Facts
import Indexing
import Analysis
import Findings
import Checks

/// One row of `unbindcheck structs`.
public struct StructRow: Sendable {
    public var name: String
    public var file: String
    public var line: Int32
    public var chain: [String]
    public var fields: String
    public var core: String
    public var direct: Bool
    /// Every core kind the struct embeds, and whether directly: `["device": true, "kref": false]`.
    public var kinds: [String: Bool] = [:]
}

/// The `structs`, `subsystems` and `explain` listings, as values and in text/JSON.
public enum Listings {
    /// Named structs/unions (and typedef'd anonymous ones) embedding a core object.
    public static func structs(_ ctx: AnalysisContext) -> [StructRow] {
        let index = ctx.index
        var typedefNames: [AggregateID: String] = [:]
        for (fi, f) in index.files.enumerated() {
            for td in f.typedefs where td.type.isAggregateTag && td.type.name.hasPrefix("<anon") && td.type.pointerDepth == 0 {
                if let agg = ctx.resolver.aggregate(named: td.type.name, from: Int32(fi)), agg.file == Int32(fi) { typedefNames[agg] = td.name }
            }
        }
        var rows: [StructRow] = []
        for (agg, emb) in ctx.closure.embeddings {
            let a = index.aggregate(agg)
            var name = a.name
            if a.isAnonymous { guard let t = typedefNames[agg] else { continue }; name = t }
            var chain = ctx.closure.chainNames(emb, index: index)
            if a.isAnonymous { chain.insert(name, at: 0) }
            var kinds: [String: Bool] = [:]
            for k in DriverCore.coreObjects { if let e = ctx.closure.byKind[k]?[agg] { kinds[k] = e.isDirect } }
            rows.append(StructRow(name: name, file: index.path(agg.file), line: a.line, chain: chain,
                                  fields: ctx.closure.fieldPath(emb), core: emb.core, direct: emb.isDirect, kinds: kinds))
        }
        return rows.sorted { ($0.file, $0.line, $0.name) < ($1.file, $1.line, $1.name) }
    }

    public static func structsText(_ rows: [StructRow]) -> String {
        var out = ""
        for r in rows {
            out += "\(sanitizeForText(r.file)):\(r.line): struct \(sanitizeForText(r.name)): \(r.chain.joined(separator: " → ")) (\(r.fields)) [\(r.direct ? "direct" : "indirect")]\n"
        }
        out += "\n"
        for core in DriverCore.coreObjects {
            let d = rows.filter { $0.kinds[core] == true }.count
            let i = rows.filter { $0.kinds[core] == false }.count
            out += "struct \(core): \(d + i) structs embed it (\(d) direct, \(i) indirect)\n"
        }
        out += "total: \(rows.count)\n"
        return out
    }

    public static func structsJSON(_ rows: [StructRow], root: String) -> String {
        var counts: [(String, JSONValue)] = []
        for core in DriverCore.coreObjects {
            counts.append((core, .object([("direct", .int(rows.filter { $0.kinds[core] == true }.count)),
                                         ("indirect", .int(rows.filter { $0.kinds[core] == false }.count))])))
        }
        return JSONValue.object([
            ("tool", .object([("name", .string(UnbindCheckVersion.name)), ("version", .string(UnbindCheckVersion.string))])),
            ("root", .string(root)),
            ("structs", .array(rows.map { r in .object([
                ("name", .string(r.name)), ("file", .string(r.file)), ("line", .int(Int(r.line))),
                ("chain", .array(r.chain.map { .string($0) })), ("fields", .string(r.fields)),
                ("core", .string(r.core)), ("direct", .bool(r.direct)),
                ("embeds", .object(DriverCore.coreObjects.compactMap { k in r.kinds[k].map { (k, JSONValue.string($0 ? "direct" : "indirect")) } })),
            ]) })),
            ("counts", .object(counts)),
        ]).serialized()
    }

    /// Registered object types, most exposed first (devm-allocating drivers, then errors).
    public static func subsystems(_ ctx: AnalysisContext) -> [(SubsystemObject, Int)] {
        var devm: [AggregateID: Set<FunctionID>] = [:]
        for site in ctx.allocations.sites where site.isDeviceManaged {
            guard let agg = site.aggregate, ctx.closure.embeddings[agg] != nil else { continue }
            // Count the allocation against each object type its chain passes through.
            if let emb = ctx.closure.embeddings[agg] {
                for step in emb.path where ctx.subsystems.objects[step] != nil { devm[step, default: []].insert(site.function) }
            }
        }
        let rank: [Protection: Int] = [.none: 0, .emptyRelease: 1, .releaseFrees: 2, .driverRelease: 3, .completion: 4, .waitEvent: 5, .revocation: 6]
        return ctx.subsystems.objects.values.map { ($0, devm[$0.aggregate]?.count ?? 0) }.sorted { a, b in
            if a.1 != b.1 { return a.1 > b.1 }
            if rank[a.0.protection]! != rank[b.0.protection]! { return rank[a.0.protection]! < rank[b.0.protection]! }
            return (ctx.index.path(a.0.aggregate.file), a.0.name) < (ctx.index.path(b.0.aggregate.file), b.0.name)
        }
    }

    /// Whether an object type belongs to a scope: its struct, or one of its register or
    /// unregister functions or its evidence, lies under the scoped paths.
    public static func subsystem(_ o: SubsystemObject, touches scope: ScanScope, ctx: AnalysisContext) -> Bool {
        if scope.prefixes == nil { return true }
        if scope.contains(ctx.index.path(o.aggregate.file)) { return true }
        if (o.register + o.unregister).contains(where: { scope.contains(ctx.index.path($0.file)) }) { return true }
        return o.evidence.contains { scope.contains($0.file) }
    }

    static func fnName(_ ctx: AnalysisContext, _ id: FunctionID) -> String { ctx.index.function(id).name }


    public static func subsystemsText(_ rows: [(SubsystemObject, Int)], ctx: AnalysisContext, limit: Int) -> String {
        var out = ""
        for (o, n) in rows.prefix(limit) {
            let a = ctx.index.aggregate(o.aggregate)
            out += "\(sanitizeForText(ctx.index.path(o.aggregate.file))):\(a.line): struct \(o.name) [\(o.protection.rawValue)] devm-allocating functions: \(n)\n"
            out += "    register:   \(ctx.apiOrder(o.register).prefix(6).joined(separator: ", "))\n"
            if !o.unregister.isEmpty { out += "    unregister: \(ctx.apiOrder(o.unregister).prefix(6).joined(separator: ", "))\n" }
            out += "    release:    \(o.release?.name ?? (o.driverSuppliedRelease ? "(driver-supplied)" : "(none)"))\n"
            for e in o.evidence { out += "    \(sanitizeForText(e.file)):\(e.line): \(sanitizeForText(e.message))\n" }
        }
        return out
    }

    public static func subsystemsJSON(_ rows: [(SubsystemObject, Int)], ctx: AnalysisContext) -> String {
        JSONValue.object([
            ("tool", .object([("name", .string(UnbindCheckVersion.name)), ("version", .string(UnbindCheckVersion.string))])),
            ("root", .string(ctx.index.root)),
            ("objects", .array(rows.map { (o, n) in .object([
                ("struct", .string(o.name)), ("file", .string(ctx.index.path(o.aggregate.file))),
                ("line", .int(Int(ctx.index.aggregate(o.aggregate).line))), ("core_field", .string(o.coreField)), ("core", .string(o.core)),
                ("register", .array(ctx.apiOrder(o.register).map { .string($0) })),
                ("unregister", .array(ctx.apiOrder(o.unregister).map { .string($0) })),
                ("release", o.release.map { .string($0.name) } ?? .null),
                ("protection", .string(o.protection.rawValue)),
                ("devm_allocations", .int(n)),
                ("evidence", .array(o.evidence.map { .object([("file", .string($0.file)), ("line", .int(Int($0.line))), ("message", .string($0.message))]) })),
            ]) })),
        ]).serialized()
    }

    /// `explain --struct NAME`.
    public static func explain(_ ctx: AnalysisContext, name: String) -> (String, JSONValue)? {
        let index = ctx.index
        guard let defs = index.aggregatesByName[name], !defs.isEmpty else { return nil }
        var text = ""
        var items: [JSONValue] = []
        for agg in defs.sorted() {
            let a = index.aggregate(agg)
            let path = index.path(agg.file)
            text += "\(sanitizeForText(path)):\(a.line): struct \(name)\n"
            var obj: [(String, JSONValue)] = [("file", .string(path)), ("line", .int(Int(a.line)))]
            if let emb = ctx.closure.embeddings[agg] {
                let chain = ctx.closure.chainNames(emb, index: index)
                text += "  chain: \(chain.joined(separator: " → ")) via \(ctx.closure.fieldPath(emb)) (\(emb.isDirect ? "direct" : "indirect"))\n"
                obj.append(("chain", .array(chain.map { .string($0) })))
                obj.append(("fields", .string(ctx.closure.fieldPath(emb))))
            } else {
                text += "  embeds no refcounted core object\n"
                obj.append(("chain", .array([])))
            }
            if let o = ctx.subsystems.objects[agg] {
                text += "  registered object: protection \(o.protection.rawValue); register \(ctx.apiOrder(o.register).prefix(4).joined(separator: ", ")); release \(o.release?.name ?? "-")\n"
                obj.append(("protection", .string(o.protection.rawValue)))
            }
            let sites = (ctx.allocations.byAggregate[agg] ?? []).map { ctx.allocations.sites[$0] }
            text += "  allocations (\(sites.count)):\n"
            var allocJSON: [JSONValue] = []
            for s in sites.sorted(by: { (index.path($0.function.file), $0.line) < (index.path($1.function.file), $1.line) }) {
                let fpath = index.path(s.function.file)
                let fname = index.function(s.function).name
                text += "    \(sanitizeForText(fpath)):\(s.line):\(s.column): \(s.allocator)() in \(fname) [\(s.isDeviceManaged ? "devm" : "heap"), typed by \(s.typing.rawValue)]\n"
                allocJSON.append(.object([("file", .string(fpath)), ("line", .int(Int(s.line))), ("column", .int(Int(s.column))),
                                          ("allocator", .string(s.allocator)), ("function", .string(fname)), ("devm", .bool(s.isDeviceManaged))]))
            }
            obj.append(("allocations", .array(allocJSON)))
            // Functions that receive its embedded objects: &x->field with x of this type.
            var receivers: [String: Int] = [:]
            for (fi, f) in index.files.enumerated() {
                for (ni, fn) in f.functions.enumerated() {
                    var view: FunctionView? = nil
                    for c in fn.calls where !c.callee.isEmpty {
                        for arg in fn.exprs.arguments(c.node) {
                            let n = fn.exprs[arg]
                            guard n.kind == .unary, fn.exprs.text(n) == "&", n.a >= 0, fn.exprs[n.a].kind == .member else { continue }
                            if view == nil { view = FunctionView(id: FunctionID(file: Int32(fi), index: Int32(ni)), resolver: ctx.resolver) }
                            guard let (t0, tf) = view!.type(of: fn.exprs[n.a].a) else { continue }
                            let t = fn.exprs[n.a].b == 1 ? (t0.dereferenced ?? t0) : t0
                            if ctx.resolver.aggregate(of: t, from: tf) == agg {
                                receivers["\(c.callee)(&…->\(fn.exprs.text(fn.exprs[n.a])))", default: 0] += 1
                            }
                        }
                    }
                }
            }
            text += "  receives its members (\(receivers.count)):\n"
            for (k, v) in receivers.sorted(by: { ($0.value, $1.key) > ($1.value, $0.key) }).prefix(30) { text += "    \(k) ×\(v)\n" }
            obj.append(("receivers", .array(receivers.keys.sorted().map { .string($0) })))
            items.append(.object(obj))
        }
        return (text, .object([("struct", .string(name)), ("definitions", .array(items))]))
    }
}

/// One allocation site for `unbindcheck allocations`.
public struct AllocationRow: Sendable {
    public var file: String
    public var line: Int32
    public var column: Int32
    public var function: String
    public var allocator: String
    public var isDeviceManaged: Bool
    /// The allocated type as written or inferred; empty when untyped.
    public var type: String
    public var structName: String
    public var typing: String
    public var target: String
    /// The refcounted object the struct embeds, if any.
    public var embeds: String
}

extension Listings {
    /// Every allocation site with its resolved type, for `unbindcheck allocations`.
    public static func allocations(_ ctx: AnalysisContext, devmOnly: Bool, untypedOnly: Bool) -> [AllocationRow] {
        let index = ctx.index
        return ctx.allocations.sites
            .filter { (!devmOnly || $0.isDeviceManaged) && (!untypedOnly || $0.typing == .untyped) }
            .sorted { (index.path($0.function.file), $0.line, $0.column) < (index.path($1.function.file), $1.line, $1.column) }
            .map { s in
                AllocationRow(file: index.path(s.function.file), line: s.line, column: s.column, function: index.function(s.function).name,
                              allocator: s.allocator, isDeviceManaged: s.isDeviceManaged, type: s.type?.spelling ?? "",
                              structName: s.aggregate.map { index.aggregate($0).name } ?? "", typing: s.typing.rawValue,
                              target: s.targetText, embeds: s.aggregate.flatMap { ctx.closure.embeddings[$0] }.map { $0.core } ?? "")
            }
    }

    /// The JSON listing of allocation sites.
    public static func allocationsJSON(_ rows: [AllocationRow], root: String) -> String {
        let items: [JSONValue] = rows.map { r in
            .object([
                ("file", .string(r.file)), ("line", .int(Int(r.line))), ("column", .int(Int(r.column))),
                ("function", .string(r.function)), ("allocator", .string(r.allocator)),
                ("devm", .bool(r.isDeviceManaged)), ("type", .string(r.type)),
                ("struct", .string(r.structName)), ("typing", .string(r.typing)),
                ("target", .string(r.target)), ("embeds", .string(r.embeds)),
            ])
        }
        return JSONValue.object([("root", .string(root)), ("allocations", .array(items))]).serialized()
    }

    /// One gcc-style line per allocation site.
    public static func allocationsText(_ rows: [AllocationRow]) -> String {
        rows.map { r in
            "\(sanitizeForText(r.file)):\(r.line):\(r.column): \(r.allocator)() in \(r.function) → \(r.type.isEmpty ? "(untyped)" : r.type) [\(r.typing)]\n"
        }.joined()
    }
}
