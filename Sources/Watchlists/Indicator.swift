import Foundation
public import DNSWatchModel

/// What one watchlist line (its comment already removed) stands for.
///
/// Rules, in order (one set for watchlists and for IoC feeds, ``FeedIndicator``):
/// - a path (`/x/y/`) is skipped (`url-path`); a bare IPv4/IPv6 address or a CIDR is an address or a block;
/// - a URL with or without a scheme (`http://user@host:port/path?q#f`, `host/path`, `host:port`,
///   `[2001:db8::1]:443`, `user@host`) contributes its host, which may be an address;
/// - a host that is not an address must then be a valid domain name (normalised by `DomainName`) of at
///   least two labels whose last label is not all digits. Single-label names (`localhost`, a stray word)
///   are refused: a watchlist holds names under a top-level domain, and a bare word in a threat-intel file
///   is far more often debris than a TLD to watch. A numeric last label (`1.2.3`, `010.0.0.1`) is a
///   malformed address, not a name.
///
/// A watchlist keeps the domains and skips addresses and blocks (`ipv4`, `ipv6`, `cidr`, `address-host`); a
/// feed keeps all three.
public enum Indicator: Sendable, Equatable {
    /// A domain to watch.
    case domain(DomainName)
    /// An indicator of another type, counted and skipped.
    case skipped(SkipReason)
    /// Neither: an error, with a one-phrase reason.
    case invalid(String)

    /// Classifies one indicator for a watchlist (surrounding whitespace ignored; no comment handling).
    public static func classify(_ raw: String) -> Indicator {
        switch parse(raw) {
        case .domain(let name): .domain(name)
        case .address(let ip, bare: true): .skipped(ip.isIPv4 ? .ipv4 : .ipv6)
        case .address(_, bare: false): .skipped(.addressHost)
        case .block: .skipped(.cidr)
        case .urlPath: .skipped(.urlPath)
        case .invalid(let why): .invalid(why)
        }
    }

    /// What a line stands for, before a watchlist or a feed decides what to keep.
    enum Parsed: Equatable {
        case domain(DomainName)
        /// An address; `bare` when the line is the address alone (else it is a URL's or `host:port`'s host).
        case address(IPAddress, bare: Bool)
        case block(CIDR)
        case urlPath
        case invalid(String)
    }

    static func parse(_ raw: String) -> Parsed {
        let s = raw.trimmingBlanks
        guard !s.isEmpty else { return .invalid("empty name") }
        if s.contains("\u{FFFD}") { return .invalid("not valid UTF-8") }
        if s.first == "/" { return .urlPath }
        if s.contains(where: \.isWhitespace) { return .invalid("several words on one line (put '#' before a note)") }
        if let address = IPAddress(s) { return .address(address, bare: true) }
        if s.contains("/"), let block = CIDR(s) { return .block(block) }
        return parseURL(s)
    }

    /// The host part of a URL-like indicator: scheme, user info, port, path, query and fragment removed.
    private static func parseURL(_ s: String) -> Parsed {
        var rest = Substring(s)
        var hasScheme = false
        if let sep = rest.range(of: "://") {
            guard isScheme(rest[..<sep.lowerBound]) else { return .invalid("bad URL scheme") }
            rest = rest[sep.upperBound...]
            hasScheme = true
        }
        var hostPort = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        if let at = hostPort.lastIndex(of: "@") { hostPort = hostPort[hostPort.index(after: at)...] }
        if hostPort.first == "[" { return parseBracketed(hostPort, hasScheme: hasScheme) }

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
            return IPAddress(String(hostPort)).map { .address($0, bare: false) } ?? .invalid("bad address or port")
        }
        guard !host.isEmpty else { return .invalid("no host name") }
        if let address = IPAddress(String(host)) { return .address(address, bare: false) }
        return domain(String(host))
    }

    /// `[v6]` or `[v6]:port`.
    private static func parseBracketed(_ hostPort: Substring, hasScheme: Bool) -> Parsed {
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
        return .address(address, bare: false)
    }

    /// A host that is not an address: it must be a domain name of two labels or more.
    private static func domain(_ host: String) -> Parsed {
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

/// What one line of an IoC feed (its comment already removed) stands for: the rules of ``Indicator``, with
/// addresses, blocks and the address hosts of URLs kept, normalised (``IndicatorValue``). Only URL paths
/// are skipped.
public enum FeedIndicator: Sendable, Equatable {
    case value(IndicatorValue)
    case skipped(SkipReason)
    case invalid(String)

    public static func classify(_ raw: String) -> FeedIndicator {
        switch Indicator.parse(raw) {
        case .domain(let name): .value(.domain(name))
        case .address(let ip, _): .value(.normalised(ip))
        case .block(let block): .value(.normalised(block))
        case .urlPath: .skipped(.urlPath)
        case .invalid(let why): .invalid(why)
        }
    }
}
