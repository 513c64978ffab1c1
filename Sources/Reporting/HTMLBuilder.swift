import Facts
import Indexing
import Analysis
import Findings
import Checks

/// HTML text built by construction: tag and attribute names are compile-time constants
/// (`StaticString`), text and attribute values are always escaped, and only constants go in
/// raw. Scanned text (paths, messages, source lines) can therefore never become markup.
/// (A builder of this size instead of Plot or swift-mustache: no dependency to build on a
/// two-core machine, and escaping is not a convention but the only way to add text.)
struct HTMLBuilder {
    public private(set) var output = ""
    public init() {}

    /// Escaped text.
    public mutating func text(_ s: String) { output += HTMLReporter.escape(s) }

    /// A compile-time constant (markup, CSS, script of the report itself).
    public mutating func raw(_ s: StaticString) { output += s.description }

    mutating func openTag(_ tag: StaticString, _ attrs: [(StaticString, String)]) {
        output += "<" + tag.description
        for (k, v) in attrs { output += " " + k.description + "=\"" + HTMLReporter.escape(v) + "\"" }
        output += ">"
    }

    /// An element with children.
    mutating func el(_ tag: StaticString, _ attrs: [(StaticString, String)] = [], _ body: (inout HTMLBuilder) -> Void) {
        openTag(tag, attrs)
        body(&self)
        output += "</" + tag.description + ">"
    }

    /// An element holding escaped text.
    mutating func el(_ tag: StaticString, _ attrs: [(StaticString, String)] = [], text: String) {
        el(tag, attrs) { $0.text(text) }
    }

    /// An element without content (`<meta>`, `<input>`, `<rect/>` in SVG).
    public mutating func void(_ tag: StaticString, _ attrs: [(StaticString, String)] = []) {
        openTag(tag, attrs)
        output.removeLast()
        output += "/>"
    }
}
