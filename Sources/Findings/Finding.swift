import Facts
import Indexing

/// How serious a finding is.
public enum Severity: String, Sendable, Comparable, CaseIterable, Codable {
    case note, warning, error
    var rank: Int { switch self { case .note: 0; case .warning: 1; case .error: 2 } }
    public static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }
}

/// What one step of a finding's evidence shows.
public enum EvidenceKind: String, Sendable, Hashable, CaseIterable, Codable {
    /// Where the object's memory comes from.
    case allocation
    /// A struct embedding the next one on the way to the refcounted object.
    case embedding
    /// A call that makes the object visible to others (`device_add`, `cdev_add`, …).
    case publish
    /// A call that only initializes the reference count (`device_initialize`, `cdev_init`).
    case initialization
    /// Where a release callback is installed, or what it does.
    case release
    /// A teardown or reference drop before the free.
    case teardown
    /// Where a provider's state is stored in a core object.
    case storage
    /// A core function using provider state on a consumer's path.
    case useSite = "use-site"
    /// What the subsystem does (or fails to do) on unregister.
    case protection
    /// How users outside the driver can hold a reference (`get_device()`, a /dev node).
    case reference
    /// Where a type the finding names is defined.
    case definition
}

/// The situation a finding describes, beyond its check and protection, that decides which
/// fix to suggest. Set by the check that writes the message, so that the fix never has to
/// read the message's words.
public enum FindingShape: Sendable, Hashable, Codable {
    /// The object (of kind `core`: `device`, `kobject`) is statically allocated: nothing
    /// leaks, and its release must free nothing.
    case staticObject(core: String)
    /// An empty release whose comment says the memory is freed elsewhere, by its owner.
    case freedByOwner
    /// A kobj_type without `.release` whose kobject's struct lives inside another struct,
    /// whose owner frees the memory.
    case kobjectInsideStruct
    /// Any other kobj_type without `.release`.
    case kobjTypeWithoutRelease
    /// A cdev's container freed by the `.release` of the file operations opened through it.
    case freedOnLastClose
    /// Freed right after `teardown` (a function name) dropped the object's reference.
    case freedAfterTeardown(teardown: String)
    /// Freed on an error path whose reference must instead be dropped with `drop`
    /// (`put_device()`, `kobject_put()`, `cdev_del()`, `kref_put()`).
    case freedOnErrorPath(drop: String)
    /// Freed after `helper` failed, which may fail after initializing the object's
    /// reference count (its own failures are its to unwind with `drop`).
    case initializedByHelper(helper: String, drop: String)
    /// Freed with the object whose private area it lives in (`owner`, a struct name;
    /// `accessor` returns the area), by a drop of that object.
    case freedWithOwner(owner: String, accessor: String)
    /// Device-managed memory holding an object the driver publishes and never unpublishes:
    /// no unbind callback (`.remove`) or devm action of the driver calls the core's unregister.
    case neverUnregistered
    /// The object is one element of an array of structs (`array`, as written): no release
    /// can free one element on its own.
    case arrayElement(array: String)
    /// A provider's member that unregister clears under `lock` (no SRCU), used outside it.
    case revokedUnderLock(lock: String)
}

/// A secondary location attached to a finding: one typed step of its evidence.
public struct FindingNote: Sendable, Hashable, Codable {
    public var kind: EvidenceKind
    public var file: String
    public var line: Int32
    public var column: Int32
    public var message: String
    public init(_ kind: EvidenceKind, file: String, line: Int32, column: Int32 = 1, message: String) {
        self.kind = kind; self.file = file; self.line = line; self.column = column; self.message = message
    }
}

/// A use of provider-owned state by a core function, reached from a consumer entry.
public struct FindingUseSite: Sendable, Hashable, Codable {
    public var function: String
    public var file: String
    public var line: Int32
    public var entry: String
    public init(function: String, file: String, line: Int32, entry: String) {
        self.function = function; self.file = file; self.line = line; self.entry = entry
    }
}

/// One reported hazard, with the evidence chain a maintainer needs.
public struct Finding: Sendable, Hashable, Codable {
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
    /// The allocator of the object's memory (`devm_kzalloc`), for allocation findings.
    public var allocator: String = ""
    /// `unrevoked-provider-ops`: the provider-owned members.
    public var members: [String] = []
    /// `unrevoked-provider-ops`: each unprotected use and the consumer entry reaching it.
    public var useSites: [FindingUseSite] = []
    /// What to change, in the kernel's own terms (set by `FixSuggestion` after the checks run).
    public var fix: String = ""
    /// The situation that decides the fix, when the check and protection alone do not.
    public var shape: FindingShape?
    /// Located in test code or samples (KUnit tests, `samples/`, `tools/testing/`): reported
    /// as a note unless `--include-tests`, and counted apart.
    public var inTestCode: Bool = false
    /// 1 for the first finding with this fingerprint key in its function, 2 for the next, …
    /// (set by `Analyzer`), so that two findings never share a fingerprint.
    public var occurrence: Int = 1

    public init(check: String, severity: Severity, file: String, line: Int32, column: Int32, function: String = "",
                structName: String = "", chain: [String] = [], object: String = "", protection: String = "",
                message: String, notes: [FindingNote] = []) {
        self.check = check; self.severity = severity; self.file = file; self.line = line; self.column = column
        self.function = function; self.structName = structName; self.chain = chain; self.object = object
        self.protection = protection; self.message = message; self.notes = notes
    }

    /// The first five fields of the fingerprint (`check|file|function|struct|object`): the
    /// whole fingerprint before issue 12, still accepted in baselines.
    var baseFingerprint: String {
        [check, file, function, structName, object].joined(separator: "|")
    }

    /// What distinguishes two findings of one function: a hash of the message's main clause
    /// (up to its first `;`, digits dropped so that no line number leaks in), then `~N` for the
    /// Nth identical one.
    var fingerprintKey: String {
        let clause = message.split(separator: ";", maxSplits: 1).first.map(String.init) ?? message
        var h: UInt32 = 0x811c9dc5
        for b in clause.utf8 where !(b >= 0x30 && b <= 0x39) { h = (h ^ UInt32(b)) &* 0x0100_0193 }
        let hex = String(h, radix: 16)
        return String(repeating: "0", count: 8 - hex.count) + hex + (occurrence > 1 ? "~\(occurrence)" : "")
    }

    /// A key that survives unrelated edits (no line numbers) and is unique per finding:
    /// `check|file|function|struct|object|key`. Baselines, SARIF and `compare` use it.
    public var fingerprint: String { baseFingerprint + "|" + fingerprintKey }

    /// The order of every report: path, line, column, check.
    public static func ordered(_ a: Finding, _ b: Finding) -> Bool {
        if a.file != b.file { return a.file < b.file }
        if a.line != b.line { return a.line < b.line }
        if a.column != b.column { return a.column < b.column }
        if a.check != b.check { return a.check < b.check }
        return a.message < b.message
    }
}
