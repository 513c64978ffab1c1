import Facts
import CFrontend
import Indexing
import Analysis
import Findings
import Checks
import Reporting

/// The bodies of the fuzz targets, kept in the library so that the unit tests replay the
/// committed corpora (`Fuzz/corpus*/`, `Tests/Fixtures/fuzz-crashes/`) through exactly the
/// code the fuzzers ran. Each returns a small digest so nothing is optimised away.
enum FuzzHarness {
    /// Names of the targets, as `scripts/fuzz` and the corpus folders spell them.
    public static let targets = ["parser", "analysis", "triage"]

    /// Runs the named target on `bytes`; nil for an unknown target.
    public static func run(_ target: String, _ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        switch target {
        case "parser": return parser(bytes)
        case "analysis": return analysis(bytes)
        case "triage": return triage(bytes)
        default: return nil
        }
    }

    /// Lexer and parser on arbitrary bytes, rendering every call as the reporters would;
    /// the stored encoding must give the same facts back (the persistent index relies on it).
    public static func parser(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        let facts = FrontEnd.parse(path: "fuzz.c", bytes: bytes)
        guard let back = try? FactsCodec.decode(FactsCodec.encode(facts), path: facts.path), back == facts else {
            fatalError("the facts encoding does not round-trip")
        }
        var digest = facts.functions.count &+ facts.aggregates.count
        for fn in facts.functions { for c in fn.calls { digest &+= fn.exprs.render(c.node).utf8.count } }
        return digest
    }

    /// The whole pipeline on a tree of up to three files cut from the input at NUL bytes (a
    /// header and two sources), with every check, reporter and listing.
    public static func analysis(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        let names = ["include/linux/fuzz.h", "drivers/fuzz/a.c", "drivers/fuzz/b.c"]
        var files: [FileFacts] = []
        var start = 0
        for k in 0...bytes.count where files.count < names.count && (k == bytes.count || bytes[k] == 0) {
            files.append(FrontEnd.parse(path: names[files.count], bytes: UnsafeBufferPointer(rebasing: bytes[start..<k])))
            start = k + 1
        }
        let ctx = AnalysisContext(index: TreeIndex(root: "fuzz", files: files.sorted { $0.path < $1.path }))
        let findings = Analyzer.findings(ctx)
        let stats = ScanStats(index: ctx.index, context: ctx, seconds: 0)
        let report = Report(root: "fuzz", findings: findings, stats: stats, suppressed: 0, includeTimings: false)
        var digest = findings.count
        for r in [TextReporter() as any Reporter, JSONReporter(), SARIFReporter(), HTMLReporter()] {
            digest &+= r.render(report).utf8.count
        }
        digest &+= Listings.subsystemsJSON(Listings.subsystems(ctx), ctx: ctx).utf8.count
        digest &+= Listings.structsJSON(Listings.structs(ctx), root: "fuzz").utf8.count
        return digest
    }

    /// The crash-log parser of `triage` on arbitrary bytes.
    public static func triage(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        let log = CrashLog(text: String(decoding: bytes, as: UTF8.self))
        return (log.frames.map(\.function).joined(separator: ",") + log.title + log.location).utf8.count
    }
}
