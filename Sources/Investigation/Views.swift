public import Classification
public import DNSWatchModel
public import Foundation
public import HistoryStore

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
}

/// `triage --json`.
public struct TriageOutput: Encodable, Sendable, Equatable {
    public let query: String, `class`: String
    @NullEncoded public var provider: String?
    @NullEncoded public var asn: Int?
    public let fan_in: Int, domains: [String], verdict: String, reason: String, details: [TriageDomain]

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

/// The investigator's questions over one store, for the CLI and the server alike.
public struct Investigator: Sendable {
    public let store: HistoryStore
    public let classifier: Classifier
    /// Origin ASNs of addresses (the cache, and for the CLI with `--resolver` a lookup of what is missing).
    public let asns: @Sendable ([IPAddress]) async throws -> [String: Int]

    public init(store: HistoryStore, classifier: Classifier, asns: @escaping @Sendable ([IPAddress]) async throws -> [String: Int]) {
        self.store = store
        self.classifier = classifier
        self.asns = asns
    }

    /// Origin ASNs from the store's cache only (what the server answers with: it never sends a query).
    public static func cachedASNs(_ store: HistoryStore) -> @Sendable ([IPAddress]) async throws -> [String: Int] {
        { ips in
            try await store.cachedASN(ips.map(\.description), now: Int64(Date().timeIntervalSince1970)).compactMapValues(\.asn)
        }
    }

    public func history(domain: DomainName, type: RRType? = nil, since: Int64? = nil, until: Int64? = nil,
                        source: SourceFilter? = nil) async throws -> [HistoryLine] {
        try await store.history(domain: domain.value, type: type, since: since, until: until, source: source).map(HistoryLine.init)
    }

    /// The domains that resolved into `block` (watched ones, and those of imported records), oldest first,
    /// each with the address's class and the sighting's source.
    /// `atMost`: see `HistoryStore.domains(resolvingInto:atMost:)`.
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
                               provider: v.provider, asn: asn[h.address], reason: v.reason, sources: [SourceName.of(h.source)])
        }
    }

    /// The triage of an address or a domain (`value` is either).
    public func triage(_ value: String) async throws -> TriageReport {
        let triage = Triage(store: store, classifier: classifier)
        if let given = IPAddress(value) {
            let ip = CIDR(network: given, prefixLength: given.bytes.count * 8).unmapped.network
            return try await triage.address(ip, asn: try await asns([ip])[ip.description])
        }
        let name = try DomainName(value)
        let addrs = try await store.history(domain: name.value).filter { $0.rrtype == .a || $0.rrtype == .aaaa }.flatMap(\.rdata)
        let asn = try await asns(Array(Set(addrs)).compactMap(IPAddress.init))
        return try await triage.domain(name, asnOf: { asn[$0] })
    }
}
