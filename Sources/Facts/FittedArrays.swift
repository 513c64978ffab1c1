extension Array {
    /// The same elements in storage sized to their count. A parser's arrays grow by
    /// doubling, so up to half of each is unused, and whole-tree facts stay in memory for
    /// the whole run; an array within a sixteenth (or two elements) of its count is kept.
    @inlinable
    public func fittedToCount() -> [Element] {
        guard capacity - count > Swift.max(2, count / 16) else { return self }
        var out: [Element] = []
        out.reserveCapacity(count)
        out.append(contentsOf: self)
        return out
    }
}
