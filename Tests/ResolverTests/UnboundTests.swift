import DNSWatchModel
import Foundation
import Resolver
import TestSupport
import Testing

@Suite struct UnboundTests {
    @Test func answersOfEveryKind() async throws {
        let unbound = try Zone.unbound()
        let questions = [
            q("a.example", .a), q("A.Example.", .aaaa), q("a.example", .ns), q("nope.example", .a),
            q("a.example", .txt), q("asn.example", .txt), q("www.example", .cname),
        ]
        let report = try await resolver([unbound.endpoint]).resolve(questions)
        #expect(report.resolutions.map(\.question) == questions)
        let outcomes = report.resolutions.map(\.outcome)
        #expect(outcomes == [
            answer(.noerror, ["192.0.2.1", "192.0.2.2"]),
            answer(.noerror, ["2001:db8::1"]),
            answer(.noerror, ["ns1.example.net", "ns2.example.net"]),
            answer(.nxdomain),
            answer(.nodata),
            answer(.noerror, ["47846 | 91.195.240.0/23 | DE | ripencc | 2009-04-08"]),
            answer(.noerror, ["a.example"]),
        ])
        #expect(report.resolutions.allSatisfy { $0.server == unbound.endpoint && $0.attempts == 1 })
        #expect(report.stats.sent == questions.count)
        #expect(report.stats.answered == questions.count)
        #expect(report.stats.failed == 0 && report.stats.droppedReplies == 0)
    }

    @Test func cnameInLocalDataIsRecordedAsChain() async throws {
        let unbound = try Zone.unbound()
        let r = try await resolver([unbound.endpoint]).resolve(q("www.example", .a))
        // Unbound answers a local-data CNAME alone: NODATA for A, with the chain recorded.
        #expect(r.outcome == answer(.nodata, chain: ["a.example"]))
    }

    @Test func namesOutsideTheTestZonesAreRefusedLocally() async throws {
        let unbound = try Zone.unbound()
        let r = try await resolver([unbound.endpoint], retries: 0).resolve(q("www.iana.org", .a))
        #expect(r.outcome == .failure(.refused))
        #expect(r.server == unbound.endpoint)
    }

    @Test func runtimeChangesShowAtOnce() async throws {
        let unbound = try Zone.unbound()
        let dns = try resolver([unbound.endpoint])
        #expect(try await dns.resolve(q("new.example", .a)).outcome == answer(.nxdomain))
        try unbound.addLocalData(["new.example. 60 IN A 203.0.113.5", "new.example. 60 IN A 203.0.113.6"])
        #expect(try await dns.resolve(q("new.example", .a)).outcome == answer(.noerror, ["203.0.113.5", "203.0.113.6"]))
        try unbound.removeLocalData(["new.example."])
        #expect(try await dns.resolve(q("new.example", .a)).outcome == answer(.nxdomain))
        try unbound.addLocalZone("other.", type: "static")
        try unbound.addLocalData(["x.other. 60 IN A 203.0.113.9"])
        #expect(try await dns.resolve(q("x.other", .a)).outcome == answer(.noerror, ["203.0.113.9"]))
        try unbound.removeLocalZone("other.")
        try unbound.flushCache()
        #expect(try await dns.resolve(q("y.other", .a)).outcome == .failure(.refused))
    }

    @Test func ipv6Resolver() async throws {
        let unbound = try Zone.unbound(ipv6: true)
        let report = try await resolver([unbound.endpointIPv6]).resolve([q("a.example", .a), q("a.example", .aaaa)])
        #expect(report.resolutions.map(\.outcome) == [answer(.noerror, ["192.0.2.1", "192.0.2.2"]), answer(.noerror, ["2001:db8::1"])])
        #expect(report.resolutions.allSatisfy { $0.server == "[::1]:\(unbound.port)" })
    }

    @Test func mixedFamilies() async throws {
        let unbound = try Zone.unbound(ipv6: true)
        let report = try await resolver([unbound.endpointIPv6, unbound.endpoint]).resolve((0..<20).map { _ in q("a.example", .ns) })
        #expect(report.resolutions.allSatisfy { $0.outcome == answer(.noerror, ["ns1.example.net", "ns2.example.net"]) })
        #expect(Set(report.resolutions.compactMap(\.server)) == [unbound.endpoint, "[::1]:\(unbound.port)"])
    }

    @Test func truncatedUDPIsAskedAgainOverTCP() async throws {
        let big = (1...60).map { "big.example. 300 IN A 198.51.100.\($0)" }
        let unbound = try Zone.unbound(extra: big)
        // No EDNS: a 512-byte UDP limit that 60 A records do not fit.
        let report = try await resolver([unbound.endpoint], edns: 0).resolve([q("big.example", .a), q("a.example", .a)])
        #expect(report.resolutions[0].outcome == answer(.noerror, (1...60).map { "198.51.100.\($0)" }))
        #expect(report.resolutions[0].attempts == 2)
        #expect(report.resolutions[1].outcome == answer(.noerror, ["192.0.2.1", "192.0.2.2"]))
        #expect(report.stats.tcpFallbacks == 1)
    }

    @Test func fiveThousandQuestionsAllAnswered() async throws {
        let names = (0..<1700).map { "h\($0).bulk.example" }
        let data = names.enumerated().flatMap { i, n in
            ["\(n). 300 IN A 10.\(i / 256).\(i % 256).1", "\(n). 300 IN NS ns\(i % 7).example.net."]
        }
        let unbound = try Zone.unbound(extra: data)
        let questions = names.flatMap { [q($0, .a), q($0, .aaaa), q($0, .ns)] }
        #expect(questions.count >= 5000)
        let report = try await resolver([unbound.endpoint]).resolve(questions)
        #expect(report.resolutions.count == questions.count)
        #expect(report.resolutions.map(\.question) == questions)
        for (i, r) in report.resolutions.enumerated() {
            let k = i / 3
            switch r.question.type {
            case .a: #expect(r.outcome == answer(.noerror, ["10.\(k / 256).\(k % 256).1"]))
            case .aaaa: #expect(r.outcome == answer(.nodata))
            default: #expect(r.outcome == answer(.noerror, ["ns\(k % 7).example.net"]))
            }
        }
        #expect(report.stats.answered == questions.count)
    }
}
