import Testing
@testable import Facts
@testable import CFrontend
@testable import Indexing
@testable import Analysis
@testable import Findings
@testable import Checks
@testable import Reporting
@testable import Pipeline
#if canImport(Glibc)
import Glibc
#endif

/// Builds an analysed tree from in-memory files (path → source).
func analyse(_ files: [String: String], jobs: Int = 1) -> AnalysisContext {
    let facts = files.keys.sorted().map { FrontEnd.parse(path: $0, source: files[$0]!) }
    return AnalysisContext(index: TreeIndex(root: "fixture", files: facts), jobs: jobs)
}

/// The findings of check `id` over `files`, with the kernel prelude as
/// `include/linux/device.h`.
func findings(of id: String, in files: [String: String]) -> [Finding] {
    var all = files
    all["include/linux/device.h"] = deviceHeader
    let check = allChecks.first { type(of: $0).description.id == id }!
    return Analyzer.findings(analyse(all), checks: [check])
}

/// Parses one file.
func parse(_ source: String, path: String = "t.c") -> FileFacts {
    FrontEnd.parse(path: path, source: source)
}

/// Expected findings marked in sources as `/*!check-id*/` right before the reported token.
struct Marker: Hashable, CustomStringConvertible {
    var file: String
    var line: Int32
    var column: Int32
    var check: String
    var description: String { "\(file):\(line):\(column) \(check)" }
}

func markers(in files: [String: String]) -> [Marker] {
    var out: [Marker] = []
    for (path, text) in files {
        var line: Int32 = 1
        var col: Int32 = 1
        let bytes = Array(text.utf8)
        var i = 0
        while i < bytes.count {
            if bytes[i] == 10 { line += 1; col = 1; i += 1; continue }
            if bytes[i] == 47, i + 2 < bytes.count, bytes[i + 1] == 42, bytes[i + 2] == 33 {
                var j = i + 3
                var id: [UInt8] = []
                while j + 1 < bytes.count && !(bytes[j] == 42 && bytes[j + 1] == 47) { id.append(bytes[j]); j += 1 }
                let consumed = Int32(j + 2 - i)
                out.append(Marker(file: path, line: line, column: col + consumed, check: String(decoding: id, as: UTF8.self)))
                col += consumed
                i = j + 2
                continue
            }
            col += 1
            i += 1
        }
    }
    return out.sorted { ($0.file, $0.line, $0.column) < ($1.file, $1.line, $1.column) }
}

/// A fresh temporary directory with the given files written into it.
func temporaryTree(_ files: [String: String]) -> String {
    var template = Array("/tmp/unbindcheck-test-XXXXXX".utf8CString)
    let dir = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
    for (path, text) in files {
        let full = dir + "/" + path
        var parent = ""
        for comp in full.split(separator: "/").dropLast() {
            parent += "/" + comp
            mkdir(parent, 0o755)
        }
        let fd = open(full, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        var s = text
        s.withUTF8 { _ = write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }
    return dir
}

func removeTree(_ dir: String) {
    guard dir.hasPrefix("/tmp/unbindcheck-test-") else { return }
    _ = system("rm -rf '\(dir)'")
}
