public import Store
import GRDB

extension SQLiteStore {
    /// Undelivered (alert, sink) pairs for these sinks, oldest first.
    public func pendingDeliveries(sinks: [String]) async throws -> [QueuedDelivery] {
        guard !sinks.isEmpty else { return [] }
        return try await read { db in
            let marks = placeholders(sinks.count)
            return try Row.fetchAll(db, sql: """
                SELECT d.alert_id, d.sink, a.payload FROM deliveries d JOIN alerts a ON a.id = d.alert_id
                WHERE d.delivered IS NULL AND d.sink IN (\(marks)) ORDER BY d.alert_id
                """, arguments: StatementArguments(sinks)).map { QueuedDelivery(alertID: $0[0], sink: $0[1], payload: $0[2]) }
        }
    }

    /// Records one attempt to deliver an alert to a sink: delivered (`error` nil), or failed with `error`
    /// (the row stays pending and is handed out again by ``pendingDeliveries(sinks:)``).
    public func recordDelivery(alertID: Int64, sink: String, at time: Int64, error: String?) async throws {
        try await write { w in
            if let error {
                try w.db.execute(sql: "UPDATE deliveries SET attempts = attempts + 1, last_error = ? WHERE alert_id = ? AND sink = ?",
                                 arguments: [error, alertID, sink])
            } else {
                try w.db.execute(sql: """
                    UPDATE deliveries SET attempts = attempts + 1, delivered = ?, last_error = NULL
                    WHERE alert_id = ? AND sink = ? AND delivered IS NULL
                    """, arguments: [time, alertID, sink])
            }
        }
    }

    /// How many deliveries are still pending (all sinks).
    public func pendingCount() async throws -> Int {
        try await read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM deliveries WHERE delivered IS NULL") ?? 0 }
    }
}
