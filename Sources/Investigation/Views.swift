public import Classification
public import DNSWatchModel
public import Foundation
public import Store

// The JSON objects of the investigation commands' `--json` and of the server's `/api/v1`: one type and
// one constructor for each, so the two cannot differ.

/// One line of `history --json`: passive-DNS Common Output Format names plus dnswatch's own.
public struct HistoryLine: Encodable, Sendable, Equatable {
    public let rrname: String, rrtype: String, rdata: [String], time_first: Int64, time_last: Int64, count: Int
    public let status: String
    @NullEncoded public var `class`: String?
    @NullEncoded public var provider: String?
    /// The source of an imported record (`import cof`); null for dnswatch's own polls.
    @NullEncoded public var source: String?
    /// The resolver (`HOST:PORT`) whose answer started the span; null for imported records (and for spans
    /// polled before dnswatch recorded it).
    @NullEncoded public var resolver: String?

    public init(_ span: SpanRecord) {
        rrname = span.domain + "."
        rrtype = span.rrtype.rawValue
        rdata = span.rrtype.hasNameRdata ? span.rdata.map { $0 + "." } : span.rdata
        time_first = span.timeFirst
        time_last = span.timeLast
        count = span.count
        status = span.status.rawValue
        `class` = span.class?.rawValue
        provider = span.provider
        source = span.source
        resolver = span.resolver
    }
}

/// How the investigation outputs name where a sighting comes from: an imported record's source, or
/// `polled` for dnswatch's own polls.
public enum SourceName {
    public static func of(_ source: String?) -> String { source ?? SourceFilter.polledName }

    /// Sources in order: `polled` first, then by name.
    public static func sorted(_ sources: Set<String?>) -> [String] {
        sources.sorted(by: SpanRecord.sourceOrder).map(of)
    }
}

/// One line of `ip --json`: a watched domain that resolved into the address, and the address's class.
public struct AddressLine: Encodable, Sendable, Equatable {
    public let domain: String, address: String, rrtype: String, time_first: Int64, time_last: Int64, current: Bool
    public let lists: [String], `class`: String
    @NullEncoded public var provider: String?
    @NullEncoded public var asn: Int?
    public let reason: String
    /// Where the sighting comes from: `polled` (dnswatch's own polls) or an imported source.
    public let sources: [String]
    /// The warning lists that match the address (absent when none does).
    public var warninglists: [WarningListHit]?
}

/// `triage --json`.
public struct TriageOutput: Encodable, Sendable, Equatable {
    public let query: String, `class`: String
    @NullEncoded public var provider: String?
    @NullEncoded public var asn: Int?
    public let fan_in: Int, domains: [String], verdict: String, reason: String, details: [TriageDomain]
    /// The warning lists that match the queried value (absent when none does).
    public var warninglists: [WarningListHit]?

    public init(_ report: TriageReport) {
        query = report.query
        `class` = report.class.rawValue
        provider = report.provider
        asn = report.asn
        fan_in = report.fanIn
        domains = report.domains.map(\.domain)
        verdict = report.verdict.rawValue
        reason = report.reason
        details = report.domains
        warninglists = report.warninglists
    }
}

/// One object of `triage --file --json`: the value's `triage --json` object, and where the value was first
/// met in the feed (the line's indicator as written, its number, and with several feeds the file).
public struct FeedTriageLine: Encodable, Sendable, Equatable {
    public let triage: TriageOutput
    public let indicator: String
    public let line: Int
    public let file: String?

    public init(_ triage: TriageOutput, indicator: String, line: Int, file: String?) {
        self.triage = triage
        self.indicator = indicator
        self.line = line
        self.file = file
    }

    private enum Keys: String, CodingKey { case indicator, line, file }

    public func encode(to encoder: any Encoder) throws {
        try triage.encode(to: encoder)
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(indicator, forKey: .indicator)
        try c.encode(line, forKey: .line)
        if let file { try c.encode(file, forKey: .file) }
    }

    /// The columns of `triage --file --csv`, in order (with several feeds `file` follows).
    public static let csvHeader = ["indicator", "line", "query", "class", "provider", "asn", "fan_in", "verdict", "reason"]

    /// The CSV cells of the line, as `csvHeader` names them (null as an empty cell).
    public var csvCells: [String] {
        [indicator, String(line), triage.query, triage.class, triage.provider ?? "", triage.asn.map(String.init) ?? "",
         String(triage.fan_in), triage.verdict, triage.reason] + (file.map { [$0] } ?? [])
    }

    /// One CSV record (RFC 4180): a cell with a comma, a quote, CR or LF is quoted, its quotes doubled.
    public static func csvRecord(_ cells: [String]) -> String {
        cells.map { cell in
            cell.unicodeScalars.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
                ? "\"" + cell.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : cell
        }.joined(separator: ",")
    }
}

/// One line of `watch list --json`.
public struct WatchedLine: Encodable, Sendable, Equatable {
    public let domain: String, list: String, kind: String
    @NullEncoded public var interval: Int?
    public let added: Int64

    public init(_ d: WatchedDomain, defaults: PollInterval.Defaults) {
        domain = d.domain
        list = d.list
        kind = d.kind.rawValue
        interval = defaults.interval(listInterval: d.interval, kind: d.kind)
        added = d.added
    }
}

/// The encoder of every JSON line dnswatch writes: keys sorted, slashes as they are.
public enum JSONLine {
    public static func encode<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try data(value), as: UTF8.self)
    }

    public static func data<T: Encodable>(_ value: T) throws -> Data {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try enc.encode(value)
    }
}

/// The investigator's questions over one store (SQLite or PostgreSQL: what `InvestigationReading` reads),
/// for the CLI and the server alike.
public struct Investigator: Sendable {
    public let store: any InvestigationReading
    public let classifier: Classifier
    /// Origin ASNs of addresses (the cache, and for the CLI with `--resolver` a lookup of what is missing).
    public let asns: @Sendable ([IPAddress]) async throws -> [String: Int]
    /// Whether a triage asks `asns` for the addresses the cache lacks (the CLI with `--resolver`); else it
    /// uses the cache it reads with the rest of a batch.
    public let resolvesASNs: Bool

    public init(store: any InvestigationReading, classifier: Classifier, asns: @escaping @Sendable ([IPAddress]) async throws -> [String: Int],
                resolvesASNs: Bool = false) {
        self.store = store
        self.classifier = classifier
        self.asns = asns
        self.resolvesASNs = resolvesASNs
    }

    /// Origin ASNs from the store's cache only (what the server answers with: it never sends a query).
    public static func cachedASNs(_ store: any InvestigationReading) -> @Sendable ([IPAddress]) async throws -> [String: Int] {
        { ips in
            try await store.cachedASN(ips.map(\.description), now: Int64(Date().timeIntervalSince1970)).compactMapValues(\.asn)
        }
    }

    /// The domains that resolved into `block` (watched ones, and those of imported records), oldest first,
    /// each with the address's class and the sighting's source.
    /// `atMost`: see `SQLiteStore.domains(resolvingInto:atMost:)`.
    public func addresses(in block: CIDR, atMost: Int? = nil) async throws -> [AddressLine] {
        let block = block.unmapped
        let hits = try await store.domains(resolvingInto: block, atMost: atMost)
        let ips = Array(Set(hits.map(\.address))).compactMap(IPAddress.init)
        let single = block.prefixLength == block.network.bytes.count * 8 ? [block.network] : []
        let asn = try await asns(Array(Set(ips + single)))
        let lists = try await store.memberships(of: Array(Set(hits.map(\.domain))))
        var verdicts: [String: Verdict] = [:]
        return hits.map { h in
            let v: Verdict
            if let known = verdicts[h.address] {
                v = known
            } else {
                v = IPAddress(h.address).map { classifier.classify(address: $0, asn: asn[h.address]) } ?? Verdict(class: .unknown, reason: "")
                verdicts[h.address] = v
            }
            return AddressLine(domain: h.domain, address: h.address, rrtype: h.rrtype.rawValue, time_first: h.timeFirst, time_last: h.timeLast,
                               current: h.current, lists: Array(Set((lists[h.domain] ?? []).map(\.list))).sorted(), class: v.class.rawValue,
                               provider: v.provider, asn: asn[h.address], reason: v.reason, sources: [SourceName.of(h.source)],
                               warninglists: v.warninglists)
        }
    }

    /// The triage of an address, a prefix or a domain (`value` is one of them).
    public func triage(_ value: String, at: Int64? = nil, limit: Int? = nil) async throws -> TriageReport {
        let v: IndicatorValue
        if let block = CIDR(value) {
            v = .normalised(block)
        } else {
            v = .domain(try DomainName(value))
        }
        return try await triage(v, at: at, limit: limit)
    }

    /// The triage of one value: a batch of one, so that it cannot differ from the value's triage in a feed.
    public func triage(_ value: IndicatorValue, at: Int64? = nil, limit: Int? = nil) async throws -> TriageReport {
        try await triage([value], at: at, limit: limit)[0]
    }

    /// The triages of many values, in their order, from one read of the store (and, with `resolvesASNs`,
    /// one origin-ASN lookup of what the cache lacks).
    public func triage(_ values: [IndicatorValue], at: Int64? = nil, limit: Int? = nil) async throws -> [TriageReport] {
        let reads = try await Triage.reads(store, values, at: at)
        var asn = reads.asns.compactMapValues(\.asn)
        if resolvesASNs {
            let missing = Set(Triage.asnAddresses(values, reads: reads)).subtracting(reads.asns.keys).compactMap(IPAddress.init)
            if !missing.isEmpty { asn.merge(try await asns(missing)) { cached, _ in cached } }
        }
        let triage = Triage(store: store, classifier: classifier)
        return values.map { triage.report($0, reads: reads, asnOf: { asn[$0] }, at: at, limit: limit) }
    }
}
