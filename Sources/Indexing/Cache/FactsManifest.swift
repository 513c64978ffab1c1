import Foundation
import Facts

/// The tree's facts manifest, worked out without loading any stored facts: a file whose
/// (size, mtime) match the tree's manifest keeps its stored facts hash; another file is
/// read and hashed, and parsed only when its content is new. Two trees with the same facts
/// manifest give the same analysis, whatever their text: a stored result keyed by it
/// answers an edit that changed no fact (a comment, a touched file) without analysing.
public struct FactsManifest: Sendable {
    /// Hash of the tree's (path, facts hash) list (`Stats.factsManifestHash` of a full run).
    public let hash: String
    /// Total size of the files (the scan's `bytes`).
    public let bytes: Int
    let tree: Int64
    let content: [FactStore.NewContent]
    let updates: [FactStore.ManifestUpdate]

    /// Files whose (size, mtime) changed, read and hashed here.
    public var filesRead: Int { updates.count }
    /// Of those, files whose content was new, parsed here.
    public var filesParsed: Int { content.count }

    /// At most this many new contents are parsed here; a larger change goes to the full
    /// run, which parses them anyway.
    public static let parseLimit = 64

    /// The facts manifest of `files`, or nil when the store cannot tell (a file is
    /// unreadable, too many contents are new, or the store fails).
    public static func compute(_ files: [SourceFile], root: String, store: FactStore) -> FactsManifest? {
        guard let tree = try? store.treeID(root: CachedIndexer.canonicalRoot(root)),
              let manifest = try? store.manifest(tree: tree),
              let known = try? store.factsHashes() else { return nil }
        var hasher = ManifestHasher()
        var bytes = 0
        var content: [FactStore.NewContent] = []
        var updates: [FactStore.ManifestUpdate] = []
        for file in files {
            if let m = manifest[file.relativePath], m.describes(file), let fh = known[m.hash] {
                hasher.add(file.relativePath, fh)
                bytes += file.size
                continue
            }
            let factsHash: ContentHash
            let hash: ContentHash
            switch CachedIndexer.readAndParse(file, known: known) {
            case .stored(let h):
                guard let fh = known[h] else { return nil }
                (hash, factsHash) = (h, fh)
                bytes += file.size
            case .parsed(_, let new?):
                guard content.count < parseLimit else { return nil }
                content.append(new)
                (hash, factsHash) = (new.hash, new.factsHash)
                bytes += new.bytes
            default:
                return nil
            }
            hasher.add(file.relativePath, factsHash)
            updates.append(FactStore.ManifestUpdate(path: file.relativePath, size: Int64(file.size), mtime: file.mtimeNanos, hash: hash))
        }
        return FactsManifest(hash: hasher.hex, bytes: bytes, tree: tree, content: content, updates: updates)
    }

    /// Records the files read (their new content and manifest rows), in the background, so
    /// that the next run finds the tree unchanged.
    public func commit(to store: FactStore) {
        store.storeInBackground(tree: tree, content: content, manifest: updates)
    }
}
