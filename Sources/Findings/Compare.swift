import Facts
import Indexing

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A finding as `compare` sees it: read from a JSON report or taken from a scan.
public struct ComparedFinding: Sendable, Hashable, Decodable {
    public var check: String
    public var severity: String
    public var file: String
    public var line: Int
    public var function: String
    public var structName: String
    public var object: String
    public var message: String
    public var fingerprint: String

    enum CodingKeys: String, CodingKey {
        case check, severity, file, line, function, structName = "struct", object, message, fingerprint
    }

    public init(_ f: Finding) {
        check = f.check; severity = f.severity.rawValue; file = f.file; line = Int(f.line); function = f.function
        structName = f.structName; object = f.object; message = f.message; fingerprint = f.fingerprint
    }

    /// The fingerprint without its file: what survives a rename of the file.
    var movedKey: String {
        var fields = fingerprint.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        if fields.count >= 2 { fields.remove(at: 1) }
        return fields.joined(separator: "|")
    }

    /// check, function, struct and object: what survives a rename and a reworded message.
    var identity: String { [check, function, structName, object].joined(separator: "|") }

    /// check, object and struct, for findings about an object: what survives a move of the
    /// finding to another function or file (the same core, re-anchored by a refactor).
    var objectIdentity: String { object.isEmpty ? "" : [check, object, structName].joined(separator: "|") }

    /// The subsystem a finding belongs to: its object, or the struct, or none.
    public var subsystem: String { !object.isEmpty ? object : (!structName.isEmpty ? structName : "(none)") }

    /// The first two directories of its path (`drivers/mtd`).
    public var area: String {
        let parts = file.split(separator: "/")
        return parts.count <= 1 ? "." : parts.prefix(min(2, parts.count - 1)).joined(separator: "/")
    }
}

/// Findings fixed, introduced and persisting between two versions of a tree.
public struct Comparison: Sendable {
    public var fixed: [ComparedFinding] = []
    public var introduced: [ComparedFinding] = []
    /// (old, new) pairs; the file differs when the finding moved with a renamed file.
    public var persisting: [(old: ComparedFinding, new: ComparedFinding)] = []

    /// Matches by fingerprint; then, for the rest, by fingerprint without the file (renamed
    /// files); then by check, function, struct and object (renamed and reworded), each in
    /// report order so that repeated findings pair up one to one; then an object's only
    /// unmatched finding on each side, by check, object and struct (moved).
    public init(old: [ComparedFinding], new: [ComparedFinding]) {
        var leftOld = old, leftNew = new
        var pairs: [(ComparedFinding, ComparedFinding)] = []
        for key in [\ComparedFinding.fingerprint, \ComparedFinding.movedKey, \ComparedFinding.identity] {
            var pool: [String: [Int]] = [:]
            for (i, f) in leftNew.enumerated() { pool[f[keyPath: key], default: []].append(i) }
            var usedNew = Set<Int>()
            var restOld: [ComparedFinding] = []
            for f in leftOld {
                if var c = pool[f[keyPath: key]], !c.isEmpty {
                    let j = c.removeFirst()
                    pool[f[keyPath: key]] = c
                    usedNew.insert(j)
                    pairs.append((f, leftNew[j]))
                } else { restOld.append(f) }
            }
            leftOld = restOld
            leftNew = leftNew.enumerated().filter { !usedNew.contains($0.offset) }.map(\.element)
        }
        // Last, an object's one finding on each side that is still unmatched (moved to another
        // function or file): several on a side could pair wrongly, so they stay apart.
        var oldCount: [String: Int] = [:], newCount: [String: Int] = [:]
        for f in leftOld where !f.objectIdentity.isEmpty { oldCount[f.objectIdentity, default: 0] += 1 }
        for f in leftNew where !f.objectIdentity.isEmpty { newCount[f.objectIdentity, default: 0] += 1 }
        let unique = Set(oldCount.filter { $0.value == 1 && newCount[$0.key] == 1 }.keys)
        let moved = Dictionary(uniqueKeysWithValues: leftNew.filter { unique.contains($0.objectIdentity) }.map { ($0.objectIdentity, $0) })
        for f in leftOld { if let n = moved[f.objectIdentity] { pairs.append((f, n)) } }
        leftOld.removeAll { unique.contains($0.objectIdentity) }
        leftNew.removeAll { unique.contains($0.objectIdentity) }
        fixed = leftOld
        introduced = leftNew
        persisting = pairs.sorted { ($0.1.file, $0.1.line) < ($1.1.file, $1.1.line) }.map { (old: $0.0, new: $0.1) }
    }

    /// Counts per group (subsystem or area): fixed, introduced, persisting.
    public func counts(by group: (ComparedFinding) -> String) -> [(String, Int, Int, Int)] {
        var d: [String: (Int, Int, Int)] = [:]
        for f in fixed { d[group(f), default: (0, 0, 0)].0 += 1 }
        for f in introduced { d[group(f), default: (0, 0, 0)].1 += 1 }
        for p in persisting { d[group(p.new), default: (0, 0, 0)].2 += 1 }
        return d.map { ($0.key, $0.value.0, $0.value.1, $0.value.2) }.sorted { a, b in
            let ta = a.1 + a.2, tb = b.1 + b.2
            return ta != tb ? ta > tb : (a.3 != b.3 ? a.3 > b.3 : a.0 < b.0)
        }
    }

    /// Reads the findings of a `scan --format json` report.
    public static func findings(inReport bytes: [UInt8]) throws -> [ComparedFinding] {
        struct File: Decodable { var findings: [ComparedFinding] }
        return try JSONDecoder().decode(File.self, from: Data(bytes)).findings
    }
}
