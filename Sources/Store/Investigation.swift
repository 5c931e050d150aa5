public import DNSWatchModel

/// What the investigation commands (`triage`, `ip`) read, on either backend: the same calls on SQLite
/// (`SQLiteStore`, the existing reads) and on PostgreSQL (`PostgresStore`), so that the verdict rule
/// (Investigation's `Triage`) is written once and gets the same data from both.
public protocol InvestigationReading: Sendable {
    /// Everything the triage of `blocks` (addresses and prefixes) and `domains` reads, in one read
    /// transaction (see ``SQLiteStore/triageReads(blocks:domains:at:now:)``).
    func triageReads(blocks: [CIDR], domains: [String], at: Int64?, now: Int64) async throws -> TriageReads
    /// Every (domain, address) of A/AAAA history inside `block`, oldest first (then by domain); with `atMost`,
    /// more sightings than that throw `TooManySightings`.
    func domains(resolvingInto block: CIDR, atMost: Int?) async throws -> [AddressHit]
    /// Every membership (retired ones too) of these domains, by domain.
    func memberships(of domains: [String]) async throws -> [String: [WatchedDomain]]
    /// Cached origin-ASN answers not yet expired at `now`.
    func cachedASN(_ addresses: [String], now: Int64) async throws -> [String: ASNEntry]
}

/// What the triage of many values needs from the store, read in one read transaction (``SQLiteStore/triageReads(blocks:domains:at:now:)``).
public struct TriageReads: Sendable {
    /// Per queried block (an address as its full-length block, as given): the A/AAAA sightings inside it,
    /// oldest first.
    public var sightings: [CIDR: [AddressHit]] = [:]
    /// Per queried domain: its spans, oldest first (none: no history).
    public var history: [String: [SpanRecord]] = [:]
    /// Per address a queried domain had: the sightings of that address, oldest first.
    public var sharing: [String: [AddressHit]] = [:]
    /// Per queried domain: the state the last poll derived (absent before its first complete view).
    public var states: [String: DomainState] = [:]
    /// The memberships of every domain met: the queried domains and those of the sightings.
    public var memberships: [String: [WatchedDomain]] = [:]
    /// Cached origin ASNs that have not expired, of the queried addresses and of the queried domains' addresses.
    public var asns: [String: ASNEntry] = [:]

    public init() {}
}
