/// How often a list's domains are due: the one definition of the bounds, the defaults per list kind
/// and the rule that a domain on several lists is polled at its shortest interval.
public enum PollInterval {
    /// Intervals a list may have, in seconds (1 s to 365 days). A watchlist header or config value
    /// outside is refused; a stored value outside (written by an older dnswatch) is read as the nearest
    /// bound, so it can never make due-time arithmetic overflow.
    public static let range: ClosedRange<Int> = 1...(365 * 86_400)

    /// The reason for an interval past the range, or one too large to parse.
    public static let outOfRange =
        "interval out of range (\(DurationParser.format(range.lowerBound)) to \(DurationParser.format(range.upperBound)))"

    /// Why `seconds` is not a usable interval, or nil.
    public static func problem(_ seconds: Int) -> String? {
        if seconds < range.lowerBound { return "interval must be longer than 0" }
        return seconds > range.upperBound ? outOfRange : nil
    }

    /// The interval of a list that sets none, unless the config sets one for its kind.
    public static let defaultSeconds = 3600

    /// `value` brought into `range`.
    public static func clamped(_ value: Int) -> Int { min(max(value, range.lowerBound), range.upperBound) }

    /// Default interval per list kind: the built-in default, overridden per kind by the config.
    public struct Defaults: Sendable, Equatable {
        private var byKind: [ListKind: Int]

        public init(overrides: [ListKind: Int] = [:]) {
            byKind = Dictionary(uniqueKeysWithValues: ListKind.allCases.map { ($0, PollInterval.defaultSeconds) })
            for (kind, seconds) in overrides { byKind[kind] = PollInterval.clamped(seconds) }
        }

        public subscript(kind: ListKind) -> Int { byKind[kind] ?? PollInterval.defaultSeconds }

        /// The interval of one membership: its list's own, else the default of its kind.
        public func interval(listInterval: Int?, kind: ListKind) -> Int {
            PollInterval.clamped(listInterval ?? self[kind])
        }

        /// A domain's interval: the shortest over the lists it is on.
        public func shortest(_ memberships: [(interval: Int?, kind: ListKind)]) -> Int {
            memberships.map { interval(listInterval: $0.interval, kind: $0.kind) }.min() ?? PollInterval.defaultSeconds
        }
    }
}
