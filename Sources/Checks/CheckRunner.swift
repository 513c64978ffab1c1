import Facts
import Indexing
import Analysis
import Findings

/// Runs the checks and returns sorted findings.
public enum Analyzer {
    public static func findings(_ context: AnalysisContext, checks: [any Check] = allChecks) -> [Finding] {
        var out: [Finding] = []
        for c in checks {
            CrashContext.setPhase("running the \(type(of: c)) check")
            out += c.run(context)
        }
        return finish(TestCode.mark(dedupe(out), index: context.index, keepSeverity: context.includeTests).sorted(by: Finding.ordered), context: context)
    }

    /// Numbers findings that share a fingerprint (in report order) and adds the fix texts.
    static func finish(_ sorted: [Finding], context: AnalysisContext?) -> [Finding] {
        var seen: [String: Int] = [:]
        return sorted.map { f in
            var f = f
            let n = (seen[f.fingerprint] ?? 0) + 1
            seen[f.fingerprint] = n
            f.occurrence = n
            if f.fix.isEmpty { f.fix = FixSuggestion.text(for: f, context: context) }
            return f
        }
    }

    static func dedupe(_ findings: [Finding]) -> [Finding] {
        var seen = Set<String>()
        var out: [Finding] = []
        for f in findings where seen.insert("\(f.check)|\(f.file)|\(f.line)|\(f.column)|\(f.message)").inserted { out.append(f) }
        return out
    }
}
