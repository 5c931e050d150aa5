import DNSWatchModel
import Foundation
import GRDB
import SQLiteStore
import Store
import Poller
import Testing
import TestSupport

extension OperationsTests {
    /// Two polls on one database, and readers beside a poll: one poll at a time, readers never in the way.
    @Suite struct ConcurrencyTests {
        static let domains = 3000

        static func importWatchlist(_ w: BulkWorld, count: Int) async throws {
            let file = try w.watchlistFile("many.txt", header: ["# kind: c2"], names: BulkWorld.names(count))
            let r = try await w.dnswatch(["watch", "import", file, "--db", w.dbPath])
            try #require(r.code == 0 && r.out.hasPrefix("added \(count),"), "\(r.out) \(r.err)")
        }

        static func expectSound(_ w: BulkWorld, spansPerDomain: Int, count: Int) async throws {
            #expect(try await w.store.integrityCheck() == "ok")
            let audit = try Audit(w.dbPath)
            let problems = try audit.spanProblems()
            #expect(problems == Audit.SpanProblems(), "\(problems)")
            let rows = try audit.domains()
            #expect(rows.count == domains)
            let wrong = rows.filter { $0.spans != spansPerDomain || $0.pairs != spansPerDomain || $0.minCount != count || $0.maxCount != count }
            #expect(wrong.count == 0, "\(wrong.count) domains without \(spansPerDomain) spans of count \(count), e.g. \(wrong.prefix(3))")
        }

        @Test func twoPollsStartedTogetherOneRunsTheOtherExitsOrWaits() async throws {
            let w = try BulkWorld()
            try await Self.importWatchlist(w, count: Self.domains)
            let audit = try Audit(w.dbPath)
            // A cap of 6,000 queries/s makes each poll (9,000 queries) last 1.5 s at least: the two overlap.
            let args = ["poll"] + w.pollArgs + ["--qps", "6000"]

            // Without --wait: exactly one runs, the other exits 1 at once with the message.
            let pair = [try Background(args, workdir: w.workdir), try Background(args, workdir: w.workdir)]
            let ends = try await Background.waitAll(pair)
            let codes = ends.map { $0?.status }
            #expect(codes.sorted { ($0 ?? -1) < ($1 ?? -1) } == [0, 1], "exit codes \(codes)")
            if let winner = codes.firstIndex(of: 0), let loser = codes.firstIndex(of: 1),
               let won = ends[winner], let lost = ends[loser] {
                #expect(pair[loser].err.contains("another dnswatch poll is running on this database"), "\(pair[loser].err)")
                #expect(pair[loser].out.isEmpty)
                #expect(pair[winner].out.contains("domains=\(Self.domains) queries=\(3 * Self.domains) answers=\(3 * Self.domains) failures=0"),
                        "\(pair[winner].out) \(pair[winner].err)")
                let head = lost.ended.timeIntervalSince(pair[loser].started), whole = won.ended.timeIntervalSince(pair[winner].started)
                #expect(lost.ended < won.ended, "the second gave up while the first was running (\(head) s vs \(whole) s)")
                figure("two polls: loser exited after \(String(format: "%.2f", head)) s, winner ran \(String(format: "%.2f", whole)) s")
            }
            #expect(try audit.polls().count == 1, "the loser never began a poll")

            // With --wait on both: both run, one after the other; never two polls open at once.
            let waiting = [try Background(args + ["--wait"], workdir: w.workdir), try Background(args + ["--wait"], workdir: w.workdir)]
            var mostOpen = 0, samples = 0
            let waited = try await Background.waitAll(waiting) {
                mostOpen = max(mostOpen, try audit.scalar("SELECT count(*) FROM polls WHERE finished IS NULL"))
                samples += 1
            }
            #expect(waited.map { $0?.status } == [0, 0], "\(waiting.map(\.err))")
            #expect(waiting.allSatisfy { $0.out.contains("domains=\(Self.domains) ") && $0.out.contains(" failures=0 ") })
            #expect(mostOpen == 1, "polls open at once: \(mostOpen) (\(samples) samples)")
            let polls = try audit.polls()
            #expect(polls.count == 3 && polls.allSatisfy { $0.finished != nil && $0.domains == Self.domains && $0.failures == 0 }, "\(polls)")
            if polls.count == 3, let firstEnd = polls[1].finished {
                #expect(polls[2].started >= firstEnd, "the waiting poll began after the other ended: \(polls)")
            }
            // Three polls, the same answers: one span per (domain, type), seen three times.
            try await Self.expectSound(w, spansPerDomain: 3, count: 3)
        }

        @Test func aReaderHoldingASnapshotNeverFailsThePoll() async throws {
            let w = try BulkWorld()
            try await Self.importWatchlist(w, count: Self.domains)
            let first = try await w.dnswatch(["poll"] + w.pollArgs)
            try #require(first.code == 0, "\(first.err)")

            // A reader begins a transaction and keeps it open across the whole next poll (which opens the database,
            // migrates, writes every batch, finishes), as a slow `history` or an analyst's sqlite3 session would.
            var config = Configuration()
            config.allowsUnsafeTransactions = true  // the transaction outlives one database access, on purpose
            let reader = try DatabaseQueue(path: w.dbPath, configuration: config)
            let seenBefore = try reader.inDatabase { db -> Int in
                try db.execute(sql: "BEGIN DEFERRED")
                return try Int.fetchOne(db, sql: "SELECT sum(count) FROM spans_seen") ?? -1
            }
            #expect(seenBefore == 3 * Self.domains)
            // Meanwhile other readers come and go: `dnswatch history` in a loop, in other processes.
            let poll = try Background(["poll"] + w.pollArgs, workdir: w.workdir)
            let readers = Task { () -> (runs: Int, failures: [String], slowest: Double) in
                var runs = 0, failures: [String] = [], slowest = 0.0
                while poll.isRunning {
                    let start = Date()
                    let h = try await w.dnswatch(["history", "d\(runs % 100 * 4).r.example", "--db", w.dbPath, "--json"])
                    slowest = max(slowest, Date().timeIntervalSince(start))
                    if h.code != 0 || h.lines.count != 3 { failures.append("\(h.code) \(h.out) \(h.err)") }
                    runs += 1
                }
                return (runs, failures, slowest)
            }
            let ended = try await Background.waitAll([poll])
            let (histories, historyFailures, slowest) = try await readers.value
            #expect(ended.first??.status == 0, "\(poll.err)")
            // How long it took beside the reader is a figure, not a check (issue 23: no speed targets in tests).
            let took = ended.first??.ended.timeIntervalSince(poll.started) ?? -1
            figure("reader test: the poll took \(String(format: "%.2f", took)) s beside the held snapshot")
            #expect(poll.out.contains("domains=\(Self.domains) ") && poll.out.contains(" failures=0 "), "\(poll.out)")
            #expect(historyFailures.isEmpty, "\(historyFailures.prefix(3))")
            #expect(histories > 0, "no `history` ran beside the poll")
            figure("reader test: \(histories) history runs during the poll, the slowest \(String(format: "%.2f", slowest)) s")

            // The held snapshot still shows the database as it was; after it ends, the new poll is visible.
            let (held, fresh) = try reader.inDatabase { db -> (Int, Int) in
                let held = try Int.fetchOne(db, sql: "SELECT sum(count) FROM spans_seen") ?? -1
                try db.execute(sql: "COMMIT")
                return (held, try Int.fetchOne(db, sql: "SELECT sum(count) FROM spans_seen") ?? -1)
            }
            #expect(held == 3 * Self.domains, "the reader's snapshot held")
            #expect(fresh == 6 * Self.domains)
            try await Self.expectSound(w, spansPerDomain: 3, count: 2)
        }
    }
}
