import CLDNS
import DNSWatchModel

/// The answer-section records of one reply, parsed by ldns record by record (`ldns_wire2rr`); the storage
/// is reused from reply to reply and the records are freed by `clear()` (or with the reader).
final class AnswerRecords {
    private(set) var records: [UnsafeMutablePointer<ldns_rr>] = []

    init() {
        records.reserveCapacity(16)
    }

    deinit { clear() }

    /// Parses the `layout.answerCount` records of the answer section of `b` with ldns.
    func read(_ b: UnsafeRawBufferPointer, _ layout: ReplyLayout) throws(LDNSError) {
        clear()
        guard let base = b.baseAddress?.assumingMemoryBound(to: UInt8.self) else { throw LDNSError(LDNS_STATUS_PACKET_OVERFLOW) }
        var pos = layout.answerStart
        for _ in 0..<layout.answerCount {
            var rr: UnsafeMutablePointer<ldns_rr>?
            let status = ldns_wire2rr(&rr, base, b.count, &pos, LDNS_SECTION_ANSWER)
            guard status == LDNS_STATUS_OK, let rr else {
                if let rr { ldns_rr_free(rr) }
                clear()
                throw LDNSError(status == LDNS_STATUS_OK ? LDNS_STATUS_MEM_ERR : status)
            }
            records.append(rr)
        }
    }

    func clear() {
        for rr in records { ldns_rr_free(rr) }
        records.removeAll(keepingCapacity: true)
    }
}

/// A reply message, checked and decoded with the same code the engine uses (for TCP replies and tests):
/// its layout read from the bytes and its answer section parsed by ldns.
struct ParsedReply: Sendable {
    let bytes: [UInt8]
    let layout: ReplyLayout

    var id: UInt16 { layout.id }
    var isResponse: Bool { layout.isResponse }
    var truncated: Bool { layout.truncated }
    /// The full 12-bit RCODE (with an OPT record's EXTENDED-RCODE).
    var rcode: UInt16 { layout.rcode }

    /// Decodes a wire-format reply; throws `LDNSError` when it is cut short, a name is malformed or ldns
    /// cannot parse an answer record.
    init(wire: UnsafeRawBufferPointer) throws {
        layout = try ReplyLayout(wire)
        try AnswerRecords().read(wire, layout)
        bytes = Array(wire)
    }

    init(wire: [UInt8]) throws {
        self = try wire.withUnsafeBytes { try ParsedReply(wire: $0) }
    }

    /// Whether the question section is exactly `question` (wire name, type, class; the name in any case).
    func asks(question: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { b in question.withUnsafeBytes { layout.asks($0, in: b) } }
    }

    /// Whether the question section is exactly `name`/`type`/IN.
    func asks(name: String, type: UInt16) -> Bool {
        guard let question = WireName.question(name: name, type: type) else { return false }
        return asks(question: question)
    }
}

/// What a reply that matched its query means for the question.
enum ReplyVerdict: Sendable, Equatable {
    /// A final answer (NOERROR / NXDOMAIN, the full 12-bit RCODE).
    case answer(Answer)
    /// A failure worth another attempt at the next resolver (SERVFAIL, REFUSED, every other RCODE).
    case retry(FailureKind)
    /// TC set: ask again over TCP (or, without TCP, a failure: a truncated answer is never taken).
    case truncated
}

enum ReplyInterpreter {
    static let maxChain = 16

    /// Turns a reply that asks `name` (wire form) / `type` into a verdict; parses the answer section with
    /// ldns only when the verdict needs it.
    static func verdict(_ b: UnsafeRawBufferPointer, _ layout: ReplyLayout, name: UnsafeRawBufferPointer, type: UInt16,
                        records: AnswerRecords) throws(LDNSError) -> ReplyVerdict {
        guard layout.isResponse else { return .retry(.malformed) }
        if layout.truncated { return .truncated }
        switch layout.rcode {
        case 0, 3: return .answer(try answer(b, layout, name: name, type: type, records: records))
        default: return .retry(failure(rcode: layout.rcode))
        }
    }

    /// The failure a (12-bit) RCODE other than NOERROR and NXDOMAIN stands for.
    static func failure(rcode: UInt16) -> FailureKind {
        switch rcode {
        case 1: .formerr
        case 2: .servfail
        case 4: .notimp
        case 5: .refused
        case 6: .yxdomain
        case 7: .yxrrset
        case 8: .nxrrset
        case 9: .notauth
        case 10: .notzone
        case 11: .dsotypeni
        case 16: .badvers
        case 17: .badkey
        case 18: .badtime
        case 19: .badmode
        case 20: .badname
        case 21: .badalg
        case 22: .badtrunc
        case 23: .badcookie
        default: .otherRcode
        }
    }

    /// Follows the CNAME chain from `name` and takes the records of `type` owned by the name or a chain target.
    static func answer(_ b: UnsafeRawBufferPointer, _ layout: ReplyLayout, name: UnsafeRawBufferPointer, type: UInt16,
                       records: AnswerRecords) throws(LDNSError) -> Answer {
        try records.read(b, layout)
        defer { records.clear() }
        return try answer(records.records, rcode: layout.rcode, name: name, type: type)
    }

    /// The answer of the records `rrs` for `name`/`type` (class IN, the class every query asks). Records of
    /// other names and types are ignored; a record that would count (the question's type or a CNAME, owned
    /// by the name or a chain target) in another class makes the reply malformed, not a NODATA.
    static func answer(_ rrs: [UnsafeMutablePointer<ldns_rr>], rcode: UInt16, name: UnsafeRawBufferPointer, type: UInt16) throws(LDNSError) -> Answer {
        let cname = RRType.cname.code, inClass = UInt16(LDNS_RR_CLASS_IN.rawValue)
        var chain: [String] = []
        var targets: [UnsafeRawBufferPointer] = []
        if type != cname && rrs.contains(where: { LDNSRecord(rr: $0).type == cname }) {
            var current = name
            while chain.count < maxChain,
                  let rr = rrs.first(where: {
                      let r = LDNSRecord(rr: $0)
                      return r.type == cname && r.rrClass == inClass && WireName.equal(r.ownerWire, current)
                  }),
                  let target = LDNSRecord(rr: rr).nameRdata,
                  !WireName.equal(target, name), !targets.contains(where: { WireName.equal($0, target) }) {
                chain.append(DNameText.render(target.bindMemory(to: UInt8.self)))
                targets.append(target)
                current = target
            }
        }
        for rr in rrs {
            let record = LDNSRecord(rr: rr)
            guard record.rrClass != inClass, record.type == type || record.type == cname else { continue }
            let owner = record.ownerWire
            if WireName.equal(owner, name) || targets.contains(where: { WireName.equal($0, owner) }) {
                throw LDNSError(message: "malformed record: an answer record of class \(record.rrClass), not IN")
            }
        }
        if rcode == 3 { return Answer(status: .nxdomain, rdata: [], cnameChain: chain) }
        var rdata: [String] = []
        for rr in rrs {
            let record = LDNSRecord(rr: rr)
            guard record.type == type, record.rrClass == inClass else { continue }
            let owner = record.ownerWire
            guard WireName.equal(owner, name) || targets.contains(where: { WireName.equal($0, owner) }) else { continue }
            if let text = record.presentation { rdata.append(text) }
        }
        return Answer(status: rdata.isEmpty ? .nodata : .noerror, rdata: rdata, cnameChain: chain)
    }

    /// For replies decoded into a `ParsedReply` (TCP, tests); `name` is a domain name in text.
    static func verdict(_ reply: ParsedReply, name: String, type: UInt16) -> ReplyVerdict {
        guard let question = WireName.question(name: name, type: type) else { return .retry(.malformed) }
        return reply.bytes.withUnsafeBytes { b in
            question.withUnsafeBytes { q in
                (try? verdict(b, reply.layout, name: UnsafeRawBufferPointer(rebasing: q.dropLast(4)), type: type,
                              records: AnswerRecords())) ?? .retry(.malformed)
            }
        }
    }

    /// The answer a `ParsedReply` gives for `name` (text) / `type`, whatever its RCODE and flags.
    static func answer(_ reply: ParsedReply, name: String, type: UInt16) -> Answer {
        let question = WireName.question(name: name, type: type) ?? [0, 0, 0, 0, 0]
        return reply.bytes.withUnsafeBytes { b in
            question.withUnsafeBytes { q in
                (try? answer(b, reply.layout, name: UnsafeRawBufferPointer(rebasing: q.dropLast(4)), type: type,
                             records: AnswerRecords())) ?? Answer(status: .nodata)
            }
        }
    }
}

/// The reply decoding of the engine, from raw bytes, for the fuzz target (Fuzz/FuzzReply): the UDP path
/// (`ReplyLayout`, the question check, `ReplyInterpreter.verdict`) with the reply's own question as the
/// query, then the TCP path (`ParsedReply`) and the answer `ReplyInterpreter.answer` reads whatever the
/// RCODE and flags. Visible in the package only.
package enum ReplyDecoding {
    /// A one-line summary of what the engine would make of `wire`; "malformed: …" when it refuses it.
    package static func summary(of wire: UnsafeRawBufferPointer) -> String {
        let layout: ReplyLayout
        do {
            layout = try ReplyLayout(wire)
        } catch {
            return "malformed: \(error)"
        }
        var out = "id \(layout.id) rcode \(layout.rcode)"
        // The first question (name, type, class) stands for the query that was sent.
        guard layout.questionCount >= 1, layout.questionEnd - 12 > 4 else { return out + " no question" }
        let question = UnsafeRawBufferPointer(rebasing: wire[12..<layout.questionEnd])
        let name = UnsafeRawBufferPointer(rebasing: question[0..<(question.count - 4)])
        let type = UInt16(question[question.count - 4]) << 8 | UInt16(question[question.count - 3])
        if layout.asks(question, in: wire) {
            let records = AnswerRecords()
            do {
                out += " udp \(try ReplyInterpreter.verdict(wire, layout, name: name, type: type, records: records))"
            } catch {
                out += " udp malformed: \(error)"
            }
        }
        do {
            let reply = try ParsedReply(wire: wire)
            let text = DNameText.render(name.bindMemory(to: UInt8.self))
            out += " tcp \(reply.asks(name: text, type: type)) \(ReplyInterpreter.verdict(reply, name: text, type: type))"
            out += " \(ReplyInterpreter.answer(reply, name: text, type: type))"
        } catch {
            out += " tcp malformed: \(error)"
        }
        return out
    }
}
