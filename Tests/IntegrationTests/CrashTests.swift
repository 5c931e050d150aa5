import DNSWatchModel
import Foundation
import SQLiteStore
import Store
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

extension OperationsTests {
    /// `kill -9` in the middle of a poll of a large watchlist: the database stays sound, each batch is all or
    /// nothing, and the next poll carries on normally.
    @Suite struct CrashTests {
        static let domains = 20_000
        static let batch = 2_000

        /// Checks every domain against the polls so far: `reached[k]` domains (a prefix in id order, whole
        /// batches) were committed by poll k. A domain reached by j polls has one span per type, each seen j times,
        /// all with the same time_last (the batch's time), and that is its last_polled; one reached by none has nothing.
        static func expectConsistent(_ w: BulkWorld, reached: [Int], after moment: String) async throws {
            #expect(try await w.store.integrityCheck() == "ok", "\(moment)")
            let audit = try Audit(w.dbPath)
            let problems = try audit.spanProblems()
            #expect(problems == Audit.SpanProblems(), "\(moment): \(problems)")
            let rows = try audit.domains()
            #expect(rows.count == domains)
            var bad: [String] = []
            for (position, row) in rows.enumerated() {
                let polls = reached.filter { position < $0 }.count
                let ok = polls == 0
                    ? row.spans == 0 && row.lastPolled == nil
                    : row.spans == 3 && row.pairs == 3 && row.minCount == polls && row.maxCount == polls
                        && row.timeLasts == 1 && row.lastPolled == row.maxTimeLast
                if !ok { bad.append("#\(position) \(row.name): expected \(polls) polls, got \(row)") }
            }
            #expect(bad.count == 0, "\(moment): \(bad.count) domains half-written or wrongly counted, e.g. \(bad.prefix(3))")
        }

        @Test func killMinus9MidPollLeavesEveryDomainAllOrNothing() async throws {
            let w = try BulkWorld()
            let file = try w.watchlistFile("big.txt", header: ["# kind: c2"], names: BulkWorld.names(Self.domains))
            let imported = try await w.dnswatch(["watch", "import", file, "--db", w.dbPath])
            try #require(imported.code == 0 && imported.out.hasPrefix("added \(Self.domains),"), "\(imported.err)")
            let config = try w.file("dnswatch.toml", lines: ["[poll]", "batch = \(Self.batch)"])
            let args = ["poll"] + w.pollArgs + ["--config", config]
            let audit = try Audit(w.dbPath)

            // Three moments: as soon as the poll has begun, once a batch is in, once half of the batches are in;
            // each after a further random delay.
            let moments: [(name: String, committed: Int, jitterMS: Int)] = [
                ("just begun", 0, 60), ("after the first batch", Self.batch, 150), ("half-way", Self.domains / 2, 150),
            ]
            // Where a poll of 20,000 domains in batches of 2,000 may stop, worked out by hand (not by the poller's
            // own plan): small first and last batches (docs/architecture.md), a quarter of a batch (500) and
            // then half (1,000) first, full ones (2,000) while a quarter is left after them, then the last 500.
            let boundaries = [0, 500, 1500] + Array(stride(from: 3500, through: 19_500, by: 2000)) + [20_000]
            var random = SeededRandom("CrashTests")
            var reached: [Int] = []
            for moment in moments {
                let pollsBefore = try audit.polls().count
                let p = try Background(args, workdir: w.workdir)
                let begun = try await eventually(timeout: 60) {
                    let polls = try audit.polls()
                    return polls.count > pollsBefore && polls[polls.count - 1].domains >= moment.committed
                }
                try #require(begun, "\(moment.name): the poll never got there: \(p.err)")
                let delay = Int.random(in: 0...moment.jitterMS, using: &random)
                try await Task.sleep(for: .milliseconds(delay))
                try #require(p.isRunning, "\(moment.name): the poll ended before it could be killed; make it longer")
                let wal = fileSize(w.dbPath + "-wal")
                p.signal(SIGKILL)
                let end = try await p.wait(timeout: 10)
                #expect(end?.signalled == true && end?.status == SIGKILL, "killed by the signal")
                let killed = try #require(try audit.polls().last)
                #expect(killed.finished == nil, "a killed poll keeps finished NULL")
                #expect(boundaries.contains(killed.domains), "whole batches only: \(killed)")
                reached.append(killed.domains)
                figure("kill -9 \(moment.name) (+\(delay) ms): \(killed.domains) of \(Self.domains) domains committed, WAL \(wal / 1024) KiB")
                try await Self.expectConsistent(w, reached: reached, after: "kill \(moment.name)")
            }
            #expect(reached[2] > 0, "the last kill came after some batches were in")

            // The next poll is not hindered by the dead one (its lock went with it) and completes.
            let next = try await w.dnswatch(args)
            #expect(next.code == 0, "\(next.err)")
            #expect(next.out.contains("domains=\(Self.domains) queries=\(3 * Self.domains) answers=\(3 * Self.domains) failures=0"), "\(next.out)")
            let last = try #require(try audit.polls().last)
            #expect(last.finished != nil && last.domains == Self.domains && last.failures == 0)
            try await Self.expectConsistent(w, reached: reached + [Self.domains], after: "the next poll")
        }
    }
}
