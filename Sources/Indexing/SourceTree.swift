import Foundation
import Facts
import CFrontend

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A C file found under a scanned root.
public struct SourceFile: Sendable, Hashable {
    /// Absolute (or as given) path used to read the file.
    var fullPath: String
    /// Path relative to the scanned root, used in every report.
    public var relativePath: String
    public var size: Int
    /// Modification time in nanoseconds since the epoch (0 when unknown); with `size` it
    /// lets a warm run trust the cached content hash of an unchanged file.
    public var mtimeNanos: Int64 = 0
}

extension SourceFile {
    init(fullPath: String, relativePath: String, stat st: stat) {
        self.init(fullPath: fullPath, relativePath: relativePath, size: Int(st.st_size))
        mtimeNanos = Int64(st.st_mtim.tv_sec) &* 1_000_000_000 &+ Int64(st.st_mtim.tv_nsec)
    }
}

/// A problem with an input path (missing, unreadable directory, …). Never fatal.
public struct InputProblem: Sendable, Hashable, Codable {
    public var path: String
    public var message: String
}

/// Finds the `.c` and `.h` files under the given paths. Symbolic links are not followed
/// (the kernel tree links directories into each other), so loops cannot happen; the
/// result is sorted by relative path so that every run sees the same order.
public struct SourceTree: Sendable {
    public private(set) var files: [SourceFile] = []
    public private(set) var problems: [InputProblem] = []
    /// The root that paths are reported relative to.
    public let root: String

    /// The root a tree of `paths` reports relative to, known before the walk.
    public static func root(of paths: [String]) -> String { root(ofNormalized: paths.map { normalize($0) }) }

    private static func root(ofNormalized cleaned: [String]) -> String {
        cleaned.count == 1 ? (isDirectory(cleaned[0]) ? cleaned[0] : dirname(cleaned[0])) : commonPrefix(cleaned)
    }

    /// - Parameters:
    ///   - paths: files or directories to scan.
    ///   - excludes: glob patterns matched against relative paths (`drivers/staging/*`).
    ///   - skipping: directories, relative to the root, that are not walked (the exact
    ///     paths, not patterns).
    public init(paths: [String], excludes: [String] = [], skipping: Set<String> = []) {
        let cleaned = paths.map { SourceTree.normalize($0) }
        root = SourceTree.root(ofNormalized: cleaned)
        var seen = Set<String>()
        for path in cleaned {
            var st = stat()
            if stat(path, &st) != 0 {
                problems.append(InputProblem(path: path, message: "no such file or directory"))
                continue
            }
            if (st.st_mode & S_IFMT) == S_IFDIR {
                walk(directory: path, excludes: excludes, skipping: skipping, seen: &seen)
            } else if (st.st_mode & S_IFMT) == S_IFREG {
                let rel = relative(path)
                if !SourceTree.isCSource(path) {
                    problems.append(InputProblem(path: path, message: "not a C source file: expected a .c or .h file, or a directory"))
                } else if !SourceTree.excluded(rel, excludes) && seen.insert(rel).inserted {
                    files.append(SourceFile(fullPath: path, relativePath: rel, stat: st))
                }
            } else {
                problems.append(InputProblem(path: path, message: "not a regular file or directory"))
            }
        }
        // Byte order (the same as `<` for the ASCII paths of a kernel tree, and cheaper).
        files = SourceTree.sortedByPath(files)
    }

    /// `files` in the byte order of their relative paths (`bytewiseLess`). The paths are
    /// copied once into one buffer and their indices sorted, instead of moving whole
    /// `SourceFile`s and reading two strings per comparison.
    static func sortedByPath(_ files: [SourceFile]) -> [SourceFile] {
        var bytes: [UInt8] = []
        var starts: [Int] = []
        starts.reserveCapacity(files.count + 1)
        for f in files {
            starts.append(bytes.count)
            bytes.append(contentsOf: f.relativePath.utf8)
        }
        starts.append(bytes.count)
        var order = Array(files.indices)
        bytes.withUnsafeBufferPointer { b in
            starts.withUnsafeBufferPointer { s in
                let raw = UnsafeRawBufferPointer(b)
                order.sort { i, j in
                    ByteSearch.less(UnsafeRawBufferPointer(rebasing: raw[s[i]..<s[i + 1]]), UnsafeRawBufferPointer(rebasing: raw[s[j]..<s[j + 1]]))
                }
            }
        }
        return order.map { files[$0] }
    }

    /// `a` before `b` in the byte order of their UTF-8 (`memcmp`, then the shorter first).
    static func bytewiseLess(_ a: String, _ b: String) -> Bool {
        var a = a, b = b
        return a.withUTF8 { pa in b.withUTF8 { pb in ByteSearch.less(UnsafeRawBufferPointer(pa), UnsafeRawBufferPointer(pb)) } }
    }

    static func isCSource(_ name: String) -> Bool {
        name.hasSuffix(".c") || name.hasSuffix(".h")
    }

    /// `p` without trailing slashes (`.` for an empty path).
    public static func normalize(_ p: String) -> String {
        var s = p
        while s.count > 1 && s.hasSuffix("/") { s.removeLast() }
        return s.isEmpty ? "." : s
    }

    /// Whether `p` names a directory (following symbolic links).
    public static func isDirectory(_ p: String) -> Bool {
        var st = stat()
        return stat(p, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// The directory part of `p` (`.` when there is none).
    public static func dirname(_ p: String) -> String {
        guard let slash = p.lastIndex(of: "/") else { return "." }
        return slash == p.startIndex ? "/" : String(p[..<slash])
    }

    static func commonPrefix(_ paths: [String]) -> String {
        let dirs = paths.map { isDirectory($0) ? $0 : dirname($0) }
        guard var prefix = dirs.first?.split(separator: "/", omittingEmptySubsequences: false) else { return "." }
        for d in dirs.dropFirst() {
            let parts = d.split(separator: "/", omittingEmptySubsequences: false)
            var k = 0
            while k < prefix.count && k < parts.count && prefix[k] == parts[k] { k += 1 }
            prefix = Array(prefix[0..<k])
        }
        let joined = prefix.joined(separator: "/")
        return joined.isEmpty ? (dirs.first?.hasPrefix("/") == true ? "/" : ".") : joined
    }

    func relative(_ path: String) -> String {
        if root == "." { return path.hasPrefix("./") ? String(path.dropFirst(2)) : path }
        if path.hasPrefix(root + "/") { return String(path.dropFirst(root.count + 1)) }
        if root == "/" && path.hasPrefix("/") { return String(path.dropFirst()) }
        return path
    }

    /// Glob match with `*` (any run, including '/'), `?` and literal characters; a pattern
    /// without '/' matches any path component.
    static func excluded(_ rel: String, _ patterns: [String]) -> Bool {
        for pat in patterns {
            if globMatch(Array(pat.utf8), Array(rel.utf8)) { return true }
            if !pat.contains("/") {
                for comp in rel.split(separator: "/") where globMatch(Array(pat.utf8), Array(comp.utf8)) { return true }
            }
            // A directory prefix: "drivers/staging" excludes everything below it.
            if rel.hasPrefix(pat.hasSuffix("/") ? pat : pat + "/") { return true }
        }
        return false
    }

    static func globMatch(_ p: [UInt8], _ s: [UInt8]) -> Bool {
        var pi = 0, si = 0, star = -1, mark = 0
        while si < s.count {
            if pi < p.count && (p[pi] == 63 || p[pi] == s[si]) { pi += 1; si += 1 }
            else if pi < p.count && p[pi] == 42 { star = pi; mark = si; pi += 1 }
            else if star >= 0 { pi = star + 1; mark += 1; si = mark }
            else { return false }
        }
        while pi < p.count && p[pi] == 42 { pi += 1 }
        return pi == p.count
    }

    /// What one directory holds: its C files, its subdirectories (with their relative
    /// paths) and a problem when it cannot be read.
    private struct Listing: Sendable {
        var files: [SourceFile] = []
        var subdirectories: [(String, String)] = []
        var problem: InputProblem?
    }

    /// Walks `directory` breadth first, each level's directories listed in parallel; the
    /// result does not depend on the threads (levels are merged in order, then sorted).
    private mutating func walk(directory: String, excludes: [String], skipping: Set<String>, seen: inout Set<String>) {
        var level: [(String, String?)] = [(directory, nil)]
        let jobs = max(1, min(4, ProcessInfo.processInfo.activeProcessorCount))
        let me = self
        while !level.isEmpty {
            let current = level
            let listings = parallelMap(count: current.count, jobs: current.count < 8 ? 1 : jobs, makeState: { () }) { k, _ in
                me.list(current[k].0, relative: current[k].1, excludes: excludes, skipping: skipping)
            }
            level = []
            for l in listings {
                if let p = l.problem { problems.append(p) }
                for f in l.files where seen.insert(f.relativePath).inserted { files.append(f) }
                level.append(contentsOf: l.subdirectories.map { ($0.0, Optional($0.1)) })
            }
        }
    }

    /// The name of a directory entry that `readdir` returned.
    static func name(of entry: UnsafeMutablePointer<dirent>) -> String {
        withUnsafePointer(to: entry.pointee.d_name) {
            $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
        }
    }

    private func list(_ dir: String, relative knownRel: String?, excludes: [String], skipping: Set<String>) -> Listing {
        var out = Listing()
        let relDir = knownRel ?? relative(dir)
        guard let handle = opendir(dir) else {
            out.problem = InputProblem(path: relDir, message: "cannot open directory: \(String(cString: strerror(errno)))")
            return out
        }
        defer { closedir(handle) }
        let dfd = dirfd(handle)
        while let entry = readdir(handle) {
            let name = SourceTree.name(of: entry)
            if name == "." || name == ".." || name.hasPrefix(".git") { continue }
            let full = dir + "/" + name
            let rel = relDir == dir || relDir.isEmpty ? relative(full) : relDir + "/" + name
            var type = entry.pointee.d_type
            if type == UInt8(DT_UNKNOWN) {
                var st = stat()
                if fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 { continue }
                switch st.st_mode & S_IFMT {
                case S_IFDIR: type = UInt8(DT_DIR)
                case S_IFREG: type = UInt8(DT_REG)
                case S_IFLNK: type = UInt8(DT_LNK)
                default: continue
                }
            }
            if type == UInt8(DT_DIR) {
                if !skipping.contains(rel) && !SourceTree.excluded(rel, excludes) { out.subdirectories.append((full, rel)) }
            } else if type == UInt8(DT_REG) && SourceTree.isCSource(name) {
                if SourceTree.excluded(rel, excludes) { continue }
                // Relative to the open directory: the kernel does not walk the path again.
                var st = stat()
                if fstatat(dfd, name, &st, 0) != 0 { st = stat() }
                out.files.append(SourceFile(fullPath: full, relativePath: rel, stat: st))
            }
            // Symbolic links are deliberately not followed.
        }
        return out
    }
}

/// Reads a whole file; returns nil and a reason when it cannot.
public func readWholeFile(_ path: String) -> ([UInt8]?, String?) {
    let fd = open(path, O_RDONLY)
    if fd < 0 { return (nil, "cannot read: \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0 else { return (nil, "cannot stat") }
    if (st.st_mode & S_IFMT) != S_IFREG { return (nil, "not a regular file") }
    let size = Int(st.st_size)
    if size > FrontEnd.maxFileBytes { return (nil, "file larger than 256 MB, skipped") }
    // Read straight into the array's storage (no zero fill first).
    var failure: String? = nil
    let buffer = [UInt8](unsafeUninitializedCapacity: max(size, 0)) { raw, initialized in
        var got = 0
        while got < size, let base = raw.baseAddress {
            let r = read(fd, base + got, size - got)
            if r < 0 {
                if errno == EINTR { continue }
                failure = "read error: \(String(cString: strerror(errno)))"
                break
            }
            if r == 0 { break }
            got += r
        }
        initialized = failure == nil ? got : 0
    }
    if let failure { return (nil, failure) }
    return (buffer, nil)
}
