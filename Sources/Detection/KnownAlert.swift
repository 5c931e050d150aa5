/// A stored alert's type and severity read back by this version: every reader (the CLI's `alerts`, the
/// server's `/api/v1/alerts` and `/metrics`) refuses a value it does not know rather than show it as fine.
public struct KnownAlert: Sendable, Equatable {
    public let type: AlertType
    public let severity: Severity

    /// Checks an alert's stored type, severity and severity rank (`id` names it in the error).
    public init(id: Int64, type: String, severity: String, rank: Int) throws(UnknownAlertError) {
        guard let s = Severity(rawValue: severity), s.rank == rank, let t = AlertType(rawValue: type) else {
            throw UnknownAlertError(id: id, type: type, severity: severity, rank: rank)
        }
        self.type = t
        self.severity = s
    }
}

/// A stored alert whose type or severity this version does not know: the database was written by another.
public struct UnknownAlertError: Error, Sendable, CustomStringConvertible {
    public let id: Int64, type: String, severity: String, rank: Int

    public var description: String {
        "alert \(id) has a type or severity this dnswatch does not know ('\(type)', '\(severity)', rank \(rank)): the database was written by another version"
    }
}
