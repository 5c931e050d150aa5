import DNSWatchModel
import Foundation
import GRDB
import SQLiteStore
import Store
import Poller
import Testing
import TestSupport

extension OperationsTests {
    /// `poll --due`: per-list intervals (file header, list spec, the kind's default) and the jitter that spreads
    /// due times. The poller's clock is injected, so hours pass in milliseconds.
    @Suite struct SchedulingTests {
        static let t0: Int64 = 1_700_000_000

        /// name → total count of its A spans (how many polls saw it).
        static func aCounts(_ audit: Audit) throws -> [String: Int] {
            try audit.queue.read { db in
                var out: [String: Int] = [:]
                for row in try Row.fetchAll(db, sql: """
                    SELECT d.name, sum(s.count) FROM spans_seen s JOIN domains d ON d.id = s.domain_id WHERE s.rrtype = 'A' GROUP BY d.id
                    """) { out[row[0]] = row[1] }
                return out
            }
        }

        /// name → (last_polled, next_due).
        static func schedule(_ audit: Audit) throws -> [String: (last: Int64, next: Int64)] {
            try audit.queue.read { db in
                var out: [String: (Int64, Int64)] = [:]
                for row in try Row.fetchAll(db, sql: """
                    SELECT d.name, s.last_polled, s.next_due FROM domain_status s JOIN domains d ON d.id = s.domain_id
                    """) { out[row[0]] = (row[1], row[2]) }
                return out
            }
        }

        @Test func dueSelectsExactlyTheDomainsWhoseListIntervalHasPassed() async throws {
            let w = try BulkWorld()
            // `both` are on the fast and the slow list: the shorter interval applies.
            let both = BulkWorld.names(8, prefix: "b")
            let fast = BulkWorld.names(40, prefix: "f") + both, slow = BulkWorld.names(30, prefix: "s"), gone = BulkWorld.names(20, prefix: "e")
            // fast: 10 minutes from the file's `# interval:` header, imported by the CLI.
            let file = try w.watchlistFile("fast.txt", header: ["# kind: c2", "# interval: 10m"], names: fast)
            let imported = try await w.dnswatch(["watch", "import", file, "--db", w.dbPath])
            try #require(imported.code == 0, "\(imported.err)")
            // slow: 1 hour on the list spec; gone: no interval, so the kind's default (30 minutes here).
            try await w.watch(slow + both, list: "slow", interval: 3600)
            try await w.watch(gone, list: "gone", kind: .expired)
            let interval = Dictionary(uniqueKeysWithValues: fast.map { ($0, 600) } + slow.map { ($0, 3600) } + gone.map { ($0, 1800) })
            let poller = try w.poller {
                $0.dueOnly = true
                $0.defaultIntervals = PollInterval.Defaults(overrides: [.expired: 1800])
            }
            let audit = try Audit(w.dbPath)
            // Each step is chosen so that every domain is clearly due (its interval has fully passed) or clearly
            // not (less than interval − 10 % has passed): jitter may only move a due time earlier, by < 10 %.
            let steps: [(dt: Int64, due: [String])] = [
                (0, fast + slow + gone),  // never polled: everything is due
                (540, []),                // fast at 90 % of its interval: not yet
                (600, fast),
                (1620, fast),             // gone at 90 %: not yet
                (1800, gone),             // fast polled at 1620: not yet
                (3240, fast),             // slow at 90 %, gone at 1440/1800: not yet
                (3600, slow + gone),      // fast polled at 3240: not yet
            ]
            var expectedCount: [String: Int] = [:]
            for step in steps {
                let before = try Self.aCounts(audit)
                let s = try await poller.poll(clock: { Self.t0 + step.dt })
                let after = try Self.aCounts(audit)
                let polled = Set(after.keys.filter { after[$0] != before[$0] })
                #expect(s.counts.domains == step.due.count, "t0+\(step.dt): summary domains")
                #expect(polled == Set(step.due), "t0+\(step.dt): polled \(polled.count), expected \(step.due.count)")
                #expect(s.counts.failures == 0 && s.counts.queries == 3 * step.due.count)
                for d in step.due { expectedCount[d, default: 0] += 1 }
                // Every domain's next due time: its last poll + its interval, minus a jitter below 10 % of it.
                for (name, sched) in try Self.schedule(audit) {
                    let i = Int64(try #require(interval[name]))
                    let early = sched.last + i - sched.next
                    #expect(early >= 0 && early < i / 10, "\(name): next_due \(sched.next), last polled \(sched.last), interval \(i)")
                }
            }
            let counts = try Self.aCounts(audit)
            #expect(counts == expectedCount)
            #expect(fast.allSatisfy { counts[$0] == 4 } && gone.allSatisfy { counts[$0] == 3 } && slow.allSatisfy { counts[$0] == 2 })
            // The same history for the other types: one span each, polled as often as A.
            let perType = try audit.scalar("SELECT count(*) FROM (SELECT domain_id FROM spans_seen GROUP BY domain_id HAVING count(*) = 3 AND min(count) = max(count))")
            #expect(perType == fast.count + slow.count + gone.count)
            let polls = try audit.polls()
            // A poll with nothing due records no run.
            #expect(polls.map(\.domains) == steps.map(\.due.count).filter { $0 > 0 })
            #expect(polls.allSatisfy { $0.finished != nil })
        }

        @Test func cliPollDueSkipsWhatWasJustPolled() async throws {
            let w = try BulkWorld()
            let names = BulkWorld.names(20, prefix: "c")
            let file = try w.watchlistFile("hourly.txt", header: ["# interval: 1h"], names: names)
            try #require(try await w.dnswatch(["watch", "import", file, "--db", w.dbPath]).code == 0)
            let first = try await w.dnswatch(["poll", "--due"] + w.pollArgs)
            #expect(first.code == 0 && first.out.hasPrefix("domains=20 queries=60 answers=60 failures=0 "), "\(first.out) \(first.err)")
            let again = try await w.dnswatch(["poll", "--due"] + w.pollArgs)
            #expect(again.code == 0 && again.out.hasPrefix("domains=0 queries=0 "), "nothing due an hour early: \(again.out) \(again.err)")
            let all = try await w.dnswatch(["poll"] + w.pollArgs)
            #expect(all.code == 0 && all.out.hasPrefix("domains=20 "), "without --due, everything: \(all.out)")
            let polls = try Audit(w.dbPath).polls()
            #expect(polls.map(\.domains) == [20, 20] && polls.allSatisfy { $0.finished != nil }, "nothing due: no run recorded")
        }

        /// Batches are pipelined (one resolved while the one before is written), but never resolved two at a
        /// time: the resolver's --qps cap holds per resolution, so overlapping ones would exceed it.
        @Test func qpsCapHoldsAcrossPipelinedBatches() async throws {
            let w = try BulkWorld()
            try await w.watch(BulkWorld.names(300, prefix: "q"), list: "c2")
            let s = try await w.poller(qps: 600) { $0.batchSize = 50 }.poll(clock: { Self.t0 })
            #expect(s.counts.queries == 900 && s.counts.failures == 0)
            let rate = Double(s.counts.queries) / s.seconds
            figure("qps cap 600 over 6 batches: \(String(format: "%.0f", rate)) queries/s (\(String(format: "%.2f", s.seconds)) s)")
            #expect(rate < 600 * 1.15, "900 queries in \(s.seconds) s: \(rate) a second against a cap of 600")
        }

        @Test func jitterSpreadsTheDueTimesOfABigList() async throws {
            let w = try BulkWorld()
            let names = BulkWorld.names(200, prefix: "j")
            try await w.watch(names, list: "big", interval: 1000)
            let poller = try w.poller { $0.dueOnly = true }
            let audit = try Audit(w.dbPath)
            #expect(try await poller.poll(clock: { Self.t0 }).counts.domains == 200)

            let next = try Self.schedule(audit).mapValues(\.next)
            #expect(next.count == 200)
            #expect(next.values.allSatisfy { $0 > Self.t0 + 900 && $0 <= Self.t0 + 1000 }, "spread by less than 10 % of the interval")
            let distinct = Set(next.values).count, width = (next.values.max() ?? 0) - (next.values.min() ?? 0)
            #expect(distinct >= 50, "200 domains over 100 possible seconds: \(distinct) distinct due times")
            #expect(width >= 80, "due times spread over \(width) s of the 100 s window")

            // Half-way through the window, exactly those already due are polled, then the rest.
            let mid = Self.t0 + 950
            let dueAtMid = Set(next.filter { $0.value <= mid }.keys)
            #expect(dueAtMid.count > 40 && dueAtMid.count < 160, "\(dueAtMid.count) of 200 due at t0+950")
            let before = try Self.aCounts(audit)
            let s = try await poller.poll(clock: { mid })
            let after = try Self.aCounts(audit)
            #expect(s.counts.domains == dueAtMid.count)
            #expect(Set(after.keys.filter { after[$0] != before[$0] }) == dueAtMid)
            let rest = try await poller.poll(clock: { Self.t0 + 1000 })
            #expect(rest.counts.domains == 200 - dueAtMid.count)
            #expect(try Self.aCounts(audit).values.allSatisfy { $0 == 2 })
        }
    }
}
