import Foundation
import GRDB
import GRDBSQLite

/// A prepared `INSERT` whose values are bound one by one through SQLite's C API. A fill
/// writes three rows per file (its content, its queryable rows and its manifest row);
/// GRDB's `execute(arguments:)` boxes each value and builds an argument array per row,
/// which cost more than SQLite's own work when every member had a row of its own.
/// Binds what GRDB would: integers, text (an empty string as empty text, not NULL) and
/// blobs.
struct RowInserter {
    private let statement: Statement
    private var column: Int32 = 1

    init(_ db: Database, sql: String) throws {
        statement = try db.makeStatement(sql: sql)
    }

    /// SQLite copies the bytes before the bind returns.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
    private static let emptyText: StaticString = ""

    mutating func bind(_ v: Int64) {
        sqlite3_bind_int64(statement.sqliteStatement, column, v)
        column += 1
    }

    mutating func bind(_ v: Int32) { bind(Int64(v)) }
    mutating func bind(_ v: Int) { bind(Int64(v)) }
    mutating func bind(_ v: Bool) { bind(Int64(v ? 1 : 0)) }

    /// UTF-8 text; SQLite copies it before the bind returns.
    mutating func bind(text v: UnsafeRawBufferPointer) {
        let text = v.baseAddress ?? UnsafeRawPointer(Self.emptyText.utf8Start)
        _ = sqlite3_bind_text(statement.sqliteStatement, column, text.assumingMemoryBound(to: CChar.self), Int32(v.count), Self.transient)
        column += 1
    }

    mutating func bind(_ v: String) {
        var s = v
        s.withUTF8 { bind(text: UnsafeRawBufferPointer($0)) }
    }

    /// UTF-8 text given as bytes (the queryable rows' JSON).
    mutating func bind(text v: [UInt8]) { v.withUnsafeBytes { bind(text: $0) } }

    mutating func bind(blob v: UnsafeRawBufferPointer) {
        let bytes = v.baseAddress ?? UnsafeRawPointer(Self.emptyText.utf8Start)
        sqlite3_bind_blob(statement.sqliteStatement, column, bytes, Int32(v.count), Self.transient)
        column += 1
    }

    mutating func bind(blob v: [UInt8]) { v.withUnsafeBytes { bind(blob: $0) } }
    mutating func bind(blob v: Data) { v.withUnsafeBytes { bind(blob: $0) } }

    /// Inserts the row bound so far and starts the next one.
    mutating func step() throws {
        let stmt = statement.sqliteStatement
        let rc = sqlite3_step(stmt)
        sqlite3_reset(stmt)
        column = 1
        guard rc == SQLITE_DONE else {
            throw DatabaseError(resultCode: ResultCode(rawValue: rc), message: String(cString: sqlite3_errmsg(sqlite3_db_handle(stmt))), sql: statement.sql)
        }
    }
}
