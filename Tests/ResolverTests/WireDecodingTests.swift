import Foundation
import DNSWatchModel
@testable import Resolver
import TestSupport
import Testing

/// Replies captured from Unbound 1.17 (compressed names, EDNS OPT), decoded by the ldns-backed parser.
@Suite struct WireDecodingTests {
    static let aReply = "1000858000010002000000010161076578616d706c650000010001c00c000100010000012c0004c0000201c00c000100010000012c0004c000020200002904d0000000000000"
    static let aaaaReply = "1001858000010001000000010161076578616d706c6500001c0001c00c001c00010000012c001020010db800000000000000000000000100002904d0000000000000"
    static let nsReply = "1002858000010001000000010161076578616d706c650000020001c00c000200010000012c0011034e5331074578616d706c65034e45540000002904d0000000000000"
    static let cnameChainReply = "1003858000010004000000010377777705636861696e036c61620000010001c00c000500010000012c00070465646765c010c02b000500010000012c000704486f7374c010c03e000100010000012c0004c6336408c03e000100010000012c0004c633640700002904d0000000000000"
    static let nxdomainReply = "100485830001000000010001046e6f7065076578616d706c650000010001c011000600010000003c0026026e73c0110a686f73746d6173746572c0110000000100000e1000000258000151800000003c00002904d0000000000000"
    static let nodataReply = "1005858000010000000100010161076578616d706c650000100001c00e000600010000003c0026026e73c00e0a686f73746d6173746572c00e0000000100000e1000000258000151800000003c00002904d0000000000000"
    static let txtReply = "1006858000010001000000010361736e076578616d706c650000100001c00c001000010000012c0034333437383436207c2039312e3139352e3234302e302f3233207c204445207c20726970656e6363207c20323030392d30342d303800002904d0000000000000"

    func decode(_ hex: String, _ name: String, _ type: RRType) throws -> (ParsedReply, ReplyVerdict) {
        let bytes = try #require(DNSTestWire.bytes(hex: hex))
        let reply = try ParsedReply(wire: bytes)
        #expect(reply.asks(name: name, type: type.code))
        return (reply, ReplyInterpreter.verdict(reply, name: name, type: type.code))
    }

    @Test func a() async throws {
        let (reply, verdict) = try decode(Self.aReply, "a.example", .a)
        #expect(reply.id == 0x1000)
        #expect(reply.isResponse && !reply.truncated && reply.rcode == 0)
        #expect(verdict == .answer(Answer(status: .noerror, rdata: ["192.0.2.1", "192.0.2.2"])))
    }

    @Test func aaaaIsRFC5952() async throws {
        let (_, verdict) = try decode(Self.aaaaReply, "a.example", .aaaa)
        #expect(verdict == .answer(Answer(status: .noerror, rdata: ["2001:db8::1"])))
    }

    @Test func nsIsLowerCaseWithoutDot() async throws {
        let (_, verdict) = try decode(Self.nsReply, "a.example", .ns)
        #expect(verdict == .answer(Answer(status: .noerror, rdata: ["ns1.example.net"])))
    }

    @Test func cnameChain() async throws {
        let (_, verdict) = try decode(Self.cnameChainReply, "www.chain.lab", .a)
        #expect(verdict == .answer(Answer(
            status: .noerror, rdata: ["198.51.100.7", "198.51.100.8"], cnameChain: ["edge.chain.lab", "host.chain.lab"])))
    }

    @Test func nxdomain() async throws {
        let (reply, verdict) = try decode(Self.nxdomainReply, "nope.example", .a)
        #expect(reply.rcode == 3)
        #expect(verdict == .answer(Answer(status: .nxdomain)))
    }

    @Test func nodata() async throws {
        let (_, verdict) = try decode(Self.nodataReply, "a.example", .txt)
        #expect(verdict == .answer(Answer(status: .nodata)))
    }

    @Test func txtIsUnquoted() async throws {
        let (_, verdict) = try decode(Self.txtReply, "asn.example", .txt)
        #expect(verdict == .answer(Answer(status: .noerror, rdata: ["47846 | 91.195.240.0/23 | DE | ripencc | 2009-04-08"])))
    }

    @Test func questionMismatchIsDetected() async throws {
        let reply = try ParsedReply(wire: try #require(DNSTestWire.bytes(hex: Self.aReply)))
        #expect(!reply.asks(name: "b.example", type: RRType.a.code))
        #expect(!reply.asks(name: "a.example", type: RRType.aaaa.code))
        #expect(reply.asks(name: "a.example", type: RRType.a.code))
    }

    @Test func garbageThrows() async throws {
        let bytes = try #require(DNSTestWire.bytes(hex: Self.aReply))
        #expect(throws: LDNSError.self) { try ParsedReply(wire: Array(bytes.prefix(40))) }
        #expect(throws: LDNSError.self) { try ParsedReply(wire: [0x12, 0x34]) }
    }

    @Test func recordsOutsideTheChainAreIgnored() async throws {
        let query = DNSTestWire.query(id: 7, name: "x.example", type: 1)
        let bytes = DNSTestWire.reply(to: query, answers: [
            .a("x.example", "192.0.2.10"), .a("other.example", "192.0.2.99"), .ns("x.example", "ns.example"),
        ])
        let reply = try ParsedReply(wire: bytes)
        #expect(ReplyInterpreter.verdict(reply, name: "x.example", type: 1) == .answer(Answer(status: .noerror, rdata: ["192.0.2.10"])))
    }

    @Test func nxdomainKeepsChainAndNodataKeepsChain() async throws {
        let query = DNSTestWire.query(id: 7, name: "x.example", type: 1)
        let nx = try ParsedReply(wire: DNSTestWire.reply(to: query, rcode: 3, answers: [.cname("x.example", "Gone.Example.")]))
        #expect(ReplyInterpreter.verdict(nx, name: "x.example", type: 1) == .answer(Answer(status: .nxdomain, cnameChain: ["gone.example"])))
        let nodata = try ParsedReply(wire: DNSTestWire.reply(to: query, answers: [.cname("x.example", "y.example")]))
        #expect(ReplyInterpreter.verdict(nodata, name: "x.example", type: 1) == .answer(Answer(status: .nodata, cnameChain: ["y.example"])))
    }

    @Test func cnameLoopStops() async throws {
        let query = DNSTestWire.query(id: 7, name: "x.example", type: 1)
        let reply = try ParsedReply(wire: DNSTestWire.reply(to: query, answers: [
            .cname("x.example", "y.example"), .cname("y.example", "x.example"),
        ]))
        #expect(ReplyInterpreter.verdict(reply, name: "x.example", type: 1) == .answer(Answer(status: .nodata, cnameChain: ["y.example"])))
    }

    @Test func rcodes() async throws {
        let query = DNSTestWire.query(id: 7, name: "x.example", type: 1)
        for (rcode, expected) in [(2, ReplyVerdict.retry(.servfail)), (5, .retry(.refused)), (4, .retry(.notimp)), (12, .retry(.otherRcode))] {
            let reply = try ParsedReply(wire: DNSTestWire.reply(to: query, rcode: UInt8(rcode)))
            #expect(ReplyInterpreter.verdict(reply, name: "x.example", type: 1) == expected)
        }
        let tc = try ParsedReply(wire: DNSTestWire.reply(to: query, truncated: true))
        #expect(ReplyInterpreter.verdict(tc, name: "x.example", type: 1) == .truncated)
    }

    @Test func builtQueryHasRDAndEDNS() async throws {
        let query = try LDNSPacket.query(name: "Mixed.Example.", type: RRType.aaaa.code, ednsBufferSize: 1232)
        #expect(query.name == "mixed.example")
        let wire = try query.packet.wire(using: LDNSBuffer())
        #expect(try query.packet.wire() == wire)
        let parsed = try #require(DNSTestWire.parseQuery(wire))
        #expect(parsed.name == "mixed.example")
        #expect(parsed.type == 28)
        #expect(parsed.qclass == 1)
        #expect(parsed.hasAdditional)
        #expect(wire[2] & 0x01 == 0x01)  // RD
        // OPT record: root name, type 41, class = UDP payload size 1232.
        #expect(Array(wire.suffix(11).prefix(5)) == [0x00, 0x00, 0x29, 0x04, 0xD0])
    }

    @Test(arguments: [("Mixed.Example.", RRType.aaaa, UInt16(1232)), ("a.b.c.example", .a, 0), ("x.example", .txt, 4096)])
    func builderMatchesFullPacketEncoding(name: String, type: RRType, edns: UInt16) async throws {
        let built = try LDNSQueryBuilder(ednsBufferSize: edns).query(name: name, type: type.code)
        let full = try LDNSPacket.query(name: name, type: type.code, ednsBufferSize: edns)
        #expect(built.name == full.name)
        #expect(Array(built.wire.dropFirst(2)) == Array(try full.packet.wire().dropFirst(2)))
        #expect(DNSTestWire.parseQuery(built.wire)?.hasAdditional == (edns > 0))
    }

    @Test func presentationHelpers() {
        let wire: [UInt8] = [3, 0x57, 0x2E, 0x09, 2, 0x41, 0x3B, 0]
        #expect(wire.withUnsafeBufferPointer { DNameText.render($0) } == "w\\.\\009.a\\;")
        #expect([UInt8]([0]).withUnsafeBufferPointer { DNameText.render($0) } == "")
        for bytes: [UInt8] in [[0, 0, 0, 0], [255, 255, 255, 255], [10, 9, 100, 199], [192, 0, 2, 1]] {
            #expect(bytes.withUnsafeBytes { IPAddressText.ipv4($0) } == inetNtop(bytes))
        }
    }

    @Test func badNameIsRejected() {
        #expect(throws: LDNSError.self) {
            try LDNSPacket.query(name: String(repeating: "a", count: 70) + ".example", type: 1, ednsBufferSize: 0)
        }
    }
}

/// The seed corpus of the reply fuzz target (Fuzz/corpus/reply, docs/fuzzing.md) through the same entry
/// the fuzzer uses: replies captured from Unbound decode, hand-made hostile ones are refused as malformed.
@Suite struct ReplyCorpusTests {
    static let corpus = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz/corpus/reply")

    func summary(_ file: String) throws -> String {
        let bytes = try [UInt8](Data(contentsOf: Self.corpus.appendingPathComponent(file)))
        return bytes.withUnsafeBytes { ReplyDecoding.summary(of: $0) }
    }

    /// The verdicts of the UDP path (the allocation-free layout) and the TCP path (ldns) on a corpus reply,
    /// for the question it carries, which must be `name` and `type`.
    func verdicts(_ file: String, _ name: String, _ type: RRType) throws -> (udp: ReplyVerdict, tcp: ReplyVerdict) {
        let bytes = try [UInt8](Data(contentsOf: Self.corpus.appendingPathComponent(file)))
        return try bytes.withUnsafeBytes { wire in
            let layout = try ReplyLayout(wire)
            let question = UnsafeRawBufferPointer(rebasing: wire[12..<layout.questionEnd])
            let owner = UnsafeRawBufferPointer(rebasing: question[0..<(question.count - 4)])
            let asked = UInt16(question[question.count - 4]) << 8 | UInt16(question[question.count - 3])
            #expect(DNameText.render(owner.bindMemory(to: UInt8.self)) == name, "\(file)")
            #expect(asked == type.code, "\(file)")
            let udp = try ReplyInterpreter.verdict(wire, layout, name: owner, type: type.code, records: AnswerRecords())
            let tcp = ReplyInterpreter.verdict(try ParsedReply(wire: wire), name: name, type: type.code)
            return (udp, tcp)
        }
    }

    @Test func capturedRepliesDecode() throws {
        let a = try verdicts("unbound-a.bin", "a.lab", .a)
        let addresses = ReplyVerdict.answer(Answer(status: .noerror, rdata: ["192.0.2.1", "192.0.2.2"]))
        #expect(a.udp == addresses)
        #expect(a.tcp == addresses)
        #expect(try summary("unbound-big-noedns.bin").contains("udp truncated"))
        let loop = try verdicts("unbound-cname-loop.bin", "loop1.lab", .a)
        // loop1.lab is a CNAME to loop2.lab, of which the reply has nothing: NOERROR without the type asked, NODATA.
        let chainOnly = ReplyVerdict.answer(Answer(status: .nodata, rdata: [], cnameChain: ["loop2.lab"]))
        #expect(loop.udp == chainOnly)
        #expect(loop.tcp == chainOnly)
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.corpus.path).sorted()
        #expect(files.count >= 20)
        for file in files where file.hasPrefix("unbound-") || file.hasPrefix("test-") {
            #expect(try !summary(file).contains("malformed"), "\(file)")
        }
    }

    @Test(arguments: ["craft-pointer-loop.bin", "craft-pointer-past-end.bin", "craft-short-rdata.bin", "craft-a-rdlen-5.bin", "craft-two-opt.bin"])
    func hostileRepliesAreMalformed(file: String) throws {
        let text = try summary(file)
        #expect(text.hasPrefix("malformed"), "\(text)")
    }

    @Test func extendedRcodesAndOtherClassesAreNotAnswers() throws {
        // 19 with NXDOMAIN's low bits, 16 with NOERROR's and an A: failures on both paths.
        for (file, kind) in [("craft-badmode-19.bin", "badmode"), ("craft-badvers-16.bin", "badvers")] {
            let text = try summary(file)
            #expect(text.contains("rcode \(file == "craft-badmode-19.bin" ? 19 : 16)"), "\(text)")
            #expect(text.contains("udp retry(DNSWatchModel.FailureKind.\(kind))"), "\(text)")
            #expect(text.contains("tcp true retry(DNSWatchModel.FailureKind.\(kind))"), "\(text)")
        }
        let chaos = try summary("craft-class-chaos.bin")
        #expect(chaos.contains("udp malformed") && !chaos.contains("6.6.6.6"), "\(chaos)")
    }
}
