import DNSWatchModel

/// Address blocks in per-prefix-length hash maps: a lookup probes one map per distinct prefix length present
/// (at most 33 for IPv4, 129 for IPv6), whatever the number of blocks. Results come most specific first.
struct RangeTable<Payload: Sendable>: Sendable {
    private struct V6Key: Hashable, Sendable {
        var hi: UInt64
        var lo: UInt64
    }

    private var v4: [Int: [UInt32: [Payload]]] = [:]
    private var v4Lengths: [Int] = []
    private var v6: [Int: [V6Key: [Payload]]] = [:]
    private var v6Lengths: [Int] = []

    var isEmpty: Bool { v4.isEmpty && v6.isEmpty }

    mutating func insert(_ cidr: CIDR, _ payload: Payload) {
        let len = cidr.prefixLength
        if cidr.network.isIPv4 {
            let key = RangeTable.v4Bits(cidr.network) & RangeTable.v4Mask(len)
            if v4[len] == nil { v4Lengths.append(len); v4Lengths.sort(by: >) }
            v4[len, default: [:]][key, default: []].append(payload)
        } else {
            let key = RangeTable.v6Key(cidr.network, len)
            if v6[len] == nil { v6Lengths.append(len); v6Lengths.sort(by: >) }
            v6[len, default: [:]][key, default: []].append(payload)
        }
    }

    /// All blocks containing the address, longest prefix first; within one block, in insertion order.
    func matches(_ address: IPAddress) -> [(prefixLength: Int, payload: Payload)] {
        var out: [(prefixLength: Int, payload: Payload)] = []
        if address.isIPv4 {
            let bits = RangeTable.v4Bits(address)
            for len in v4Lengths {
                if let hit = v4[len]?[bits & RangeTable.v4Mask(len)] {
                    out.append(contentsOf: hit.map { (len, $0) })
                }
            }
        } else {
            for len in v6Lengths {
                if let hit = v6[len]?[RangeTable.v6Key(address, len)] {
                    out.append(contentsOf: hit.map { (len, $0) })
                }
            }
        }
        return out
    }

    private static func v4Bits(_ a: IPAddress) -> UInt32 {
        a.bytes.reduce(UInt32(0)) { ($0 << 8) | UInt32($1) }
    }

    private static func v4Mask(_ len: Int) -> UInt32 {
        len == 0 ? 0 : UInt32.max << UInt32(32 - len)
    }

    private static func v6Key(_ a: IPAddress, _ len: Int) -> V6Key {
        let hi = a.bytes[0..<8].reduce(UInt64(0)) { ($0 << 8) | UInt64($1) }
        let lo = a.bytes[8..<16].reduce(UInt64(0)) { ($0 << 8) | UInt64($1) }
        let hiMask: UInt64 = len >= 64 ? .max : (len == 0 ? 0 : UInt64.max << UInt64(64 - len))
        let loMask: UInt64 = len <= 64 ? 0 : (len >= 128 ? .max : UInt64.max << UInt64(128 - len))
        return V6Key(hi: hi & hiMask, lo: lo & loMask)
    }
}
