import Foundation

/// Text quoted from input in a message for a terminal or a log: control characters (C0, DEL, C1),
/// format characters (bidirectional overrides, zero-width characters) and line separators are written as
/// visible escapes (`\x1b`, `\u{202E}`), so
/// that a hostile file cannot move the cursor, recolour the terminal, hide text or forge lines.
/// Every message that quotes input goes through `escape`.
public enum VisibleText {
    public static func escape(_ text: some StringProtocol) -> String {
        guard text.unicodeScalars.contains(where: needsEscape) else { return String(text) }
        var out = ""
        out.reserveCapacity(text.utf8.count + 8)
        for scalar in text.unicodeScalars {
            if !needsEscape(scalar) {
                out.unicodeScalars.append(scalar)
            } else if scalar.value < 0x80 {
                let hex = String(scalar.value, radix: 16)
                out += "\\x" + (hex.count < 2 ? "0" + hex : hex)
            } else {
                out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            }
        }
        return out
    }

    /// Whether `escape` writes `scalar` as an escape: C0, DEL, C1, every format character (Cf: bidirectional
    /// marks, overrides and isolates, zero-width spaces and joiners, U+FEFF, the soft hyphen), line and
    /// paragraph separators, U+FFFD.
    public static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F: true  // C0, DEL, C1
        case 0x20..<0x7F: false
        case 0x2028, 0x2029: true  // line and paragraph separators
        case 0xFFFD: true  // the replacement character: what stood there was not text
        default: scalar.properties.generalCategory == .format  // U+061C, U+200B...U+200F, U+202A...U+202E, U+2066...U+2069, U+FEFF, ...
        }
    }
}

extension String {
    /// The text without leading and trailing blanks: tabs and space separators (Unicode Zs: U+0020, U+00A0,
    /// U+3000, ...). Not Foundation's `.whitespaces`, which also drops format characters such as U+200B
    /// and U+FEFF: a name holding one is refused for it (`DomainName.disallowed`), not silently cleaned.
    public var trimmingBlanks: String {
        func blank(_ u: Unicode.Scalar) -> Bool {
            u.isASCII ? u == " " || u == "\t" : u.properties.generalCategory == .spaceSeparator
        }
        let scalars = unicodeScalars
        guard let first = scalars.first, let last = scalars.last, blank(first) || blank(last) else { return self }
        var start = scalars.startIndex, end = scalars.endIndex
        while start < end, blank(scalars[start]) { start = scalars.index(after: start) }
        while end > start, blank(scalars[scalars.index(before: end)]) { end = scalars.index(before: end) }
        return String(scalars[start..<end])
    }
}
