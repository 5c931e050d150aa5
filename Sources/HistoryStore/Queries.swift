public import DNSWatchModel
public import GRDB

/// One span of history, as `dnswatch history` shows it.
public struct SpanRecord: Sendable, Equatable, FetchableRecord {
    public var domain: String
    public var rrtype: RRType
    public var status: AnswerStatus
    public var rdata: [String]
    public var timeFirst: Int64
    public var timeLast: Int64
    public var count: Int
    public var `class`: DomainClass?
    public var provider: String?

    /// From a `spans` row with the domain's name as `domain`.
    public init(row: Row) throws {
        domain = row["domain"]
        rrtype = try row.decode(forColumn: "rrtype")
        status = try row.decode(forColumn: "status")
        rdata = RdataCodec.decode(row["rdata"])
        timeFirst = row["time_first"]
        timeLast = row["time_last"]
        count = row["count"]
        `class` = try row.decode(forColumn: "class")
        provider = row["provider"]
    }
}

/// A watched domain that resolved into an address, with when.
public struct AddressHit: Sendable, Equatable {
    public var domain: String
    public var address: String
    public var rrtype: RRType
    public var timeFirst: Int64
    public var timeLast: Int64
    public var current: Bool
    /// The class of the span (its addresses together) when it was recorded.
    public var spanClass: DomainClass?
}

/// A stored alert.
public struct StoredAlert: Sendable, Equatable, FetchableRecord {
    public var id: Int64
    public var time: Int64
    public var domain: String
    public var list: String
    public var type: String
    public var severity: String
    public var severityRank: Int
    /// The alert's `message`, read from the payload by SQLite.
    public var message: String
    /// The alert as JSON, as delivered to sinks.
    public var payload: String

    public init(row: Row) throws {
        id = row["id"]
        time = row["time"]
        domain = row["domain"]
        list = row["list"]
        type = row["type"]
        severity = row["severity"]
        severityRank = row["severity_rank"]
        message = row["message"]
        payload = row["payload"]
    }
}

extension HistoryStore {
    /// The spans of a domain, oldest first, overlapping [since, until].
    public func history(domain: String, type: RRType? = nil, since: Int64? = nil, until: Int64? = nil) async throws -> [SpanRecord] {
        try await read { db in
            try SpanRecord.fetchAll(db, sql: """
                SELECT d.name AS domain, s.* FROM spans s JOIN domains d ON d.id = s.domain_id
                WHERE d.name = ? AND (? IS NULL OR s.rrtype = ?)
                  AND (? IS NULL OR s.time_last >= ?) AND (? IS NULL OR s.time_first <= ?)
                ORDER BY s.time_first, s.id
                """, arguments: [domain, type, type, since, since, until, until])
        }
    }

    /// Whether the domain is known at all (watched now or before).
    public func domainExists(_ name: String) async throws -> Bool {
        try await read { db in try Bool.fetchOne(db, sql: "SELECT 1 FROM domains WHERE name = ?", arguments: [name]) ?? false }
    }

    /// Every (domain, address) of A/AAAA history inside `block`, newest last.
    public func domains(resolvingInto block: CIDR) async throws -> [AddressHit] {
        let type = block.network.isIPv4 ? "A" : "AAAA"
        return try await read { db in
            var out: [AddressHit] = []
            let exact = block.prefixLength == block.network.bytes.count * 8 ? block.network.description : nil
            let rows = try Row.fetchCursor(db, sql: """
                SELECT d.name, s.rdata, s.time_first, s.time_last, (h.span_id IS NOT NULL) AS current, s.class
                FROM spans s JOIN domains d ON d.id = s.domain_id
                LEFT JOIN heads h ON h.span_id = s.id
                WHERE s.rrtype = ? AND s.status = 'NOERROR'
                  AND (? IS NULL OR instr(char(10) || s.rdata || char(10), char(10) || ? || char(10)) > 0)
                ORDER BY s.time_first
                """, arguments: [type, exact, exact])
            while let row = try rows.next() {
                for a in RdataCodec.decode(row[1]) {
                    guard let ip = IPAddress(a), block.contains(ip) else { continue }
                    out.append(AddressHit(domain: row[0], address: a, rrtype: type == "A" ? .a : .aaaa,
                                          timeFirst: row[2], timeLast: row[3], current: row[4],
                                          spanClass: try row.decode(atIndex: 5)))
                }
            }
            return out
        }
    }

    /// Domains whose NS history names this name server.
    public func domains(withNameServer ns: String) async throws -> [AddressHit] {
        try await read { db in
            try Row.fetchAll(db, sql: """
                SELECT d.name, s.time_first, s.time_last, (h.span_id IS NOT NULL) AS current, s.class
                FROM spans s JOIN domains d ON d.id = s.domain_id LEFT JOIN heads h ON h.span_id = s.id
                WHERE s.rrtype = 'NS' AND instr(char(10) || s.rdata || char(10), char(10) || ? || char(10)) > 0
                ORDER BY s.time_first
                """, arguments: [ns]).map {
                AddressHit(domain: $0[0], address: ns, rrtype: .ns, timeFirst: $0[1], timeLast: $0[2], current: $0[3],
                           spanClass: try $0.decode(atIndex: 4))
            }
        }
    }

    /// Cached origin-ASN answers that have not expired.
    public func cachedASN(_ addresses: [String], now: Int64) async throws -> [String: ASNEntry] {
        try await read { db in
            var out: [String: ASNEntry] = [:]
            for chunk in addresses.chunked(500) {
                let marks = placeholders(chunk.count)
                var args = StatementArguments(chunk)
                args += [now]
                for e in try ASNEntry.fetchAll(db, sql: "SELECT * FROM asn_cache WHERE address IN (\(marks)) AND expires > ?", arguments: args) {
                    out[e.address] = e
                }
            }
            return out
        }
    }

    /// Alerts since a time at or above a severity rank, oldest first.
    public func alerts(since: Int64? = nil, minRank: Int = 0) async throws -> [StoredAlert] {
        try await read { db in
            try StoredAlert.fetchAll(db, sql: """
                SELECT id, time, domain, list, type, severity, severity_rank, coalesce(json_extract(payload, '$.message'), '') AS message,
                       payload FROM alerts
                WHERE (? IS NULL OR time >= ?) AND severity_rank >= ? ORDER BY id
                """, arguments: [since, since, minRank])
        }
    }

    /// A domain's stored state, if it was ever polled with an answer.
    public func state(of domain: String) async throws -> DomainState? {
        try await read { db in
            try Row.fetchOne(db, sql: """
                SELECT s.class, s.provider FROM domain_state s JOIN domains d ON d.id = s.domain_id WHERE d.name = ?
                """, arguments: [domain]).map { DomainState(class: try $0.decode(atIndex: 0), provider: $0[1]) }
        }
    }
}
