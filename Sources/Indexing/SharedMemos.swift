/// Values computed once per key, shared by threads (each computed outside the lock; a
/// race computes a key twice and keeps the first).
final class Memo<Key: Hashable & Sendable, Value: Sendable>: @unchecked Sendable {
    private let lock = NSLockLite()
    private var values: [Key: Value] = [:]

    func get(_ key: Key, _ make: (Key) -> Value) -> Value {
        lock.lock()
        let known = values[key]
        lock.unlock()
        if let known { return known }
        let made = make(key)
        lock.lock()
        defer { lock.unlock() }
        if let first = values[key] { return first }
        values[key] = made
        return made
    }
}

/// Answers per function that depend only on the function's own facts, shared by every
/// worker of a run (`TreeIndex.sharedAnswers`).
public final class SharedFunctionAnswers<Value: Sendable>: Sendable {
    private let memo = Memo<FunctionID, Value>()

    /// The answer for `id`, computed by `make` when no worker has stored one yet.
    public func get(_ id: FunctionID, _ make: (FunctionID) -> Value) -> Value { memo.get(id, make) }
}

/// One `SharedFunctionAnswers` per value type, made on first use.
final class SharedAnswerTables: @unchecked Sendable {
    private let lock = NSLockLite()
    private var tables: [ObjectIdentifier: AnyObject] = [:]

    func table<Value: Sendable>(of type: Value.Type) -> SharedFunctionAnswers<Value> {
        lock.lock()
        defer { lock.unlock() }
        if let known = tables[ObjectIdentifier(type)] as? SharedFunctionAnswers<Value> { return known }
        let made = SharedFunctionAnswers<Value>()
        tables[ObjectIdentifier(type)] = made
        return made
    }
}

/// A value computed once, on first use, by whichever thread asks first (the others wait).
final class OnceCell<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLockLite()
    private var value: Value?

    func get(_ make: () -> Value) -> Value {
        lock.lock()
        defer { lock.unlock() }
        if let value { return value }
        let made = make()
        value = made
        return made
    }
}
