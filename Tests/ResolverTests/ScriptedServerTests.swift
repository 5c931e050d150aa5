import DNSWatchModel
import Foundation
@testable import Resolver
import TestSupport
import Testing

@Suite struct ScriptedServerTests {
    @Test func silentResolverTimesOut() async throws {
        let silent = try ScriptedUDPServer { (_: [UInt8]) -> [[UInt8]] in [] }
        let report = try await resolver([silent.endpoint], timeout: 0.2, retries: 1).resolve([q("a.example", .a), q("b.example", .ns)])
        for r in report.resolutions {
            #expect(r.outcome == .failure(.timeout))
            #expect(r.attempts == 2)
            #expect(r.server == nil)
        }
        #expect(report.stats.timeouts == 4)
        #expect(report.stats.sent == 4)
        #expect(report.stats.retries == 2)
        #expect(report.stats.failed == 2)
        // Every try went out and waited its timer: the server got all four and answered none.
        #expect(try await eventually { silent.requestCount == 4 }, "the server saw \(silent.requestCount) queries")
    }

    @Test func timeoutMovesToTheNextResolver() async throws {
        let silent = try SilentUDPServer()
        let unbound = try Zone.unbound()
        let questions = (0..<10).map { _ in q("a.example", .a) }
        let report = try await resolver([silent.endpoint, unbound.endpoint], timeout: 0.3, retries: 1).resolve(questions)
        for (i, r) in report.resolutions.enumerated() {
            #expect(r.outcome == answer(.noerror, ["192.0.2.1", "192.0.2.2"]))
            #expect(r.server == unbound.endpoint)
            // Questions are spread round-robin: even ones start at the silent resolver.
            #expect(r.attempts == (i % 2 == 0 ? 2 : 1))
        }
        #expect(report.stats.timeouts == 5)
    }

    @Test func spoofedRepliesAreDroppedAndCounted() async throws {
        let server = try ScriptedUDPServer { (request: ScriptedRequest) -> [ScriptedReply] in
            let query = request.bytes
            let id = DNSTestWire.id(of: query)
            return [
                ScriptedReply(DNSTestWire.reply(to: query, id: id ^ 0x5A5A, answers: [.a("spoof.example", "6.6.6.6")])),
                ScriptedReply(DNSTestWire.reply(to: query, questionName: "evil.example", answers: [.a("evil.example", "6.6.6.6")])),
                ScriptedReply(DNSTestWire.reply(to: query, questionType: 28)),
                ScriptedReply(aReply(to: query, "6.6.6.6"), fromOtherPort: true),
                ScriptedReply(aReply(to: query, "192.0.2.77")),
            ]
        }
        let report = try await resolver([server.endpoint]).resolve([q("good.example", .a)])
        #expect(report.resolutions[0].outcome == answer(.noerror, ["192.0.2.77"]))
        #expect(report.resolutions[0].attempts == 1)
        #expect(report.stats.droppedUnknownID == 1)
        #expect(report.stats.droppedWrongQuestion == 2)
        #expect(report.stats.droppedWrongSource == 1)
        #expect(report.stats.droppedReplies == 4)
    }

    @Test func onlySpoofedRepliesMeanTimeout() async throws {
        let server = try ScriptedUDPServer { (request: ScriptedRequest) -> [ScriptedReply] in
            [ScriptedReply(aReply(to: request.bytes, "6.6.6.6"), fromOtherPort: true)]
        }
        let r = try await resolver([server.endpoint], timeout: 0.2, retries: 1).resolve(q("good.example", .a))
        #expect(r.outcome == .failure(.timeout))
        #expect(server.requestCount == 2)
    }

    @Test func unparsableReplyIsMalformedOnlyWithoutAValidOne() async throws {
        let garbage = try ScriptedUDPServer { (query: [UInt8]) -> [[UInt8]] in
            let reply = aReply(to: query)
            return [Array(reply.prefix(reply.count - 3))]
        }
        let bad = try await resolver([garbage.endpoint], timeout: 0.2, retries: 1).resolve(q("x.example", .a))
        #expect(bad.outcome == .failure(.malformed))
        #expect(bad.attempts == 2)

        let mixed = try ScriptedUDPServer { (query: [UInt8]) -> [[UInt8]] in
            let reply = aReply(to: query)
            return [Array(reply.prefix(reply.count - 3)), reply]
        }
        let report = try await resolver([mixed.endpoint], timeout: 1).resolve([q("x.example", .a)])
        #expect(report.resolutions[0].outcome == answer(.noerror, ["192.0.2.77"]))
        #expect(report.stats.malformedReplies == 1)
    }

    @Test func servfailAndRefusedTryTheNextResolverThenFail() async throws {
        let servfail = try ScriptedUDPServer { (query: [UInt8]) in [DNSTestWire.reply(to: query, rcode: 2)] }
        let refused = try ScriptedUDPServer { (query: [UInt8]) in [DNSTestWire.reply(to: query, rcode: 5)] }
        let good = try ScriptedUDPServer { (query: [UInt8]) in [aReply(to: query)] }

        let viaNext = try await resolver([servfail.endpoint, good.endpoint], retries: 2).resolve([q("x.example", .a), q("y.example", .a)])
        #expect(viaNext.resolutions.allSatisfy { $0.outcome == answer(.noerror, ["192.0.2.77"]) && $0.server == good.endpoint })
        #expect(viaNext.resolutions.map(\.attempts) == [2, 1])

        let sf = try await resolver([servfail.endpoint], retries: 2).resolve(q("x.example", .a))
        #expect(sf.outcome == .failure(.servfail))
        #expect(sf.attempts == 3)
        #expect(sf.server == servfail.endpoint)
        #expect(servfail.requestCount == 4)

        let rf = try await resolver([refused.endpoint], retries: 1).resolve(q("x.example", .a))
        #expect(rf.outcome == .failure(.refused))
        #expect(rf.attempts == 2)
    }

    @Test func truncationFallsBackToTCP() async throws {
        let server = try ScriptedUDPServer { (request: ScriptedRequest) -> [ScriptedReply] in
            switch request.transport {
            case .udp: [ScriptedReply(DNSTestWire.reply(to: request.bytes, truncated: true, answers: [.a("t.example", "192.0.2.1")]))]
            case .tcp: [ScriptedReply(DNSTestWire.reply(to: request.bytes, answers: (1...3).map { .a("t.example", "192.0.2.\($0)") }))]
            }
        }
        let report = try await resolver([server.endpoint]).resolve([q("t.example", .a)])
        #expect(report.resolutions[0].outcome == answer(.noerror, ["192.0.2.1", "192.0.2.2", "192.0.2.3"]))
        #expect(report.resolutions[0].attempts == 2)
        #expect(report.stats.tcpFallbacks == 1)
        #expect(server.tcpRequestCount == 1)
    }

    @Test func tcpConnectionClosedWithoutAReplyIsANetworkFailure() async throws {
        // TC over UDP; the TCP side reads the query and closes the connection without a reply.
        let server = try ScriptedUDPServer { (request: ScriptedRequest) -> [ScriptedReply] in
            request.transport == .udp ? [ScriptedReply(DNSTestWire.reply(to: request.bytes, truncated: true))] : []
        }
        let report = try await resolver([server.endpoint], timeout: 2, retries: 0).resolve([q("t.example", .a)])
        #expect(report.resolutions[0].outcome == .failure(.network))
        #expect(report.resolutions[0].attempts == 2)
        #expect(report.stats.tcpFallbacks == 1)
        #expect(report.stats.timeouts == 0)
        #expect(server.tcpRequestCount == 1)
    }

    @Test(.timeLimit(.minutes(1)))
    func tcpServerThatNeverAnswersAfterTruncationIsATimeout() async throws {
        // TC over UDP; the TCP side reads the query and holds the connection open, answering nothing,
        // until the test is done (30 s at most, so that a failed test never keeps the server thread).
        let gate = Gate()
        let server = try ScriptedUDPServer { (request: ScriptedRequest) -> [ScriptedReply] in
            guard request.transport == .tcp else { return [ScriptedReply(DNSTestWire.reply(to: request.bytes, truncated: true))] }
            for _ in 0..<3000 where !gate.isOpen { Thread.sleep(forTimeInterval: 0.01) }
            return []
        }
        let report = try await resolver([server.endpoint], timeout: 0.3, retries: 0).resolve([q("t.example", .a)])
        let heldTCPQueries = server.tcpRequestCount
        gate.open()
        server.stop()
        #expect(report.resolutions[0].outcome == .failure(.timeout))
        #expect(report.resolutions[0].attempts == 2)
        #expect(report.stats.tcpFallbacks == 1)
        #expect(report.stats.timeouts == 1)
        #expect(heldTCPQueries == 1, "the query reached the TCP side and was held there")
    }

    @Test func droppingEveryThirdQueryStillAnswersEverything() async throws {
        let server = try ScriptedUDPServer { (request: ScriptedRequest) -> [ScriptedReply] in
            request.index % 3 == 2 ? [] : [ScriptedReply(aReply(to: request.bytes))]
        }
        let questions = (0..<300).map { q("n\($0).example", .a) }
        let report = try await resolver([server.endpoint], timeout: 0.3, retries: 8).resolve(questions)
        #expect(report.resolutions.map(\.question) == questions)
        let wrong = report.resolutions.filter { $0.outcome != answer(.noerror, ["192.0.2.77"]) }
        #expect(wrong.isEmpty, "\(wrong.prefix(3)) \(report.stats)")
        #expect(report.stats.timeouts >= 90)
        #expect(report.stats.sent == server.requestCount)
    }

    @Test func queriesUseRandomIDsOnSeveralSourcePorts() async throws {
        let seen = Seen()
        let server = try ScriptedUDPServer { (request: ScriptedRequest) -> [ScriptedReply] in
            seen.add(id: DNSTestWire.id(of: request.bytes), port: request.sourcePort)
            return [ScriptedReply(aReply(to: request.bytes))]
        }
        let report = try await resolver([server.endpoint]).resolve((0..<64).map { q("id\($0).example", .a) })
        #expect(report.stats.answered == 64)
        let (ids, ports) = seen.snapshot
        #expect(Set(ids).count >= 60)
        // Eight sockets at once (more when one is retired after a second: see SourcePortTests).
        #expect(Set(ports).count >= 8 && report.stats.sourcePorts >= Set(ports).count)
        #expect(!ports.contains(0))
    }

    @Test func ipv6ScriptedResolver() async throws {
        let server = try ScriptedUDPServer(ipv6: true) { (query: [UInt8]) in [aReply(to: query, "192.0.2.66")] }
        let r = try await resolver([server.endpoint]).resolve(q("v6.example", .a))
        #expect(r.outcome == answer(.noerror, ["192.0.2.66"]))
        #expect(r.server == server.endpoint)
    }

    @Test(.timeLimit(.minutes(1)))
    func cancellationStopsTheEngine() async throws {
        // A silent server and 30 s tries: without the cancellation the batch would take minutes (the time
        // limit ends that as a failure).
        let silent = try ScriptedUDPServer { (_: [UInt8]) -> [[UInt8]] in [] }
        let dns = try resolver([silent.endpoint], timeout: 30, retries: 2)
        let task = Task { try await dns.resolve((0..<100).map { q("c\($0).example", .a) }) }
        try await waitUntil("the queries are on the wire") { silent.requestCount > 0 }
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
    }

    @Test func invalidNamesFailWithoutStoppingTheBatch() async throws {
        let server = try ScriptedUDPServer { (query: [UInt8]) in [aReply(to: query)] }
        let bad = String(repeating: "x", count: 64) + ".example"
        let report = try await resolver([server.endpoint]).resolve([q(bad, .a), q("ok.example", .a)])
        #expect(report.resolutions[0].outcome == .failure(.malformed))
        #expect(report.resolutions[0].attempts == 0)
        #expect(report.resolutions[1].outcome == answer(.noerror, ["192.0.2.77"]))
    }

    @Test func rateCapSpacesQueries() async throws {
        let server = try ScriptedUDPServer { (query: [UInt8]) in [aReply(to: query)] }
        let dns = try DNSResolver(
            endpoints: [try ResolverEndpoint(server.endpoint)],
            options: ResolverOptions(queriesPerSecondPerResolver: 20))
        let start = ContinuousClock.now
        let report = try await dns.resolve((0..<40).map { q("r\($0).example", .a) })
        let elapsed = ContinuousClock.now - start
        #expect(report.stats.answered == 40)
        #expect(server.requestCount == 40)
        // A lower bound only, which a slow machine cannot break: at 20 a second the bucket holds one token
        // (the burst is a twentieth of the rate) and gets one every 50 ms, so the 40th query cannot leave
        // before 39 × 50 ms. (The bucket's decisions step by step are in RateLimiterTests.)
        #expect(elapsed >= .milliseconds(1950), "\(elapsed)")
    }
}

/// The `--qps` token bucket's decisions on a clock the test moves: a burst of perSecond / 20, then one
/// query per 1 / perSecond.
@Suite struct RateLimiterTests {
    @Test func aBurstThenOneQueryPerTick() throws {
        var limiter = RateLimiter(servers: 2, perSecond: 100)
        // Far past its start: the bucket is full, at its burst of 5.
        let t = monotonicNanos() + 3_600_000_000_000
        for n in 1...5 {
            let free = limiter.peek(server: 0, now: t)
            #expect(free == nil, "query \(n) of the burst")
            limiter.consume(server: 0)
        }
        let sixth = limiter.peek(server: 0, now: t)
        let wait = try #require(sixth, "the 6th query waits")
        #expect(wait >= 9_999_999 && wait <= 10_000_001, "one token at 100 a second: 10 ms, got \(wait) ns")
        var early = limiter
        let tooEarly = early.peek(server: 0, now: t + wait - 1_000)
        #expect(tooEarly != nil, "not before its time")
        let onTime = limiter.peek(server: 0, now: t + wait)
        #expect(onTime == nil)
        limiter.consume(server: 0)
        // The other resolver has a bucket of its own.
        let other = limiter.peek(server: 1, now: t)
        #expect(other == nil)
        // Over one more second (and 5 ms) of queries as fast as allowed: 100 of them, one every 10 ms.
        var sent = 0
        var now = t + wait
        while now < t + wait + 1_005_000_000 {
            if let delay = limiter.peek(server: 0, now: now) {
                now += delay
            } else {
                limiter.consume(server: 0)
                sent += 1
            }
        }
        #expect(sent == 100)
    }
}
