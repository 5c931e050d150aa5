// Where `dnswatch serve` and `daemon --listen` listen (here, beside IPAddress, so that the config's
// `[serve] listen` is checked by the same rule as `--listen`).

/// Why a `--listen` value cannot be used.
public struct ListenAddressError: Error, Sendable, CustomStringConvertible {
    public let description: String
}

/// Where the server listens: `HOST:PORT` with an IPv4 literal or `localhost`, or `[IPv6]:PORT`
/// (port 0: the kernel picks one).
public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    public let host: String
    public let port: Int

    public static let `default` = ListenAddress(host: "127.0.0.1", port: 8053)

    init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public init(_ text: String) throws(ListenAddressError) {
        let hostPart: Substring, portPart: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw ListenAddressError(description: "'\(text)' is not [IPV6]:PORT")
            }
            hostPart = text[text.index(after: text.startIndex)..<close]
            portPart = text[text.index(close, offsetBy: 2)...]
            guard let ip = IPAddress(String(hostPart)), ip.bytes.count == 16 else {
                throw ListenAddressError(description: "'\(hostPart)' is not an IPv6 address")
            }
        } else {
            guard let colon = text.lastIndex(of: ":") else {
                throw ListenAddressError(description: "'\(text)' is not HOST:PORT (e.g. 127.0.0.1:8053 or [::1]:8053)")
            }
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
            guard hostPart == "localhost" || IPAddress(String(hostPart)).map({ $0.bytes.count == 4 }) == true else {
                throw ListenAddressError(description: "'\(hostPart)' is not an IPv4 address or localhost (write IPv6 as [ADDRESS]:PORT)")
            }
        }
        guard let port = Int(portPart), (0...65535).contains(port), portPart.allSatisfy(\.isNumber) else {
            throw ListenAddressError(description: "'\(portPart)' is not a port (0 to 65535)")
        }
        self.host = String(hostPart)
        self.port = port
    }

    /// 127.0.0.0/8, ::1 or localhost: only this machine can connect.
    public var isLoopback: Bool {
        if host == "localhost" { return true }
        guard let ip = IPAddress(host) else { return false }
        if ip.bytes.count == 4 { return ip.bytes[0] == 127 }
        return ip.bytes == Array(repeating: 0, count: 15) + [1]
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
