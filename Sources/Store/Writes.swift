public import DNSWatchModel

/// A span to start.
public struct NewSpan: Sendable {
    public var domainID: Int64
    public var rrtype: RRType
    public var status: AnswerStatus
    public var rdata: [String]
    public var `class`: DomainClass?
    public var provider: String?
    public init(domainID: Int64, rrtype: RRType, status: AnswerStatus, rdata: [String], class cls: DomainClass?, provider: String?) {
        self.domainID = domainID
        self.rrtype = rrtype
        self.status = status
        self.rdata = rdata
        self.class = cls
        self.provider = provider
    }
}

/// A domain's stored state.
public struct StoredState: Sendable, Equatable {
    public var state: DomainState
    public var classifierVersion: String?
    public init(state: DomainState, classifierVersion: String?) {
        self.state = state
        self.classifierVersion = classifierVersion
    }
}

/// Key of a current span.
public struct HeadKey: Hashable, Sendable {
    public var domainID: Int64
    public var rrtype: RRType
    public init(domainID: Int64, rrtype: RRType) {
        self.domainID = domainID
        self.rrtype = rrtype
    }
}

/// The current span of a (domain, rrtype).
public struct HeadSpan: Sendable, Equatable {
    public var spanID: Int64
    public var status: AnswerStatus
    /// The stored rdata text (sorted values joined by newlines): compared as it is on the hot path.
    public var rdataText: String
    public var `class`: DomainClass?
    public var provider: String?

    public var rdata: [String] { RdataCodec.decode(rdataText) }

    public init(spanID: Int64, status: AnswerStatus, rdataText: String, class cls: DomainClass?, provider: String?) {
        self.spanID = spanID
        self.status = status
        self.rdataText = rdataText
        self.class = cls
        self.provider = provider
    }

    /// Whether `answer` is this span's answer.
    public func matches(_ answer: Answer) -> Bool {
        status == answer.status && rdataText == RdataCodec.encode(answer.rdata)
    }
}

/// Counts of a poll run (also the one-line summary).
public struct PollCounts: Sendable, Equatable {
    public var domains = 0
    public var queries = 0
    public var answers = 0
    public var failures = 0
    public var changes = 0
    public var alerts = 0
    public init() {}

    public static func += (l: inout PollCounts, r: PollCounts) {
        l.domains += r.domains
        l.queries += r.queries
        l.answers += r.answers
        l.failures += r.failures
        l.changes += r.changes
        l.alerts += r.alerts
    }
}

/// One cached origin-ASN answer.
public struct ASNEntry: Sendable, Equatable {
    public var address: String
    public var asn: Int?
    public var prefix: String?
    public var country: String?
    public var registry: String?
    public init(address: String, asn: Int?, prefix: String? = nil, country: String? = nil, registry: String? = nil) {
        self.address = address
        self.asn = asn
        self.prefix = prefix
        self.country = country
        self.registry = registry
    }

}

/// A span's raw answer, for re-deriving its class.
public struct RawSpan: Sendable {
    public var id: Int64
    public var domainID: Int64
    public var rrtype: RRType
    public var status: AnswerStatus
    public var rdata: [String]

    /// A span's raw answer.
    public init(id: Int64, domainID: Int64, rrtype: RRType, status: AnswerStatus, rdata: [String]) {
        self.id = id
        self.domainID = domainID
        self.rrtype = rrtype
        self.status = status
        self.rdata = rdata
    }
}
