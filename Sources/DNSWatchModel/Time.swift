import Foundation

/// Errors in durations and times given on the command line or in files.
public struct TimeParseError: Error, Sendable, CustomStringConvertible {
    public let input: String
    public var description: String { "'\(input)' is not a duration (90m, 36h, 7d) or an ISO 8601 time" }
}

/// Durations written as `30s`, `90m`, `36h`, `7d`, `2w`, or combined (`1h30m`). A bare number is seconds.
public enum DurationParser {
    public static func seconds(_ text: String) throws(TimeParseError) -> Int {
        let s = text.trimmingCharacters(in: .whitespaces).lowercased()
        guard !s.isEmpty else { throw TimeParseError(input: text) }
        if let n = Int(s), n >= 0 { return n }
        var total = 0
        var number = ""
        for ch in s {
            if ch.isASCII && ch.isNumber {
                number.append(ch)
                continue
            }
            guard let n = Int(number) else { throw TimeParseError(input: text) }
            let unit: Int
            switch ch {
            case "s": unit = 1
            case "m": unit = 60
            case "h": unit = 3600
            case "d": unit = 86400
            case "w": unit = 7 * 86400
            default: throw TimeParseError(input: text)
            }
            total += n * unit
            number = ""
        }
        guard number.isEmpty, total > 0 || s.allSatisfy({ $0 == "0" || $0.isLetter }) else {
            throw TimeParseError(input: text)
        }
        return total
    }

    /// Formats seconds compactly: 3600 → "1h", 5400 → "1h30m".
    public static func format(_ seconds: Int) -> String {
        if seconds == 0 { return "0s" }
        var rest = seconds
        var out = ""
        for (unit, name) in [(86400, "d"), (3600, "h"), (60, "m"), (1, "s")] where rest >= unit {
            out += "\(rest / unit)\(name)"
            rest %= unit
        }
        return out
    }
}

/// A point in time given as ISO 8601, as epoch seconds (as every JSON output writes times), or as a
/// duration back from now with a unit (`--since 36h`).
public enum TimeSpecParser {
    public static func epoch(_ text: String, now: Date = Date()) throws(TimeParseError) -> Int64 {
        let s = text.trimmingCharacters(in: .whitespaces)
        if let n = Int64(s), n >= 0 { return n }
        if let d = try? DurationParser.seconds(s) {
            return Int64(now.timeIntervalSince1970) - Int64(d)
        }
        for options: ISO8601DateFormatter.Options in [
            [.withInternetDateTime, .withFractionalSeconds], [.withInternetDateTime],
            [.withFullDate, .withTime, .withColonSeparatorInTime],
            [.withFullDate],
        ] {
            let f = ISO8601DateFormatter()
            f.formatOptions = options
            f.timeZone = TimeZone(identifier: "UTC")
            if let d = f.date(from: s) { return Int64(d.timeIntervalSince1970) }
        }
        throw TimeParseError(input: text)
    }

    /// `2026-11-26T21:03:54Z`
    public static func iso(_ epoch: Int64) -> String { ISOTime.format(epoch) }
}
