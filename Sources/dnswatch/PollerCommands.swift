import ArgumentParser
import Foundation
import SQLiteStore
import Store
import Investigation
import Logging
import PostgresStore

/// `dnswatch pollers`: who polls this database.
struct Pollers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the pollers that polled this database: name, last seen, domains claimed, last poll's summary.",
        discussion: "On PostgreSQL several pollers share the due domains through leases; on SQLite one poll runs at a time, each recorded with its --poller name.")

    @OptionGroup var store: StoreOptions
    @Flag(help: "One JSON object a line.") var json = false

    func run() async throws {
        try await reporting {
            let pollers: [PollerInfo]
            switch try store.location() {
            case .sqlite:
                pollers = try await store.openForReading().pollers()
            case .postgres(let url):
                pollers = try await PostgresStore.withStore(url, logger: Logger(label: "dnswatch.pollers"), migrate: false) { store in
                    guard try await store.hasSchema() else {
                        StoreOptions.warnNoTables(url)
                        return []
                    }
                    return try await store.pollers()
                }
            }
            if json {
                for p in pollers { print(try JSONLine.encode(PollerJSON(p))) }
                return
            }
            guard !pollers.isEmpty else {
                warn("dnswatch: no poller has polled this database yet")
                return
            }
            print(table(["POLLER", "LAST SEEN", "CLAIMED", "LAST POLL"], pollers.map { p in
                [p.name, isoTime(p.lastSeen), String(p.claimed), p.lastPoll.map(Self.summary) ?? "-"]
            }))
        }
    }

    static func summary(_ run: PollRun) -> String {
        let c = run.counts
        let state = run.finished == nil ? " unfinished" : ""
        return "#\(run.id) \(isoTime(run.started))\(state) domains=\(c.domains) queries=\(c.queries) answers=\(c.answers) failures=\(c.failures) changes=\(c.changes) alerts=\(c.alerts)"
    }
}

struct PollerJSON: Encodable {
    struct Run: Encodable {
        let poll: Int64, started: String, finished: String?, domains: Int, queries: Int, answers: Int, failures: Int, changes: Int, alerts: Int
    }
    let name: String, last_seen: String, claimed: Int64, last_poll: Run?
    init(_ p: PollerInfo) {
        name = p.name
        last_seen = isoTime(p.lastSeen)
        claimed = p.claimed
        last_poll = p.lastPoll.map { r in
            Run(poll: r.id, started: isoTime(r.started), finished: r.finished.map(isoTime), domains: r.counts.domains,
                queries: r.counts.queries, answers: r.counts.answers, failures: r.counts.failures, changes: r.counts.changes,
                alerts: r.counts.alerts)
        }
    }
}

/// `dnswatch migrate --from SQLITE --db postgresql://...`.
struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy every table of a SQLite database into an empty PostgreSQL one.",
        discussion: "Lists, memberships, history, imported records, states, transitions, alerts, the outbox and the ASN cache, in one transaction: on any error the PostgreSQL database stays empty.")

    @Option(help: "The SQLite database to copy.") var from: String
    @OptionGroup var store: StoreOptions

    func validate() throws {
        if from.isEmpty { throw ValidationError("--from is empty: name the SQLite database to copy") }
    }

    func run() async throws {
        try await reporting {
            guard case .postgres(let url) = try store.location() else {
                throw CLIError.usage("migrate copies into PostgreSQL: give --db postgresql://USER@HOST/DB (or $DNSWATCH_DB)")
            }
            guard SQLiteStore.exists(at: from) else { throw CLIError(code: Exit.failure, description: "no database at \(from)") }
            let source: SQLiteStore
            do { source = try SQLiteStore.readOnly(path: from) } catch { throw CLIError(code: Exit.failure, description: "\(error)") }
            let report = try await PostgresStore.withStore(url, logger: Logger(label: "dnswatch.migrate"), migrate: true) {
                try await $0.copy(from: source)
            }
            for (table, rows) in report.rows { print("\(table) \(rows)") }
        }
    }
}
