#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Which top-level directories of a kernel tree its build compiles into the kernel, read
/// from the tree's own top-level `Kbuild` and `Makefile`: the directories their
/// `obj-y += drivers/`, `obj-$(CONFIG_NET) += net/`, `libs-y := lib/` (and older
/// `core-y`, `drivers-y`, `init-y`, `net-y`, `virt-y`) assignments name. `include/` holds
/// the headers, and `arch/` is always built (before 6.1 only the architecture's own
/// Makefile names it). The other top-level directories (`tools/`, `scripts/`, `Documentation/`
/// in Linux 6.x) hold userspace programs, host programs and examples that the kernel's
/// build never descends into, so no driver is linked against their code.
public enum KernelBuild {
    /// The variables whose values list the directories the top-level build descends into.
    static let directoryLists: Set<String> = ["obj", "core", "drivers", "libs", "init", "net", "virt"]

    /// The top-level directories of the kernel tree at `root` that its build never
    /// descends into, sorted; empty when the tree's build files name no `drivers/` (not a
    /// kernel tree, or one laid out differently: then nothing is left out).
    public static func unbuiltDirectories(root: String) -> [String] {
        let text = ["Kbuild", "Makefile"].compactMap { readText(root + "/" + $0) }.joined(separator: "\n")
        var built = builtDirectories(makefile: text)
        guard built.contains("drivers") else { return [] }
        // Headers; and the architectures, which kernels before 6.1 name only in
        // `arch/$(SRCARCH)/Makefile` (`core-y += arch/x86/`), not at the top level.
        built.formUnion(["include", "arch"])
        return topLevelDirectories(root).filter { !built.contains($0) }.sorted()
    }

    /// The first path component of every `dir/` an assignment to one of
    /// `directoryLists` (with any `-y`, `-m`, `-$(CONFIG_…)` suffix) names in `makefile`;
    /// continued lines are joined, comments dropped, and `$(…)` components skipped.
    static func builtDirectories(makefile: String) -> Set<String> {
        var out = Set<String>()
        for raw in logicalLines(makefile) {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            guard let eq = line.firstIndex(of: "=") else { continue }
            var lhs = line[..<eq]
            if let last = lhs.last, last == ":" || last == "+" || last == "?" { lhs = lhs.dropLast() }
            let name = lhs.trimmingSpaces
            let base = name.split(separator: "-", maxSplits: 1).first.map(String.init) ?? ""
            guard name.contains("-"), directoryLists.contains(base) else { continue }
            for token in line[line.index(after: eq)...].split(whereSeparator: { $0 == " " || $0 == "\t" }) where token.hasSuffix("/") {
                let first = token.split(separator: "/", maxSplits: 1).first.map(String.init) ?? ""
                if !first.isEmpty, !first.hasPrefix("$"), first != ".", first != ".." { out.insert(first) }
            }
        }
        return out
    }

    /// The lines of `text` with each backslash-continued line joined to the next.
    private static func logicalLines(_ text: String) -> [Substring] {
        var out: [Substring] = []
        var pending = ""
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasSuffix("\\") { pending += line.dropLast() + " "; continue }
            out.append(pending.isEmpty ? line : Substring(pending + line))
            pending = ""
        }
        if !pending.isEmpty { out.append(Substring(pending)) }
        return out
    }

    private static func readText(_ path: String) -> String? {
        let (bytes, _) = readWholeFile(path)
        return bytes.map { String(decoding: $0, as: UTF8.self) }
    }

    /// The directories directly under `root` (not hidden, symbolic links not followed).
    private static func topLevelDirectories(_ root: String) -> [String] {
        guard let handle = opendir(root) else { return [] }
        defer { closedir(handle) }
        var out: [String] = []
        while let entry = readdir(handle) {
            let name = SourceTree.name(of: entry)
            if name.hasPrefix(".") { continue }
            var st = stat()
            if lstat(root + "/" + name, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR { out.append(name) }
        }
        return out
    }
}

private extension Substring {
    /// Without leading and trailing spaces and tabs.
    var trimmingSpaces: String {
        var s = self
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }
}
