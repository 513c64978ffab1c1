import Facts
import Indexing
import Analysis
import Findings

/// What a check is about. Its examples are C files under `Tests/Fixtures/<id>/`
/// (`triggering-N/` with the exact findings in `expected.txt`, `non-triggering-N/`), run as
/// tests and replayed by the fuzzers.
public struct CheckDescription: Sendable {
    public var id: String
    public var summary: String
    public var rationale: String
    public var severity: Severity
    /// How sure a finding is, and what produces false positives.
    public var confidence: String
}

/// A check over the analysed tree.
public protocol Check: Sendable {
    static var description: CheckDescription { get }
    func run(_ context: AnalysisContext) -> [Finding]
}

/// Every check, in report order.
public let allChecks: [any Check] = [
    DevmEmbeddedRefcountCheck(),
    EmptyReleaseCheck(),
    ReleaseDevmFreeCheck(),
    KfreeOutsideReleaseCheck(),
    MissingReleaseCheck(),
    UnrevokedProviderOpsCheck(),
    MissingPutOnFailureCheck(),
]
