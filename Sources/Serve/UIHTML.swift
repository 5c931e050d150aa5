import DNSWatchModel

/// A piece of HTML. Built by string interpolation, where every interpolated string is escaped by `HTML.escape`
/// (text and attribute values alike) and only another `HTML` goes in as it is: a stored value (a domain name,
/// rdata, a list name, an alert message, a provider) cannot become markup unless a page writes it as `HTML`,
/// which none does.
struct HTML: Sendable, ExpressibleByStringInterpolation {
    private(set) var text: String

    init(stringLiteral value: String) {
        text = value
    }

    init(stringInterpolation: Interpolation) {
        text = stringInterpolation.text
    }

    static let empty: HTML = ""

    /// The pieces one after the other.
    init(joining parts: some Sequence<HTML>) {
        text = ""
        for p in parts { text += p.text }
    }

    struct Interpolation: StringInterpolationProtocol {
        var text = ""

        init(literalCapacity: Int, interpolationCount: Int) {
            text.reserveCapacity(literalCapacity + interpolationCount * 16)
        }

        mutating func appendLiteral(_ literal: String) { text += literal }
        /// A value from anywhere: escaped.
        mutating func appendInterpolation(_ value: some StringProtocol) { text += HTML.escape(value) }
        mutating func appendInterpolation(_ value: some BinaryInteger) { text += String(value) }
        /// Markup built by this module.
        mutating func appendInterpolation(_ html: HTML) { text += html.text }
        mutating func appendInterpolation(_ parts: [HTML]) { for p in parts { text += p.text } }
        /// A percentage for a CSS length, 0.000 to 100.000.
        mutating func appendInterpolation(percent: Double) {
            let clamped = min(max(percent, 0), 100)
            let thousandths = Int((clamped * 1000).rounded())
            let frac = String(thousandths % 1000)
            text += "\(thousandths / 1000).\(String(repeating: "0", count: 3 - frac.count))\(frac)%"
        }
    }

    /// The one escaping of the web page, for text and for attribute values (always written in double quotes):
    /// `& < > " '` as character references; control characters, bidirectional overrides and line separators
    /// as visible escapes first (`VisibleText`), so that hostile data can neither close an element or an
    /// attribute nor reorder or hide what is shown.
    static func escape(_ value: some StringProtocol) -> String {
        let visible = VisibleText.escape(value)
        guard visible.utf8.contains(where: { $0 == 0x26 || $0 == 0x3C || $0 == 0x3E || $0 == 0x22 || $0 == 0x27 }) else {
            return visible
        }
        var out = ""
        out.reserveCapacity(visible.utf8.count + 16)
        for ch in visible.unicodeScalars {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(ch)
            }
        }
        return out
    }
}

/// Text cut to at most `limit` characters, with "…" when cut.
func truncated(_ text: String, _ limit: Int) -> String {
    text.count <= limit ? text : String(text.prefix(limit)) + "…"
}
