import DNSWatchModel

/// A minimal DNS wire encoder/decoder for scripted test servers (deliberately independent of ldns).
public enum DNSTestWire {
    /// The parts of a query a scripted server needs.
    public struct Query: Sendable, Equatable {
        public var id: UInt16
        /// Lower case, no trailing dot.
        public var name: String
        public var type: UInt16
        public var qclass: UInt16
        /// The question section exactly as sent (name, type, class).
        public var questionBytes: [UInt8]
        /// Whether the query carries an OPT record (ARCOUNT > 0).
        public var hasAdditional: Bool
    }

    /// One resource record to put in a test reply.
    public struct Record: Sendable {
        public var name: String
        public var type: UInt16
        public var ttl: UInt32
        public var rdata: [UInt8]
        /// CLASS (1: IN).
        public var rrClass: UInt16

        public init(name: String, type: UInt16, ttl: UInt32 = 300, rdata: [UInt8], rrClass: UInt16 = 1) {
            self.name = name
            self.type = type
            self.ttl = ttl
            self.rdata = rdata
            self.rrClass = rrClass
        }

        public static func a(_ name: String, _ address: String, ttl: UInt32 = 300) -> Record {
            Record(name: name, type: 1, ttl: ttl, rdata: IPAddress(address)?.bytes ?? [0, 0, 0, 0])
        }
        public static func aaaa(_ name: String, _ address: String, ttl: UInt32 = 300) -> Record {
            Record(name: name, type: 28, ttl: ttl, rdata: IPAddress(address)?.bytes ?? Array(repeating: 0, count: 16))
        }
        public static func ns(_ name: String, _ target: String, ttl: UInt32 = 300) -> Record {
            Record(name: name, type: 2, ttl: ttl, rdata: encodeName(target))
        }
        public static func cname(_ name: String, _ target: String, ttl: UInt32 = 300) -> Record {
            Record(name: name, type: 5, ttl: ttl, rdata: encodeName(target))
        }
        public static func txt(_ name: String, _ strings: [String], ttl: UInt32 = 300) -> Record {
            var rdata: [UInt8] = []
            for s in strings {
                let bytes = Array(s.utf8.prefix(255))
                rdata.append(UInt8(bytes.count))
                rdata += bytes
            }
            return Record(name: name, type: 16, ttl: ttl, rdata: rdata)
        }
    }

    /// Uncompressed wire form of a dotted name ("" or "." is the root).
    public static func encodeName(_ name: String) -> [UInt8] {
        var out: [UInt8] = []
        for label in name.split(separator: ".") {
            let bytes = Array(label.utf8.prefix(63))
            out.append(UInt8(bytes.count))
            out += bytes
        }
        out.append(0)
        return out
    }

    /// Reads the header and the first question of a query; nil when it is too short or malformed.
    public static func parseQuery(_ bytes: [UInt8]) -> Query? {
        guard bytes.count >= 12, u16(bytes, 4) >= 1 else { return nil }
        var i = 12
        var labels: [String] = []
        while i < bytes.count {
            let len = Int(bytes[i])
            if len == 0 { i += 1; break }
            guard len < 64, i + 1 + len <= bytes.count else { return nil }
            labels.append(String(decoding: bytes[(i + 1)...(i + len)], as: UTF8.self).lowercased())
            i += 1 + len
        }
        guard i + 4 <= bytes.count else { return nil }
        return Query(
            id: u16(bytes, 0), name: labels.joined(separator: "."), type: u16(bytes, i), qclass: u16(bytes, i + 2),
            questionBytes: Array(bytes[12..<(i + 4)]), hasAdditional: u16(bytes, 10) > 0)
    }

    /// A query message (RD set, no EDNS) — for tests that need one without ldns.
    public static func query(id: UInt16, name: String, type: UInt16) -> [UInt8] {
        var out = header(id: id, flags: 0x0100, qd: 1, an: 0, ns: 0, ar: 0)
        out += encodeName(name)
        out += be16(type) + be16(1)
        return out
    }

    /// A reply to `query`: its question echoed (or `questionName`/`questionType` instead), QR+RD+RA set.
    /// `rcode` is the header's 4 bits; `extendedRcode` adds an EDNS OPT record (RFC 6891) carrying the
    /// upper 8 bits of the RCODE.
    public static func reply(
        to query: [UInt8], id: UInt16? = nil, questionName: String? = nil, questionType: UInt16? = nil,
        rcode: UInt8 = 0, extendedRcode: UInt8? = nil, truncated: Bool = false, authoritative: Bool = false,
        answers: [Record] = [], authority: [Record] = []
    ) -> [UInt8] {
        let q = parseQuery(query)
        var flags: UInt16 = 0x8000 | 0x0100 | 0x0080 | UInt16(rcode & 0x0F)
        if truncated { flags |= 0x0200 }
        if authoritative { flags |= 0x0400 }
        var question: [UInt8] = []
        if let q {
            if questionName != nil || questionType != nil {
                question = encodeName(questionName ?? q.name) + be16(questionType ?? q.type) + be16(q.qclass)
            } else {
                question = q.questionBytes
            }
        }
        var out = header(
            id: id ?? q?.id ?? 0, flags: flags, qd: question.isEmpty ? 0 : 1,
            an: UInt16(answers.count), ns: UInt16(authority.count), ar: extendedRcode == nil ? 0 : 1)
        out += question
        var records = answers + authority
        if let extendedRcode {
            // OPT: root owner, CLASS the UDP size, TTL = EXTENDED-RCODE, VERSION 0, flags 0.
            records.append(Record(name: "", type: 41, ttl: UInt32(extendedRcode) << 24, rdata: [], rrClass: 1232))
        }
        for r in records {
            out += encodeName(r.name) + be16(r.type) + be16(r.rrClass)
            out += be16(UInt16(r.ttl >> 16)) + be16(UInt16(r.ttl & 0xFFFF))
            out += be16(UInt16(r.rdata.count)) + r.rdata
        }
        return out
    }

    /// A minimal SOA record for negative answers in the authority section.
    public static func soa(_ zone: String) -> Record {
        var rdata = encodeName("ns.\(zone)") + encodeName("hostmaster.\(zone)")
        for v: UInt32 in [1, 3600, 600, 86400, 60] { rdata += be16(UInt16(v >> 16)) + be16(UInt16(v & 0xFFFF)) }
        return Record(name: zone, type: 6, ttl: 60, rdata: rdata)
    }

    /// The ID of a message (0 when too short).
    public static func id(of message: [UInt8]) -> UInt16 { message.count >= 2 ? u16(message, 0) : 0 }

    /// Hex text (no separators) to bytes; whitespace is ignored. Nil on a bad digit or odd length.
    public static func bytes(hex: String) -> [UInt8]? {
        let digits = hex.filter { !$0.isWhitespace }
        guard digits.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        var it = digits.makeIterator()
        while let h = it.next(), let l = it.next() {
            guard let v = UInt8(String([h, l]), radix: 16) else { return nil }
            out.append(v)
        }
        return out
    }

    private static func header(id: UInt16, flags: UInt16, qd: UInt16, an: UInt16, ns: UInt16, ar: UInt16) -> [UInt8] {
        be16(id) + be16(flags) + be16(qd) + be16(an) + be16(ns) + be16(ar)
    }

    private static func be16(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xFF)] }
    private static func u16(_ b: [UInt8], _ i: Int) -> UInt16 { UInt16(b[i]) << 8 | UInt16(b[i + 1]) }
}
