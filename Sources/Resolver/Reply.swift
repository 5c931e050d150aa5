import DNSWatchModel

/// One answer-section record, reduced to what dnswatch uses.
struct ParsedRecord: Sendable, Equatable {
    var owner: String
    var type: UInt16
    /// Presentation text (see `LDNSRecord.presentation`); nil for types dnswatch does not record.
    var rdata: String?
}

/// A reply message decoded by ldns into Swift values (no C objects survive the init).
struct ParsedReply: Sendable {
    var id: UInt16
    var isResponse: Bool
    var truncated: Bool
    var rcode: UInt8
    var questionName: String?
    var questionType: UInt16
    var questionClass: UInt16
    var questionCount: Int
    var answers: [ParsedRecord]

    /// Decodes a wire-format reply; throws `LDNSError` when ldns cannot parse it.
    init(wire: UnsafeRawBufferPointer) throws {
        let packet = try LDNSPacket(wire: wire)
        id = packet.id
        isResponse = packet.isResponse
        truncated = packet.truncated
        rcode = packet.rcode
        let question = packet.question
        questionCount = question.count
        if let q = question.record(0) {
            questionName = q.owner
            questionType = q.type
            questionClass = q.rrClass
        } else {
            questionName = nil
            questionType = 0
            questionClass = 0
        }
        let section = packet.answer
        var records: [ParsedRecord] = []
        records.reserveCapacity(section.count)
        for i in 0..<section.count {
            guard let rr = section.record(i) else { continue }
            records.append(ParsedRecord(owner: rr.owner, type: rr.type, rdata: rr.presentation))
        }
        answers = records
    }

    init(wire: [UInt8]) throws {
        self = try wire.withUnsafeBytes { try ParsedReply(wire: $0) }
    }

    /// Whether the question section is exactly `name`/`type`/IN (`name` as rendered by `DNameText`).
    func asks(name: String, type: UInt16) -> Bool {
        questionCount == 1 && questionType == type && questionClass == 1 && questionName == name
    }
}

/// What a reply that matched its query means for the question.
enum ReplyVerdict: Sendable, Equatable {
    /// A final answer (NOERROR / NXDOMAIN).
    case answer(Answer)
    /// A failure worth another attempt at the next resolver (SERVFAIL, REFUSED, other RCODEs).
    case retry(FailureKind)
    /// TC set: ask again over TCP.
    case truncated
}

enum ReplyInterpreter {
    static let maxChain = 16

    /// Turns a matched reply into a verdict for the question `name`/`type`.
    static func verdict(_ reply: ParsedReply, name: String, type: UInt16) -> ReplyVerdict {
        guard reply.isResponse else { return .retry(.malformed) }
        if reply.truncated { return .truncated }
        switch reply.rcode {
        case 0, 3: return .answer(answer(reply, name: name, type: type))
        case 2: return .retry(.servfail)
        case 5: return .retry(.refused)
        default: return .retry(.otherRcode)
        }
    }

    /// Follows the CNAME chain from `name` and takes the records of `type` owned by the name or a chain target.
    static func answer(_ reply: ParsedReply, name: String, type: UInt16) -> Answer {
        let cname = RRType.cname.code
        var chain: [String] = []
        var owners = [name]
        if type != cname {
            var current = name
            while chain.count < maxChain,
                  let target = reply.answers.first(where: { $0.type == cname && $0.owner == current })?.rdata,
                  !owners.contains(target) {
                chain.append(target)
                owners.append(target)
                current = target
            }
        }
        var rdata: [String] = []
        for rr in reply.answers where rr.type == type {
            if let text = rr.rdata, owners.contains(rr.owner) { rdata.append(text) }
        }
        if reply.rcode == 3 { return Answer(status: .nxdomain, rdata: [], cnameChain: chain) }
        return Answer(status: rdata.isEmpty ? .nodata : .noerror, rdata: rdata, cnameChain: chain)
    }
}
