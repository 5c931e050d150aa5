import DNSWatchModel
import Foundation
@testable import Resolver
import Synchronization
import TestSupport
import Testing

/// The engine in a world with loss and latency: retransmission timers from measured round trips, an
/// adaptive window with pacing, SERVFAIL moving on, failing resolvers set aside, and one stream for
/// several groups. Assertions are on the engine's own counters and timer values, not on wall time.
/// Names seen by a scripted server, to drop only the first copy of a query.
final class FirstCopies: Sendable {
    private let seen = Mutex<(names: [String: Int], dropped: Int)>(([:], 0))

    /// Whether this copy of `name` is the first copy of every `every`-th distinct name (then it is dropped).
    func drop(_ name: String, every: Int) -> Bool {
        seen.withLock { state in
            if let _ = state.names[name] { return false }
            let ordinal = state.names.count
            state.names[name] = ordinal
            if ordinal % every == every - 1 {
                state.dropped += 1
                return true
            }
            return false
        }
    }

    var dropped: Int { seen.withLock { $0.dropped } }
}

/// The order in which things finished.
final class Finishes: Sendable {
    private let order = Mutex<[String]>([])
    func add(_ what: String) { order.withLock { $0.append(what) } }
    var all: [String] { order.withLock { $0 } }
}

@Suite struct PacingTests {
    @Test func droppingTheFirstCopyOfEvery50thQueryCostsOneShortTimerEach() async throws {
        let copies = FirstCopies()
        let server = try ScriptedUDPServer { (request: ScriptedRequest) -> [ScriptedReply] in
            let name = DNSTestWire.parseQuery(request.bytes)?.name ?? ""
            return copies.drop(name, every: 50) ? [] : [ScriptedReply(aReply(to: request.bytes))]
        }
        let questions = (0..<3000).map { q("d\($0).example", .a) }
        // The fixed timeout of old: 2 s a try. A lost query now waits for the measured timer instead.
        let report = try await resolver([server.endpoint], timeout: 2, retries: 2, tuning: stallTolerant).resolve(questions)
        #expect(report.resolutions.map(\.question) == questions)
        #expect(report.resolutions.allSatisfy { $0.outcome == answer(.noerror, ["192.0.2.77"]) })
        #expect(copies.dropped == 60)
        // Each dropped query was sent again exactly once, and no answered query was sent twice.
        #expect(report.stats.retries == 60)
        #expect(report.stats.timeouts == 60)
        #expect(report.stats.spuriousRetransmissions == 0)
        #expect(report.stats.sent == 3060 && server.requestCount == 3060)
        let path = try #require(report.stats.paths.first)
        // The timer comes from the round trips measured, not from the 2 s timeout: below the 1 s of a path
        // with nothing measured (a loopback round trip would have to average a third of a second to fail this).
        #expect(path.samples >= 2900)
        #expect(path.rto < 1)
        // 1 query in 50 lost at random is background loss, not congestion: the window keeps growing.
        #expect(path.decreases == 0)
        #expect(path.largestWindow > PathTuning().initialWindow)
    }

    @Test func aResolverAnswering300msLaterGetsNoPrematureRetransmission() async throws {
        let server = try DelayedUDPServer { query, _ in (aReply(to: query), 0.3) }
        let questions = (0..<400).map { q("s\($0).example", .a) }
        let report = try await resolver([server.endpoint], timeout: 2, retries: 2).resolve(questions)
        #expect(report.resolutions.allSatisfy { $0.outcome == answer(.noerror, ["192.0.2.77"]) && $0.attempts == 1 })
        #expect(report.stats.retries == 0)
        #expect(report.stats.timeouts == 0)
        #expect(report.stats.spuriousRetransmissions == 0)
        #expect(server.requestCount == 400)
        let path = try #require(report.stats.paths.first)
        // Every reply is held 300 ms, so no round trip is shorter (a busy machine only makes them longer),
        // and the timer leaves room above the round trip.
        #expect(path.srtt >= 0.3)
        #expect(path.rto > path.srtt)
        // Several round trips: before its first reply the server saw the initial window, not the whole batch.
        #expect(server.peakBeforeFirstReply <= Int(PathTuning().initialWindow))
    }

    @Test func theOpeningBurstIsTheInitialWindowAndTheCeilingHolds() async throws {
        let server = try DelayedUDPServer { query, _ in (aReply(to: query), 0.02) }
        let dns = try DNSResolver(
            endpoints: [try ResolverEndpoint(server.endpoint)],
            options: { var o = ResolverOptions(timeout: 2, maxInFlight: 200); o.tuning = stallTolerant; return o }())
        let report = try await dns.resolve((0..<3000).map { q("b\($0).example", .a) })
        #expect(report.stats.answered == 3000)
        // Before any reply, the server never saw more than the initial window outstanding.
        #expect(server.peakBeforeFirstReply <= Int(PathTuning().initialWindow))
        #expect(server.peakBeforeFirstReply >= 8)
        // Later the window grew, but never past --max-in-flight.
        #expect(server.peakOutstanding > Int(PathTuning().initialWindow))
        #expect(server.peakOutstanding <= 200)
        let path = try #require(report.stats.paths.first)
        #expect(path.largestWindow <= 200)
        #expect(report.stats.retries == 0)
    }

    @Test func servfailFromTheFirstResolverIsAnsweredByTheSecondWhichTakesOver() async throws {
        let servfail = try ScriptedUDPServer { (query: [UInt8]) in [DNSTestWire.reply(to: query, rcode: 2)] }
        let good = try ScriptedUDPServer { (query: [UInt8]) in [aReply(to: query)] }
        let questions = (0..<400).map { q("f\($0).example", .a) }
        let logged = LogCapture()
        let dns = try resolver([servfail.endpoint, good.endpoint], retries: 2)
        let report = try await dns.withSession(logger: logged.logger) { try await $0.report(for: questions) }
        #expect(report.resolutions.allSatisfy { $0.outcome == answer(.noerror, ["192.0.2.77"]) && $0.server == good.endpoint })
        let first = report.stats.paths[0]
        #expect(first.setAside)
        #expect(first.answers == 0)
        #expect(!report.stats.paths[1].setAside)
        // Set aside after `setAsideAfter` failures: most questions never went to it.
        #expect(servfail.requestCount < 100)
        #expect(logged.lines.filter { $0.contains("set aside") }.count == 1)
    }

    @Test func theLastResolverInUseIsNeverSetAside() async throws {
        let refused = try ScriptedUDPServer { (query: [UInt8]) in [DNSTestWire.reply(to: query, rcode: 5)] }
        let logged = LogCapture()
        let dns = try resolver([refused.endpoint], retries: 1)
        let report = try await dns.withSession(logger: logged.logger) { try await $0.report(for: (0..<100).map { q("r\($0).example", .a) }) }
        #expect(report.resolutions.allSatisfy { $0.outcome == .failure(.refused) && $0.attempts == 2 })
        #expect(refused.requestCount == 200)
        #expect(report.stats.paths[0].setAside == false)
        #expect(logged.lines.isEmpty)
    }

    @Test(.timeLimit(.minutes(1)))
    func aSlowQuestionHoldsBackOnlyItsOwnGroup() async throws {
        // slow.example gets no answer until the other group has finished. Were that group held back behind
        // it, neither could finish before the slow question ran out of tries (half a minute of them).
        let fastDone = Gate()
        let slowSeen = Gate()
        let server = try ScriptedUDPServer { (request: ScriptedRequest) -> [ScriptedReply] in
            let name = DNSTestWire.parseQuery(request.bytes)?.name ?? ""
            guard name.hasPrefix("slow") else { return [ScriptedReply(aReply(to: request.bytes))] }
            slowSeen.open()
            return fastDone.isOpen ? [ScriptedReply(aReply(to: request.bytes))] : []
        }
        let dns = try resolver([server.endpoint], timeout: 3, retries: 10, tuning: stallTolerant)
        let finished = Finishes()
        let answers = try await dns.withSession { session in
            try await withThrowingTaskGroup(of: (String, [Resolution]).self) { group in
                group.addTask {
                    let answers = try await session.answers(for: [q("slow.example", .a)] + (0..<50).map { q("a\($0).example", .a) })
                    finished.add("slow group")
                    return ("slow group", answers)
                }
                // The slow group is on the wire before the other one comes.
                try await waitUntil("the slow question reached the server") { slowSeen.isOpen }
                group.addTask {
                    let answers = try await session.answers(for: (0..<500).map { q("b\($0).example", .a) })
                    finished.add("fast group")
                    fastDone.open()
                    return ("fast group", answers)
                }
                var byGroup: [String: [Resolution]] = [:]
                for try await (name, answers) in group { byGroup[name] = answers }
                return byGroup
            }
        }
        #expect(finished.all == ["fast group", "slow group"])
        let slow = try #require(answers["slow group"]?.first)
        #expect(slow.outcome == answer(.noerror, ["192.0.2.77"]), "answered once the other group was done")
        #expect(slow.attempts > 1, "it was still waiting while the other group ran")
        #expect(answers["fast group"]?.count == 500)
        #expect(answers["fast group"]?.allSatisfy { $0.outcome == answer(.noerror, ["192.0.2.77"]) } == true)
    }

    // MARK: the timer and the window, step by step

    @Test func retransmissionTimerFollowsRFC6298() {
        var path = ResolverPath(tuning: PathTuning(), ceiling: 2, maxWindow: 512)
        #expect(path.rto() == 1)  // nothing measured yet
        #expect(path.rto(retry: 1) == 2)  // backed off, at the ceiling
        path.sample(0.1)
        #expect(abs(path.srtt - 0.1) < 1e-9 && abs(path.rttvar - 0.05) < 1e-9)
        #expect(abs(path.rto() - 0.3) < 1e-9)  // SRTT + 4·RTTVAR
        path.sample(0.1)
        #expect(abs(path.rttvar - 0.0375) < 1e-9)
        #expect(abs(path.rto(retry: 1) - 2 * path.rto()) < 1e-9)
        #expect(path.rto(retry: 5) == 2)
        var fast = ResolverPath(tuning: PathTuning(), ceiling: 2, maxWindow: 512)
        for _ in 0..<50 { fast.sample(0.0002) }
        #expect(fast.rto() == PathTuning().minimumRTO)
    }

    @Test func windowGrowsWithAnswersAndShrinksOnlyOnLossAboveTheBackground() {
        var tuning = PathTuning()
        tuning.epochOutcomes = 100
        var path = ResolverPath(tuning: tuning, ceiling: 2, maxWindow: 512)
        path.sample(0.01)
        // 1% loss: the window grows to the ceiling.
        for i in 0..<5000 { path.closed(path.transmitted(), i % 100 == 0 ? .lost : .answered) }
        #expect(path.window == 512)
        #expect(path.decreases == 0)
        // 30% loss: congestion.
        for i in 0..<1000 { path.closed(path.transmitted(), i % 10 < 3 ? .lost : .answered) }
        #expect(path.decreases > 0)
        #expect(path.window < 512)
        #expect(path.window >= tuning.minimumWindow)
    }

    @Test func lossesCountInTheEpochTheirTriesWereSentIn() {
        // The CI failure this replaces: 2% of tries lost, every loss known one timer after its send while
        // the answers of later tries came at once. Counted by arrival, seven losses of 350 tries fell into
        // one epoch of 128 outcomes (5.5%) and shrank the window; counted by send, no epoch holds more than 3.
        var path = ResolverPath(tuning: PathTuning(), ceiling: 2, maxWindow: 512)
        path.sample(0.001)
        var lostLater: [Int] = []
        for i in 0..<6000 {
            let sequence = path.transmitted()
            if i % 50 == 49 { lostLater.append(sequence) } else { path.closed(sequence, .answered) }
            // The timers of the last 350 tries' losses run out together.
            if lostLater.count == 7 {
                for s in lostLater { path.closed(s, .lost) }
                lostLater.removeAll()
            }
        }
        for s in lostLater { path.closed(s, .lost) }
        #expect(path.decreases == 0)
        #expect(path.window == 512)
        #expect(path.backgroundLoss > 0.01 && path.backgroundLoss < 0.03)
        // An epoch of neutral closes (SERVFAILs moving on) says nothing and does not block later epochs.
        var neutral = ResolverPath(tuning: PathTuning(), ceiling: 2, maxWindow: 512)
        for _ in 0..<256 { neutral.closed(neutral.transmitted(), .neither) }
        for i in 0..<512 { neutral.closed(neutral.transmitted(), i % 4 == 0 ? .lost : .answered) }
        #expect(neutral.decreases > 0)
    }
}
