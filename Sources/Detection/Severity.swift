public import DNSWatchModel

/// Alert severity, ordered.
public enum Severity: String, Sendable, Codable, CaseIterable, Comparable {
    case info, low, medium, high, critical

    public var rank: Int { Severity.allCases.firstIndex(of: self) ?? 0 }
    public static func < (l: Severity, r: Severity) -> Bool { l.rank < r.rank }

    /// How serious a transition is for a list of this kind. What each kind of list is for:
    /// - c2: a known C&C domain. Its coming alive is the news: activation, registration to a real host.
    /// - owned: the organisation's own domain. Anything that takes it away is.
    /// - expired: a domain the organisation let go. Someone taking it over is.
    /// Alerts about alerting are the same for every kind: `flapping` low, `disagreement` medium.
    public static func of(_ type: AlertType, kind: ListKind, to: DomainClass) -> Severity {
        switch kind {
        case .c2:
            switch type {
            case .activation: return .critical
            case .registered: return to.isLiveHost ? .critical : .medium
            case .newIP: return .high
            case .nsChange, .changed, .moved, .disagreement: return .medium
            case .sinkholed, .parked, .dormant, .unresolved, .flapping: return .low
            }
        case .owned:
            switch type {
            case .moved, .sinkholed: return .critical
            case .parked, .unresolved, .nsChange, .registered, .activation: return .high
            case .dormant, .newIP, .changed, .disagreement: return .medium
            case .flapping: return .low
            }
        case .expired:
            switch type {
            case .registered: return to.isLiveHost ? .critical : .high
            case .activation: return .high
            case .parked, .newIP, .nsChange, .sinkholed, .moved, .changed, .disagreement: return .medium
            case .dormant: return .low
            case .unresolved: return .info
            case .flapping: return .low
            }
        }
    }
}
