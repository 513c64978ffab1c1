import Facts
import Indexing
import Analysis
import Findings

/// Runs the checks and returns sorted findings.
public enum Analyzer {
    /// The passes run first, once. With more than one job, the files are then dealt out
    /// to `jobs` workers, each running every check on its share with its own resolver
    /// (checks report a finding only in the file their loop visits, so the shares'
    /// findings are the whole run's).
    public static func findings(_ context: AnalysisContext, checks: [any Check] = allChecks) -> [Finding] {
        context.runAllPasses()
        let start = monotonicSeconds()
        var out: [Finding] = []
        if context.jobs > 1 {
            CrashContext.setPhase("running the checks")
            let shares = context.jobs
            let wanted = (0..<Int32(context.index.files.count)).filter { context.reports($0) }
            let perShare = parallelMap(count: shares, jobs: shares, makeState: { () }) { k, _ in
                let worker = context.worker(reporting: Set(wanted.filter { Int($0) % shares == k }))
                return checks.map { $0.run(worker) }
            }
            // In check order, as a run on one thread gives them (the order dedupe keeps).
            for c in checks.indices { for share in perShare { out += share[c] } }
        } else {
            for c in checks {
                CrashContext.setPhase("running the \(type(of: c)) check")
                out += c.run(context)
            }
        }
        context.record("checks", seconds: monotonicSeconds() - start)
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
