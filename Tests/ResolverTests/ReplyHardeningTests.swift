import DNSWatchModel
import Foundation
@testable import Resolver
import TestSupport
import Testing

/// Hostile replies from a scripted resolver on loopback (issue 19): extended RCODEs, rdata lengths, record
/// classes and truncation, over UDP and over TCP.
@Suite struct ReplyHardeningTests {
    /// A server answering each name as `script` says, over UDP and TCP alike.
    func server(_ script: @escaping @Sendable (_ name: String, _ query: [UInt8]) -> [UInt8]) throws -> ScriptedUDPServer {
        try ScriptedUDPServer { (query: [UInt8]) -> [[UInt8]] in
            guard let parsed = DNSTestWire.parseQuery(query) else { return [] }
            return [script(parsed.name, query)]
        }
    }

    /// A server that truncates every UDP reply and answers over TCP as `script` says.
    func tcpServer(_ script: @escaping @Sendable (_ name: String, _ query: [UInt8]) -> [UInt8]) throws -> ScriptedUDPServer {
        try ScriptedUDPServer { (request: ScriptedRequest) -> [ScriptedReply] in
            guard let parsed = DNSTestWire.parseQuery(request.bytes) else { return [] }
            if request.transport == .udp { return [ScriptedReply(DNSTestWire.reply(to: request.bytes, truncated: true))] }
            return [ScriptedReply(script(parsed.name, request.bytes))]
        }
    }

    /// The replies of rows 8 (extended RCODEs): the header's 4 bits alone read 19 as NXDOMAIN and 16 as NOERROR.
    static func extendedRcodeReply(_ name: String, _ query: [UInt8]) -> [UInt8] {
        let a = [DNSTestWire.Record.a(name, "192.0.2.16")]
        switch name {
        // BADMODE, 19 = 1 << 4 | 3: the header says NXDOMAIN.
        case "badmode.example": return DNSTestWire.reply(to: query, rcode: 3, extendedRcode: 1)
        // BADVERS, 16 = 1 << 4 | 0: the header says NOERROR, and an A comes with it.
        case "badvers.example": return DNSTestWire.reply(to: query, rcode: 0, extendedRcode: 1, answers: a)
        // BADCOOKIE, 23; and an unassigned one, 0xFFF.
        case "badcookie.example": return DNSTestWire.reply(to: query, rcode: 7, extendedRcode: 1, answers: a)
        case "unassigned.example": return DNSTestWire.reply(to: query, rcode: 15, extendedRcode: 255, answers: a)
        // FORMERR without EDNS; NXDOMAIN and NOERROR with an OPT record whose EXTENDED-RCODE is 0.
        case "formerr.example": return DNSTestWire.reply(to: query, rcode: 1)
        case "nx.example": return DNSTestWire.reply(to: query, rcode: 3, extendedRcode: 0)
        default: return DNSTestWire.reply(to: query, rcode: 0, extendedRcode: 0, answers: a)
        }
    }

    static let extendedRcodeCases: [(String, Outcome)] = [
        ("badmode.example", .failure(.badmode)), ("badvers.example", .failure(.badvers)),
        ("badcookie.example", .failure(.badcookie)), ("unassigned.example", .failure(.otherRcode)),
        ("formerr.example", .failure(.formerr)), ("nx.example", answer(.nxdomain)),
        ("ok.example", answer(.noerror, ["192.0.2.16"])),
    ]

    @Test func extendedRcodesAreFailuresOverUDP() async throws {
        let dns = try server(Self.extendedRcodeReply)
        let questions = Self.extendedRcodeCases.map { q($0.0, .a) }
        let report = try await resolver([dns.endpoint], retries: 0).resolve(questions)
        for (r, expected) in zip(report.resolutions, Self.extendedRcodeCases) {
            #expect(r.outcome == expected.1, "\(expected.0)")
            #expect(r.server == dns.endpoint)
        }
    }

    @Test func extendedRcodesAreFailuresOverTCP() async throws {
        let dns = try tcpServer(Self.extendedRcodeReply)
        let questions = Self.extendedRcodeCases.map { q($0.0, .a) }
        let report = try await resolver([dns.endpoint], retries: 0).resolve(questions)
        for (r, expected) in zip(report.resolutions, Self.extendedRcodeCases) {
            #expect(r.outcome == expected.1, "\(expected.0)")
        }
        #expect(report.stats.tcpFallbacks == questions.count)
    }

    @Test func moreThanOneOPTRecordIsMalformed() throws {
        let query = DNSTestWire.query(id: 7, name: "x.example", type: 1)
        var bytes = DNSTestWire.reply(to: query, extendedRcode: 0)
        bytes += bytes.suffix(11)  // the OPT record again
        bytes[11] = 2
        #expect(throws: LDNSError.self) { try ParsedReply(wire: bytes) }
        // An OPT record outside the additional section carries no RCODE bits.
        let inAnswer = DNSTestWire.reply(to: query, answers: [DNSTestWire.Record(name: "", type: 41, ttl: 1 << 24, rdata: [], rrClass: 1232)])
        #expect(try ParsedReply(wire: inAnswer).rcode == 0)
    }

    /// Row 20 and its kin: rdata that is not exactly its RDLENGTH.
    static func badLengthReply(_ name: String, _ query: [UInt8]) -> [UInt8] {
        let records: [DNSTestWire.Record]
        switch name {
        case "a5.example": records = [DNSTestWire.Record(name: name, type: 1, rdata: [192, 0, 2, 5, 9])]
        case "a3.example": records = [DNSTestWire.Record(name: name, type: 1, rdata: [192, 0, 2])]
        case "aaaa15.example": records = [DNSTestWire.Record(name: name, type: 28, rdata: Array(repeating: 1, count: 15))]
        case "aaaa17.example": records = [DNSTestWire.Record(name: name, type: 28, rdata: Array(repeating: 1, count: 17))]
        case "ns-long.example": records = [DNSTestWire.Record(name: name, type: 2, rdata: DNSTestWire.encodeName("ns.example") + [0])]
        case "cname-long.example":
            records = [DNSTestWire.Record(name: name, type: 5, rdata: DNSTestWire.encodeName("t.example") + [7, 7]), .a("t.example", "192.0.2.1")]
        // The A of a glue record in the authority section, cut short: the whole reply is malformed.
        case "glue.example": return DNSTestWire.reply(to: query, answers: [.a(name, "192.0.2.1")],
                                                      authority: [DNSTestWire.Record(name: "ns.example", type: 1, rdata: [1, 2, 3, 4, 5, 6])])
        default: records = [.a(name, "192.0.2.4"), .aaaa(name, "2001:db8::4")]
        }
        return DNSTestWire.reply(to: query, answers: records)
    }

    static let badLengthCases: [(String, RRType, Outcome)] = [
        ("a5.example", .a, .failure(.malformed)), ("a3.example", .a, .failure(.malformed)),
        ("aaaa15.example", .aaaa, .failure(.malformed)), ("aaaa17.example", .aaaa, .failure(.malformed)),
        ("ns-long.example", .ns, .failure(.malformed)), ("cname-long.example", .a, .failure(.malformed)),
        ("glue.example", .a, .failure(.malformed)),
        ("ok.example", .a, answer(.noerror, ["192.0.2.4"])), ("ok.example", .aaaa, answer(.noerror, ["2001:db8::4"])),
    ]

    @Test func rdataNotExactlyItsLengthIsMalformedOverUDP() async throws {
        let dns = try server(Self.badLengthReply)
        let report = try await resolver([dns.endpoint], timeout: 0.3, retries: 0).resolve(Self.badLengthCases.map { q($0.0, $0.1) })
        for (r, expected) in zip(report.resolutions, Self.badLengthCases) {
            #expect(r.outcome == expected.2, "\(expected.0) \(expected.1)")
        }
        #expect(report.stats.malformedReplies == 7)
    }

    @Test func rdataNotExactlyItsLengthIsMalformedOverTCP() async throws {
        let dns = try tcpServer(Self.badLengthReply)
        let report = try await resolver([dns.endpoint], timeout: 0.5, retries: 0).resolve(Self.badLengthCases.map { q($0.0, $0.1) })
        for (r, expected) in zip(report.resolutions, Self.badLengthCases) {
            #expect(r.outcome == expected.2, "\(expected.0) \(expected.1)")
        }
    }

    /// Records of another class than IN: ignored when they could not count anyway, malformed when they would.
    static func classReply(_ name: String, _ query: [UInt8]) -> [UInt8] {
        let chaos: UInt16 = 3
        let answers: [DNSTestWire.Record]
        switch name {
        case "ch-a.example": answers = [DNSTestWire.Record(name: name, type: 1, rdata: [6, 6, 6, 6], rrClass: chaos)]
        case "mixed.example":
            answers = [.a(name, "192.0.2.9"), DNSTestWire.Record(name: name, type: 1, rdata: [6, 6, 6, 6], rrClass: 255)]
        case "ch-cname.example":
            answers = [DNSTestWire.Record(name: name, type: 5, rdata: DNSTestWire.encodeName("evil.example"), rrClass: chaos),
                       .a("evil.example", "6.6.6.6")]
        case "ch-target.example":
            answers = [.cname(name, "t.example"), DNSTestWire.Record(name: "t.example", type: 1, rdata: [6, 6, 6, 6], rrClass: chaos)]
        // Another class on another name, or on another type: ignored, as any record that does not count.
        default:
            answers = [.a(name, "192.0.2.10"), DNSTestWire.Record(name: "other.example", type: 1, rdata: [6, 6, 6, 6], rrClass: chaos),
                       DNSTestWire.Record(name: name, type: 16, rdata: [1, 0x78], rrClass: chaos)]
        }
        return DNSTestWire.reply(to: query, answers: answers)
    }

    static let classCases: [(String, Outcome)] = [
        ("ch-a.example", .failure(.malformed)), ("mixed.example", .failure(.malformed)),
        ("ch-cname.example", .failure(.malformed)), ("ch-target.example", .failure(.malformed)),
        ("ok.example", answer(.noerror, ["192.0.2.10"])),
    ]

    @Test func answerRecordsOfAnotherClassNeverCount() async throws {
        for tcp in [false, true] {
            let dns = try tcp ? tcpServer(Self.classReply) : server(Self.classReply)
            let report = try await resolver([dns.endpoint], timeout: 0.3, retries: 0).resolve(Self.classCases.map { q($0.0, .a) })
            for (r, expected) in zip(report.resolutions, Self.classCases) {
                #expect(r.outcome == expected.1, "\(expected.0) tcp \(tcp)")
            }
        }
    }

    @Test func truncatedAnswerIsAFailureWithoutTCP() async throws {
        let dns = try ScriptedUDPServer { (request: ScriptedRequest) -> [ScriptedReply] in
            [ScriptedReply(DNSTestWire.reply(to: request.bytes, truncated: true, answers: [.a("t.example", "192.0.2.5")]))]
        }
        let tcpOff = try DNSResolver(
            endpoints: [try ResolverEndpoint(dns.endpoint)], options: ResolverOptions(retries: 2, tcpOnTruncation: false))
        let report = try await tcpOff.resolve([q("t.example", .a)])
        #expect(report.resolutions[0].outcome == .failure(.truncated))
        #expect(report.resolutions[0].server == dns.endpoint)
        #expect(report.stats.tcpFallbacks == 0 && report.stats.sent == 1)
        #expect(dns.tcpRequestCount == 0)
    }

    @Test func truncatedOverTCPTooIsAFailure() async throws {
        let dns = try ScriptedUDPServer { (request: ScriptedRequest) -> [ScriptedReply] in
            [ScriptedReply(DNSTestWire.reply(to: request.bytes, truncated: true, answers: [.a("t.example", "192.0.2.5")]))]
        }
        let r = try await resolver([dns.endpoint], retries: 1).resolve(q("t.example", .a))
        #expect(r.outcome == .failure(.truncated))
        #expect(dns.tcpRequestCount == 2)
    }
}
