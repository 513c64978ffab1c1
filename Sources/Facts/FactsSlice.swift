/// A read-only view of one array of packed facts (`FunctionBody`, `ExprTree`): indexed
/// from 0 (a slice of it keeps its parent's indices, like `ArraySlice`), and it keeps its
/// storage alive. Reading outside its bounds traps, as an `Array` read does.
public struct FactsSlice<Element>: RandomAccessCollection, @unchecked Sendable {
    @usableFromInline let owner: AnyObject?
    @usableFromInline let base: UnsafePointer<Element>?
    public let startIndex: Int
    public let endIndex: Int

    @inlinable
    init(owner: AnyObject?, base: UnsafePointer<Element>?, count: Int) {
        self.owner = owner; self.base = base; startIndex = 0; endIndex = count
    }

    @inlinable
    init(owner: AnyObject?, base: UnsafePointer<Element>?, bounds: Range<Int>) {
        self.owner = owner; self.base = base; startIndex = bounds.lowerBound; endIndex = bounds.upperBound
    }

    /// An empty view.
    @inlinable
    public init() { self.init(owner: nil, base: nil, count: 0) }

    public typealias Indices = Range<Int>
    public typealias SubSequence = FactsSlice<Element>

    @inlinable
    public subscript(i: Int) -> Element {
        precondition(i >= startIndex && i < endIndex, "FactsSlice index out of range")
        return base.unsafelyUnwrapped[i]
    }

    @inlinable
    public subscript(bounds: Range<Int>) -> FactsSlice<Element> {
        precondition(bounds.lowerBound >= startIndex && bounds.upperBound <= endIndex, "FactsSlice range out of bounds")
        return FactsSlice(owner: owner, base: base, bounds: bounds)
    }

    @inlinable public var indices: Range<Int> { startIndex..<endIndex }
    @inlinable public func index(after i: Int) -> Int { i + 1 }
    @inlinable public func index(before i: Int) -> Int { i - 1 }
}

extension FactsSlice: Equatable where Element: Equatable {
    public static func == (a: FactsSlice, b: FactsSlice) -> Bool { a.elementsEqual(b) }
}

extension FactsSlice: Hashable where Element: Hashable {
    public func hash(into h: inout Hasher) {
        h.combine(count)
        for e in self { h.combine(e) }
    }
}
