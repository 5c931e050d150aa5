/// The kind of a watchlist: what the organisation expects of its domains.
public enum ListKind: String, Sendable, Hashable, Codable, CaseIterable {
    case c2
    case owned
    case expired

    /// The kind of a list that names none (contract: default c2).
    public static let `default` = ListKind.c2
}

/// The class of an address, a name server, or (combined) of a domain.
public enum DomainClass: String, Sendable, Hashable, Codable, CaseIterable {
    case parked
    case sinkhole
    case dormant
    case owned
    case nxdomain
    case nodata
    case unknown
}

/// The classification of one value (address, name-server name, CNAME target).
public struct Verdict: Sendable, Hashable, Codable {
    public var `class`: DomainClass
    public var provider: String?
    /// Why: which fingerprint or range matched ("ns *.sedoparking.com (source T)").
    public var reason: String
    /// The finer category of the match: for parked "parking" | "marketplace" | "placeholder", for sinkhole
    /// "sinkhole" | "seizure", for unknown "regdefault" (registrar default name servers; `provider` names the
    /// registrar) or the category of a weak match. nil when nothing matched.
    public var subtype: String?
    /// Set when an address matched a fingerprint only weakly (a shared cloud range whose addresses rotate between
    /// tenants): the class stays `unknown` and this names the provider it would be; the domain-level combination
    /// decides whether the name servers or a CNAME agree.
    public var weakProvider: String?

    public init(class: DomainClass, provider: String? = nil, reason: String, subtype: String? = nil,
                weakProvider: String? = nil) {
        self.class = `class`
        self.provider = provider
        self.reason = reason
        self.subtype = subtype
        self.weakProvider = weakProvider
    }
}

/// A domain's state: its class, plus the provider for parked and sinkhole.
public struct DomainState: Sendable, Hashable, Codable, CustomStringConvertible {
    public var `class`: DomainClass
    public var provider: String?

    public init(class: DomainClass, provider: String? = nil) {
        self.class = `class`
        self.provider = (`class` == .parked || `class` == .sinkhole) ? provider : nil
    }

    public var description: String {
        provider.map { "\(self.class.rawValue) (\($0))" } ?? self.class.rawValue
    }
}
