import DNSWatchModel
import Foundation
import HistoryStore
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

extension OperationsTests {
    /// `dnswatch daemon`: SIGTERM and SIGINT end it cleanly, during a poll (which completes and commits) or between.
    @Suite struct DaemonTests {
        static let domains = 300

        struct Case: Sendable, CustomStringConvertible {
            let signal: Int32
            let duringPoll: Bool
            var description: String { "\(signal == SIGTERM ? "SIGTERM" : "SIGINT") \(duringPoll ? "during a poll" : "between polls")" }
        }

        static let cases = [Case(signal: SIGTERM, duringPoll: true), Case(signal: SIGINT, duringPoll: true),
                            Case(signal: SIGTERM, duringPoll: false), Case(signal: SIGINT, duringPoll: false)]

        @Test(arguments: cases)
        func signalEndsTheDaemonCleanly(_ c: Case) async throws {
            let w = try BulkWorld()
            try w.watch(BulkWorld.names(Self.domains), list: "c2")
            // Small batches, and during a poll a query cap (900 queries at 400/s: over 2 s), so the signal lands
            // in the middle of the first poll.
            let config = try w.watchlistFile("dnswatch.toml", names: ["[poll]", "batch = 50"])
            let args = ["daemon"] + w.pollArgs + ["--tick", "1s", "--config", config] + (c.duringPoll ? ["--qps", "400"] : [])
            let daemon = try Background(args, workdir: w.workdir)
            let audit = try Audit(w.dbPath)
            if c.duringPoll {
                let inPoll = try await eventually(timeout: 20) {
                    guard let p = try audit.polls().first else { return false }
                    return p.domains >= 50 && p.finished == nil
                }
                try #require(inPoll && daemon.isRunning, "the first poll never got under way: \(daemon.err)")
                try #require(daemon.outLines.isEmpty, "the first poll ended before the signal")
            } else {
                // The first poll, then at least one tick (nothing due: domains=0).
                let ticked = try await eventually(timeout: 20) { daemon.outLines.count >= 2 }
                try #require(ticked, "no summary lines: \(daemon.out) \(daemon.err)")
            }
            let committedAtSignal = try audit.polls().first?.domains ?? -1
            let signalled = Date()
            daemon.signal(c.signal)
            let end = try await daemon.wait(timeout: 30)
            let took = end.map { $0.ended.timeIntervalSince(signalled) } ?? -1
            figure("daemon \(c): exit \(end.map { String($0.status) } ?? "none") \(String(format: "%.2f", took)) s after the signal; \(committedAtSignal) domains committed at the signal")
            #expect(end?.status == 0 && end?.signalled == false, "\(c): exit \(String(describing: end)); \(daemon.err)")
            #expect(took >= 0 && took < 8, "\(c): ended \(took) s after the signal")
            let polls = try audit.polls()
            #expect(!polls.isEmpty && polls.allSatisfy { $0.finished != nil }, "every run finished: \(polls)")
            // The first poll (under way or not at the signal) completed: every domain, its summary printed.
            #expect(polls.first?.domains == Self.domains && polls.first?.failures == 0)
            #expect(daemon.outLines.first?.hasPrefix("domains=\(Self.domains) queries=\(3 * Self.domains) ") == true, "\(daemon.out)")
            #expect(daemon.outLines.dropFirst().allSatisfy { $0.hasPrefix("domains=0 ") }, "nothing else was due: \(daemon.out)")
            #expect(try w.store.integrityCheck() == "ok")
            #expect(try audit.spanProblems() == Audit.SpanProblems())
            #expect(try audit.domains().allSatisfy { $0.spans == 3 && $0.minCount == 1 && $0.maxCount == 1 })
        }
    }
}
