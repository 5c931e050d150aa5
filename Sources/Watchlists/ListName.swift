import DNSWatchModel

/// A list name that cannot be used, and why (a plain phrase, the name quoted with control characters made
/// visible).
public struct ListNameError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The name as given.
    public var name: String
    /// E.g. `empty list name`, `list name 'c2\x1b[31m' holds a control character`.
    public var reason: String

    public init(name: String, reason: String) {
        self.name = name
        self.reason = reason
    }

    public var description: String { reason }
}

/// The one rule for list names, whether they come from a file name (`WatchlistParser.listName(forPath:)`)
/// or from `--list NAME`: names are shown in terminals, logs and alerts, so they must be visible text.
public enum ListName {
    /// The longest name accepted, in UTF-8 bytes (a file name's limit on Linux).
    public static let maxBytes = 255

    /// Refuses a name that is empty or only spaces, holds a newline, ESC, NUL or any other control
    /// character (or a format character such as a bidirectional override or U+200B, see `VisibleText`), was
    /// not valid UTF-8, or is too long.
    public static func validate(_ name: String) throws(ListNameError) {
        if name.allSatisfy(\.isWhitespace) && !name.contains(where: \.isNewline) {
            throw ListNameError(name: name, reason: "empty list name")
        }
        let quoted = VisibleText.escape(name.count > 60 ? name.prefix(60) + "…" : Substring(name))
        if name.contains("\u{FFFD}") {
            throw ListNameError(name: name, reason: "list name '\(quoted)' is not valid UTF-8")
        }
        if name.unicodeScalars.contains(where: { VisibleText.needsEscape($0) }) {
            throw ListNameError(name: name, reason: "list name '\(quoted)' holds a control character")
        }
        if name.utf8.count > maxBytes {
            throw ListNameError(name: name, reason: "list name '\(quoted)' is longer than \(maxBytes) bytes")
        }
    }
}
