public import DNSWatchModel

/// Address blocks that are not globally reachable: an answer in them means the domain points nowhere on the
/// Internet (class `dormant`). From the IANA IPv4 and IPv6 Special-Purpose Address Registries (RFC 6890 and
/// the RFCs each entry cites), plus IPv4 multicast and the reserved class E space. Blocks that the registries
/// mark globally reachable (AS112, AMT, 6to4, Teredo, ...) are not listed.
public enum SpecialPurpose {
    /// One registry entry.
    public struct Block: Sendable, Hashable {
        public let cidr: CIDR
        public let name: String
        public let reference: String
    }

    /// IPv4 blocks.
    public static let ipv4: [Block] = [
        block("0.0.0.0/8", "\"this network\"", "RFC 791 §3.2, RFC 6890"),
        block("10.0.0.0/8", "private-use", "RFC 1918"),
        block("100.64.0.0/10", "shared address space (CGN)", "RFC 6598"),
        block("127.0.0.0/8", "loopback", "RFC 1122 §3.2.1.3"),
        block("169.254.0.0/16", "link-local", "RFC 3927"),
        block("172.16.0.0/12", "private-use", "RFC 1918"),
        block("192.0.0.0/24", "IETF protocol assignments", "RFC 6890 §2.1"),
        block("192.0.2.0/24", "documentation (TEST-NET-1)", "RFC 5737"),
        block("192.88.99.0/24", "deprecated 6to4 relay anycast", "RFC 7526"),
        block("192.168.0.0/16", "private-use", "RFC 1918"),
        block("198.18.0.0/15", "benchmarking", "RFC 2544"),
        block("198.51.100.0/24", "documentation (TEST-NET-2)", "RFC 5737"),
        block("203.0.113.0/24", "documentation (TEST-NET-3)", "RFC 5737"),
        block("224.0.0.0/4", "multicast", "RFC 5771"),
        block("240.0.0.0/4", "reserved", "RFC 1112 §4"),
        block("255.255.255.255/32", "limited broadcast", "RFC 919, RFC 8190"),
    ]

    /// IPv6 blocks. `::ffff:0:0/96` (IPv4-mapped) and `64:ff9b::/96` (NAT64) are not here: the classifier maps
    /// them to the embedded IPv4 address and applies the IPv4 rules.
    public static let ipv6: [Block] = [
        block("::/128", "unspecified", "RFC 4291"),
        block("::1/128", "loopback", "RFC 4291"),
        block("::/96", "IPv4-compatible (deprecated)", "RFC 4291 §2.5.5.1"),
        block("64:ff9b:1::/48", "local-use IPv4/IPv6 translation", "RFC 8215"),
        block("100::/64", "discard-only", "RFC 6666"),
        block("100:0:0:1::/64", "dummy IPv6 prefix", "RFC 9780"),
        block("2001:2::/48", "benchmarking", "RFC 5180"),
        block("2001:10::/28", "deprecated ORCHID", "RFC 4843"),
        block("2001:db8::/32", "documentation", "RFC 3849"),
        block("3fff::/20", "documentation", "RFC 9637"),
        block("5f00::/16", "segment routing (SRv6) SIDs", "RFC 9602"),
        block("fc00::/7", "unique-local", "RFC 4193"),
        block("fe80::/10", "link-local unicast", "RFC 4291"),
        block("ff00::/8", "multicast", "RFC 4291"),
    ]

    private static let table: RangeTable<Block> = {
        var t = RangeTable<Block>()
        for b in ipv4 + ipv6 { t.insert(b.cidr, b) }
        return t
    }()

    /// The most specific special-purpose block containing the address, if any.
    public static func block(containing address: IPAddress) -> Block? {
        table.matches(address).first?.payload
    }

    private static func block(_ cidr: String, _ name: String, _ reference: String) -> Block {
        guard let c = CIDR(cidr) else { preconditionFailure("bad built-in CIDR \(cidr)") }
        return Block(cidr: c, name: name, reference: reference)
    }
}

/// Shared cloud and CDN address space: an address there is handed from tenant to tenant (or shared by many at
/// once), so a parking or sinkhole fingerprint on it is only a weak hint unless the name servers or a CNAME
/// agree (caveat in the reference data). Published ranges of AWS Global Accelerator and CloudFront
/// (ip-ranges.amazonaws.com), Google Cloud / AWS 34/8 and 35/8, Cloudflare (cloudflare.com/ips), and the
/// Microsoft edge block used by Azure Front Door.
public enum SharedCloud {
    public struct Range: Sendable, Hashable {
        public let cidr: CIDR
        public let operatorName: String
    }

    public static let ranges: [Range] = {
        let ga = ["3.33.0.0/16", "13.248.0.0/16", "15.197.0.0/16", "75.2.0.0/16", "76.223.0.0/16", "99.83.0.0/16"]
        let cloud = ["34.0.0.0/8", "35.0.0.0/8"]
        let cloudfront = ["13.32.0.0/15", "13.224.0.0/14", "18.160.0.0/15", "18.164.0.0/15", "52.84.0.0/15",
                          "52.222.128.0/17", "54.230.0.0/16", "54.239.128.0/18", "65.8.0.0/16", "99.84.0.0/16",
                          "143.204.0.0/16"]
        let cloudflare = ["103.21.244.0/22", "103.22.200.0/22", "103.31.4.0/22", "104.16.0.0/13", "104.24.0.0/14",
                          "108.162.192.0/18", "131.0.72.0/22", "141.101.64.0/18", "162.158.0.0/15",
                          "172.64.0.0/13", "173.245.48.0/20", "188.114.96.0/20", "190.93.240.0/20",
                          "197.234.240.0/22", "198.41.128.0/17", "2400:cb00::/32", "2405:8100::/32",
                          "2405:b500::/32", "2606:4700::/32", "2803:f800::/32", "2a06:98c0::/29", "2c0f:f248::/32"]
        let microsoft = ["13.107.0.0/16"]
        return ga.map { make($0, "AWS Global Accelerator") } + cloud.map { make($0, "AWS/Google Cloud") }
            + cloudfront.map { make($0, "AWS CloudFront") } + cloudflare.map { make($0, "Cloudflare") }
            + microsoft.map { make($0, "Microsoft edge (Azure Front Door)") }
    }()

    private static let table: RangeTable<Range> = {
        var t = RangeTable<Range>()
        for r in ranges { t.insert(r.cidr, r) }
        return t
    }()

    /// The shared range containing the address, if any.
    public static func range(containing address: IPAddress) -> Range? {
        table.matches(address).first?.payload
    }

    private static func make(_ cidr: String, _ name: String) -> Range {
        guard let c = CIDR(cidr) else { preconditionFailure("bad built-in CIDR \(cidr)") }
        return Range(cidr: c, operatorName: name)
    }
}
