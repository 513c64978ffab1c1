/// How serious a finding is.
public enum Severity: String, Sendable, Comparable, CaseIterable {
    case note, warning, error
    var rank: Int { switch self { case .note: 0; case .warning: 1; case .error: 2 } }
    public static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }
}

/// A secondary location attached to a finding.
public struct FindingNote: Sendable, Hashable {
    public var file: String
    public var line: Int32
    public var column: Int32
    public var message: String
    public init(file: String, line: Int32, column: Int32 = 1, message: String) {
        self.file = file; self.line = line; self.column = column; self.message = message
    }
}

/// A use of provider-owned state by a core function, reached from a consumer entry.
public struct FindingUseSite: Sendable, Hashable {
    public var function: String
    public var file: String
    public var line: Int32
    public var entry: String
}

/// One reported hazard, with the evidence chain a maintainer needs.
public struct Finding: Sendable, Hashable {
    public var check: String
    public var severity: Severity
    public var file: String
    public var line: Int32
    public var column: Int32
    public var function: String
    public var structName: String
    public var chain: [String]
    public var object: String
    public var protection: String
    public var message: String
    public var notes: [FindingNote]
    /// `unrevoked-provider-ops`: the provider-owned members.
    public var members: [String] = []
    /// `unrevoked-provider-ops`: each unprotected use and the consumer entry reaching it.
    public var useSites: [FindingUseSite] = []

    public init(check: String, severity: Severity, file: String, line: Int32, column: Int32, function: String = "",
                structName: String = "", chain: [String] = [], object: String = "", protection: String = "",
                message: String, notes: [FindingNote] = []) {
        self.check = check; self.severity = severity; self.file = file; self.line = line; self.column = column
        self.function = function; self.structName = structName; self.chain = chain; self.object = object
        self.protection = protection; self.message = message; self.notes = notes
    }

    /// A key that survives unrelated edits (no line numbers), for baselines.
    public var fingerprint: String {
        [check, file, function, structName, object].joined(separator: "|")
    }

    /// The order of every report: path, line, column, check.
    public static func ordered(_ a: Finding, _ b: Finding) -> Bool {
        if a.file != b.file { return a.file < b.file }
        if a.line != b.line { return a.line < b.line }
        if a.column != b.column { return a.column < b.column }
        if a.check != b.check { return a.check < b.check }
        return a.message < b.message
    }
}
