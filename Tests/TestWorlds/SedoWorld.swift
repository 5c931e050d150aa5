public import Alerting
public import Classification
public import DNSWatchModel
import Foundation
public import Store
import Logging
public import Poller
import Resolver
public import TestSupport

/// The tests' one scripted DNS world: a real Unbound on loopback serving `example.` (static) with the
/// records a test gives, and Team Cymru's origin TXT for Sedo's parking address (so the poll's ASN lookup
/// finds AS47846); a fresh database in a temporary directory; and a poller wired like the CLI's
/// (`dnswatch poll`: the resolver, the embedded fingerprints, the sinks). The usual story is a name parked
/// at Sedo (`parkedRecords`) that later moves to a host of its own (`move`).
///
/// The world knows its store through Store's protocols only: which backend, and the lock a poll holds, are
/// the subclass's (a test target, e.g. `SedoWorld<SQLiteStore>` opening the file with SQLiteStore and
/// holding its PollLock), so this library reaches no backend. Callers that need more (a capturing sink, a
/// peer's import, the server's routes) subclass it.
open class SedoWorld<Backend: PollStore & WatchlistStore>: @unchecked Sendable {
    /// Sedo's parking address (AS47846, 91.195.240.0/23).
    public static var sedoA: String { "91.195.240.94" }

    /// A name parked at Sedo: its two parking name servers and the parking address.
    public static func parkedRecords(_ name: String) -> [String] {
        ["\(name). 300 IN NS ns1.sedoparking.com.", "\(name). 300 IN NS ns2.sedoparking.com.", "\(name). 300 IN A \(sedoA)"]
    }

    /// Team Cymru's answer for `sedoA`'s origin (`dig TXT 94.240.195.91.origin.asn.cymru.com`).
    public static var cymruRecords: [String] {
        ["94.240.195.91.origin.asn.cymru.com. 300 IN TXT \"47846 | 91.195.240.0/23 | DE | ripencc | 2009-04-08\""]
    }

    public let unbound: UnboundServer
    /// The world's scratch directory; the database is `db.sqlite` in it.
    public let directory: TemporaryDirectory
    public let dbPath: String
    /// The database at `dbPath`, as the subclass opened it.
    public let store: Backend
    /// What a poll holds while it runs (SQLite's poll lock), taken anew for each poller.
    private let holding: @Sendable (Backend) throws -> (any Sendable)?
    public let classifier: Classifier
    /// The sinks every poll delivers alerts to.
    public let sinks: [any AlertSink]
    private let lock = NSLock()
    private var _summaries: [PollSummary] = []

    /// `records` are Unbound `local-data` lines under `example.`; `classifier` defaults to the embedded
    /// fingerprints with no owned infrastructure. `open` opens (creating) the database at the path it is
    /// given; `holding` gives what a poller of that store holds while it polls (nil: nothing).
    public init(records: [String], sinks: [any AlertSink] = [], classifier: Classifier? = nil, prefix: String = "dnswatch-world",
                open: (String) throws -> Backend, holding: @escaping @Sendable (Backend) throws -> (any Sendable)?) throws {
        unbound = try UnboundServer(localZones: ["example. static", "cymru.com. static"], localData: records + Self.cymruRecords)
        directory = try TemporaryDirectory(prefix)
        dbPath = directory.path("db.sqlite")
        store = try open(dbPath)
        self.holding = holding
        self.sinks = sinks
        self.classifier = try classifier ?? Classifier(fingerprints: FingerprintSet.embedded())
    }

    /// What each poll of this world returned, in order.
    public var summaries: [PollSummary] { lock.withLock { _summaries } }

    /// Adds `names` to the watchlist `list` (created with `kind` and `interval` if new) at `now`.
    public func watch(_ names: [String], list: String, kind: ListKind, interval: Int? = nil, now: Int64 = 1) async throws {
        _ = try await store.addEntries(try names.map { ListEntry(domain: try DomainName($0)) },
                                       to: ListSpec(name: list, kind: kind, interval: interval), now: now)
    }

    /// A poller as `dnswatch poll` makes one: this world's resolver (or `endpoints`), classifier and sinks.
    public func poller(endpoints: [String]? = nil, timeout: Double = 1, retries: Int = 1, batch: Int = 5000,
                       classifier: Classifier? = nil, types: [RRType] = RRType.pollDefault, due: Bool = false) throws -> Poller {
        var o = ResolverOptions()
        o.timeout = timeout
        o.retries = retries
        let resolver = try DNSResolver(endpoints: try (endpoints ?? [unbound.endpoint]).map { try ResolverEndpoint($0) }, options: o)
        var p = PollOptions()
        p.batchSize = batch
        p.types = types
        p.dueOnly = due
        return Poller(store: store, holding: try holding(store), engine: resolver, classifier: classifier ?? self.classifier,
                      sinks: sinks, options: p, logger: Logger(label: "test"))
    }

    /// One poll of every watched name, at the time `time` (Unix seconds).
    @discardableResult
    public func poll(at time: Int64, endpoints: [String]? = nil) async throws -> PollSummary {
        let summary = try await poller(endpoints: endpoints).poll(clock: { time })
        lock.withLock { _summaries.append(summary) }
        return summary
    }

    /// Replaces every record of `name` with `records`.
    public func set(_ name: String, _ records: [String]) throws {
        try unbound.removeLocalData([name])
        try unbound.addLocalData(records)
    }

    /// The name leaves the parking for a host of its own: one address, one name server (`ns`, no final dot).
    public func move(_ name: String, to address: String, ns: String) throws {
        try set(name, ["\(name). 300 IN A \(address)", "\(name). 300 IN NS \(ns)."])
    }
}
