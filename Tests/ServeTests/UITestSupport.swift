import Foundation

/// The elements of an HTML text (the server's, or the DOM Chromium serialised) with their attributes, enough to
/// assert on the web page's `data-*` attributes without a parser library: start tags are found by pattern,
/// attribute values (double-quoted, as both write them) are unescaped.
struct Element: CustomStringConvertible {
    let tag: String
    let attributes: [String: String]

    subscript(_ name: String) -> String? { attributes[name] }
    var classes: [String] { (attributes["class"] ?? "").split(separator: " ").map(String.init) }
    var description: String { "<\(tag) \(attributes.sorted { $0.key < $1.key }.map { "\($0.key)=\"\($0.value)\"" }.joined(separator: " "))>" }
}

enum DOM {
    static func elements(_ html: String) -> [Element] {
        let tag = /<([a-zA-Z][a-zA-Z0-9]*)((?:\s+[^\s=>\/]+(?:\s*=\s*"[^"]*")?)*)\s*\/?>/
        let attribute = /([^\s=>\/]+)(?:\s*=\s*"([^"]*)")?/
        return html.matches(of: tag).map { m in
            var attrs: [String: String] = [:]
            for a in String(m.output.2).matches(of: attribute) {
                attrs[String(a.output.1).lowercased()] = a.output.2.map { unescape(String($0)) } ?? ""
            }
            return Element(tag: String(m.output.1).lowercased(), attributes: attrs)
        }
    }

    static func elements(_ html: String, class cls: String) -> [Element] {
        elements(html).filter { $0.classes.contains(cls) }
    }

    static func unescape(_ s: String) -> String {
        guard s.contains("&") else { return s }
        var out = s
        for (entity, ch) in [("&lt;", "<"), ("&gt;", ">"), ("&quot;", "\""), ("&#39;", "'"), ("&#x27;", "'"), ("&nbsp;", "\u{A0}")] {
            out = out.replacingOccurrences(of: entity, with: ch)
        }
        return out.replacingOccurrences(of: "&amp;", with: "&")
    }

    /// `2026-12-01T14:00:00Z`.
    static func isUTC(_ s: String?) -> Bool {
        guard let s else { return false }
        return s.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/) != nil
    }
}
