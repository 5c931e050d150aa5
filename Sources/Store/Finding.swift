public import DNSWatchModel

/// What `watch list` and `alerts` need to find things, on either backend: the watched domains with their
/// state, last and next poll and last alert, and the alerts that pass a filter, newest first. SQLite
/// (`SQLiteStore`, Finding.swift) and PostgreSQL (`PostgresStore`, Finding.swift) filter and limit in their
/// statements (never by reading every row) and give the same rows in the same order.
public protocol FindingReading: Sendable {
    /// Active memberships that pass `filter`, ordered by list then domain (by their bytes, as
    /// `watchedDomains(list:)`), each with its domain's state, polling times and last alert.
    func watchedStates(_ filter: WatchedFilter) async throws -> [WatchedState]
    /// Alerts that pass `filter`, newest first (by time, then id, both descending), at most `filter.limit`.
    func alerts(_ filter: AlertFilter) async throws -> [StoredAlert]
}

/// Which domains' state `watch list --state` asks for: a class, or no state yet.
public enum StateFilter: Sendable, Hashable {
    /// Domains whose stored state has this class.
    case state(DomainClass)
    /// Domains with no stored state yet: never polled, or no poll of them got an answer (every query failed).
    case unpolled

    /// The name of ``unpolled`` (the state `watch list` shows for such a domain).
    public static let unpolledName = "unpolled"

    /// Every name `--state` takes: the classes, then `unpolled`.
    public static var names: [String] { DomainClass.allCases.map(\.rawValue) + [unpolledName] }

    /// A state by name (any case); nil for a name that is none of ``names``.
    public init?(name: String) {
        let n = name.lowercased()
        if n == Self.unpolledName {
            self = .unpolled
        } else if let c = DomainClass(rawValue: n) {
            self = .state(c)
        } else {
            return nil
        }
    }
}

/// The memberships `watchedStates(_:)` reads: of one list or every list, in one state or any.
public struct WatchedFilter: Sendable, Hashable {
    public var list: String?
    public var state: StateFilter?

    public init(list: String? = nil, state: StateFilter? = nil) {
        self.list = list
        self.state = state
    }
}

/// The latest alert of a domain (of any of its lists), as `watch list` shows it.
public struct AlertMark: Sendable, Equatable {
    public var id: Int64
    public var time: Int64
    public var type: String
    public var severity: String
    public var severityRank: Int

    public init(id: Int64, time: Int64, type: String, severity: String, severityRank: Int) {
        self.id = id
        self.time = time
        self.type = type
        self.severity = severity
        self.severityRank = severityRank
    }
}

/// One active membership with what is known of its domain.
public struct WatchedState: Sendable, Equatable {
    public var membership: WatchedDomain
    /// The domain's stored state; nil while it has none (``StateFilter/unpolled``).
    public var state: DomainState?
    /// When a poll last asked for the domain (answered or not); nil if never.
    public var lastPolled: Int64?
    /// When the domain is next due as its last poll set it; nil if never polled (due at the next poll).
    public var nextDue: Int64?
    /// The domain's latest alert (by time, then id), whatever list it was raised for; nil if none.
    public var lastAlert: AlertMark?

    public init(membership: WatchedDomain, state: DomainState?, lastPolled: Int64?, nextDue: Int64?, lastAlert: AlertMark?) {
        self.membership = membership
        self.state = state
        self.lastPolled = lastPolled
        self.nextDue = nextDue
        self.lastAlert = lastAlert
    }

    /// The state's name as `--state` takes it: the class, or `unpolled`.
    public var stateName: String { state?.class.rawValue ?? StateFilter.unpolledName }
}

/// The alerts `alerts(_:)` reads; every condition given must hold (none given: every alert).
public struct AlertFilter: Sendable, Hashable {
    /// Raised at or after this time (epoch seconds).
    public var since: Int64?
    /// At or above this severity rank (0 info .. 4 critical).
    public var minRank: Int
    /// Of this domain (normalised name).
    public var domain: String?
    /// Raised for this list (the alert's `list`).
    public var list: String?
    /// Of one of these types (empty: any).
    public var types: [String]
    /// At most this many, the newest (nil: all).
    public var limit: Int?

    public init(since: Int64? = nil, minRank: Int = 0, domain: String? = nil, list: String? = nil, types: [String] = [], limit: Int? = nil) {
        self.since = since
        self.minRank = minRank
        self.domain = domain
        self.list = list
        self.types = types
        self.limit = limit
    }
}
