import Facts
import Indexing

/// Assignments to a named member (`x->dev.release = f`,
/// `dev->type = &t`), shared by the passes that look for installed releases.
enum MemberAssignments {
    /// Calls `body` for every assignment whose left side is a member named in `slots`, in
    /// file and function order, with the function's view (made once per function), read off
    /// the tree's member-assignment index.
    static func forEach(to slots: Set<String>, index: TreeIndex, resolver: Resolver,
                        _ body: (FunctionID, FunctionDecl, FunctionView, AssignmentSite) -> Void) {
        var current: (FunctionID, FunctionView)?
        for ref in index.assignments(toMembers: slots) {
            let view: FunctionView
            if let (id, v) = current, id == ref.function { view = v } else {
                view = FunctionView(id: ref.function, resolver: resolver)
                current = (ref.function, view)
            }
            let decl = view.decl
            body(ref.function, decl, view, decl.assignments[Int(ref.assignment)])
        }
    }
}
