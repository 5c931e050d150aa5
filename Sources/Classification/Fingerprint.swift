public import DNSWatchModel

/// What a fingerprint value describes.
public enum FingerprintKind: String, Sendable, Hashable, CaseIterable {
    /// A name-server name pattern (see ``NamePattern``).
    case ns
    /// A CNAME target pattern (same syntax as `ns`).
    case cname
    /// One address, IPv4 or IPv6.
    case ip
    /// An address block.
    case cidr
    /// An origin autonomous system, written `AS47846` or `47846`.
    case asn
}

/// What a fingerprint identifies.
public enum FingerprintCategory: String, Sendable, Hashable, CaseIterable {
    /// A domain-parking service (class `parked`).
    case parking
    /// A domain marketplace's for-sale page (class `parked`, subtype kept for display).
    case marketplace
    /// A registrar's or hoster's placeholder page (class `parked`, subtype kept for display).
    case placeholder
    /// Takedown or research sinkhole (class `sinkhole`).
    case sinkhole
    /// Law-enforcement seizure (class `sinkhole`, subtype `seizure`).
    case seizure
    /// A registrar's default name servers: NOT parking by themselves (class `unknown`, subtype `regdefault`).
    case regdefault

    /// The class a strong match of this category gives.
    public var domainClass: DomainClass {
        switch self {
        case .parking, .marketplace, .placeholder: .parked
        case .sinkhole, .seizure: .sinkhole
        case .regdefault: .unknown
        }
    }

    var isParked: Bool { domainClass == .parked }
    var isTakedown: Bool { domainClass == .sinkhole }
}

/// One row of a fingerprint file: `provider kind value category source`.
public struct Fingerprint: Sendable, Hashable {
    /// Display name of the provider or operator ("Sedo", "Shadowserver", "GoDaddy").
    public var provider: String
    public var kind: FingerprintKind
    /// Normalised value: lower-case name pattern without trailing dot, canonical address or CIDR, `AS<n>`.
    public var value: String
    public var category: FingerprintCategory
    /// Public source keys, `;`-separated (see data/README.md), or the user's own label.
    public var source: String

    public init(provider: String, kind: FingerprintKind, value: String, category: FingerprintCategory, source: String) {
        self.provider = provider
        self.kind = kind
        self.value = value
        self.category = category
        self.source = source
    }

    /// "ns *.sedoparking.com" — the matched entry as it reads in reasons.
    var label: String { "\(kind.rawValue) \(value)" }

    /// "Sedo, parking (source T;MN)"
    var attribution: String { "\(provider), \(category.rawValue) (source \(source))" }
}
