public import DNSWatchModel

/// What resolvers said of a domain whose change was not confirmed: the first look and the second (another
/// resolver at once, or the same one after a pause). Kept as the domain's last unconfirmed observation
/// (`domain_alerting.unconfirmed`), shown by `explain`, and named by a `disagreement` alert.
public struct UnconfirmedObservation: Sendable, Equatable, Codable {
    public var time: Int64
    /// The state the domain was in (and stays in).
    public var from: DomainState
    public var observations: [ResolverObservation]

    public init(time: Int64, from: DomainState, observations: [ResolverObservation]) {
        self.time = time
        self.from = from
        self.observations = observations
    }

    /// `a.example:53 says unknown (192.0.2.1); b.example:53 says parked Sedo (91.195.240.94)`.
    public var summary: String {
        observations.map { o in
            let values = o.addresses.isEmpty ? "" : " (\(o.addresses.joined(separator: ", ")))"
            let who = o.resolvers.isEmpty ? "no resolver" : o.resolvers.joined(separator: ", ")
            return "\(who) \(o.role == .first ? "said" : "said again") \(o.state)\(values)"
        }.joined(separator: "; ")
    }
}

/// One look at a domain: the resolvers that answered, the state their answers make, the values.
public struct ResolverObservation: Sendable, Equatable, Codable {
    public enum Role: String, Sendable, Codable {
        /// The poll's answer.
        case first
        /// The confirmation's.
        case again
    }

    public var role: Role
    public var resolvers: [String]
    public var state: DomainState
    public var addresses: [String]
    public var ns: [String]

    public init(view: DomainView, resolvers: [String], role: Role) {
        self.role = role
        self.resolvers = resolvers
        state = view.state
        addresses = view.addresses.map(\.value)
        ns = view.nameServers.map(\.value)
    }
}
