import Facts

/// Totals for `unbindcheck index`.
public struct IndexStats: Sendable {
    public var files = 0
    public var bytes = 0
    public var structs = 0
    public var unions = 0
    public var typedefs = 0
    public var functions = 0
    public var calls = 0
    public var exprNodes = 0
    public var globals = 0
    public var exports = 0
    public var recoveries = 0
    public var filesWithRecoveries = 0
    public var unreadable = 0

    /// `bodies`: also count calls and expression nodes (reading every function's facts:
    /// a scan's summary, which shows neither, skips them).
    public init(_ index: TreeIndex, bodies: Bool = true) {
        for f in index.files {
            files += 1
            bytes += f.bytes
            for a in f.aggregates where !a.isAnonymous { if a.isUnion { unions += 1 } else { structs += 1 } }
            typedefs += f.typedefs.count
            functions += f.functions.count
            if bodies { for fn in f.functions { calls += fn.calls.count; exprNodes += fn.exprs.nodeCount } }
            globals += f.globals.count
            exports += f.exports.count
            recoveries += f.recoveries
            if f.recoveries > 0 { filesWithRecoveries += 1 }
            if f.unreadable != nil { unreadable += 1 }
        }
    }
}
