public import DNSWatchModel
public import Detection
public import Store

/// A value given to an investigation (a command-line flag, a query parameter) that is not usable.
public struct InputError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension RRType {
    /// The record types history holds, by name (any case): A, AAAA, NS, CNAME; anything else is refused.
    public static func historyType(_ name: String) throws(InputError) -> RRType {
        guard let t = RRType(name: name), t != .txt else {
            throw InputError("'\(VisibleText.escape(name))' is not one of A, AAAA, NS, CNAME")
        }
        return t
    }
}

extension Severity {
    /// A minimum severity by name (any case): info, low, medium, high, critical.
    public static func named(_ name: String) throws(InputError) -> Severity {
        guard let s = Severity(rawValue: name.lowercased()) else {
            throw InputError("'\(VisibleText.escape(name))' is not one of \(Severity.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return s
    }
}

extension HistoryReading {
    /// Alerts raised at or after `since` at or above `severity`, oldest first, each checked to be of a type
    /// and severity this version knows (``UnknownAlertError`` otherwise). Their `payload` is the JSON
    /// object `alerts --json` writes a line each and `/api/v1/alerts` serves.
    public func knownAlerts(since: Int64? = nil, severity: Severity? = nil) async throws -> [StoredAlert] {
        let alerts = try await alerts(since: since, minRank: severity?.rank ?? 0)
        for a in alerts { _ = try KnownAlert(id: a.id, type: a.type, severity: a.severity, rank: a.severityRank) }
        return alerts
    }
}
