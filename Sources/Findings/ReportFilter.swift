import Facts
import Indexing

/// Which findings a run reports: those located in the scope and, in patch mode, those
/// whose location or evidence touches a changed file.
public struct ReportFilter: Sendable {
    public var scope: ScanScope
    /// Changed files relative to the root (`--since`, `--diff`); nil outside patch mode.
    public var changed: Set<String>?

    public init(scope: ScanScope, changed: Set<String>? = nil) {
        self.scope = scope
        self.changed = changed
    }

    /// Whether `finding` belongs in the report.
    public func includes(_ finding: Finding) -> Bool {
        guard scope.contains(finding.file) else { return false }
        guard let changed else { return true }
        return changed.contains(finding.file) || finding.notes.contains { changed.contains($0.file) }
    }

    public func apply(_ findings: [Finding]) -> [Finding] { findings.filter(includes) }
}
