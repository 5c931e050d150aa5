import DNSWatchModel

/// Percent-decoding of path segments and query strings, one strict rule for every route: `%` followed by two
/// hex digits is a byte, anything else after `%` is refused, and the bytes must be UTF-8. (Hummingbird's own
/// query map leaves a bad value as it came and a key undecoded, which turned `?q=%FF` into a search for a
/// punycode name and `?list=%ZZ` into a list named `%ZZ`.)
enum PercentText {
    /// The text `raw` stands for, or nil when an escape is malformed or the bytes are not UTF-8.
    static func decode(_ raw: Substring) -> String? {
        guard raw.utf8.contains(UInt8(ascii: "%")) else { return String(raw) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(raw.utf8.count)
        var it = raw.utf8.makeIterator()
        while let b = it.next() {
            guard b == UInt8(ascii: "%") else {
                bytes.append(b)
                continue
            }
            guard let hi = it.next().flatMap(hex), let lo = it.next().flatMap(hex) else { return nil }
            bytes.append(hi << 4 | lo)
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hex(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// A query string's parameters in order, each name and value percent-decoded by `PercentText` (`+` is left
/// as it is: the web page's search form turns it into a space itself). A malformed one is a 400 naming it.
enum QueryText {
    /// The most parameters read from one query string.
    static let maximumParameters = 100

    static func parameters(_ query: String?) throws(BadRequest) -> [(key: String, value: String)] {
        guard let query, !query.isEmpty else { return [] }
        var out: [(key: String, value: String)] = []
        for piece in query.split(separator: "&", omittingEmptySubsequences: true) {
            guard out.count < maximumParameters else { throw BadRequest("more than \(maximumParameters) query parameters") }
            let eq = piece.firstIndex(of: "=")
            let rawKey = eq.map { piece[..<$0] } ?? piece
            let rawValue = eq.map { piece[piece.index(after: $0)...] } ?? ""
            guard let key = PercentText.decode(rawKey) else {
                throw BadRequest("the query parameter name '\(VisibleText.escape(String(rawKey.prefix(60))))' is not valid percent-encoded UTF-8")
            }
            guard let value = PercentText.decode(rawValue) else {
                throw BadRequest("the value of the query parameter '\(VisibleText.escape(String(key.prefix(60))))' is not valid percent-encoded UTF-8")
            }
            out.append((key: key, value: value))
        }
        return out
    }
}
