import Facts
import Indexing
import Analysis
import Findings
import Checks

/// The HTML report's overview page (`index.html` of the site that `HTMLSite` writes; on its
/// own, for `--format html` to stdout or a file). All scanned text is escaped.
public struct HTMLReporter: Reporter {
    public init() {}

    /// Escapes text for HTML content and attribute values; control characters become U+FFFD.
    public static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for u in s.unicodeScalars {
            switch u {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default:
                if u.value < 0x20 && u != "\n" && u != "\t" || u.value == 0x7f { out += "&#xFFFD;" } else { out.unicodeScalars.append(u) }
            }
        }
        return out
    }

    public func render(_ report: Report) -> String {
        var site = HTMLSite(report: report)
        return site.overview()
    }
}
