public import DNSWatchModel
import Foundation

/// Errors of the resolver's setup (bad endpoints, resolv.conf, sockets).
public enum ResolverError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `HOST[:PORT]` text that is not an IP address with an optional port.
    case invalidEndpoint(String)
    /// A resolver needs at least one endpoint.
    case noEndpoints
    /// resolv.conf could not be read or listed no usable `nameserver`.
    case resolvConf(path: String, reason: String)
    /// A socket call failed while setting up (errno text).
    case socket(String)
    /// An address no recursive resolver can have (multicast, broadcast, unspecified).
    case unusableAddress(String, reason: String)
    /// A bare IPv6 address whose last group could be a port (`::1:6100`).
    case ambiguousEndpoint(String)

    public var description: String {
        switch self {
        case .invalidEndpoint(let s): "not a resolver address (IP[:PORT] or [IPv6]:PORT): \(s)"
        case .noEndpoints: "no resolvers given"
        case .resolvConf(let path, let reason): "\(path): \(reason)"
        case .socket(let s): "socket error: \(s)"
        case .unusableAddress(let s, let reason): "\(s) cannot be a resolver: \(reason)"
        case .ambiguousEndpoint(let s):
            "\(s) is ambiguous: write [ADDRESS]:PORT for an IPv6 address with a port, or [ADDRESS] for the whole address"
        }
    }
}

/// A resolver to send queries to: an IP address and a port (default 53).
public struct ResolverEndpoint: Sendable, Hashable, CustomStringConvertible {
    public let address: IPAddress
    public let port: UInt16

    public init(address: IPAddress, port: UInt16 = 53) {
        self.address = address
        self.port = port
    }

    /// Parses `1.2.3.4`, `1.2.3.4:5353`, `[2001:db8::1]:5353`, `[::1]` or a bare IPv6 address `::1`.
    /// A bare IPv6 address that would still be one without its last group (`::1:6100`, `fe80::1:53`)
    /// is refused as ambiguous; multicast, broadcast and unspecified addresses are refused.
    public init(_ text: String) throws(ResolverError) {
        let s = text.trimmingCharacters(in: .whitespaces)
        var host = s
        var portText: Substring?
        if s.hasPrefix("[") {
            guard let close = s.firstIndex(of: "]") else { throw ResolverError.invalidEndpoint(text) }
            host = String(s[s.index(after: s.startIndex)..<close])
            let rest = s[s.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else { throw ResolverError.invalidEndpoint(text) }
                portText = rest.dropFirst()
            }
        } else if s.filter({ $0 == ":" }).count == 1, let colon = s.firstIndex(of: ":") {
            host = String(s[..<colon])
            portText = s[s.index(after: colon)...]
        }
        guard let address = IPAddress(host), !host.contains(" ") else { throw ResolverError.invalidEndpoint(text) }
        if !s.hasPrefix("["), !address.isIPv4, let lastColon = s.lastIndex(of: ":"),
           s[s.index(after: lastColon)...].allSatisfy({ $0.isASCII && $0.isNumber }),
           IPAddress(String(s[..<lastColon])) != nil {
            throw ResolverError.ambiguousEndpoint(text)
        }
        if let why = Self.unusable(address) { throw ResolverError.unusableAddress(text, reason: why) }
        var port: UInt16 = 53
        if let portText {
            guard !portText.isEmpty, portText.allSatisfy(\.isASCII), portText.allSatisfy(\.isNumber),
                  let p = UInt16(portText), p > 0 else { throw ResolverError.invalidEndpoint(text) }
            port = p
        }
        self.init(address: address, port: port)
    }

    /// Why a resolver cannot be at `address`, or nil.
    static func unusable(_ address: IPAddress) -> String? {
        // An IPv4-mapped address (::ffff:224.0.0.1) is judged as the IPv4 address it stands for.
        let b = CIDR(network: address, prefixLength: address.bytes.count * 8).unmapped.network.bytes
        if b.allSatisfy({ $0 == 0 }) { return "the unspecified address is nobody's address" }
        if b.count == 4 {
            if b[0] >= 224 && b[0] <= 239 { return "a multicast address" }
            if b == [255, 255, 255, 255] { return "the broadcast address" }
        } else if b[0] == 0xFF {
            return "a multicast address"
        }
        return nil
    }

    /// `1.2.3.4:53` or `[2001:db8::1]:53`.
    public var description: String {
        address.isIPv4 ? "\(address):\(port)" : "[\(address)]:\(port)"
    }

    /// The `nameserver` lines of a resolv.conf, in order (scoped link-local IPv6 entries are skipped).
    public static func systemResolvers(resolvConf: String = "/etc/resolv.conf") throws -> [ResolverEndpoint] {
        let text: String
        do {
            text = try String(contentsOfFile: resolvConf, encoding: .utf8)
        } catch {
            throw ResolverError.resolvConf(path: resolvConf, reason: "cannot read: \(error.localizedDescription)")
        }
        let endpoints = parseResolvConf(text)
        guard !endpoints.isEmpty else { throw ResolverError.resolvConf(path: resolvConf, reason: "no usable nameserver line") }
        return endpoints
    }

    /// The usable `nameserver` entries of resolv.conf text.
    public static func parseResolvConf(_ text: String) -> [ResolverEndpoint] {
        var out: [ResolverEndpoint] = []
        for line in text.split(whereSeparator: \.isNewline) {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 2, fields[0] == "nameserver" else { continue }
            let value = String(fields[1])
            guard !value.contains("%"), let address = IPAddress(value), unusable(address) == nil else { continue }
            let endpoint = ResolverEndpoint(address: address)
            if !out.contains(endpoint) { out.append(endpoint) }
        }
        return out
    }
}
