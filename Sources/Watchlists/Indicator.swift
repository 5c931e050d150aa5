import Foundation
public import DNSWatchModel

/// What one watchlist line (its comment already removed) stands for.
///
/// Rules, in order:
/// - a path (`/x/y/`) is skipped (`url-path`); a bare IPv4/IPv6 address or a CIDR is skipped;
/// - a URL with or without a scheme (`http://user@host:port/path?q#f`, `host/path`, `host:port`,
///   `[2001:db8::1]:443`, `user@host`) contributes its host; an address host is skipped (`address-host`);
/// - the host must then be a valid domain name (normalised by `DomainName`) of at least two labels
///   whose last label is not all digits. Single-label names (`localhost`, a stray word) are refused:
///   a watchlist holds names under a top-level domain, and a bare word in a threat-intel file is far
///   more often debris than a TLD to watch. A numeric last label (`1.2.3`, `010.0.0.1`) is a malformed
///   address, not a name.
public enum Indicator: Sendable, Equatable {
    /// A domain to watch.
    case domain(DomainName)
    /// An indicator of another type, counted and skipped.
    case skipped(SkipReason)
    /// Neither: an error, with a one-phrase reason.
    case invalid(String)

    /// Classifies one indicator (surrounding whitespace ignored; no comment handling).
    public static func classify(_ raw: String) -> Indicator {
        let s = raw.trimmingCharacters(in: .whitespaces)
        guard !s.isEmpty else { return .invalid("empty name") }
        if s.contains("\u{FFFD}") { return .invalid("not valid UTF-8") }
        if s.first == "/" { return .skipped(.urlPath) }
        if s.contains(where: \.isWhitespace) { return .invalid("several words on one line (put '#' before a note)") }
        if let address = IPAddress(s) { return .skipped(address.isIPv4 ? .ipv4 : .ipv6) }
        if s.contains("/"), CIDR(s) != nil { return .skipped(.cidr) }
        return classifyURL(s)
    }

    /// The host part of a URL-like indicator: scheme, user info, port, path, query and fragment removed.
    private static func classifyURL(_ s: String) -> Indicator {
        var rest = Substring(s)
        var hasScheme = false
        if let sep = rest.range(of: "://") {
            guard isScheme(rest[..<sep.lowerBound]) else { return .invalid("bad URL scheme") }
            rest = rest[sep.upperBound...]
            hasScheme = true
        }
        var hostPort = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        if let at = hostPort.lastIndex(of: "@") { hostPort = hostPort[hostPort.index(after: at)...] }
        if hostPort.first == "[" { return classifyBracketed(hostPort, hasScheme: hasScheme) }

        var host = hostPort
        switch hostPort.count(where: { $0 == ":" }) {
        case 0:
            break
        case 1:
            let colon = hostPort.firstIndex(of: ":") ?? hostPort.endIndex
            let port = hostPort[hostPort.index(after: colon)...]
            guard isPort(port, allowEmpty: hasScheme) else { return .invalid("bad port '\(VisibleText.escape(port))'") }
            host = hostPort[..<colon]
        default:
            // An unbracketed IPv6 address followed by a path (`2001:db8::1/x`) is still an address.
            return IPAddress(String(hostPort)) != nil ? .skipped(.addressHost) : .invalid("bad address or port")
        }
        guard !host.isEmpty else { return .invalid("no host name") }
        if IPAddress(String(host)) != nil { return .skipped(.addressHost) }
        return domain(String(host))
    }

    /// `[v6]` or `[v6]:port`.
    private static func classifyBracketed(_ hostPort: Substring, hasScheme: Bool) -> Indicator {
        guard let close = hostPort.firstIndex(of: "]") else { return .invalid("unclosed '['") }
        let inside = hostPort[hostPort.index(after: hostPort.startIndex)..<close]
        let after = hostPort[hostPort.index(after: close)...]
        guard let address = IPAddress(String(inside)), !address.isIPv4 else {
            return .invalid("no IPv6 address inside '[ ]'")
        }
        if !after.isEmpty {
            guard after.first == ":" else { return .invalid("unexpected text after ']'") }
            guard isPort(after.dropFirst(), allowEmpty: hasScheme) else { return .invalid("bad port '\(VisibleText.escape(after.dropFirst()))'") }
        }
        return .skipped(.addressHost)
    }

    /// A host that is not an address: it must be a domain name of two labels or more.
    private static func domain(_ host: String) -> Indicator {
        let name: DomainName
        do {
            name = try DomainName(host)
        } catch {
            return .invalid(error.description)
        }
        let labels = name.labels
        guard labels.count >= 2 else { return .invalid("single-label name, not under a top-level domain") }
        if let last = labels.last, last.allSatisfy({ $0.isASCII && $0.isNumber }) {
            return .invalid("numeric top-level label (a malformed address?)")
        }
        return .domain(name)
    }

    /// RFC 3986: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ).
    private static func isScheme(_ s: Substring) -> Bool {
        guard let first = s.first, first.isASCII, first.isLetter else { return false }
        return s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "+" || $0 == "-" || $0 == ".") }
    }

    /// 1...65535 in decimal (an empty port is legal in a URL with a scheme, `http://host:/`).
    private static func isPort(_ s: Substring, allowEmpty: Bool) -> Bool {
        if s.isEmpty { return allowEmpty }
        guard s.count <= 5, s.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(s) else { return false }
        return n >= 1 && n <= 65535
    }
}
