public import DNSWatchModel

/// Rdata sets are stored as their sorted values joined by newlines.
public enum RdataCodec {
    /// `values` sorted (an `Answer`'s rdata already is) and joined.
    public static func encode(_ values: [String]) -> String {
        switch values.count {
        case 0: return ""
        case 1: return values[0]
        default:
            let sorted = zip(values, values.dropFirst()).allSatisfy { $0 < $1 } ? values : values.sorted()
            return sorted.joined(separator: "\n")
        }
    }

    public static func decode(_ text: String) -> [String] {
        text.isEmpty ? [] : text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }
}

/// One span of history, as `dnswatch history` shows it.
public struct SpanRecord: Sendable, Equatable {
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
    /// The resolver (`HOST:PORT`) whose answer started the span; nil for imported records and for spans written
    /// before dnswatch recorded it. Read by `history` only (the other reads leave it nil).
    public var resolver: String?

    /// Sources in order: dnswatch's own polls (nil) first, then by name.
    public static func sourceOrder(_ a: String?, _ b: String?) -> Bool {
        switch (a, b) {
        case (nil, nil): false
        case (nil, _): true
        case (_, nil): false
        case let (x?, y?): x < y
        }
    }

    /// `source` is its source's name, nil for dnswatch's own polls.
    public init(id: Int64, domain: String, rrtype: RRType, status: AnswerStatus, rdata: [String], timeFirst: Int64, timeLast: Int64,
                count: Int, class: DomainClass?, provider: String?, source: String?, resolver: String? = nil) {
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
        self.resolver = resolver
    }
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

    public init(_ hit: ValueHit) {
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
public struct StoredAlert: Sendable, Equatable {
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

    /// `message` is the payload's `message` ("" when it has none).
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

extension AddressHit {
    /// A sighting: the span and the address (as stored) it was found through.
    public init(span: SpanRecord, address: String, current: Bool) {
        self.init(ValueHit(span: span, value: address, current: current))
    }
}

