import DNSWatchModel
import Foundation
import SQLiteStore
import Store
import Testing
import TestSupport
import Poller

extension OperationsTests {
    /// History grows with changes, not with polls: the database file barely grows while nothing changes.
    @Suite struct GrowthTests {
        @Test func unchangedPollsOf2000DomainsGrowTheFileByAtMost4KiBEach() async throws {
            let w = try BulkWorld()
            let n = 2000, polls = 30
            try await w.watch(BulkWorld.names(n), list: "c2")
            let poller = try w.poller()
            let t0: Int64 = 1_700_000_000
            let baseline = try await poller.poll(clock: { t0 })
            try #require(baseline.counts.domains == n && baseline.counts.failures == 0)
            try await w.store.checkpoint()
            let before = fileSize(w.dbPath)
            for k in 1...polls {
                let s = try await poller.poll(clock: { t0 + Int64(k) * 3600 })
                #expect(s.counts.domains == n && s.counts.failures == 0 && s.counts.changes == 0 && s.counts.alerts == 0)
            }
            try await w.store.checkpoint()
            #expect(fileSize(w.dbPath + "-wal") == 0, "the checkpoint folded the WAL into the file")
            let after = fileSize(w.dbPath)
            let perPoll = Double(after - before) / Double(polls)
            figure("growth: \(before) → \(after) bytes over \(polls) polls of \(n) domains: \(String(format: "%.0f", perPoll)) bytes a poll")
            #expect(perPoll <= 4096, "the file grew \(after - before) bytes over \(polls) unchanged polls (\(perPoll) a poll)")
            // The polls did happen: one span per (domain, type), seen by every poll.
            let audit = try Audit(w.dbPath)
            #expect(try audit.scalar("SELECT count(*) FROM spans") == 3 * n)
            #expect(try audit.scalar("SELECT count(*) FROM spans_seen WHERE count = \(polls + 1) AND time_last = \(t0 + Int64(polls) * 3600)") == 3 * n)
        }
    }
}
