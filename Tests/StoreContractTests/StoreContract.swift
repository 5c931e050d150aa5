import Alerting
import Classification
import DNSWatchModel
import Foundation
import SQLiteStore
import Store
import Logging
import Poller
import PostgresStore
import Testing
import TestSupport
import TestWorlds

// The store's contract: what its callers (the `watch` commands, a poll, the lookups, triage, alerts) get
// from it, every case run on both backends by parameter. A case opens a fresh store of its backend (a new
// SQLite file, or a new database on the test process's one PostgreSQL server), uses it only through the
// store interfaces, and writes history only as a poll does: through `Poller`, whose batch writer decides
// what extends a span and what opens one, with answers from a scripted resolver and a clock the case sets.
// Expectations are what a user sees (docs/contract: a repeat extends a span, a change opens one, ...),
// written as literals.

/// Every interface of the store that a command uses; both backends implement all of them.
typealias ContractStore = PollStore & WatchlistStore & ServeReading & ImportStore & ReclassifyStore

/// Runs `body` with a fresh, migrated, empty store of `backend`. On SQLite, whatever `body` wrote must then
/// pass `integrityCheck` (which includes `PRAGMA foreign_key_check`: a poll's write checks no foreign key
/// row by row, SQLiteStore's `apply`).
func withStore<T: Sendable>(_ backend: Backend, _ body: (any ContractStore) async throws -> T) async throws -> T {
    switch backend {
    case .sqlite:
        let dir = try TemporaryDirectory("dnswatch-contract")
        let store = try SQLiteStore(path: dir.path("db.sqlite"))
        let result = try await body(store)
        #expect(try await store.integrityCheck() == "ok")
        return result
    case .postgresql:
        let url = try PostgresURL(try TestPostgres.freshDatabase(prefix: "contract"))
        return try await PostgresStore.withStore(url, logger: Logger(label: "contract"), migrate: true) { try await body($0) }
    }
}

/// The classifier of the shipped fingerprints.
let embeddedClassifier: Result<Classifier, any Error> = Result { Classifier(fingerprints: try .embedded()) }

/// One poll of `store` at time `t`, as `dnswatch poll` runs it (A, AAAA and NS a domain; `due`: only due
/// domains), without origin-ASN lookups and without jitter (a domain is next due exactly one interval later).
@discardableResult
func poll(_ store: any ContractStore, _ dns: ScriptedDNS, at t: Int64, due: Bool = false,
          sinks: [any AlertSink] = []) async throws -> PollSummary {
    var o = PollOptions()
    o.asnLookups = false
    o.jitter = 0
    o.dueOnly = due
    o.poller = "contract"
    let poller = Poller(store: store, engine: dns, classifier: try embeddedClassifier.get(), sinks: sinks, options: o,
                        logger: Logger(label: "contract"))
    return try await poller.poll(clock: { t })
}

/// Puts these domains on a list (c2 unless told) at time `t`.
func watch(_ store: any ContractStore, _ names: [String], list: String = "t", kind: ListKind = .c2, interval: Int? = nil,
           at t: Int64 = 1) async throws {
    _ = try await store.addEntries(try names.map { ListEntry(domain: try DomainName($0)) },
                                   to: ListSpec(name: list, kind: kind, interval: interval), now: t)
}

extension ServeReading {
    /// Every span of a domain (of one type), oldest first.
    func spans(_ domain: String, _ type: RRType? = nil, since: Int64? = nil, until: Int64? = nil) async throws -> [SpanRecord] {
        try await history(domain: domain, type: type, since: since, until: until, source: nil)
    }
}

/// A JSON object's fields (a payload that is not one is a test failure).
func object(_ json: String) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any], "not a JSON object: \(json)")
}
