public import DNSWatchModel

/// What the read commands `history` and `alerts` need of the store, on either backend: the same calls
/// on SQLite (`HistoryStore`) and on PostgreSQL (`PostgresStore`), with the same rows in the same order.
public protocol HistoryReading: Sendable {
    /// The spans of a domain, oldest first (by `time_first`, then id), overlapping [since, until]: polled
    /// and imported ones (each with its `source`), or with `source` only those of one.
    func history(domain: String, type: RRType?, since: Int64?, until: Int64?, source: SourceFilter?) async throws -> [SpanRecord]
    /// Whether the domain is known at all (watched now or before).
    func domainExists(_ name: String) async throws -> Bool
    /// Alerts raised at or after `since` at or above a severity rank, by id (oldest first).
    func alerts(since: Int64?, minRank: Int) async throws -> [StoredAlert]
}

extension HistoryStore: HistoryReading {}

extension SpanRecord {
    /// A span read by another backend; `source` is its source's name, nil for dnswatch's own polls.
    public init(id: Int64, domain: String, rrtype: RRType, status: AnswerStatus, rdata: [String], timeFirst: Int64, timeLast: Int64,
                count: Int, class: DomainClass?, provider: String?, source: String?) {
        self.id = id
        self.domain = domain
        self.rrtype = rrtype
        self.status = status
        self.rdata = rdata
        self.timeFirst = timeFirst
        self.timeLast = timeLast
        self.count = count
        self.class = `class`
        self.provider = provider
        self.source = source
    }
}

extension StoredAlert {
    /// An alert read by another backend; `message` is the payload's `message` ("" when it has none).
    public init(id: Int64, time: Int64, domain: String, list: String, type: String, severity: String, severityRank: Int,
                message: String, payload: String) {
        self.id = id
        self.time = time
        self.domain = domain
        self.list = list
        self.type = type
        self.severity = severity
        self.severityRank = severityRank
        self.message = message
        self.payload = payload
    }
}
