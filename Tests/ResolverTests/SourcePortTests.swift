import DNSWatchModel
import Foundation
import Resolver
import TestSupport
import Testing

/// Source-port entropy (issue 19): a session's sockets are replaced by new ones on fresh kernel-chosen
/// ports as the poll goes on, and replies to a retired socket's tries are still taken.
@Suite struct SourcePortTests {
    @Test func aPollComesFromManyMoreSourcePortsThanEight() async throws {
        let seen = Seen()
        let server = try ScriptedUDPServer { (request: ScriptedRequest) -> [ScriptedReply] in
            seen.add(id: DNSTestWire.id(of: request.bytes), port: request.sourcePort)
            return [ScriptedReply(aReply(to: request.bytes))]
        }
        let questions = (0..<2000).map { q("p\($0).example", .a) }
        let report = try await resolver([server.endpoint], tuning: stallTolerant).resolve(questions)
        #expect(report.resolutions.allSatisfy { $0.outcome == answer(.noerror, ["192.0.2.77"]) })
        let (_, ports) = seen.snapshot
        #expect(ports.count == report.stats.sent)
        // 8 sockets at once, each retired after 64 queries: about 8 + 2000 / 64 ports.
        #expect(Set(ports).count >= 32, "\(Set(ports).count) ports")
        // Every socket opened sent queries (the kernel may give a port again once its socket is closed).
        #expect(report.stats.sourcePorts >= Set(ports).count)
        #expect(!ports.contains(0))
    }

    @Test func repliesToARetiredSocketAreStillTaken() async throws {
        // Every reply held back 150 ms: by then the socket that sent the query has been replaced.
        let server = try DelayedUDPServer { query, _ in (aReply(to: query), 0.15) }
        let dns = try DNSResolver(
            endpoints: [try ResolverEndpoint(server.endpoint)], options: ResolverOptions(timeout: 3, socketsPerFamily: 1))
        let questions = (0..<400).map { q("r\($0).example", .a) }
        let report = try await dns.resolve(questions)
        #expect(report.resolutions.allSatisfy { $0.outcome == answer(.noerror, ["192.0.2.77"]) && $0.attempts == 1 })
        #expect(report.stats.timeouts == 0 && report.stats.droppedReplies == 0)
        #expect(report.stats.sourcePorts >= 6, "\(report.stats.sourcePorts) ports")
        #expect(server.requestCount == 400)
    }
}

/// TCP fallback in parallel (issue 19): up to `TCPWorker.maxConcurrent` exchanges at once.
@Suite struct ParallelTCPTests {
    @Test func truncatedQuestionsAreAskedOverSeveralConnectionsAtOnce() async throws {
        // Every UDP reply truncated; every TCP reply held back 300 ms on a connection of its own.
        let server = try ScriptedUDPServer(tcpDelay: 0.3) { (request: ScriptedRequest) -> [ScriptedReply] in
            guard let name = DNSTestWire.parseQuery(request.bytes)?.name else { return [] }
            let truncated = request.transport == .udp
            return [ScriptedReply(DNSTestWire.reply(to: request.bytes, truncated: truncated, answers: [.a(name, "192.0.2.53")]))]
        }
        let questions = (0..<20).map { q("tcp\($0).example", .a) }
        let report = try await resolver([server.endpoint], timeout: 5, retries: 0).resolve(questions)
        #expect(report.resolutions.allSatisfy { $0.outcome == answer(.noerror, ["192.0.2.53"]) })
        #expect(report.stats.tcpFallbacks == 20 && server.tcpRequestCount == 20)
        // In parallel, and never more than the bound.
        #expect(server.peakTCPConnections > 1)
        #expect(server.peakTCPConnections <= 8)
    }
}
