public import DNSWatchModel

/// What the investigation commands (`triage`, `ip`) read, on either backend: the same calls on SQLite
/// (`HistoryStore`, the existing reads) and on PostgreSQL (`PostgresStore`), so that the verdict rule
/// (Investigation's `Triage`) is written once and gets the same data from both.
public protocol InvestigationReading: Sendable {
    /// Everything the triage of `blocks` (addresses and prefixes) and `domains` reads, in one read
    /// transaction (see ``HistoryStore/triageReads(blocks:domains:at:now:)``).
    func triageReads(blocks: [CIDR], domains: [String], at: Int64?, now: Int64) async throws -> TriageReads
    /// Every (domain, address) of A/AAAA history inside `block`, oldest first (then by domain); with `atMost`,
    /// more sightings than that throw `TooManySightings`.
    func domains(resolvingInto block: CIDR, atMost: Int?) async throws -> [AddressHit]
    /// Every membership (retired ones too) of these domains, by domain.
    func memberships(of domains: [String]) async throws -> [String: [WatchedDomain]]
    /// Cached origin-ASN answers not yet expired at `now`.
    func cachedASN(_ addresses: [String], now: Int64) async throws -> [String: ASNEntry]
}

extension HistoryStore: InvestigationReading {}

// Memberwise initialisers of the shared value types, for a backend that does not read them from a GRDB row
// (SpanRecord's is in HistoryReading.swift, WatchedDomain's in Watchlists.swift).


extension AddressHit {
    /// A sighting: the span and the address (as stored) it was found through.
    public init(span: SpanRecord, address: String, current: Bool) {
        self.init(ValueHit(span: span, value: address, current: current))
    }
}
