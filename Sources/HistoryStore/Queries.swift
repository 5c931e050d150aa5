public import DNSWatchModel
public import GRDB

/// One span of history, as `dnswatch history` shows it.
public struct SpanRecord: Sendable, Equatable, FetchableRecord {
    public var id: Int64
    public var domain: String
    public var rrtype: RRType
    public var status: AnswerStatus
    public var rdata: [String]
    public var timeFirst: Int64
    public var timeLast: Int64
    public var count: Int
    public var `class`: DomainClass?
    public var provider: String?
    /// The source an imported record came from (`import cof`); nil for dnswatch's own polls.
    public var source: String?

    /// From a `spans` row with the domain's name as `domain` (and its source's name as `source`:
    /// `SpanRecord.sourceColumn`).
    public init(row: Row) throws {
        try self.init(row: row, domain: row["domain"])
    }

    /// From a `spans` row, for a domain named elsewhere.
    init(row: Row, domain: String) throws {
        id = row["id"]
        self.domain = domain
        rrtype = try row.decode(forColumn: "rrtype")
        status = try row.decode(forColumn: "status")
        rdata = RdataCodec.decode(row["rdata"])
        timeFirst = row["time_first"]
        timeLast = row["time_last"]
        count = row["count"]
        `class` = try row.decode(forColumn: "class")
        provider = row["provider"]
        source = row["source"]
        guard source != nil || row["source_id"] as Int64? == nil else {
            throw DatabaseError(resultCode: .SQLITE_CORRUPT, message: "span \(id) names a source that is not stored")
        }
    }

    /// The column a span query selects beside `s.*` for `source` (the sources table is a handful of rows,
    /// each found by its primary key).
    /// Sources in order: dnswatch's own polls (nil) first, then by name.
    public static func sourceOrder(_ a: String?, _ b: String?) -> Bool {
        switch (a, b) {
        case (nil, nil): false
        case (nil, _): true
        case (_, nil): false
        case let (x?, y?): x < y
        }
    }

    static let sourceColumn = "(SELECT name FROM sources WHERE id = s.source_id) AS source"
}

/// Which spans of a domain's history: dnswatch's own polls, or the records imported from one source.
public enum SourceFilter: Sendable, Hashable {
    case polled
    case named(String)

    /// `polled`, or a source's name.
    public init(_ text: String) {
        self = text == SourceFilter.polledName ? .polled : .named(text)
    }

    /// What the CLI and the API call dnswatch's own polls (in `sources` lists and `--source`): a name no
    /// import may take.
    public static let polledName = "polled"

    /// The SQL condition on `s.source_id`, with its arguments.
    var sql: (String, StatementArguments) {
        switch self {
        case .polled: ("s.source_id IS NULL", [])
        case .named(let name): ("s.source_id = (SELECT id FROM sources WHERE name = ?)", [name])
        }
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
    /// The source of an imported record; nil for dnswatch's own polls.
    public var source: String?

    init(_ hit: ValueHit) {
        self.init(domain: hit.span.domain, address: hit.value, rrtype: hit.span.rrtype, timeFirst: hit.span.timeFirst,
                  timeLast: hit.span.timeLast, current: hit.current, spanClass: hit.span.class, source: hit.span.source)
    }

    public init(domain: String, address: String, rrtype: RRType, timeFirst: Int64, timeLast: Int64, current: Bool, spanClass: DomainClass?,
                source: String? = nil) {
        self.source = source
        self.domain = domain
        self.address = address
        self.rrtype = rrtype
        self.timeFirst = timeFirst
        self.timeLast = timeLast
        self.current = current
        self.spanClass = spanClass
    }
}

/// A block with more sightings than a caller can hold (`domains(resolvingInto:atMost:)`).
public struct TooManySightings: Error, Sendable, CustomStringConvertible {
    public let block: CIDR
    public let limit: Int
    public init(block: CIDR, limit: Int) {
        self.block = block
        self.limit = limit
    }
    public var description: String {
        "\(block) holds more than \(limit) sightings: ask a narrower prefix, or /dnsdb/v2/lookup/rdata/ip, which streams them"
    }
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
    /// The spans of a domain, oldest first, overlapping [since, until]: polled and imported ones (each with
    /// its `source`), or with `source` only those of one.
    public func history(domain: String, type: RRType? = nil, since: Int64? = nil, until: Int64? = nil,
                        source: SourceFilter? = nil) async throws -> [SpanRecord] {
        try await read { db in
            var args: StatementArguments = [domain, type, type, since, since, until, until]
            var sourceSQL = ""
            if let (condition, sourceArgs) = source?.sql {
                sourceSQL = " AND " + condition
                args += sourceArgs
            }
            return try SpanRecord.fetchAll(db, sql: """
                SELECT d.name AS domain, s.*, \(SpanRecord.sourceColumn) FROM spans s JOIN domains d ON d.id = s.domain_id
                WHERE d.name = ? AND (? IS NULL OR s.rrtype = ?)
                  AND (? IS NULL OR s.time_last >= ?) AND (? IS NULL OR s.time_first <= ?)\(sourceSQL)
                ORDER BY s.time_first, s.id
                """, arguments: args)
        }
    }

    /// Whether the domain is known at all (watched now or before).
    public func domainExists(_ name: String) async throws -> Bool {
        try await read { db in try Bool.fetchOne(db, sql: "SELECT 1 FROM domains WHERE name = ?", arguments: [name]) ?? false }
    }

    /// Every (domain, address) of A/AAAA history inside `block`, oldest first (through the inverse index).
    /// With `atMost`, a block holding more sightings than that throws `TooManySightings` once the pages read
    /// pass it (memory stays bounded; the oldest-first order needs them all).
    public func domains(resolvingInto block: CIDR, atMost: Int? = nil) async throws -> [AddressHit] {
        var hits: [AddressHit] = []
        for try await page in addressSpans(in: block) {
            hits += page.map(AddressHit.init)
            if let atMost, hits.count > atMost { throw TooManySightings(block: block, limit: atMost) }
        }
        return hits.sorted { ($0.timeFirst, $0.domain) < ($1.timeFirst, $1.domain) }
    }

    /// Domains whose NS history names this name server, oldest first.
    public func domains(withNameServer ns: String) async throws -> [AddressHit] {
        try await nameSpans(holding: .exact(ns), type: .ns).collect().map(AddressHit.init)
            .sorted { ($0.timeFirst, $0.domain) < ($1.timeFirst, $1.domain) }
    }

    /// Cached origin-ASN answers that have not expired.
    public func cachedASN(_ addresses: [String], now: Int64) async throws -> [String: ASNEntry] {
        try await read { db in try HistoryStore.cachedASN(db, addresses, now: now) }
    }

    /// `cachedASN(_:now:)` inside a read the caller holds.
    static func cachedASN(_ db: Database, _ addresses: [String], now: Int64) throws -> [String: ASNEntry] {
        var out: [String: ASNEntry] = [:]
        for chunk in Array(Set(addresses)).chunked(500) {
            let marks = placeholders(chunk.count)
            var args = StatementArguments(chunk)
            args += [now]
            for e in try ASNEntry.fetchAll(db, sql: "SELECT * FROM asn_cache WHERE address IN (\(marks)) AND expires > ?", arguments: args) {
                out[e.address] = e
            }
        }
        return out
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

    /// A domain's alerts, oldest first.
    public func alerts(domain: String) async throws -> [StoredAlert] {
        try await read { db in
            try StoredAlert.fetchAll(db, sql: """
                SELECT id, time, domain, list, type, severity, severity_rank, coalesce(json_extract(payload, '$.message'), '') AS message,
                       payload FROM alerts WHERE domain = ? ORDER BY time, id
                """, arguments: [domain])
        }
    }

    /// The latest alerts, newest first.
    public func latestAlerts(limit: Int) async throws -> [StoredAlert] {
        try await read { db in
            try StoredAlert.fetchAll(db, sql: """
                SELECT id, time, domain, list, type, severity, severity_rank, coalesce(json_extract(payload, '$.message'), '') AS message,
                       payload FROM alerts ORDER BY id DESC LIMIT ?
                """, arguments: [limit])
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
