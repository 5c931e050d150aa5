public import DNSWatchModel
import Foundation

/// Origin-AS lookups over DNS with Team Cymru's IP-to-ASN service:
/// `TXT 4.3.2.1.origin.asn.cymru.com` → `"47846 | 91.195.240.0/23 | DE | ripencc | 2009-04-08"`.
public enum OriginASN {
    /// The TXT query name for an address: reversed octets under `origin.asn.cymru.com`, or reversed nibbles under
    /// `origin6.asn.cymru.com` (IPv4-mapped IPv6 addresses are asked as IPv4). No trailing dot.
    public static func queryName(for address: IPAddress) -> String {
        let b = address.bytes
        if !address.isIPv4, b[0..<10].allSatisfy({ $0 == 0 }), b[10] == 0xff, b[11] == 0xff,
           let v4 = IPAddress(bytes: Array(b[12...])) {
            return queryName(for: v4)
        }
        return address.reversedLabels + (address.isIPv4 ? ".origin.asn.cymru.com" : ".origin6.asn.cymru.com")
    }

    /// Parses one TXT string (with or without surrounding quotes). nil if it is not in the expected form.
    public static func parse(txt: String) -> OriginRecord? {
        var s = txt.trimmingCharacters(in: .whitespacesAndNewlines)
        if s.count >= 2, s.hasPrefix("\""), s.hasSuffix("\"") { s = String(s.dropFirst().dropLast()) }
        let fields = s.split(separator: "|", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        guard fields.count >= 2 else { return nil }
        let asns = fields[0].split(whereSeparator: { $0 == " " || $0 == "," }).compactMap { Int($0) }
        guard let first = asns.first, asns.count == fields[0].split(whereSeparator: { $0 == " " || $0 == "," }).count,
              CIDR(fields[1]) != nil
        else { return nil }
        func field(_ i: Int) -> String? { i < fields.count && !fields[i].isEmpty ? fields[i] : nil }
        return OriginRecord(asn: first, asns: asns, prefix: fields[1], country: field(2), registry: field(3),
                            allocated: field(4))
    }

    /// Several TXT records (one per covering prefix): the most specific prefix wins.
    public static func best(of txts: [String]) -> OriginRecord? {
        txts.compactMap(parse(txt:)).max { ($0.cidr?.prefixLength ?? -1) < ($1.cidr?.prefixLength ?? -1) }
    }
}

/// One answer of the origin-AS service.
public struct OriginRecord: Sendable, Hashable, Codable {
    /// The first origin AS (several when a prefix is announced by more than one AS).
    public var asn: Int
    /// All origin ASes, in the order given.
    public var asns: [Int]
    /// The announced prefix, e.g. "91.195.240.0/23".
    public var prefix: String
    public var country: String?
    /// RIR: arin, ripencc, apnic, lacnic, afrinic.
    public var registry: String?
    /// Allocation date as given ("2009-04-08"), if any.
    public var allocated: String?

    public init(asn: Int, asns: [Int], prefix: String, country: String?, registry: String?, allocated: String?) {
        self.asn = asn
        self.asns = asns
        self.prefix = prefix
        self.country = country
        self.registry = registry
        self.allocated = allocated
    }

    /// The prefix as a CIDR.
    public var cidr: CIDR? { CIDR(prefix) }
}
