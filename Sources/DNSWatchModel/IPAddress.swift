#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 address as its 4 or 16 bytes, parsed with inet_pton and printed by `IPAddressText`.
public struct IPAddress: Sendable, Hashable, Comparable, CustomStringConvertible, Codable {
    public let bytes: [UInt8]

    public var isIPv4: Bool { bytes.count == 4 }

    public init?(_ text: String) {
        let s = text.trimmingBlanks
        if s.utf8.contains(UInt8(ascii: ":")) {
            var a = in6_addr()
            guard inet_pton(AF_INET6, s, &a) == 1 else { return nil }
            bytes = withUnsafeBytes(of: &a) { Array($0) }
        } else {
            var a = in_addr()
            guard inet_pton(AF_INET, s, &a) == 1 else { return nil }
            bytes = withUnsafeBytes(of: &a) { Array($0) }
        }
    }

    public init?(bytes: [UInt8]) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    /// Canonical text (RFC 5952 for IPv6).
    public var description: String {
        bytes.withUnsafeBytes { isIPv4 ? IPAddressText.ipv4($0) : IPAddressText.ipv6($0) }
    }

    /// The reverse-order label form used by PTR and origin-ASN lookups:
    /// IPv4 `4.3.2.1`, IPv6 nibbles `b.a.9.8. ...`.
    public var reversedLabels: String {
        if isIPv4 { return bytes.reversed().map(String.init).joined(separator: ".") }
        let hex = Array("0123456789abcdef")
        var nibbles: [String] = []
        for b in bytes.reversed() {
            nibbles.append(String(hex[Int(b & 0xF)]))
            nibbles.append(String(hex[Int(b >> 4)]))
        }
        return nibbles.joined(separator: ".")
    }

    public static func < (l: IPAddress, r: IPAddress) -> Bool {
        l.bytes.count != r.bytes.count ? l.bytes.count < r.bytes.count : l.bytes.lexicographicallyPrecedes(r.bytes)
    }

    public init(from decoder: any Decoder) throws {
        let s = try decoder.singleValueContainer().decode(String.self)
        guard let a = IPAddress(s) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an IP address: \(s)"))
        }
        self = a
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

/// An address block `192.0.2.0/24` or `2001:db8::/32`. A bare address is a host prefix. The length is
/// decimal without a leading zero (`/024` is not a length).
public struct CIDR: Sendable, Hashable, CustomStringConvertible {
    public let network: IPAddress
    public let prefixLength: Int

    public init?(_ text: String) {
        let parts = text.trimmingBlanks.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 1 || parts.count == 2, let addr = IPAddress(String(parts[0])) else { return nil }
        let maxLen = addr.bytes.count * 8
        let len: Int
        if parts.count == 2 {
            // ASCII digits, without a leading zero (`/024` is refused, as a leading-zero octet is): one
            // spelling for each length.
            let digits = parts[1].utf8
            guard !digits.isEmpty, digits.count <= 3, digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
                  digits.count == 1 || digits.first != UInt8(ascii: "0"),
                  let l = Int(parts[1]), l <= maxLen else { return nil }
            len = l
        } else {
            len = maxLen
        }
        self.init(network: addr, prefixLength: len)
    }

    public init(network: IPAddress, prefixLength: Int) {
        self.prefixLength = prefixLength
        self.network = CIDR.mask(network, prefixLength)
    }

    /// An IPv4-mapped IPv6 block (`::ffff:192.0.2.0/120`) as the IPv4 block it stands for; else itself.
    public var unmapped: CIDR {
        let b = network.bytes
        guard b.count == 16, prefixLength >= 96, b[0..<10].allSatisfy({ $0 == 0 }), b[10] == 0xFF, b[11] == 0xFF,
              let v4 = IPAddress(bytes: Array(b[12..<16])) else { return self }
        return CIDR(network: v4, prefixLength: prefixLength - 96)
    }

    /// An IPv4 block as the IPv4-mapped IPv6 block that stands for it (`::ffff:192.0.2.0/120`); nil for IPv6.
    public var mapped: CIDR? {
        guard network.isIPv4, let v6 = IPAddress(bytes: Array(repeating: 0, count: 10) + [0xFF, 0xFF] + network.bytes) else { return nil }
        return CIDR(network: v6, prefixLength: prefixLength + 96)
    }

    public func contains(_ a: IPAddress) -> Bool {
        a.bytes.count == network.bytes.count && CIDR.mask(a, prefixLength) == network
    }

    public var description: String { "\(network)/\(prefixLength)" }

    private static func mask(_ a: IPAddress, _ len: Int) -> IPAddress {
        var out = a.bytes
        for i in 0..<out.count {
            let bitsHere = max(0, min(8, len - i * 8))
            out[i] &= bitsHere == 0 ? 0 : UInt8(truncatingIfNeeded: 0xFF << (8 - bitsHere))
        }
        return IPAddress(bytes: out)!
    }
}

import Foundation

/// The one text form of addresses, for `IPAddress` and for the resolver's AAAA/A rdata (which renders
/// straight from the reply's bytes).
public enum IPAddressText {
    /// Dotted quad of four address bytes.
    public static func ipv4(_ bytes: UnsafeRawBufferPointer) -> String {
        String(unsafeUninitializedCapacity: 15) { out in
            var o = 0
            for (k, b) in bytes.prefix(4).enumerated() {
                if k > 0 {
                    out[o] = UInt8(ascii: ".")
                    o += 1
                }
                if b >= 100 {
                    out[o] = UInt8(ascii: "0") + b / 100
                    o += 1
                }
                if b >= 10 {
                    out[o] = UInt8(ascii: "0") + (b / 10) % 10
                    o += 1
                }
                out[o] = UInt8(ascii: "0") + b % 10
                o += 1
            }
            return o
        }
    }

    /// RFC 5952 text of sixteen address bytes: lower-case hex without leading zeros, the longest run of
    /// two or more zero groups (the first of equal runs) as "::", and the dotted quad only for
    /// IPv4-mapped addresses (`::ffff:192.0.2.1`). Unlike glibc's inet_ntop, the deprecated
    /// IPv4-compatible form is not used: `::1:6100` stays `::1:6100`, not `::0.1.97.0`.
    public static func ipv6(_ bytes: UnsafeRawBufferPointer) -> String {
        guard bytes.count == 16 else { return "" }
        if bytes.prefix(10).allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF {
            return "::ffff:" + ipv4(UnsafeRawBufferPointer(rebasing: bytes[12..<16]))
        }
        var groups: (UInt16, UInt16, UInt16, UInt16, UInt16, UInt16, UInt16, UInt16) = (0, 0, 0, 0, 0, 0, 0, 0)
        return withUnsafeMutableBytes(of: &groups) { raw in
            let g = raw.bindMemory(to: UInt16.self)
            var bestStart = -1, bestLength = 0, runStart = -1
            for i in 0..<8 {
                g[i] = UInt16(bytes[2 * i]) << 8 | UInt16(bytes[2 * i + 1])
                if g[i] == 0 {
                    if runStart < 0 { runStart = i }
                    if i - runStart + 1 > bestLength { bestStart = runStart; bestLength = i - runStart + 1 }
                } else {
                    runStart = -1
                }
            }
            if bestLength < 2 { bestStart = -1 }
            return String(unsafeUninitializedCapacity: 41) { out in
                var o = 0
                var i = 0
                while i < 8 {
                    if i == bestStart {
                        out[o] = UInt8(ascii: ":")
                        out[o + 1] = UInt8(ascii: ":")
                        o += 2
                        i += bestLength
                        continue
                    }
                    if i > 0 && !(bestStart >= 0 && i == bestStart + bestLength) {
                        out[o] = UInt8(ascii: ":")
                        o += 1
                    }
                    let v = g[i]
                    var shift = v >= 0x1000 ? 12 : v >= 0x100 ? 8 : v >= 0x10 ? 4 : 0
                    while shift >= 0 {
                        let d = UInt8((v >> UInt16(shift)) & 0xF)
                        out[o] = d < 10 ? UInt8(ascii: "0") + d : UInt8(ascii: "a") + d - 10
                        o += 1
                        shift -= 4
                    }
                    i += 1
                }
                return o
            }
        }
    }
}
