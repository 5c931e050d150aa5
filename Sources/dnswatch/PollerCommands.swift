import ArgumentParser
import DNSWatchApp
import Foundation
import Store
import Investigation
import Logging

/// `dnswatch pollers`: who polls this database.
struct Pollers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the pollers that polled this database: name, last seen, domains claimed, last poll's summary.",
        discussion: "On PostgreSQL several pollers share the due domains through leases; on SQLite one poll runs at a time, each recorded with its --poller name.")

    @OptionGroup var store: StoreOptions
    @Flag(help: "One JSON object a line.") var json = false

    func run() async throws {
        try await reporting {
            let pollers = try await store.reading("dnswatch.pollers") { try await $0.pollers() }
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
            let report = try await store.database().copying(from: from, logger: Logger(label: "dnswatch.migrate"))
            for (table, rows) in report.rows { print("\(table) \(rows)") }
        }
    }
}
