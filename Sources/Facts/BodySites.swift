/// A call inside a function body.
///
/// Thirty-two bytes: the three flags share a word with the line (a tree has 4 million
/// calls). A file is at most `FrontEnd.maxFileBytes` (2^28) long, so a line fits 29 bits.
public struct CallSite: Sendable, Hashable {
    /// The called function's name when the callee is a plain identifier, else "".
    public var callee: String
    /// The `call` node in the function's arena.
    public var node: Int32
    public var column: Int32
    /// Where the result goes: the lhs node of `x = call(...)`, or -1.
    public var target: Int32
    private var lineAndFlags: PackedLine

    public var line: Int32 {
        @inline(__always) get { lineAndFlags.line }
        set { lineAndFlags.line = newValue }
    }
    /// The target is a local declared by this statement (`T *x = call(...)`): `target`
    /// is then its identifier node. (A flag, not the name, keeps 4 million calls small.)
    public var targetIsDeclaration: Bool {
        @inline(__always) get { lineAndFlags[0] }
        set { lineAndFlags[0] = newValue }
    }
    /// The call is inside an `if`, loop, `switch` or `?:` (not executed on every path).
    public var isConditional: Bool {
        @inline(__always) get { lineAndFlags[1] }
        set { lineAndFlags[1] = newValue }
    }
    /// The call is an operand of `return`.
    public var isReturned: Bool {
        @inline(__always) get { lineAndFlags[2] }
        set { lineAndFlags[2] = newValue }
    }
    public init(callee: String, node: Int32, line: Int32, column: Int32, target: Int32, targetIsDeclaration: Bool, isConditional: Bool, isReturned: Bool) {
        self.callee = callee; self.node = node; self.column = column; self.target = target
        lineAndFlags = PackedLine(line: line)
        self.targetIsDeclaration = targetIsDeclaration; self.isConditional = isConditional; self.isReturned = isReturned
    }
}

/// A line number (at most 2^29 - 1; larger or negative ones read back as 0) and three
/// flags in one 32-bit word.
struct PackedLine: Sendable, Hashable {
    private var bits: UInt32 = 0
    private static let lineMask: UInt32 = (1 << 29) - 1

    init(line: Int32) { self.line = line }

    var line: Int32 {
        @inline(__always) get { Int32(bitPattern: bits & PackedLine.lineMask) }
        set { bits = (bits & ~PackedLine.lineMask) | (newValue >= 0 && UInt32(newValue) <= PackedLine.lineMask ? UInt32(newValue) : 0) }
    }

    /// Flag `k` (0, 1 or 2).
    subscript(k: Int) -> Bool {
        @inline(__always) get { bits & (1 << (29 + UInt32(k))) != 0 }
        set { bits = newValue ? bits | (1 << (29 + UInt32(k))) : bits & ~(1 << (29 + UInt32(k))) }
    }
}

/// A name or member chain tested by a condition: `if (!p->ops)`, `while (x)`.
public struct TestSite: Sendable, Hashable, Codable {
    /// The tested expression (an identifier or member node) in the function's arena.
    public var node: Int32
    public var line: Int32
    public init(node: Int32, line: Int32) {
        self.node = node; self.line = line
    }
}

/// `lhs = rhs` (or a compound assignment) inside a function body. Sixteen bytes: the flag
/// shares a word with the line, as in `CallSite`.
public struct AssignmentSite: Sendable, Hashable {
    public var lhs: Int32
    public var rhs: Int32
    public var column: Int32
    private var lineAndFlags: PackedLine

    public var line: Int32 {
        @inline(__always) get { lineAndFlags.line }
        set { lineAndFlags.line = newValue }
    }
    public var isConditional: Bool {
        @inline(__always) get { lineAndFlags[0] }
        set { lineAndFlags[0] = newValue }
    }
    public init(lhs: Int32, rhs: Int32, line: Int32, column: Int32, isConditional: Bool) {
        self.lhs = lhs; self.rhs = rhs; self.column = column
        lineAndFlags = PackedLine(line: line)
        self.isConditional = isConditional
    }
}
