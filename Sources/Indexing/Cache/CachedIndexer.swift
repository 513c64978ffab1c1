import Dispatch
import Foundation
import Facts
import CFrontend

/// Parses a tree through the persistent index: a file whose (size, mtime) match the tree's
/// manifest keeps its stored hash; any other file is read and hashed; content already
/// stored (from this tree, another tree or another kernel version) is decoded instead of
/// parsed. New content and changed manifest rows are written back in one transaction, in
/// the background while the analysis runs.
/// The facts are the ones a run without the cache produces (same values, same order).
public enum CachedIndexer {
    /// What a cached run did, for `--verbose` and tests.
    public struct Stats: Sendable, Equatable {
        public var files = 0
        /// Files whose hash came from the manifest (not read).
        public var unchanged = 0
        /// Files read and hashed.
        public var hashed = 0
        /// Files parsed (content not in the store).
        public var parsed = 0
        /// Files decoded from the store.
        public var loaded = 0
        /// Hash of the tree's (path, content hash) list: equal trees, equal manifests.
        public var manifestHash = ""
        /// Hash of the tree's (path, facts hash) list: equal facts, equal results, even
        /// where the text differs (a comment, a touched file).
        public var factsManifestHash = ""
    }

    enum Slot {
        case empty
        /// Facts from the store will fill it (hash known).
        case stored(ContentHash)
        /// Parsed now; the content goes to the store (none for an unreadable file).
        case parsed(FileFacts, FactStore.NewContent?)
    }

    /// Per-file slots written by the workers (each index by one worker only).
    private final class Slots: @unchecked Sendable {
        let slots: UnsafeMutableBufferPointer<Slot>
        let hashes: UnsafeMutableBufferPointer<ContentHash?>
        let facts: UnsafeMutableBufferPointer<FileFacts?>
        var next = 0
        let lock = NSLockLite()
        init(_ n: Int) {
            slots = .allocate(capacity: n); slots.initialize(repeating: .empty)
            hashes = .allocate(capacity: n); hashes.initialize(repeating: nil)
            facts = .allocate(capacity: n); facts.initialize(repeating: nil)
        }
        deinit {
            slots.deinitialize(); slots.deallocate()
            hashes.deinitialize(); hashes.deallocate()
            facts.deinitialize(); facts.deallocate()
        }
        func take() -> Int { lock.lock(); defer { lock.unlock() }; let k = next; next += 1; return k }
        func reset() { lock.lock(); next = 0; lock.unlock() }
    }

    /// Parses `files` (of the tree at `root`) with the store. Throws `FactStore.Problem`
    /// when the store turns out to be damaged; the caller reports it, rebuilds the store
    /// and runs again.
    static func parseAll(_ files: [SourceFile], root: String, store: FactStore, jobs: Int,
                                progress: ScanProgress? = nil) throws -> (facts: [FileFacts], stats: Stats) {
        let treeKey = canonicalRoot(root)
        let tree = try store.treeID(root: treeKey)
        let manifest = try store.manifest(tree: tree)
        let known = try store.factsHashes()
        var stats = Stats()
        stats.files = files.count
        let slots = Slots(files.count)
        let order = files.indices.sorted { (files[$0].size, files[$1].relativePath) > (files[$1].size, files[$0].relativePath) }
        let workers = max(1, min(jobs, files.count))

        // 1. Hash (or trust the manifest), parse what the store lacks.
        hashOrParse(files, order: order, manifest: manifest, known: known, slots: slots, workers: workers, progress: progress)

        // 2. Read the stored blobs and decode them in parallel.
        var fromStore: [Int] = []
        for i in files.indices {
            if case .stored(let h) = slots.slots[i] {
                fromStore.append(i)
                if manifest[files[i].relativePath]?.hash == h { stats.unchanged += 1 } else { stats.hashed += 1 }
            } else if case .parsed = slots.slots[i] {
                stats.parsed += 1
                stats.hashed += 1
            }
        }
        stats.loaded = fromStore.count
        let fromStoreList = fromStore
        let failed = decodeStored(files, indices: fromStoreList, store: store, slots: slots, jobs: jobs)
        if failed.isSet { throw FactStore.Problem(description: "is corrupt (a stored facts blob is missing, or failed its checksum or decoding)") }

        // 3. Collect in file order; write back what is new.
        var facts: [FileFacts] = []
        facts.reserveCapacity(files.count)
        var newContent: [FactStore.NewContent] = []
        var seenNew = Set<ContentHash>()
        var updates: [FactStore.ManifestUpdate] = []
        var manifestHasher = ManifestHasher()
        var factsHasher = ManifestHasher()
        for i in files.indices {
            let file = files[i]
            switch slots.slots[i] {
            case .parsed(let f, let content):
                facts.append(f)
                slots.slots[i] = .empty
                factsHasher.add(file.relativePath, content?.factsHash)
                if let content, seenNew.insert(content.hash).inserted { newContent.append(content) }
            case .stored(let h):
                facts.append(slots.facts[i] ?? FileFacts(path: file.relativePath, bytes: 0))
                slots.facts[i] = nil
                factsHasher.add(file.relativePath, known[h])
            case .empty:
                facts.append(FileFacts(path: file.relativePath, bytes: 0))
                factsHasher.add(file.relativePath, nil)
            }
            if let h = slots.hashes[i] {
                manifestHasher.add(file.relativePath, h)
                let m = manifest[file.relativePath]
                if m == nil || m!.hash != h || m!.size != Int64(file.size) || m!.mtime != file.mtimeNanos {
                    updates.append(.init(path: file.relativePath, size: Int64(file.size), mtime: file.mtimeNanos, hash: h))
                }
            } else {
                manifestHasher.add(file.relativePath, nil)
            }
        }
        stats.manifestHash = manifestHasher.hex
        stats.factsManifestHash = factsHasher.hex
        store.storeInBackground(tree: tree, content: newContent, manifest: updates)
        return (facts, stats)
    }

    /// Step 1 of `parseAll`, on `workers` threads: trusts the manifest for files whose size
    /// and mtime match, hashes the others, and parses content the store does not hold.
    private static func hashOrParse(_ files: [SourceFile], order: [Int], manifest: [String: FactStore.ManifestEntry], known: [ContentHash: ContentHash],
                                    slots: Slots, workers: Int, progress: ScanProgress?) {
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while true {
                let k = slots.take()
                if k >= order.count { break }
                let i = order[k]
                let file = files[i]
                if let m = manifest[file.relativePath], m.describes(file), known[m.hash] != nil {
                    slots.hashes[i] = m.hash
                    slots.slots[i] = .stored(m.hash)
                    progress?.advance()
                    continue
                }
                let slot = readAndParse(file, known: known)
                if case .stored(let h) = slot { slots.hashes[i] = h } else if case .parsed(_, let content) = slot { slots.hashes[i] = content?.hash }
                slots.slots[i] = slot
                progress?.advance()
            }
        }
    }

    /// Reads and hashes one file, and parses it when the store lacks its content.
    static func readAndParse(_ file: SourceFile, known: [ContentHash: ContentHash]) -> Slot {
        CrashContext.reading(file.relativePath) {
            let (data, error) = readWholeFile(file.fullPath)
            guard let bytes = data else {
                var f = FileFacts(path: file.relativePath, bytes: 0)
                f.unreadable = error ?? "cannot read"
                return .parsed(f, nil)
            }
            let hash = bytes.withUnsafeBytes { ContentHash(of: $0) }
            if known[hash] != nil { return .stored(hash) }
            let facts = Indexer.parse(bytes: bytes, path: file.relativePath)
            if facts.unreadable != nil { return .parsed(facts, nil) }
            return .parsed(facts, FactStore.NewContent(hash: hash, facts: facts))
        }
    }

    /// The stored encoding: the file's size is kept in its own column, so that the facts
    /// hash covers what the analysis reads, not the text's length.
    static func encodeWithoutSize(_ facts: FileFacts) -> [UInt8] {
        var f = facts
        f.bytes = 0
        return FactsCodec.encode(f)
    }

    /// Step 2 of `parseAll`: reads and decodes the stored blobs of `indices` in parallel,
    /// each worker on its own connection, checking each blob's checksum; the returned flag
    /// is set when one failed.
    private static func decodeStored(_ files: [SourceFile], indices fromStoreList: [Int], store: FactStore,
                                     slots: Slots, jobs: Int) -> ParallelFlag {
        let failed = ParallelFlag()
        slots.reset()
        DispatchQueue.concurrentPerform(iterations: max(1, min(jobs, fromStoreList.count))) { _ in
            let reader = FactStore.BlobReader(store)
            do {
                try reader.read { lookup in
                    while true {
                        let k = slots.take()
                        if k >= fromStoreList.count || failed.isSet { break }
                        let i = fromStoreList[k]
                        guard case .stored(let h) = slots.slots[i] else { continue }
                        let f: FileFacts?? = try? lookup.withBlob(h) { raw, checksum, size in
                            guard blobChecksum(raw) == checksum, var f = try? FactsCodec.decode(raw, path: files[i].relativePath) else { return nil }
                            f.bytes = size
                            return f
                        }
                        if let f = f ?? nil { slots.facts[i] = f } else { failed.set() }
                    }
                }
            } catch {
                failed.set()
            }
        }
        return failed
    }

    /// The tree's root as an absolute path without symbolic links (its key in `tree`).
    public static func canonicalRoot(_ root: String) -> String {
        guard let r = realpath(root, nil) else { return root }
        defer { free(r) }
        return String(cString: r)
    }
}

/// A flag set by any worker.
final class ParallelFlag: @unchecked Sendable {
    private let lock = NSLockLite()
    private var value = false
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
    func set() { lock.lock(); value = true; lock.unlock() }
}

/// SHA-256 over the tree's sorted (path, content hash) list.
public struct ManifestHasher {
    private var bytes: [UInt8] = []
    public init() {}
    public mutating func add(_ path: String, _ hash: ContentHash?) {
        bytes.append(contentsOf: path.utf8)
        bytes.append(0)
        var w = hash.map { ($0.w0, $0.w1, $0.w2, $0.w3) } ?? (0, 0, 0, 0)
        withUnsafeBytes(of: &w) { bytes.append(contentsOf: $0) }
    }
    public var hex: String {
        let h = bytes.withUnsafeBytes { ContentHash(of: $0) }
        return [h.w0, h.w1, h.w2, h.w3].map { w in
            let s = String(w, radix: 16)
            return String(repeating: "0", count: 16 - s.count) + s
        }.joined()
    }
}
