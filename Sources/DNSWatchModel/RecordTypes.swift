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
    /// The reply was truncated (TC) and not asked again over TCP, or truncated over TCP too.
    case truncated
    // The other RCODEs with an IANA name (the 12-bit RCODE: 4 bits in the header, 8 in an EDNS OPT
    // record, RFC 6891), numbers in the comments.
    case formerr  // 1
    case notimp  // 4
    case yxdomain  // 6
    case yxrrset  // 7
    case nxrrset  // 8
    case notauth  // 9
    case notzone  // 10
    case dsotypeni  // 11
    case badvers  // 16
    case badkey  // 17
    case badtime  // 18
    case badmode  // 19
    case badname  // 20
    case badalg  // 21
    case badtrunc  // 22
    case badcookie  // 23
    /// An unassigned RCODE.
    case otherRcode = "other-rcode"
    case network
}
