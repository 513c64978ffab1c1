import Facts
import Indexing

/// How a struct embeds a refcounted core object: the shortest chain of embedded fields.
public struct Embedding: Sendable, Hashable {
    public var aggregate: AggregateID
    /// Aggregates along the chain, from the struct itself to the core object.
    public var path: [AggregateID]
    /// Field names taken at each step (`""` for an anonymous member).
    public var fields: [String]
    /// The core object reached: device, kobject, kref or cdev.
    public var core: String
    /// The core object is a field of the struct itself (possibly through anonymous members or arrays).
    public var isDirect: Bool
}

/// Computes, for every struct/union, whether it embeds a core object and how. Fields are
/// resolved to the definition the defining file sees; pointers never embed.
public struct EmbeddingClosure: Sendable {
    public let embeddings: [AggregateID: Embedding]
    /// The core object definitions themselves.
    public let cores: [AggregateID: String]
    /// Embeddings per core kind: a struct can embed several kinds.
    public let byKind: [String: [AggregateID: Embedding]]

    /// Whether `agg` has a lifetime of its own: a core object, or a struct embedding one.
    public func isRefcounted(_ agg: AggregateID) -> Bool { cores[agg] != nil || embeddings[agg] != nil }

    public init(index: TreeIndex, resolver: Resolver) {
        // Core object definitions: prefer those in include/linux, else any of that name.
        var cores: [AggregateID: String] = [:]
        for name in DriverCore.coreObjects {
            let all = (index.aggregatesByName[name] ?? []).filter { !index.aggregate($0).isUnion }
            let generic = all.filter { index.path($0.file).hasPrefix("include/linux/") }
            for id in (generic.isEmpty ? all : generic) { cores[id] = name }
        }
        self.cores = cores
        // Reverse edges: embedded type -> (container, field name).
        var reverse: [AggregateID: [(AggregateID, String)]] = [:]
        var all: [AggregateID] = []
        for (fi, f) in index.files.enumerated() {
            for (ai, a) in f.aggregates.enumerated() {
                let id = AggregateID(file: Int32(fi), index: Int32(ai))
                all.append(id)
                if cores[id] != nil { continue }
                for field in a.fields where field.type.isEmbedded {
                    // Only a tag or a typedef name that can end in one gets past this (`aggregate(of:)`).
                    guard let target = resolver.aggregate(of: field.type, from: Int32(fi)), target != id else { continue }
                    // The typedef may have added a pointer.
                    let (expanded, _) = resolver.expandTypedef(field.type, from: Int32(fi))
                    guard expanded.isEmbedded else { continue }
                    reverse[target, default: []].append((id, field.name))
                }
            }
        }
        // One multi-source BFS per core kind; the first visit gives the shortest chain.
        var perKind: [String: [AggregateID: Embedding]] = [:]
        for kind in DriverCore.coreObjects {
            var frontier: [AggregateID] = cores.filter { $0.value == kind }.map(\.key).sorted()
            var chainTo: [AggregateID: (path: [AggregateID], fields: [String])] = [:]
            for c in frontier { chainTo[c] = ([c], []) }
            while !frontier.isEmpty {
                var next: [AggregateID] = []
                for target in frontier {
                    let (path, fields) = chainTo[target]!
                    for (container, field) in (reverse[target] ?? []).sorted(by: { ($0.0, $0.1) < ($1.0, $1.1) }) {
                        if chainTo[container] != nil || cores[container] != nil { continue }
                        chainTo[container] = ([container] + path, [field] + fields)
                        next.append(container)
                    }
                }
                frontier = next.sorted()
            }
            var found: [AggregateID: Embedding] = [:]
            for (id, c) in chainTo where cores[id] == nil {
                // Direct: no named struct between the container and the core object.
                let middle = c.path.dropFirst().dropLast()
                let direct = middle.allSatisfy { index.aggregate($0).isAnonymous }
                found[id] = Embedding(aggregate: id, path: c.path, fields: c.fields, core: kind, isDirect: direct)
            }
            perKind[kind] = found
        }
        // The embedding reported for a struct: shortest chain, then device > kobject > cdev > kref.
        var result: [AggregateID: Embedding] = [:]
        for kind in DriverCore.coreObjects {
            for (id, e) in perKind[kind]! {
                if let old = result[id], old.path.count <= e.path.count { continue }
                result[id] = e
            }
        }
        byKind = perKind
        embeddings = result
    }

    /// The struct a field of `agg` embeds (not a pointer, also through typedefs), with the
    /// core object kind when that struct is one.
    public func embeddedStruct(field: String, in agg: AggregateID, resolver: Resolver) -> (AggregateID, String?)? {
        guard let (ft, ff) = resolver.field(named: field, in: agg), ft.isEmbedded,
              let next = resolver.aggregate(of: ft, from: ff), resolver.expandTypedef(ft, from: ff).0.isEmbedded else { return nil }
        return (next, cores[next])
    }

    /// The core object kind a field of `agg` embeds directly, if any.
    public func coreKind(ofField field: String, in agg: AggregateID, resolver: Resolver) -> String? {
        embeddedStruct(field: field, in: agg, resolver: resolver)?.1
    }

    /// Type names along the chain, anonymous members left out: `[spi_nor, mtd_info, device]`.
    public func chainNames(_ e: Embedding, index: TreeIndex) -> [String] {
        e.path.compactMap { let a = index.aggregate($0); return a.isAnonymous ? nil : a.name }
    }

    /// Field path to the core object: `mtd.dev`.
    public func fieldPath(_ e: Embedding) -> String {
        e.fields.filter { !$0.isEmpty }.joined(separator: ".")
    }
}
