import Facts
import CFrontend

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a run knows and what it reports: the directory that is indexed (`root`, a whole
/// kernel tree when the paths lie inside one) and the paths under it whose findings are
/// reported. A path inside a kernel tree scopes the report, never the knowledge.
public struct ScanScope: Sendable, Equatable {
    /// The directory indexed; report paths are relative to it.
    public let root: String
    /// The paths to index (`[root]` for a kernel tree, the given paths otherwise).
    public let indexPaths: [String]
    /// Report scope, relative to `root`; nil means everything indexed.
    public let prefixes: [String]?
    /// Whether `root` was found (or given) as a kernel tree around the paths.
    let isKernelTree: Bool
    /// Top-level directories of the kernel tree left out of the index: those its build
    /// never descends into (`KernelBuild`), unless a path lies inside one or the run
    /// asked for every directory.
    public internal(set) var skippedDirectories: [String] = []

    /// Why the paths cannot be scoped.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Whether a report path (relative to `root`) lies in the scope.
    public func contains(_ relativePath: String) -> Bool {
        guard let prefixes else { return true }
        for p in prefixes {
            if p.isEmpty || relativePath == p || relativePath.hasPrefix(p + "/") { return true }
        }
        return false
    }

    /// A short description of the scope for summaries (`drivers/mtd, drivers/i2c`).
    public var label: String {
        guard let prefixes, !prefixes.contains("") else { return "" }
        return prefixes.joined(separator: ", ")
    }

    /// Whether `dir` looks like the top of a kernel tree: `Kbuild` or `Makefile`, plus
    /// `include/linux/` and `drivers/`.
    static func isKernelRoot(_ dir: String) -> Bool {
        (isRegularFile(dir + "/Kbuild") || isRegularFile(dir + "/Makefile"))
            && SourceTree.isDirectory(dir + "/include/linux") && SourceTree.isDirectory(dir + "/drivers")
    }

    /// The nearest enclosing kernel tree of `path` (the path itself included), spelled
    /// relative to the path as given (`/a/linux/drivers/mtd` → `/a/linux`, `drivers` → `.`).
    static func kernelRoot(of path: String) -> String? {
        var candidate = SourceTree.normalize(path)
        if !SourceTree.isDirectory(candidate) { candidate = SourceTree.dirname(candidate) }
        // Lexical ancestors first, so that the root keeps the spelling the user gave.
        for _ in 0..<64 {
            if isKernelRoot(candidate) { return candidate }
            if candidate == "/" { return nil }
            if candidate == "." || candidate == ".." || candidate.hasSuffix("/..") {
                guard let real = realPath(candidate), real != "/" else { return nil }
                candidate = candidate == "." ? ".." : candidate + "/.."
                continue
            }
            candidate = SourceTree.dirname(candidate)
        }
        return nil
    }

    /// Resolves the scope of `paths`: inside a kernel tree (or under `root` when given),
    /// the whole tree is indexed and the paths only scope the report; outside any kernel
    /// tree the paths are indexed on their own, as given. In a kernel tree, the top-level
    /// directories its build never descends into are skipped unless `allDirectories`.
    public static func resolve(paths: [String], root override: String? = nil, allDirectories: Bool = false) throws(Failure) -> ScanScope {
        for p in paths where !exists(p) {
            throw Failure(description: "\(p): no such file or directory")
        }
        let roots: [String?]
        if let override {
            guard SourceTree.isDirectory(override) else { throw Failure(description: "--root \(override): not a directory") }
            roots = paths.map { _ in SourceTree.normalize(override) }
        } else {
            roots = paths.map { kernelRoot(of: $0) }
        }
        let found = roots.compactMap { $0 }
        if found.isEmpty {
            return ScanScope(root: "", indexPaths: paths, prefixes: nil, isKernelTree: false)
        }
        if found.count != paths.count {
            let outside = zip(paths, roots).filter { $0.1 == nil }.map(\.0)
            throw Failure(description: "\(outside.joined(separator: ", ")) \(outside.count == 1 ? "is" : "are") not inside the kernel tree \(found[0]); scan paths of one tree at a time")
        }
        let root = found[0]
        guard let realRoot = realPath(root) else { throw Failure(description: "cannot resolve \(root)") }
        var prefixes: [String] = []
        for (p, r) in zip(paths, roots) {
            guard let real = realPath(p) else { throw Failure(description: "cannot resolve \(p)") }
            if realPath(r!) != realRoot {
                throw Failure(description: "\(p) belongs to the kernel tree \(r!), not \(root); scan one tree at a time")
            }
            if real == realRoot { prefixes.append(""); continue }
            guard real.hasPrefix(realRoot == "/" ? "/" : realRoot + "/") else {
                throw Failure(description: "\(p) is not under the root \(root)")
            }
            prefixes.append(String(real.dropFirst(realRoot == "/" ? 1 : realRoot.count + 1)))
        }
        let all = prefixes.contains("")
        let kernel = override == nil || isKernelRoot(root)
        // A directory a path lies in is read: the user asked for it.
        let skipped = kernel && !allDirectories
            ? KernelBuild.unbuiltDirectories(root: root).filter { d in !prefixes.contains { $0 == d || $0.hasPrefix(d + "/") } } : []
        return ScanScope(root: root, indexPaths: [root], prefixes: all ? nil : Array(Set(prefixes)).sorted(), isKernelTree: kernel,
                         skippedDirectories: skipped)
    }

    static func exists(_ p: String) -> Bool {
        var st = stat()
        return stat(p, &st) == 0
    }

    static func isRegularFile(_ p: String) -> Bool {
        var st = stat()
        return stat(p, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
    }

    /// The canonical absolute path (symbolic links resolved), or nil.
    public static func realPath(_ p: String) -> String? {
        guard let r = realpath(p, nil) else { return nil }
        defer { free(r) }
        return String(cString: r)
    }
}
