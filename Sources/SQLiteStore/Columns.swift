public import DNSWatchModel
import Store
public import GRDB

// Enum columns are stored as their raw text. Decoded with `Row.decode(_:forColumn:)`, a value this
// version does not know is an error (a `RowDecodingError`), never a silent default.
extension ListKind: DatabaseValueConvertible {}
extension DomainClass: DatabaseValueConvertible {}
extension RRType: DatabaseValueConvertible {}
extension AnswerStatus: DatabaseValueConvertible {}
