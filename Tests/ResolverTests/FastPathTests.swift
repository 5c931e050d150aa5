import DNSWatchModel
import Foundation
@testable import Resolver
import TestSupport
import Testing

/// The allocation-free reply checks (layout, question match), the AAAA renderer and the batched engine.
/// What glibc's inet_ntop prints, the reference for the renderer.
func inetNtop(_ bytes: [UInt8]) -> String {
    var buf = [CChar](repeating: 0, count: 64)
    let family = bytes.count == 4 ? AF_INET : AF_INET6
    let ok = bytes.withUnsafeBytes { raw in inet_ntop(family, raw.baseAddress, &buf, socklen_t(buf.count)) != nil }
    return ok ? String(decoding: buf.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self) : "?"
}

@Suite struct FastPathTests {
    @Test func ipv6TextIsWhatInetNtopPrintsButForTheCompatibleForm() {
        var generator = SeededRandom("FastPathTests.ipv6Text")
        var samples: [[UInt8]] = []
        // Every pattern of zero and non-zero groups (runs of zeros in all places and lengths, ties).
        for mask in 0..<256 {
            var bytes = [UInt8](repeating: 0, count: 16)
            for g in 0..<8 where mask & (1 << g) != 0 {
                let v = UInt16.random(in: 1...UInt16.max, using: &generator)
                bytes[2 * g] = UInt8(v >> 8)
                bytes[2 * g + 1] = UInt8(v & 0xFF)
            }
            samples.append(bytes)
        }
        for _ in 0..<2000 { samples.append((0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }) }
        // Small groups (no leading zeros), the mapped and compatible forms inet_ntop prints with a dotted quad.
        samples.append([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 0x10, 0, 0, 0, 0, 0, 1])
        samples.append([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1])
        samples.append([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 192, 0, 2, 1])
        samples.append([UInt8](repeating: 0, count: 15) + [1])
        samples.append([UInt8](repeating: 0, count: 16))
        samples.append([0, 1] + [UInt8](repeating: 0, count: 14))
        for bytes in samples {
            let text = bytes.withUnsafeBytes { IPAddressText.ipv6($0) }
            #expect(IPAddress(bytes: bytes)?.description == text)
            // inet_ntop prints the deprecated IPv4-compatible form (first 12 bytes zero) with a dotted
            // quad (`::0.1.97.0`); RFC 5952 text keeps it hex, and it must parse back to the same bytes.
            let compatible = bytes.prefix(12).allSatisfy { $0 == 0 } && (bytes[12] != 0 || bytes[13] != 0)
            if compatible {
                #expect(!text.contains("."), "\(bytes): \(text)")
            } else {
                #expect(text == inetNtop(bytes), "\(bytes)")
            }
            #expect(IPAddress(text)?.bytes == bytes)
        }
        #expect(IPAddress("::1:6100")?.description == "::1:6100")
    }

    @Test func everyCutOfAReplyIsMalformed() async throws {
        for hex in [WireDecodingTests.aReply, WireDecodingTests.cnameChainReply, WireDecodingTests.nxdomainReply] {
            let bytes = try #require(DNSTestWire.bytes(hex: hex))
            #expect(throws: Never.self) { try bytes.withUnsafeBytes { _ = try ReplyLayout($0) } }
            for n in 0..<bytes.count {
                #expect(throws: LDNSError.self, "cut at \(n)") {
                    try Array(bytes.prefix(n)).withUnsafeBytes { _ = try ReplyLayout($0) }
                }
            }
        }
    }

    @Test func layoutReadsTheHeaderAndSections() async throws {
        let bytes = try #require(DNSTestWire.bytes(hex: WireDecodingTests.cnameChainReply))
        let layout = try bytes.withUnsafeBytes { try ReplyLayout($0) }
        #expect(layout.id == 0x1003 && layout.isResponse && !layout.truncated && layout.rcode == 0)
        #expect(layout.questionCount == 1 && layout.answerCount == 4)
        // www.chain.lab: 1+3 + 1+5 + 1+3 + 1 = 15 bytes of name, then type and class.
        #expect(layout.questionEnd == 12 + 15 + 4)
        #expect(layout.answerStart == layout.questionEnd)
    }

    @Test func questionsMatchInAnyCaseButTypesExactly() async throws {
        let query = DNSTestWire.query(id: 9, name: "Mixed.Example", type: 65)
        let question = Array(query[12...])
        let shouted = try ParsedReply(wire: DNSTestWire.reply(to: query, questionName: "MIXED.example"))
        #expect(shouted.asks(question: question))
        #expect(shouted.asks(name: "mixed.EXAMPLE.", type: 65))
        // Type 97 differs from 65 by the ASCII case bit: it must not match.
        let otherType = try ParsedReply(wire: DNSTestWire.reply(to: query, questionType: 97))
        #expect(!otherType.asks(question: question))
        let otherName = try ParsedReply(wire: DNSTestWire.reply(to: query, questionName: "mixed.exampla"))
        #expect(!otherName.asks(question: question))
        let longer = try ParsedReply(wire: DNSTestWire.reply(to: query, questionName: "x.mixed.example"))
        #expect(!longer.asks(question: question))
        var none = DNSTestWire.reply(to: query)
        none[5] = 0  // QDCOUNT 0: the question bytes become trailing data
        #expect(!(try ParsedReply(wire: none)).asks(question: question))
    }

    @Test func wireNamesCompareWithoutCase() {
        let a = DNSTestWire.encodeName("WwW.Example.ORG"), b = DNSTestWire.encodeName("www.example.org")
        let c = DNSTestWire.encodeName("www.example.orh")
        a.withUnsafeBytes { x in
            b.withUnsafeBytes { y in #expect(WireName.equal(x, y)) }
            c.withUnsafeBytes { y in #expect(!WireName.equal(x, y)) }
        }
        // A pointer ends a name; a pointer past the message or a reserved label type is malformed.
        let message: [UInt8] = [3, 0x61, 0x62, 0x63, 0, 1, 0x78, 0xC0, 0x00, 0xC0, 0x40, 0x80]
        message.withUnsafeBytes { m in
            #expect(WireName.skip(m, from: 0) == 5)
            #expect(WireName.skip(m, from: 5) == 9)
            #expect(WireName.skip(m, from: 9) == nil)
            #expect(WireName.skip(m, from: 11) == nil)
        }
    }

    @Test func repliesInAnotherCaseAreAccepted() async throws {
        // A resolver echoing the question with its case flipped (as with 0x20 randomisation).
        let server = try ScriptedUDPServer { (query: [UInt8]) -> [[UInt8]] in
            guard let parsed = DNSTestWire.parseQuery(query) else { return [] }
            return [DNSTestWire.reply(to: query, questionName: parsed.name.uppercased(), answers: [.a(parsed.name.uppercased(), "192.0.2.8")])]
        }
        let report = try await resolver([server.endpoint]).resolve([q("case.example", .a), q("Other.Example", .a)])
        #expect(report.resolutions.map(\.outcome) == [answer(.noerror, ["192.0.2.8"]), answer(.noerror, ["192.0.2.8"])])
        #expect(report.stats.droppedReplies == 0)
    }

    @Test func replyWithAnotherTypeIsDropped() async throws {
        let server = try ScriptedUDPServer { (query: [UInt8]) -> [[UInt8]] in
            [DNSTestWire.reply(to: query, questionType: 28, answers: [.a("t.example", "6.6.6.6")])]
        }
        let report = try await resolver([server.endpoint], timeout: 0.2, retries: 0).resolve([q("t.example", .a)])
        #expect(report.resolutions[0].outcome == .failure(.timeout))
        #expect(report.stats.droppedWrongQuestion == 1)
    }

    @Test func smallWindowAndManySocketsAnswerEachQuestionOnce() async throws {
        let seen = Seen()
        let server = try ScriptedUDPServer { (request: ScriptedRequest) -> [ScriptedReply] in
            seen.add(id: DNSTestWire.id(of: request.bytes), port: request.sourcePort)
            return [ScriptedReply(aReply(to: request.bytes))]
        }
        for window in [1, 3, 100] {
            // A stall of the busy machine must not pass for a loss (attempts are counted below).
            var options = ResolverOptions(maxInFlight: window, socketsPerFamily: 5)
            options.tuning = stallTolerant
            let dns = try DNSResolver(endpoints: [try ResolverEndpoint(server.endpoint)], options: options)
            let questions = (0..<400).map { q("w\(window)-\($0).example", .a) }
            let before = seen.snapshot.1.count
            let report = try await dns.resolve(questions)
            let ports = seen.snapshot.1.dropFirst(before)
            #expect(ports.count == 400)
            // Five sockets at once, each replaced after 64 queries.
            #expect(report.stats.sourcePorts >= Set(ports).count && Set(ports).count > 5, "window \(window)")
            #expect(report.resolutions.map(\.question) == questions)
            #expect(report.resolutions.allSatisfy { $0.outcome == answer(.noerror, ["192.0.2.77"]) && $0.attempts == 1 })
            #expect(report.stats.sent == 400 && report.stats.answered == 400 && report.stats.retries == 0)
        }
    }

    @Test func badNamesAmongGoodOnesInOneBatch() async throws {
        let server = try ScriptedUDPServer { (query: [UInt8]) in [aReply(to: query)] }
        let bad = String(repeating: "x", count: 64) + ".example"
        let questions = (0..<200).map { $0 % 7 == 3 ? q(bad, .a) : q("b\($0).example", .a) }
        let report = try await resolver([server.endpoint]).resolve(questions)
        for (i, r) in report.resolutions.enumerated() {
            #expect(r.outcome == (i % 7 == 3 ? .failure(.malformed) : answer(.noerror, ["192.0.2.77"])), "\(i)")
        }
        #expect(server.requestCount == 200 - questions.indices.filter { $0 % 7 == 3 }.count)
    }

    @Test func aSendThatFailsMovesOnToTheNextResolver() async throws {
        let good = try ScriptedUDPServer { (query: [UInt8]) in [aReply(to: query)] }
        // Port 0: the kernel refuses the datagram (EINVAL) before anything is sent.
        let refused = ResolverEndpoint(address: try #require(IPAddress("127.0.0.1")), port: 0)
        let dns = try DNSResolver(endpoints: [refused, try ResolverEndpoint(good.endpoint)], options: ResolverOptions(retries: 2))
        let questions = (0..<50).map { q("f\($0).example", .a) }
        let report = try await dns.resolve(questions)
        #expect(report.resolutions.map(\.question) == questions)
        for (i, r) in report.resolutions.enumerated() {
            #expect(r.outcome == answer(.noerror, ["192.0.2.77"]) && r.server == good.endpoint, "\(i)")
        }
        // First tries take the resolvers in turn: about half go to the refused one, fail at once, and are
        // sent again to the good one (a failed send is a try, not a transmission).
        let moved = report.resolutions.filter { $0.attempts == 2 }.count
        #expect(report.resolutions.allSatisfy { $0.attempts == 1 || $0.attempts == 2 })
        #expect((15...35).contains(moved))
        #expect(report.stats.sent == 50 && report.stats.retries == moved && report.stats.timeouts == 0)
        #expect(good.requestCount == 50)
    }
}
