/// A `#include` line of a file.
public struct IncludeDirective: Sendable, Hashable, Codable {
    public var path: String
    /// `<...>` rather than `"..."`.
    public var isSystem: Bool
    public var line: Int32
    public init(path: String, isSystem: Bool, line: Int32) {
        self.path = path; self.isSystem = isSystem; self.line = line
    }
}

/// A problem met while reading a file; never fatal.
public struct FileDiagnostic: Sendable, Hashable, Codable {
    public var line: Int32
    public var column: Int32
    public var message: String
    public init(line: Int32, column: Int32, message: String) {
        self.line = line; self.column = column; self.message = message
    }
}
