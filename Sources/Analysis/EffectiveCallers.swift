import Facts
import Indexing

extension AnalysisContext {
    /// The functions whose effective calls (`FunctionView.effectiveCalls`) can have a callee
    /// among `names`, and perhaps more: the callers of a name, of a function-like macro
    /// whose expansion can call one (`Summaries.macrosReaching`), and of every `kref_put`
    /// (whose effective callee is the release it names). A check that reads only calls to
    /// `names` can leave the others out.
    public func effectiveCallers(ofAny names: Set<String>) -> Set<FunctionID> {
        var spelled = names.union(DriverCore.krefPuts)
        let reaching = summaries.macrosReaching
        for name in names { if let macros = reaching[name] { spelled.formUnion(macros) } }
        return Set(index.callers(ofAny: spelled).functions)
    }
}
