import Facts
import CFrontend
import Indexing
import Analysis
import Findings
import Checks
import Reporting

/// A finding that explains a crash log, with the reasons for the match.
public struct TriageMatch: Sendable {
    public var finding: Finding
    public var score: Int
    public var reasons: [String]
}

/// Maps a crash log to the findings of a tree: stack frames are located in the tree (which
/// file defines each function), then each finding scores by the frames it explains — its
/// own function, its file, its object's register/unregister functions and core files,
/// devres frees — and by whether its hazard produces the logged kind of failure.
public enum Triage {
    public static func rank(log: CrashLog, findings: [Finding], context ctx: AnalysisContext, limit: Int = 10) -> [TriageMatch] {
        let index = ctx.index
        let reliable = log.frames.filter(\.reliable)
        let names = Set(reliable.map(\.function))
        // Where each frame's function is defined (all candidates: names can repeat).
        var filesOfFrame: [String: Set<String>] = [:]
        for n in names { filesOfFrame[n] = Set((index.functionsByName[n] ?? []).map { index.path($0.file) }) }
        let devresFree = log.frames.contains { $0.section == .freed && ($0.function.hasPrefix("devres_release") || $0.function == "release_nodes" || $0.function == "devm_kfree" || $0.function.hasPrefix("devm_")) }
        let refcountish = log.kinds.contains(.refcountUnderflow) || log.kinds.contains(.refcountOnZero) || log.kinds.contains(.useAfterFree) || log.kinds.contains(.pagingFault)
        var objectFunctions: [String: (Set<String>, Set<String>, Set<String>)] = [:]
        for o in ctx.subsystems.objects.values {
            let reg = Set(o.register.map { index.function($0).name })
            let unreg = Set(o.unregister.map { index.function($0).name })
            let files = Set((o.register + o.unregister).map { index.path($0.file) })
            if let old = objectFunctions[o.name] {
                objectFunctions[o.name] = (old.0.union(reg), old.1.union(unreg), old.2.union(files))
            } else {
                objectFunctions[o.name] = (reg, unreg, files)
            }
        }
        var out: [TriageMatch] = []
        for f in findings {
            var score = 0
            var reasons: [String] = []
            if names.contains(f.function) {
                let sections = Set(reliable.filter { $0.function == f.function }.map(\.section.rawValue)).sorted()
                score += 6
                reasons.append("\(f.function)() is in the \(sections.joined(separator: "/")) stack")
            }
            let sameFile = names.filter { filesOfFrame[$0]?.contains(f.file) == true && $0 != f.function }.sorted()
            if !sameFile.isEmpty {
                score += 3
                reasons.append("\(sameFile.prefix(3).joined(separator: ", "))() in the stack \(sameFile.count == 1 ? "is" : "are") defined in \(f.file)")
            }
            if let (reg, unreg, files) = objectFunctions[f.object] {
                let hits = names.intersection(reg.union(unreg)).sorted()
                if !hits.isEmpty {
                    score += 4
                    reasons.append("\(hits.prefix(3).joined(separator: ", "))() register/unregister \(f.object)")
                }
                let coreHits = names.filter { filesOfFrame[$0].map { !$0.isDisjoint(with: files) } == true }.subtracting(hits).sorted()
                if !coreHits.isEmpty {
                    score += 2
                    reasons.append("\(coreHits.prefix(3).joined(separator: ", "))() belong to the \(f.object) core")
                }
            }
            if score == 0 { continue }
            if refcountish && ["devm-embedded-refcount", "kfree-outside-release", "release-devm-free", "empty-release"].contains(f.check) {
                score += 1
                reasons.append("\(f.check) produces \(log.kinds.map(\.rawValue).joined(separator: ", "))")
            }
            if log.kinds.contains(.missingRelease) && f.check == "missing-release" { score += 3; reasons.append("the log reports a missing release()") }
            if devresFree && (f.check == "devm-embedded-refcount" || f.check == "release-devm-free") {
                score += 2
                reasons.append("the memory was freed by devres")
            }
            out.append(TriageMatch(finding: f, score: score, reasons: reasons))
        }
        return Array(out.sorted { a, b in a.score != b.score ? a.score > b.score : Finding.ordered(a.finding, b.finding) }.prefix(limit))
    }
}
