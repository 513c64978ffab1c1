import Facts
import Indexing
import Analysis
import Findings
import Checks

/// The JSON rendering of `unbindcheck index` totals.
extension IndexStats {
    public var json: [(String, JSONValue)] {
        [("files", .int(files)), ("bytes", .int(bytes)), ("structs", .int(structs)), ("unions", .int(unions)),
         ("typedefs", .int(typedefs)), ("functions", .int(functions)), ("calls", .int(calls)), ("expression_nodes", .int(exprNodes)),
         ("globals", .int(globals)), ("exports", .int(exports)), ("recoveries", .int(recoveries)),
         ("files_with_recoveries", .int(filesWithRecoveries)), ("unreadable", .int(unreadable))]
    }
}
