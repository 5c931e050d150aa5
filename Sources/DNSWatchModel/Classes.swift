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
    /// Shared infrastructure (a cloud or CDN range, a public resolver) that a `shared` warning list names:
    /// a live host, but one many unrelated domains use.
    case shared
    case unknown

    /// A class that means a real host answers there (unknown or shared infrastructure): what `activation`,
    /// `new-ip` and a C&C's "resolved while not parked" are about.
    public var isLiveHost: Bool { self == .unknown || self == .shared }
}

/// A warning list that matched a value (MISP warninglists: `lists/NAME/list.json`).
public struct WarningListHit: Sendable, Hashable, Codable {
    /// The list's directory name, e.g. `amazon-aws` (what the action table is keyed by).
    public var name: String
    public var description: String

    public init(name: String, description: String) {
        self.name = name
        self.description = description
    }
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
    /// Every warning list that matched the value, whatever it does (nil: none, or no lists loaded).
    public var warninglists: [WarningListHit]?
    /// The fingerprint entry or warning list that gave the class (nil: neither did). Not encoded: a stored
    /// view keeps its verdicts as before, and `explain` classifies the current values again to show it.
    public var evidence: Evidence?

    enum CodingKeys: String, CodingKey {
        case `class`, provider, reason, subtype, weakProvider, warninglists
    }

    public init(class: DomainClass, provider: String? = nil, reason: String, subtype: String? = nil,
                weakProvider: String? = nil, warninglists: [WarningListHit]? = nil, evidence: Evidence? = nil) {
        self.class = `class`
        self.provider = provider
        self.reason = reason
        self.subtype = subtype
        self.weakProvider = weakProvider
        self.warninglists = warninglists
        self.evidence = evidence
    }
}

/// What matched a value: a fingerprint entry (`ns *.sedoparking.com`, its source keys) or a warning list (its
/// name, and its description and version).
public struct Evidence: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        case fingerprint
        case warninglist
    }

    public var kind: Kind
    /// The fingerprint entry as `KIND VALUE` (`ns *.sedoparking.com`), or the warning list's name.
    public var match: String
    /// The fingerprint's source keys (data/README.md), or the warning list's description and version.
    public var source: String

    public init(kind: Kind, match: String, source: String) {
        self.kind = kind
        self.match = match
        self.source = source
    }
}

/// A domain's state: its class, plus the provider for parked and sinkhole (and for shared, the list).
public struct DomainState: Sendable, Hashable, Codable, CustomStringConvertible {
    public var `class`: DomainClass
    public var provider: String?

    public init(class: DomainClass, provider: String? = nil) {
        self.class = `class`
        self.provider = (`class` == .parked || `class` == .sinkhole || `class` == .shared) ? provider : nil
    }

    public var description: String {
        provider.map { "\(self.class.rawValue) (\($0))" } ?? self.class.rawValue
    }
}
