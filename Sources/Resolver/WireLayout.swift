import CLDNS

/// The layout of a DNS message read straight from its bytes, before ldns sees it: the header fields and
/// where the sections are, with every section walked (names well formed, records inside the message, the
/// rdata of IN-class A, AAAA, NS and CNAME records exactly its RDLENGTH) and the RCODE made whole from an
/// EDNS OPT record. Reading it allocates nothing, so a reply that is not ours is dropped cheaply.
struct ReplyLayout: Sendable, Equatable {
    var id: UInt16
    var isResponse: Bool
    var truncated: Bool
    /// The full 12-bit RCODE (RFC 6891 §6.1.3): the header's 4 bits, below the 8 bits of EXTENDED-RCODE
    /// (the first byte of the OPT record's TTL field) when the additional section carries an OPT record.
    var rcode: UInt16
    var questionCount: Int
    var answerCount: Int
    /// End of the first question (name, type, class), which starts at byte 12; 12 when there is none.
    var questionEnd: Int
    /// Offset of the answer section.
    var answerStart: Int

    /// - Throws: `LDNSError` (ldns's "packet overflow" / "invalid label" statuses) when the message is cut
    ///   short or a name is malformed; ("malformed record") when an IN-class A record's RDLENGTH is not 4,
    ///   an AAAA's not 16, an NS's or CNAME's name does not end exactly at the end of its rdata, or the
    ///   additional section has more than one OPT record.
    init(_ b: UnsafeRawBufferPointer) throws(LDNSError) {
        guard b.count >= 12 else { throw LDNSError(LDNS_STATUS_PACKET_OVERFLOW) }
        id = UInt16(b[0]) << 8 | UInt16(b[1])
        isResponse = b[2] & 0x80 != 0
        truncated = b[2] & 0x02 != 0
        questionCount = Int(b[4]) << 8 | Int(b[5])
        answerCount = Int(b[6]) << 8 | Int(b[7])
        let additionalStart = answerCount + (Int(b[8]) << 8 | Int(b[9]))
        let records = additionalStart + (Int(b[10]) << 8 | Int(b[11]))
        var pos = 12
        questionEnd = 12
        for i in 0..<questionCount {
            guard let end = WireName.skip(b, from: pos), end + 4 <= b.count else { throw LDNSError(LDNS_STATUS_PACKET_OVERFLOW) }
            pos = end + 4
            if i == 0 { questionEnd = pos }
        }
        answerStart = pos
        var extendedRcode: UInt8?
        for i in 0..<records {
            guard let end = WireName.skip(b, from: pos), end + 10 <= b.count else { throw LDNSError(LDNS_STATUS_PACKET_OVERFLOW) }
            let type = UInt16(b[end]) << 8 | UInt16(b[end + 1])
            let rdata = end + 10
            pos = rdata + (Int(b[end + 8]) << 8 | Int(b[end + 9]))
            guard pos <= b.count else { throw LDNSError(LDNS_STATUS_PACKET_OVERFLOW) }
            if type == Self.opt && i >= additionalStart {
                // The class of an OPT record is a UDP size, its TTL carries EXTENDED-RCODE; one at most.
                guard extendedRcode == nil else { throw LDNSError(message: "malformed record: more than one OPT record") }
                extendedRcode = b[end + 4]
            } else if b[end + 2] == 0 && b[end + 3] == 1 {
                // Class IN: the rdata of the types dnswatch reads must be exactly their RDLENGTH.
                let exact: Bool
                switch type {
                case 1: exact = pos - rdata == 4
                case 28: exact = pos - rdata == 16
                case 2, 5: exact = pos > rdata && WireName.skip(b, from: rdata) == pos
                default: exact = true
                }
                guard exact else { throw LDNSError(message: "malformed record: type \(type) with \(pos - rdata) bytes of rdata") }
            }
        }
        rcode = UInt16(extendedRcode ?? 0) << 4 | UInt16(b[3] & 0x0F)
    }

    /// TYPE of the EDNS OPT pseudo-record.
    static let opt: UInt16 = 41

    /// Whether the message has exactly one question and it is `question` (a query's question section:
    /// wire name, type, class), the name compared without regard to ASCII case, type and class exactly.
    func asks(_ question: UnsafeRawBufferPointer, in b: UnsafeRawBufferPointer) -> Bool {
        guard questionCount == 1, questionEnd - 12 == question.count, question.count > 4 else { return false }
        let nameLength = question.count - 4
        let reply = UnsafeRawBufferPointer(rebasing: b[12..<questionEnd])
        guard WireName.equal(UnsafeRawBufferPointer(rebasing: reply[0..<nameLength]),
                             UnsafeRawBufferPointer(rebasing: question[0..<nameLength])) else { return false }
        for i in nameLength..<question.count where reply[i] != question[i] { return false }
        return true
    }
}

/// Wire-format domain names.
enum WireName {
    /// The offset just past the name that starts at `from` (a compression pointer ends it); nil when the name
    /// runs past the message, uses a reserved label type or is longer than 255 bytes.
    @inline(__always)
    static func skip(_ b: UnsafeRawBufferPointer, from: Int) -> Int? {
        var p = from
        while p < b.count {
            let len = Int(b[p])
            switch len & 0xC0 {
            case 0xC0:
                guard p + 2 <= b.count else { return nil }
                let target = (len & 0x3F) << 8 | Int(b[p + 1])
                return target < b.count ? p + 2 : nil
            case 0:
                if len == 0 { return p + 1 }
                p += 1 + len
                if p - from > 255 { return nil }
            default:
                return nil
            }
        }
        return nil
    }

    /// Whether two uncompressed wire names are equal, ASCII letters compared without regard to case. Length
    /// bytes (at most 63) never fall in the letter range, so the bytes can be compared in one pass.
    @inline(__always)
    static func equal(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        guard a.count == b.count else { return false }
        for i in 0..<a.count {
            let x = a[i], y = b[i]
            if x != y && fold(x) != fold(y) { return false }
        }
        return true
    }

    @inline(__always)
    static func fold(_ c: UInt8) -> UInt8 {
        c &- 0x41 < 26 ? c | 0x20 : c
    }

    /// The wire form of a question for `name`/`type`/IN as ldns encodes it (name, type, class), or nil when
    /// ldns rejects the name.
    static func question(name: String, type: UInt16) -> [UInt8]? {
        guard let rdf = ldns_dname_new_frm_str(name) else { return nil }
        defer { ldns_rdf_deep_free(rdf) }
        guard let data = ldns_rdf_data(rdf) else { return nil }
        var out = Array(UnsafeBufferPointer(start: data, count: ldns_rdf_size(rdf)))
        out += [UInt8(type >> 8), UInt8(type & 0xFF), 0, 1]
        return out
    }
}
