public import DNSWatchModel

/// The keys of the `span_values` index and of `domains.rname` (migration 0005): the one place that
/// says how a value is turned into something a range scan finds.
public enum ValueKey {
    static let nameTag: UInt8 = 0x4E  // 'N'

    /// An address: its family (4 or 6) and its bytes in network order.
    static func address(_ ip: IPAddress) -> [UInt8] {
        [UInt8(ip.isIPv4 ? 4 : 6)] + ip.bytes
    }

    /// The first and last key of a block (inclusive).
    public static func range(of block: CIDR) -> (low: [UInt8], high: [UInt8]) {
        let low = address(block.network)
        var high = low
        for i in 0..<block.network.bytes.count {
            let bitsHere = max(0, min(8, block.prefixLength - i * 8))
            high[i + 1] |= bitsHere == 8 ? 0 : UInt8(truncatingIfNeeded: 0xFF >> bitsHere)
        }
        return (low, high)
    }

    /// A name's labels in reverse order, dot-separated: `www.example.com` → `com.example.www`.
    /// Names are stored normalised (lower case, no trailing dot).
    public static func reversedName(_ name: String) -> String {
        name.split(separator: ".", omittingEmptySubsequences: false).reversed().joined(separator: ".")
    }

    /// A name-valued rdata (NS, CNAME), stored without its trailing dot.
    public static func name(_ name: String) -> [UInt8] {
        [nameTag] + Array(reversedName(name).utf8)
    }

    /// The keys of the names strictly under `suffix` (a left-hand wildcard `*.suffix`): [low, high).
    public static func subdomainRange(of suffix: String) -> (low: [UInt8], high: [UInt8]) {
        let (low, high) = subdomainNameRange(of: suffix)
        return ([nameTag] + Array(low.utf8), [nameTag] + Array(high.utf8))
    }

    /// The reversed-name bounds of the names strictly under `suffix`: [low, high), from `com.example.` up to
    /// `com.example/` ('/' follows '.').
    public static func subdomainNameRange(of suffix: String) -> (low: String, high: String) {
        let reversed = reversedName(suffix)
        return (reversed + ".", reversed + "/")
    }

    /// The index keys of a span's values: addresses of A/AAAA, names of NS/CNAME; none for other types
    /// or for a span without records.
    public static func keys(rrtype: RRType, status: AnswerStatus, rdata: [String]) -> [[UInt8]] {
        guard status == .noerror else { return [] }
        switch rrtype {
        case .a, .aaaa: return rdata.compactMap { IPAddress($0).map(address) }
        case .ns, .cname: return rdata.map(name)
        default: return []
        }
    }
}



/// A key of `span_values` that no rule of `ValueKey` makes (the database was written by something else).
public struct UnknownValueKey: Error, CustomStringConvertible {
    public let key: [UInt8]
    public var description: String { "the inverse index holds a key this dnswatch does not know (\(key.prefix(4).map { String($0) }.joined(separator: " ")) ...)" }
}

extension ValueKey {
    /// The value a key was made from: an address's text, or a name.
    public static func text(of key: [UInt8]) throws -> String {
        switch key.first {
        case 4 where key.count == 5, 6 where key.count == 17:
            guard let ip = IPAddress(bytes: Array(key.dropFirst())) else { throw UnknownValueKey(key: key) }
            return ip.description
        case nameTag:
            return reversedName(String(decoding: key.dropFirst(), as: UTF8.self))
        default:
            throw UnknownValueKey(key: key)
        }
    }
}
