import Facts
import Indexing

/// The one scan over the tree for assignments to a named member (`x->dev.release = f`,
/// `dev->type = &t`), shared by the passes that look for installed releases.
enum MemberAssignments {
    /// Calls `body` for every assignment whose left side is a member named in `slots`, in
    /// file and function order, with the function's view (made once per function).
    static func forEach(to slots: Set<String>, index: TreeIndex, resolver: Resolver,
                        _ body: (FunctionID, FunctionDecl, FunctionView, AssignmentSite) -> Void) {
        for (fi, f) in index.files.enumerated() {
            // By index: only a function with such an assignment is copied.
            let functions = f.functions
            for ni in functions.indices {
                let e = functions[ni].exprs
                var functionView: FunctionView?
                for a in functions[ni].assignments where a.lhs >= 0 && e[a.lhs].kind == .member && slots.contains(e.text(e[a.lhs])) {
                    let id = FunctionID(file: Int32(fi), index: Int32(ni))
                    let view = functionView ?? FunctionView(id: id, resolver: resolver)
                    functionView = view
                    body(id, view.decl, view, a)
                }
            }
        }
    }
}
