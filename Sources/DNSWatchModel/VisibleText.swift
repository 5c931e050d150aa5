import Foundation

/// Text quoted from input in a message for a terminal or a log: control characters (C0, DEL, C1),
/// bidirectional overrides and line separators are written as visible escapes (`\x1b`, `\u{202E}`), so
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

    /// Whether `escape` writes `scalar` as an escape: C0, DEL, C1, bidirectional controls, line separators.
    public static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F: true  // C0, DEL, C1
        case 0x061C, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: true  // bidirectional marks and overrides
        case 0x2028, 0x2029: true  // line and paragraph separators
        default: false
        }
    }
}

extension String {
    /// The text without leading and trailing blanks (spaces, tabs), as `trimmingCharacters(in: .whitespaces)`
    /// gives it, but without the trip through Foundation when there is none (the common case, on hot paths).
    public var trimmingBlanks: String {
        let blank: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 }
        guard utf8.first.map(blank) == true || utf8.last.map(blank) == true else { return self }
        return trimmingCharacters(in: .whitespaces)
    }
}
