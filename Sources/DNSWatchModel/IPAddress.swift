#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 address as its 4 or 16 bytes, parsed and printed with inet_pton / inet_ntop.
public struct IPAddress: Sendable, Hashable, Comparable, CustomStringConvertible, Codable {
    public let bytes: [UInt8]

    public var isIPv4: Bool { bytes.count == 4 }

    public init?(_ text: String) {
        let s = text.trimmingCharacters(in: .whitespaces)
        if s.contains(":") {
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
        var buf = [CChar](repeating: 0, count: 64)
        let family = isIPv4 ? AF_INET : AF_INET6
        let ok = bytes.withUnsafeBytes { raw in inet_ntop(family, raw.baseAddress, &buf, socklen_t(buf.count)) != nil }
        guard ok else { return bytes.map(String.init).joined(separator: ".") }
        return String(decoding: buf.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
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

/// An address block `192.0.2.0/24` or `2001:db8::/32`. A bare address is a host prefix.
public struct CIDR: Sendable, Hashable, CustomStringConvertible {
    public let network: IPAddress
    public let prefixLength: Int

    public init?(_ text: String) {
        let parts = text.trimmingCharacters(in: .whitespaces).split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 1 || parts.count == 2, let addr = IPAddress(String(parts[0])) else { return nil }
        let maxLen = addr.bytes.count * 8
        let len: Int
        if parts.count == 2 {
            guard let l = Int(parts[1]), l >= 0, l <= maxLen, parts[1].allSatisfy(\.isNumber) else { return nil }
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
