/// One stored value, as another backend copies it (`dnswatch migrate`).
public enum CellValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
}
