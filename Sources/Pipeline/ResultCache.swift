import Foundation
import Facts
import CFrontend
import Indexing
import Analysis
import Findings
import Checks
import Reporting

/// Whole results (a scan's findings, a command's output) kept in the persistent index
/// under (tool version, command and options, tree manifest hash), so that a rerun on an
/// unchanged tree reads them back instead of parsing and analysing. The manifest hash
/// covers every file's path and content hash, so any change of content misses.
public enum ResultCache {
    /// The tree's manifest hash when every file's (size, mtime) still matches what the
    /// store recorded (nothing is read but `stat`); nil when anything changed, is new or
    /// was never stored.
    public static func unchangedManifest(tree: SourceTree, store: FactStore) -> String? {
        guard tree.problems.isEmpty, !tree.files.isEmpty else { return nil }
        guard let id = try? store.treeID(root: CachedIndexer.canonicalRoot(tree.root)),
              let manifest = try? store.manifest(tree: id) else { return nil }
        var hasher = ManifestHasher()
        for f in tree.files {
            guard let m = manifest[f.relativePath], m.describes(f) else { return nil }
            hasher.add(f.relativePath, m.hash)
        }
        return hasher.hex
    }

    /// The key of a result: the tool's version tag and build, the parts (command, options,
    /// the tree's canonical root, never the last part), then the manifest hash (last, after
    /// `|`). The store drops the results of a tree whose root is gone by finding the root
    /// between two separators (`FactStore.collectGarbage`).
    public static func key(_ parts: [String], manifest: String) -> String {
        buildPrefix + parts.joined(separator: "\u{1f}") + "|" + manifest
    }

    /// How every key of this build starts (the version tag and the build).
    static var buildPrefix: String { FactStore.versionTag + "\u{1f}" + build + "\u{1f}" }

    /// The running executable's size and modification time: a rebuilt tool (whose checks
    /// may answer differently under the same version number) never reads the results of
    /// another build. Stored facts depend only on the fact encoding's version.
    static let build: String = {
        var st = stat()
        guard stat("/proc/self/exe", &st) == 0 else { return "build unknown" }
        return "build \(st.st_size) \(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)"
    }()

    public static func load<T: Decodable>(_ type: T.Type, key: String, store: FactStore) -> T? {
        guard let bytes = store.report(key: key) else { return nil }
        return try? JSONDecoder().decode(T.self, from: Data(bytes))
    }

    public static func save<T: Encodable>(_ value: T, key: String, store: FactStore) {
        save(value, keys: [key], store: store)
    }

    /// Stores `value` under each of `keys`, encoded once; the results of other builds are
    /// dropped (see `FactStore.storeReport`).
    public static func save<T: Encodable>(_ value: T, keys: [String], store: FactStore) {
        guard let data = try? JSONEncoder().encode(value) else { return }
        store.storeReport(keys: keys, value: [UInt8](data), build: buildPrefix)
    }
}

/// What a whole-tree scan keeps: every finding of every check and the numbers and
/// listings its reports need, so that any format, scope, baseline or patch filter can be
/// answered from it.
public struct CachedScan: Codable, Sendable {
    public var findings: [Finding]
    public var files: Int
    public var bytes: Int
    public var structs: Int
    public var functions: Int
    public var allocations: Int
    public var devmAllocations: Int
    public var untypedDevmAllocations: Int
    /// Whole-tree subsystem rows (HTML pages).
    public var subsystems: [SubsystemRow]
    /// Rendered whole-tree listings by file name (`subsystems.txt`, `structs.json`, …).
    public var listings: [String: String]

    public init(findings: [Finding], stats: ScanStats, subsystems: [SubsystemRow], listings: [String: String]) {
        self.findings = findings
        files = stats.files; bytes = stats.bytes; structs = stats.structs; functions = stats.functions
        allocations = stats.allocations; devmAllocations = stats.devmAllocations; untypedDevmAllocations = stats.untypedDevmAllocations
        self.subsystems = subsystems
        self.listings = listings
    }

    public func stats(seconds: Double) -> ScanStats {
        ScanStats(files: files, bytes: bytes, structs: structs, functions: functions, seconds: seconds,
                  allocations: allocations, devmAllocations: devmAllocations, untypedDevmAllocations: untypedDevmAllocations)
    }
}

/// A command's rendered output and exit status (listing commands and triage).
public struct CachedOutput: Codable, Sendable {
    public var text: String
    public var status: Int32
    public init(text: String, status: Int32) { self.text = text; self.status = status }
}
