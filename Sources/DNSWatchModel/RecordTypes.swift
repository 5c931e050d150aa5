/// The record types dnswatch asks for and records.
public enum RRType: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
    case a = "A"
    case aaaa = "AAAA"
    case ns = "NS"
    case cname = "CNAME"
    case txt = "TXT"

    /// Wire-format type code (RFC 1035, RFC 3596).
    public var code: UInt16 {
        switch self {
        case .a: 1
        case .ns: 2
        case .cname: 5
        case .txt: 16
        case .aaaa: 28
        }
    }

    public init?(code: UInt16) {
        guard let t = RRType.allCases.first(where: { $0.code == code }) else { return nil }
        self = t
    }

    /// Parses "a", "AAAA", ... case-insensitively.
    public init?(name: String) {
        self.init(rawValue: name.uppercased())
    }

    /// The types a poll asks per domain unless told otherwise.
    public static let pollDefault: [RRType] = [.a, .aaaa, .ns]

    /// Name-valued rdata (written absolute, with a trailing dot, in COF output).
    public var hasNameRdata: Bool { self == .ns || self == .cname }

    public static func < (l: RRType, r: RRType) -> Bool { l.sortKey < r.sortKey }
    private var sortKey: Int { [.a, .aaaa, .ns, .cname, .txt].firstIndex(of: self) ?? 0 }
}

/// What a completed lookup said (the RCODE/answer summary used in history; COF `status`).
public enum AnswerStatus: String, Sendable, Hashable, Codable {
    case noerror = "NOERROR"
    case nxdomain = "NXDOMAIN"
    case nodata = "NODATA"
}

/// Why a lookup produced no usable answer. Failures are recorded but never become history spans.
public enum FailureKind: String, Sendable, Hashable, Codable, CaseIterable {
    case timeout
    case servfail
    case refused
    case malformed
    case otherRcode = "other-rcode"
    case network
}
