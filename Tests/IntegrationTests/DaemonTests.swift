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
    /// `dnswatch daemon`: SIGTERM and SIGINT end it cleanly, during a poll (which completes and commits, and no
    /// other starts) or between polls.
    @Suite struct DaemonTests {
        static let domains = 300

        enum Moment: String, Sendable {
            case firstPoll = "during the first poll"
            case laterPoll = "during a later poll"
            case idle = "between polls"
        }

        struct Case: Sendable, CustomStringConvertible {
            let signal: Int32
            let moment: Moment
            var description: String { "\(signal == SIGTERM ? "SIGTERM" : "SIGINT") \(moment.rawValue)" }
        }

        static let cases = [Case(signal: SIGTERM, moment: .firstPoll), Case(signal: SIGINT, moment: .firstPoll),
                            Case(signal: SIGTERM, moment: .laterPoll),
                            Case(signal: SIGTERM, moment: .idle), Case(signal: SIGINT, moment: .idle)]

        @Test(arguments: cases)
        func signalEndsTheDaemonCleanly(_ c: Case) async throws {
            let w = try BulkWorld()
            // For a later poll, an interval of 2 s makes the domains due again while the daemon runs.
            try await w.watch(BulkWorld.names(Self.domains), list: "c2", interval: c.moment == .laterPoll ? 2 : nil)
            // Small batches, and during a poll a query cap (900 queries at 400/s: over 2 s), so the signal lands
            // in the middle of a poll.
            let config = try w.file("dnswatch.toml", lines: ["[poll]", "batch = 50"])
            var args = ["daemon"] + w.pollArgs + ["--tick", "1s", "--config", config] + (c.moment == .idle ? [] : ["--qps", "400"])
            // Between polls, a tick that finds nothing due still retries the alerts queued for delivery: one
            // alert queued for a command that counts its runs and fails makes each tick seen.
            let attempts = w.workdir.appendingPathComponent("attempts.txt").path
            func attemptCount() -> Int {
                (FileManager.default.contents(atPath: attempts).map { String(decoding: $0, as: UTF8.self) } ?? "")
                    .split(separator: "\n").count
            }
            var seededRun: Int64?
            if c.moment == .idle {
                let sink = try w.file("failing-sink.sh", lines: ["#!/bin/sh", "cat >/dev/null", "echo attempt >> '\(attempts)'", "exit 1"])
                chmod(sink, 0o755)
                let names = BulkWorld.names(1)
                let domainID = try #require(try await w.store.pollTargets(afterID: 0, limit: 1).first { $0.name == names[0] }?.domainID)
                // Queued as a poll queues it: a plan applied by the store, in a run of its own (left out of the
                // daemon's runs checked below).
                let run = try await w.store.beginPoll(at: 1, resolvers: "fixture")
                let alert = PlannedAlert(domain: names[0], list: "c2", kind: .c2, type: "activation", severity: "critical",
                                         severityRank: 4, sinks: ["command:\(sink)"]) { id in #"{"id":\#(id)}"# }
                let plan = WritePlan(pollID: run, time: 1, classifierVersion: "fixture", transitions: [
                    PlannedTransition(domainID: domainID, type: "activation", fromJSON: "{}", toJSON: "{}", alert: alert),
                ])
                try await w.store.apply(plan, claim: ClaimedTargets(targets: [], lease: nil))
                try await w.store.finishPoll(run, at: 1)
                seededRun = run
                args += ["--no-stdout-alerts", "--alert-command", sink]
            }
            let daemon = try Background(args, workdir: w.workdir)
            let audit = try Audit(w.dbPath)
            switch c.moment {
            case .firstPoll, .laterPoll:
                // A poll with a batch in and more to come.
                let first = c.moment == .firstPoll
                let inPoll = try await eventually(timeout: 60) {
                    let polls = try audit.polls()
                    guard let p = polls.last, first ? polls.count == 1 : polls.count > 1 else { return false }
                    return p.domains >= 50 && p.finished == nil
                }
                try #require(inPoll && daemon.isRunning, "no poll got under way: \(daemon.err)")
                if first { try #require(daemon.outLines.isEmpty, "the first poll ended before the signal") }
            case .idle:
                // The first poll, then two ticks with nothing due (which print nothing and record no run), each
                // seen by its retry of the queued alert.
                let polled = try await eventually(timeout: 60) { daemon.outLines.count >= 1 }
                try #require(polled, "no summary line: \(daemon.out) \(daemon.err)")
                let afterFirst = attemptCount()
                let ticked = try await eventually(timeout: 60, every: 20) { attemptCount() >= afterFirst + 2 }
                try #require(ticked, "no tick retried the queued alert: \(attemptCount()) attempts; \(daemon.err)")
                #expect(daemon.outLines.count == 1 && daemon.isRunning, "idle ticks are silent: \(daemon.out)")
            }
            let seeded = seededRun
            let atSignal = try audit.polls().filter { $0.id != seeded }
            let signalled = Date()
            daemon.signal(c.signal)
            // Ended by itself (a generous bound only ends a hang); how soon is a figure, not a check.
            let end = try await daemon.wait(timeout: 60)
            let took = end.map { $0.ended.timeIntervalSince(signalled) } ?? -1
            figure("daemon \(c): exit \(end.map { String($0.status) } ?? "none") \(String(format: "%.2f", took)) s after the signal; at the signal: \(atSignal.last.map(String.init(describing:)) ?? "no poll")")
            #expect(end?.status == 0 && end?.signalled == false, "\(c): exit \(String(describing: end)); \(daemon.err)")
            #expect(daemon.err.contains("daemon started: due domains every 1s through 127.0.0.1:"), "the start line names the resolvers: \(daemon.err)")
            let polls = try audit.polls().filter { $0.id != seeded }
            #expect(!polls.isEmpty && polls.allSatisfy { $0.finished != nil }, "every run finished: \(polls)")
            #expect(polls.count == atSignal.count, "no poll began after the signal: \(polls)")
            // The poll under way at the signal completed: it went on past what it had at the signal, and
            // printed its summary, as every poll did.
            if c.moment != .idle, let before = atSignal.last, let after = polls.last {
                #expect(after.id == before.id && after.domains > before.domains, "at the signal \(before), at the end \(after)")
            }
            #expect(daemon.outLines.count == polls.count && zip(daemon.outLines, polls).allSatisfy { $0.hasPrefix("domains=\($1.domains) ") },
                    "\(daemon.out)")
            #expect(polls.first?.domains == Self.domains && polls.allSatisfy { $0.failures == 0 })
            if c.moment != .laterPoll {
                #expect(polls.dropFirst().allSatisfy { $0.domains == 0 }, "nothing else was due: \(polls)")
            }
            await #expect(try w.store.integrityCheck() == "ok")
            #expect(try audit.spanProblems() == Audit.SpanProblems())
            // Every domain whole: one span per type, all of a domain's types seen equally often.
            #expect(try audit.domains().allSatisfy { $0.spans == 3 && $0.minCount == $0.maxCount && $0.timeLasts == 1 })
        }
    }
}
