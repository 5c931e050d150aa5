import Foundation

/// Timeouts, which may be shorter than a second: one rule for the flags (`--timeout`) and the config
/// (`resolvers.timeout`, `alerts.webhook_timeout`).
extension DurationParser {
    /// Seconds from a timeout's text: a number of seconds (`2`, `0.5`), milliseconds (`500ms`), or a
    /// duration as `seconds(_:)` reads it (`2s`, `1m`, `1m30s`). Not range-checked: callers check
    /// their own range.
    public static func timeoutSeconds(_ text: String) throws(TimeParseError) -> Double {
        let s = text.trimmingCharacters(in: .whitespaces).lowercased()
        if s.hasSuffix("ms") {
            let digits = s.dropLast(2)
            guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
                  let ms = Double(digits), ms.isFinite else { throw TimeParseError(input: text) }
            return ms / 1000
        }
        if !s.isEmpty, s.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }), s.contains(".") {
            guard let value = Double(s), value.isFinite else { throw TimeParseError(input: text) }
            return value
        }
        return Double(try seconds(text))
    }
}
