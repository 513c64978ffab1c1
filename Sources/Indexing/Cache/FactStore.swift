import Crypto
import Foundation
import GRDB
import Facts
import CFrontend

/// A SHA-256 content hash (32 bytes as four words, so that sets and dictionaries of them
/// are cheap).
public struct ContentHash: Hashable, Sendable {
    var w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64

    public init(of bytes: UnsafeRawBufferPointer) {
        let digest = SHA256.hash(data: bytes)
        var w: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        digest.withUnsafeBytes { d in
            withUnsafeMutableBytes(of: &w) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: d.prefix(32))) }
        }
        (w0, w1, w2, w3) = w
    }

    init?(data: Data) {
        guard data.count == 32 else { return nil }
        var w: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        data.withUnsafeBytes { d in withUnsafeMutableBytes(of: &w) { $0.copyMemory(from: d) } }
        (w0, w1, w2, w3) = w
    }

    /// Lowercase hexadecimal, 64 digits.
    public var hex: String {
        [w0, w1, w2, w3].map { w in
            let s = String(w.byteSwapped, radix: 16)
            return String(repeating: "0", count: 16 - s.count) + s
        }.joined()
    }

    var data: Data {
        var w = (w0, w1, w2, w3)
        return withUnsafeBytes(of: &w) { Data($0) }
    }
}

/// A 64-bit checksum of a stored blob (FNV-1a over 8-byte words, then the tail), checked
/// before a blob is decoded: a damaged page is detected, not decoded into wrong facts.
@inline(__always)
func blobChecksum(_ p: UnsafeRawBufferPointer) -> Int64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    let words = p.count / 8
    var k = 0
    while k < words {
        h = (h ^ p.loadUnaligned(fromByteOffset: k * 8, as: UInt64.self)) &* 0x100_0000_01b3
        k += 1
    }
    for j in (words * 8)..<p.count { h = (h ^ UInt64(p[j])) &* 0x100_0000_01b3 }
    return Int64(bitPattern: h ^ UInt64(p.count))
}

/// The persistent index: per-file facts keyed by content hash, each tree's path → (size,
/// mtime, hash) map, and queryable rows (structs, members, calls of interest) for sqlite3.
/// Every problem with the database — corrupt, foreign, another schema, locked — is
/// reported in one line by the caller and the database is rebuilt (or, when locked, left
/// alone for this run); nothing read from it is trusted without checks.
public final class FactStore: @unchecked Sendable {
    /// Bumped when the tables change; with `FactsCodec.formatVersion` and the tool version
    /// it decides whether an existing database is reused.
    static let schemaVersion = 3
    static let applicationID: Int32 = 0x5542_4331 // "UBC1"
    public static var versionTag: String { "schema \(schemaVersion), facts \(FactsCodec.formatVersion), tool \(UnbindCheckVersion.string)" }

    /// Why an existing database was not used.
    struct Problem: Error, CustomStringConvertible {
        public var description: String
        /// Locked by another process: left alone, this run goes without the cache.
        var isLocked = false
    }

    public let path: String
    let queue: DatabaseQueue
    /// The manifest and facts hashes read ahead (`prefetch`), until the first write.
    private var snapshot: Snapshot?
    private let snapshotLock = NSLockLite()

    /// The database file for a `--cache` argument: a directory (existing, or spelled with a
    /// trailing `/`) holds `index.sqlite`; anything else is the file itself.
    public static func databasePath(forCacheArgument arg: String) -> String {
        if arg.hasSuffix("/") { return arg + "index.sqlite" }
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: arg, isDirectory: &isDir), isDir.boolValue { return arg + "/index.sqlite" }
        return arg
    }

    /// The default cache directory: `$XDG_CACHE_HOME/unbindcheck/`, else `~/.cache/unbindcheck/`.
    public static func defaultCacheDirectory() -> String {
        let env = ProcessInfo.processInfo.environment
        if let x = env["XDG_CACHE_HOME"], x.hasPrefix("/") { return x + "/unbindcheck/" }
        let home = env["HOME"] ?? NSHomeDirectory()
        return home + "/.cache/unbindcheck/"
    }

    /// Opens (creating when needed) the database at `path`. Throws `Problem` when an
    /// existing file cannot be used as it is; `openOrRebuild` handles that.
    init(path: String) throws {
        self.path = path
        var config = Configuration()
        config.busyMode = .timeout(2)
        config.label = "unbindcheck-cache"
        do {
            queue = try DatabaseQueue(path: path, configuration: config)
            try queue.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA journal_mode = WAL")
                try db.execute(sql: "PRAGMA synchronous = NORMAL")
            }
            try Self.validateOrCreate(queue)
        } catch let e as Problem {
            throw e
        } catch let e as DatabaseError {
            throw Problem(description: Self.explain(e), isLocked: e.resultCode == .SQLITE_BUSY || e.resultCode == .SQLITE_LOCKED)
        }
    }

    static func explain(_ e: DatabaseError) -> String {
        switch e.resultCode {
        case .SQLITE_BUSY, .SQLITE_LOCKED: return "locked by another process"
        case .SQLITE_CORRUPT: return "corrupt (\(e.message ?? "malformed"))"
        case .SQLITE_NOTADB: return "not a database"
        default: return e.message ?? "\(e.resultCode)"
        }
    }

    /// Opens the database at `path`, rebuilding it when it is corrupt, foreign or of
    /// another version; returns nil (after a one-line message) when it is locked or the
    /// directory cannot be written. `warn` gets one line per problem.
    public static func openOrRebuild(path: String, warn: (String) -> Void) -> FactStore? {
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty { try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        do {
            return try FactStore(path: path)
        } catch let p as Problem {
            if p.isLocked {
                warn("unbindcheck: cache \(path) is locked by another process; running without it")
                return nil
            }
            warn("unbindcheck: cache \(path) \(p.description); rebuilt")
        } catch {
            warn("unbindcheck: cache \(path) unusable (\(error)); rebuilt")
        }
        removeDatabaseFiles(path)
        do { return try FactStore(path: path) } catch {
            warn("unbindcheck: cache \(path) cannot be created (\(error)); running without it")
            return nil
        }
    }

    static func removeDatabaseFiles(_ path: String) {
        for suffix in ["", "-wal", "-shm", "-journal"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }

    /// Deletes the database and creates an empty one (after a blob failed its checks).
    static func rebuild(_ store: FactStore) -> FactStore? {
        let path = store.path
        try? store.queue.close()
        removeDatabaseFiles(path)
        return try? FactStore(path: path)
    }

    static func validateOrCreate(_ queue: DatabaseQueue) throws {
        try queue.write { db in
            let appID = try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0
            let tables = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'")
            if tables.isEmpty && appID == 0 {
                try createSchema(db)
                return
            }
            guard appID == applicationID, tables.contains("meta") else {
                throw Problem(description: "is not an unbindcheck index (foreign database)")
            }
            let tag = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'version'")
            guard tag == versionTag else {
                throw Problem(description: "has \(tag ?? "no version"), this tool needs \(versionTag)")
            }
        }
    }

    static func createSchema(_ db: Database) throws {
        try db.execute(sql: """
            PRAGMA application_id = \(applicationID);
            CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE content (
                hash BLOB PRIMARY KEY,        -- SHA-256 of the file's bytes
                bytes INTEGER NOT NULL,       -- file size
                checksum INTEGER NOT NULL,    -- of the facts blob, checked before decoding
                facts_hash BLOB NOT NULL,     -- SHA-256 of facts: equal facts, equal results
                facts BLOB NOT NULL           -- FactsCodec encoding (path and size left out);
                                              -- last, so reading the other columns skips it
            );
            CREATE TABLE tree (id INTEGER PRIMARY KEY, root TEXT NOT NULL UNIQUE);
            CREATE TABLE tree_file (
                tree INTEGER NOT NULL REFERENCES tree(id),
                path TEXT NOT NULL,           -- relative to the tree's root
                size INTEGER NOT NULL,
                mtime_ns INTEGER NOT NULL,
                hash BLOB NOT NULL,           -- content.hash
                PRIMARY KEY (tree, path)
            ) WITHOUT ROWID;
            CREATE INDEX tree_file_hash ON tree_file(hash);
            CREATE TABLE content_rows (
                hash BLOB PRIMARY KEY,        -- content.hash
                structs TEXT NOT NULL,        -- JSON: [[name, is_union, line], …]
                members TEXT NOT NULL,        -- JSON: [[struct, member, type_kind, type, embedded, line], …]
                calls TEXT NOT NULL           -- JSON: [[function, callee, kind, line, column, argument], …]
            );
            CREATE VIEW struct_def AS SELECT r.hash AS hash,
                CAST(json_extract(j.value, '$[0]') AS TEXT) AS name,
                CAST(json_extract(j.value, '$[1]') AS INTEGER) AS is_union,
                CAST(json_extract(j.value, '$[2]') AS INTEGER) AS line
                FROM content_rows r, json_each(r.structs) j;
            CREATE VIEW struct_member AS SELECT r.hash AS hash,
                CAST(json_extract(j.value, '$[0]') AS TEXT) AS struct,
                CAST(json_extract(j.value, '$[1]') AS TEXT) AS member,
                CAST(json_extract(j.value, '$[2]') AS TEXT) AS type_kind,   -- struct, union, enum, named, builtin, unknown
                CAST(json_extract(j.value, '$[3]') AS TEXT) AS type,        -- the tag or typedef name
                CAST(json_extract(j.value, '$[4]') AS INTEGER) AS embedded, -- 1: held by value (not a pointer)
                CAST(json_extract(j.value, '$[5]') AS INTEGER) AS line
                FROM content_rows r, json_each(r.members) j;
            CREATE VIEW call_site AS SELECT r.hash AS hash,
                CAST(json_extract(j.value, '$[0]') AS TEXT) AS function,
                CAST(json_extract(j.value, '$[1]') AS TEXT) AS callee,
                CAST(json_extract(j.value, '$[2]') AS TEXT) AS kind,        -- devm-alloc, register, unregister, driver-core
                CAST(json_extract(j.value, '$[3]') AS INTEGER) AS line,
                CAST(json_extract(j.value, '$[4]') AS INTEGER) AS column,
                CAST(json_extract(j.value, '$[5]') AS TEXT) AS argument     -- the first argument as written
                FROM content_rows r, json_each(r.calls) j;
            CREATE TABLE report (
                key TEXT PRIMARY KEY,         -- tool version, options and tree manifest hash
                value BLOB NOT NULL
            );
            CREATE VIEW file_struct AS SELECT tf.tree, tf.path, s.* FROM tree_file tf JOIN struct_def s ON s.hash = tf.hash;
            CREATE VIEW file_member AS SELECT tf.tree, tf.path, m.* FROM tree_file tf JOIN struct_member m ON m.hash = tf.hash;
            CREATE VIEW file_call AS SELECT tf.tree, tf.path, c.* FROM tree_file tf JOIN call_site c ON c.hash = tf.hash;
            """)
        try db.execute(sql: "INSERT INTO meta (key, value) VALUES ('format', 'unbindcheck-index'), ('version', ?)", arguments: [versionTag])
    }

    // MARK: - Reading

    /// A tree's id (created when new).
    public func treeID(root: String) throws -> Int64 {
        try queue.write { db in
            try db.execute(sql: "INSERT OR IGNORE INTO tree (root) VALUES (?)", arguments: [root])
            return try Int64.fetchOne(db, sql: "SELECT id FROM tree WHERE root = ?", arguments: [root]) ?? 0
        }
    }

    public struct ManifestEntry: Sendable {
        public var size: Int64; public var mtime: Int64; public var hash: ContentHash

        /// Whether this row still describes `file` (same size and a known, same mtime), so
        /// that its stored hash can be trusted without reading the file.
        public func describes(_ file: SourceFile) -> Bool {
            size == Int64(file.size) && mtime == file.mtimeNanos && file.mtimeNanos != 0
        }
    }

    /// What a run reads before it parses: a tree's manifest and every stored content's
    /// facts hash, read once on a background thread while the tree is walked. A write of
    /// facts for the same tree advances it (`advancedSnapshot`); any other write drops it
    /// (the next read goes to the database, behind the write).
    private final class Snapshot: @unchecked Sendable {
        let ready = DispatchGroup()
        var tree: Int64?
        var manifest: [String: ManifestEntry]?
        var known: [ContentHash: ContentHash]?
        /// Made by `advancedSnapshot`: a reader first waits for the queued write, so that
        /// the content it names can be read from the database.
        var followsWrite = false
        /// Set (on the database's thread) when that write failed: readers then go to the
        /// database instead.
        var writeFailed = false
    }

    /// The snapshot as the write of `content` and `updates` to `tree` will leave the
    /// database (or forgetting a little more content), so that a later read in this run
    /// needs no second trip to it (a code edit's scan used to read the manifest and the
    /// facts hashes twice); nil when the current one does not hold that tree's manifest.
    /// Readers holding the old snapshot keep it.
    private func advancedSnapshot(tree: Int64, content: [NewContent], manifest updates: [ManifestUpdate]) -> Snapshot? {
        guard let old = readAhead(), old.tree == tree, var rows = old.manifest, var known = old.known else { return nil }
        for c in content { known[c.hash] = c.factsHash }
        var replaced: [ContentHash] = []
        for m in updates {
            if let before = rows[m.path]?.hash, before != m.hash { replaced.append(before) }
            rows[m.path] = ManifestEntry(size: m.size, mtime: m.mtime, hash: m.hash)
        }
        // The write collects content no row refers to. Another tree's rows may still keep
        // it; forgetting it here is safe either way (such content would be parsed again).
        if !replaced.isEmpty {
            let referenced = Set(rows.values.lazy.map(\.hash))
            for h in replaced where !referenced.contains(h) { known.removeValue(forKey: h) }
        }
        let s = Snapshot()
        s.tree = tree
        s.manifest = rows
        s.known = known
        s.followsWrite = true
        return s
    }

    /// Starts reading the manifest of the tree at `root` (canonical) and the facts hashes,
    /// for `manifest(tree:)` and `factsHashes()` to answer without waiting for a read.
    public func prefetch(root: String) {
        let s = Snapshot()
        snapshotLock.lock(); snapshot = s; snapshotLock.unlock()
        s.ready.enter()
        DispatchQueue.global().async { [self] in
            defer { s.ready.leave() }
            let id = (try? queue.read { db in try Int64.fetchOne(db, sql: "SELECT id FROM tree WHERE root = ?", arguments: [root]) }) ?? nil
            s.tree = id
            if let id { s.manifest = try? readManifest(tree: id) }
            s.known = try? readFactsHashes()
        }
    }

    /// The prefetched snapshot (waited for, and after the write it follows), unless a write
    /// dropped it.
    private func readAhead() -> Snapshot? {
        snapshotLock.lock()
        let s = snapshot
        snapshotLock.unlock()
        s?.ready.wait()
        if let s, s.followsWrite {
            flush()
            if s.writeFailed { return nil }
        }
        return s
    }

    /// Drops the prefetched snapshot: called before a write of facts, manifest rows or a
    /// report (a new tree's row, from `treeID`, leaves it valid: it knew no such tree).
    private func dropSnapshot() {
        snapshotLock.lock(); snapshot = nil; snapshotLock.unlock()
    }

    /// The tree's path → (size, mtime, hash) map.
    public func manifest(tree: Int64) throws -> [String: ManifestEntry] {
        if let s = readAhead(), let id = s.tree, id == tree, let m = s.manifest { return m }
        return try readManifest(tree: tree)
    }

    private func readManifest(tree: Int64) throws -> [String: ManifestEntry] {
        try queue.read { db in
            let count = try Int.fetchOne(db, sql: "SELECT count(*) FROM tree_file WHERE tree = ?", arguments: [tree]) ?? 0
            var out = [String: ManifestEntry](minimumCapacity: count)
            let rows = try Row.fetchCursor(db, sql: "SELECT path, size, mtime_ns, hash FROM tree_file WHERE tree = ?", arguments: [tree])
            while let row = try rows.next() {
                guard let data = row[3] as Data?, let h = ContentHash(data: data) else {
                    throw Problem(description: "corrupt (bad hash in tree_file)")
                }
                out[row[0]] = ManifestEntry(size: row[1], mtime: row[2], hash: h)
            }
            return out
        }
    }

    /// Every stored content's facts hash, by content hash.
    func factsHashes() throws -> [ContentHash: ContentHash] {
        if let s = readAhead(), let known = s.known { return known }
        return try readFactsHashes()
    }

    private func readFactsHashes() throws -> [ContentHash: ContentHash] {
        try queue.read { db in
            var out: [ContentHash: ContentHash] = [:]
            let rows = try Row.fetchCursor(db, sql: "SELECT hash, facts_hash FROM content")
            while let row = try rows.next() {
                guard let a = row[0] as Data?, let h = ContentHash(data: a), let b = row[1] as Data?, let f = ContentHash(data: b) else {
                    throw Problem(description: "corrupt (bad content hash)")
                }
                out[h] = f
            }
            return out
        }
    }

    /// Reads stored blobs on a connection of its own (one per worker: the database is in
    /// WAL mode, so readers do not wait for each other), handing each blob's bytes to the
    /// caller without copying them.
    final class BlobReader {
        private let reader: DatabaseQueue?
        private let store: FactStore

        /// A read-only connection to `store`'s file, or the store's own (serialized) one
        /// when that cannot be opened.
        init(_ store: FactStore) {
            var config = Configuration()
            config.readonly = true
            config.busyMode = .timeout(2)
            config.label = "unbindcheck-cache-reader"
            self.store = store
            self.reader = try? DatabaseQueue(path: store.path, configuration: config)
        }

        /// Runs `body` in one read transaction (one snapshot of the database for all the
        /// blobs it looks up, instead of a transaction per blob).
        func read(_ body: (Lookup) throws -> Void) throws {
            try (reader ?? store.queue).read { db in
                try body(Lookup(statement: try db.cachedStatement(sql: "SELECT facts, checksum, bytes FROM content WHERE hash = ?")))
            }
        }

        /// Blob look-ups inside `read`.
        struct Lookup {
            let statement: Statement

            /// Calls `body` with the facts blob, checksum and file size of `hash`; throws
            /// `Problem` when the store has no such content.
            func withBlob<T>(_ hash: ContentHash, _ body: (UnsafeRawBufferPointer, Int64, Int) -> T) throws -> T {
                let rows = try Row.fetchCursor(statement, arguments: [hash.data])
                guard let row = try rows.next() else { throw Problem(description: "corrupt (facts missing)") }
                let checksum: Int64 = row[1], size: Int = row[2]
                return try row.withUnsafeData(atIndex: 0) { data -> T in
                    guard let data else { throw Problem(description: "corrupt (facts missing)") }
                    return data.withUnsafeBytes { body($0, checksum, size) }
                }
            }
        }
    }

    // MARK: - Writing

    /// Content to store: its hash, its facts encoded without the file size (`blob`), that
    /// encoding's hash, the file's size and its queryable rows. Made where the facts were
    /// parsed, while they are still in the processor's caches (read again later on the
    /// writer's thread, every function's calls missed them).
    struct NewContent: Sendable {
        var hash: ContentHash
        var blob: [UInt8]
        var factsHash: ContentHash
        var bytes: Int
        var rows: QueryableRows

        init(hash: ContentHash, facts: FileFacts) {
            self.hash = hash
            blob = CachedIndexer.encodeWithoutSize(facts)
            factsHash = blob.withUnsafeBytes { ContentHash(of: $0) }
            bytes = facts.bytes
            rows = QueryableRows(facts)
        }
    }
    struct ManifestUpdate: Sendable { var path: String; var size: Int64; var mtime: Int64; var hash: ContentHash }

    /// New contents from which a write goes through a rollback journal (see
    /// `storeInBackground`).
    static let bulkThreshold = 2000

    /// Waits until the writes queued so far are done (queued behind them).
    public func flush() {
        queue.writeWithoutTransaction { _ in }
    }

    /// A released store has finished its writes: another connection opened afterwards (a
    /// later run in the same process) sees them.
    deinit { flush() }

    /// Stores new content and the changed manifest rows in one transaction, on the
    /// database's own queue, while the caller goes on (its analysis does not need the
    /// store). Later reads and writes of this store are queued behind it; a failure is
    /// reported on standard error in one line (the next run parses that content again).
    func storeInBackground(tree: Int64, content: [NewContent], manifest: [ManifestUpdate]) {
        guard !content.isEmpty || !manifest.isEmpty else { return }
        let advanced = advancedSnapshot(tree: tree, content: content, manifest: manifest)
        // Until the write is queued, a reader goes to the database (behind it).
        dropSnapshot()
        defer {
            if let advanced { snapshotLock.lock(); if snapshot == nil { snapshot = advanced }; snapshotLock.unlock() }
        }
        let path = self.path
        let bulk = content.count >= Self.bulkThreshold
        queue.asyncWriteWithoutTransaction { db in
            // A bulk write goes through a rollback journal when no other connection is
            // open: its new pages are then written once, not to the WAL and again at the
            // checkpoint. The database is back in WAL mode afterwards.
            let journaled = bulk && (try? String.fetchOne(db, sql: "PRAGMA journal_mode = TRUNCATE"))?.lowercased() == "truncate"
            defer { if journaled { _ = try? String.fetchOne(db, sql: "PRAGMA journal_mode = WAL") } }
            let result = Result { try db.inTransaction { try Self.write(db, tree: tree, content: content, manifest: manifest); return .commit } }
            if case .failure(let error) = result {
                advanced?.writeFailed = true
                FileHandle.standardError.write(Data("unbindcheck: cache \(path): could not store the new facts (\(error)); the next run parses them again\n".utf8))
            }
        }
    }

    private static func write(_ db: Database, tree: Int64, content: [NewContent], manifest: [ManifestUpdate]) throws {
        try insert(db, content: content)
        var upsert = try RowInserter(db, sql: "INSERT OR REPLACE INTO tree_file (tree, path, size, mtime_ns, hash) VALUES (?, ?, ?, ?, ?)")
        for m in manifest {
            upsert.bind(tree); upsert.bind(m.path); upsert.bind(m.size); upsert.bind(m.mtime); upsert.bind(blob: m.hash.data)
            try upsert.step()
        }
        if !manifest.isEmpty { try collectGarbage(db) }
    }

    private static func insert(_ db: Database, content: [NewContent]) throws {
        var insContent = try RowInserter(db, sql: "INSERT OR REPLACE INTO content (hash, bytes, checksum, facts, facts_hash) VALUES (?, ?, ?, ?, ?)")
        var insRows = try RowInserter(db, sql: "INSERT OR REPLACE INTO content_rows (hash, structs, members, calls) VALUES (?, ?, ?, ?)")
        for c in content {
            let key = c.hash.data
            insContent.bind(blob: key); insContent.bind(c.bytes)
            insContent.bind(c.blob.withUnsafeBytes { blobChecksum($0) })
            insContent.bind(blob: c.blob); insContent.bind(blob: c.factsHash.data)
            try insContent.step()
            insRows.bind(blob: key); insRows.bind(text: c.rows.structs.bytes); insRows.bind(text: c.rows.members.bytes); insRows.bind(text: c.rows.calls.bytes)
            try insRows.step()
        }
    }

    /// Drops trees whose root is gone (temporary copies, a CI job's checkout), with their
    /// stored results, and content no tree refers to any more (an edited file's old
    /// version), with its queryable rows. A result's key names its tree's canonical root
    /// between two `\u{1f}` separators (`ResultCache.key`).
    private static func collectGarbage(_ db: Database) throws {
        for row in try Row.fetchAll(db, sql: "SELECT id, root FROM tree") {
            let root: String = row[1]
            if !FileManager.default.fileExists(atPath: root) {
                try db.execute(sql: "DELETE FROM tree_file WHERE tree = ?; DELETE FROM tree WHERE id = ?", arguments: [row[0] as Int64, row[0] as Int64])
                try db.execute(sql: "DELETE FROM report WHERE instr(key, char(31) || ? || char(31)) > 0", arguments: [root])
            }
        }
        // Index-only scans of the hashes (`EXCEPT`), not scans of the tables' rows.
        try db.execute(sql: """
            DELETE FROM content_rows WHERE hash IN (SELECT hash FROM content_rows EXCEPT SELECT hash FROM tree_file);
            DELETE FROM content WHERE hash IN (SELECT hash FROM content EXCEPT SELECT hash FROM tree_file);
            """)
    }

    // MARK: - Reports

    /// A cached value (a whole report) under `key`.
    public func report(key: String) -> [UInt8]? {
        try? queue.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT value FROM report WHERE key = ?", arguments: [key]), let d = row[0] as Data? else { return nil }
            return [UInt8](d)
        }
    }

    /// Stores `value` under each of `keys`, in one transaction; each replaces the older
    /// reports of its family (`keyFamily`). With `build`, the reports whose key does not
    /// start with it are dropped: another build of the tool's, which this one never reads
    /// (a result's key names the build), so the table does not grow with every rebuild.
    /// Prefixes are compared as text (`LIKE` would take a path's `_` for any character
    /// and ignore case).
    public func storeReport(keys: [String], value: [UInt8], build: String? = nil) {
        dropSnapshot()
        let data = Data(value)
        try? queue.write { db in
            if let build {
                try db.execute(sql: "DELETE FROM report WHERE substr(key, 1, length(?1)) <> ?1", arguments: [build])
            }
            for key in keys {
                try db.execute(sql: "DELETE FROM report WHERE substr(key, 1, length(?1)) = ?1 AND key <> ?2", arguments: [Self.keyFamily(key), key])
                try db.execute(sql: "INSERT OR REPLACE INTO report (key, value) VALUES (?, ?)", arguments: [key, data])
            }
        }
    }

    /// Reports of one tree and command replace each other: the key up to the manifest hash.
    static func keyFamily(_ key: String) -> String {
        guard let bar = key.lastIndex(of: "|") else { return key }
        return String(key[...bar])
    }
}
