public import Foundation

/// Errors in durations and times given on the command line or in files.
public struct TimeParseError: Error, Sendable, CustomStringConvertible {
    public let input: String
    /// The text is well formed but its value lies outside the parser's range (`200000000000000d`).
    public let outOfRange: Bool

    public init(input: String, outOfRange: Bool = false) {
        self.input = input
        self.outOfRange = outOfRange
    }

    public var description: String {
        let quoted = VisibleText.escape(input)
        return outOfRange
            ? "'\(quoted)' is out of range (durations up to \(DurationParser.format(DurationParser.maximum)), \(TimeSpecParser.rangeText))"
            : "'\(quoted)' is not a duration (90m, 36h, 7d) or an ISO 8601 time"
    }
}

/// Durations written as `30s`, `90m`, `36h`, `7d`, `2w`, or combined (`1h30m`). A bare number is seconds.
/// Values above `maximum` (and numbers too large for `Int`) are refused as out of range.
public enum DurationParser {
    /// The longest duration accepted: 100 years of 365 days (3 153 600 000 s), far beyond any timeout,
    /// interval or look-back, and far from overflowing anything it is added to or multiplied by.
    public static let maximum = 100 * 365 * 86400

    public static func seconds(_ text: String) throws(TimeParseError) -> Int {
        let s = text.trimmingCharacters(in: .whitespaces).lowercased()
        guard !s.isEmpty else { throw TimeParseError(input: text) }
        if s.allSatisfy({ $0.isASCII && $0.isNumber }) {
            guard let n = Int(s), n <= maximum else { throw TimeParseError(input: text, outOfRange: true) }
            return n
        }
        var total = 0
        var number = ""
        for ch in s {
            if ch.isASCII && ch.isNumber {
                number.append(ch)
                continue
            }
            guard !number.isEmpty else { throw TimeParseError(input: text) }
            let unit: Int
            switch ch {
            case "s": unit = 1
            case "m": unit = 60
            case "h": unit = 3600
            case "d": unit = 86400
            case "w": unit = 7 * 86400
            default: throw TimeParseError(input: text)
            }
            // Digits that do not fit an Int, a product or a sum that overflows: all are past `maximum`.
            guard let n = Int(number) else { throw TimeParseError(input: text, outOfRange: true) }
            let (product, overflowed) = n.multipliedReportingOverflow(by: unit)
            guard !overflowed, product <= maximum - total else { throw TimeParseError(input: text, outOfRange: true) }
            total += product
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
/// duration back from now with a unit (`--since 36h`). Times before 1970 or after 9999 are refused.
public enum TimeSpecParser {
    /// 9999-12-31T23:59:59Z, the last second ISO 8601 writes with four digits.
    public static let latest: Int64 = 253_402_300_799
    /// Epoch seconds accepted, here and wherever a time is read (COF imports too).
    public static let range: ClosedRange<Int64> = 0...latest
    /// `range` in words, for messages.
    public static let rangeText = "times from 1970 to 9999"

    public static func epoch(_ text: String, now: Date = Date()) throws(TimeParseError) -> Int64 {
        let s = text.trimmingCharacters(in: .whitespaces)
        let digits = s.first == "-" ? s.dropFirst() : Substring(s)
        if !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) {
            // Epoch seconds; a negative number is a time before 1970.
            guard s.first != "-", let n = Int64(digits), range.contains(n) else {
                throw TimeParseError(input: text, outOfRange: true)
            }
            return n
        }
        let back: Int?
        do throws(TimeParseError) {
            back = try DurationParser.seconds(s)
        } catch {
            guard !error.outOfRange else { throw TimeParseError(input: text, outOfRange: true) }
            back = nil  // not a duration: an ISO 8601 time, below
        }
        if let back {
            guard let current = inRange(now.timeIntervalSince1970), range.contains(current - Int64(back)) else {
                throw TimeParseError(input: text, outOfRange: true)
            }
            return current - Int64(back)
        }
        // Every ISO 8601 form accepted starts with a full date, YYYY-MM-DD; anything else is refused before
        // a formatter is built (four of them per call are the cost of this function).
        let u = Array(s.utf8.prefix(10))
        let isDigit = { (i: Int) in u[i] >= UInt8(ascii: "0") && u[i] <= UInt8(ascii: "9") }
        guard u.count == 10, u[4] == UInt8(ascii: "-"), u[7] == UInt8(ascii: "-"),
              [0, 1, 2, 3, 5, 6, 8, 9].allSatisfy(isDigit) else { throw TimeParseError(input: text) }
        // The formatter rolls impossible fields over (2024-02-30 → March 1st, 25:00 → the next day):
        // refuse a day the month does not have, an hour past 23, a minute or second past 59, an offset
        // past 14 h, rather than judge an IoC hit at a time nobody wrote.
        guard Self.fieldsExist(Array(s.utf8)) else { throw TimeParseError(input: text) }
        // ICU's parser dies of a division by zero (SIGFPE) on a long fraction of a second
        // (`2071-11-20T10:11:12.5` and a hundred zeros, found by FuzzDuration): only ISO 8601's characters,
        // at most nanoseconds, and no longer than its longest form (`2026-12-01T14:00:00.123456789+14:00`)
        // ever reach it.
        guard Self.plainISO(Array(s.utf8)) else { throw TimeParseError(input: text) }
        for options: ISO8601DateFormatter.Options in [
            [.withInternetDateTime, .withFractionalSeconds], [.withInternetDateTime],
            [.withFullDate, .withTime, .withColonSeparatorInTime],
            [.withFullDate],
        ] {
            let f = ISO8601DateFormatter()
            f.formatOptions = options
            f.timeZone = TimeZone(identifier: "UTC")
            if let d = f.date(from: s) {
                guard let t = inRange(d.timeIntervalSince1970) else { throw TimeParseError(input: text, outOfRange: true) }
                return t
            }
        }
        throw TimeParseError(input: text)
    }

    /// ISO 8601's characters only, a fraction of at most nine digits, at most 35 characters. (A space for the `T`
    /// is refused: the formatter does not read `2026-11-20 10:11:12Z` as that time.)
    static func plainISO(_ u: [UInt8]) -> Bool {
        guard u.count <= 35 else { return false }
        var fraction: Int?
        for c in u {
            let digit = c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")
            if digit {
                if let f = fraction {
                    guard f < 9 else { return false }
                    fraction = f + 1
                }
                continue
            }
            fraction = nil
            switch c {
            case UInt8(ascii: "."), UInt8(ascii: ","): fraction = 0
            case UInt8(ascii: "-"), UInt8(ascii: ":"), UInt8(ascii: "+"), UInt8(ascii: "T"), UInt8(ascii: "t"),
                 UInt8(ascii: "Z"), UInt8(ascii: "z"): break
            default: return false
            }
        }
        return true
    }

    /// Whether the calendar and clock fields of an ISO 8601 text (`YYYY-MM-DD[THH:MM[:SS][...][Z|±HH:MM]]`)
    /// name a real day and time.
    static func fieldsExist(_ u: [UInt8]) -> Bool {
        func number(_ at: Int, _ digits: Int) -> Int? {
            guard at + digits <= u.count else { return nil }
            var n = 0
            for i in at..<(at + digits) {
                guard u[i] >= UInt8(ascii: "0"), u[i] <= UInt8(ascii: "9") else { return nil }
                n = n * 10 + Int(u[i] - UInt8(ascii: "0"))
            }
            return n
        }
        guard let year = number(0, 4), let month = number(5, 2), let day = number(8, 2), (1...12).contains(month) else { return false }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        guard (1...days).contains(day) else { return false }
        guard u.count > 10 else { return true }
        guard let hour = number(11, 2), hour <= 23, let minute = number(14, 2), minute <= 59 else { return false }
        if u.count > 16, u[16] == UInt8(ascii: ":") {
            guard let second = number(17, 2), second <= 59 else { return false }
        }
        // A numeric offset after the time: ±HH:MM or ±HHMM, at most 14 hours.
        if let sign = u[16...].firstIndex(where: { $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "-") }) {
            guard let h = number(sign + 1, 2), h <= 14 else { return false }
            let m = u.count > sign + 3 && u[sign + 3] == UInt8(ascii: ":") ? number(sign + 4, 2) : number(sign + 3, 2)
            if let m, m > 59 { return false }
        }
        return true
    }

    /// Whole epoch seconds when `seconds` is a time in `range`, else nil (NaN and infinities included).
    private static func inRange(_ seconds: TimeInterval) -> Int64? {
        guard seconds.isFinite, seconds >= Double(range.lowerBound), seconds < Double(range.upperBound) + 1 else { return nil }
        return Int64(seconds.rounded(.down))
    }

    /// `2026-11-26T21:03:54Z`
    public static func iso(_ epoch: Int64) -> String { ISOTime.format(epoch) }
}
