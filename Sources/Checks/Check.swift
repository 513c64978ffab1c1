import Facts
import Indexing
import Analysis
import Findings

/// What a check is about, in SwiftLint style: the examples are run as tests.
public struct CheckDescription: Sendable {
    public var id: String
    public var summary: String
    public var rationale: String
    public var severity: Severity
    /// How sure a finding is, and what produces false positives.
    public var confidence: String
    /// Source files (path → text) that must produce the findings marked `/*!check-id*/`.
    var triggering: [[String: String]]
    /// Source files that must produce no finding of this check.
    var nonTriggering: [[String: String]]
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
]
