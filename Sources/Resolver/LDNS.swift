import CLDNS
import DNSWatchModel

#if canImport(Glibc)
import Glibc
#endif

/// An `ldns_status` other than `LDNS_STATUS_OK`, with ldns's own text for it.
struct LDNSError: Error, CustomStringConvertible, Sendable {
    let status: UInt32
    let message: String

    init(_ status: ldns_status) {
        self.status = status.rawValue
        if let text = ldns_get_errorstr_by_id(status) {
            message = String(cString: text)
        } else {
            message = "ldns status \(status.rawValue)"
        }
    }

    /// For failures ldns reports as a NULL result rather than a status.
    init(message: String) {
        status = LDNS_STATUS_ERR.rawValue
        self.message = message
    }

    var description: String { "ldns: \(message)" }
}

/// Owns one `ldns_pkt`; freed when the wrapper goes away.
final class LDNSPacket {
    let pointer: UnsafeMutablePointer<ldns_pkt>

    private init(owning pointer: UnsafeMutablePointer<ldns_pkt>) {
        self.pointer = pointer
    }

    deinit {
        ldns_pkt_free(pointer)
    }

    /// A recursive (RD) query for `name`/`type` class IN with an EDNS0 OPT record advertising `ednsBufferSize`
    /// (none when 0). Also returns the name as `DNameText` renders it, for matching replies.
    static func query(name: String, type: UInt16, ednsBufferSize: UInt16) throws -> (packet: LDNSPacket, name: String) {
        guard let owner = ldns_dname_new_frm_str(name) else { throw LDNSError(LDNS_STATUS_INVALID_STR) }
        let text = DNameText.render(owner)
        // ldns_pkt_query_new takes ownership of `owner` when it succeeds; it fails (out of memory) before using it.
        guard let pkt = ldns_pkt_query_new(owner, ldns_rr_type(rawValue: UInt32(type)), LDNS_RR_CLASS_IN, UInt16(LDNS_RD)) else {
            ldns_rdf_deep_free(owner)
            throw LDNSError(message: "cannot build a query packet")
        }
        let packet = LDNSPacket(owning: pkt)
        if ednsBufferSize > 0 {
            ldns_pkt_set_edns_udp_size(pkt, ednsBufferSize)
        }
        return (packet, text)
    }

    /// The message in wire format, written through a reusable buffer.
    func wire(using buffer: LDNSBuffer) throws -> [UInt8] {
        ldns_buffer_clear(buffer.pointer)
        let status = ldns_pkt2buffer_wire(buffer.pointer, pointer)
        guard status == LDNS_STATUS_OK, let data = ldns_buffer_begin(buffer.pointer) else { throw LDNSError(status) }
        return Array(UnsafeBufferPointer(start: data, count: ldns_buffer_position(buffer.pointer)))
    }

    /// The message in wire format.
    func wire() throws -> [UInt8] {
        var buffer: UnsafeMutablePointer<UInt8>?
        var size = 0
        let status = ldns_pkt2wire(&buffer, pointer, &size)
        defer { free(buffer) }
        guard status == LDNS_STATUS_OK, let buffer else { throw LDNSError(status) }
        return Array(UnsafeBufferPointer(start: buffer, count: size))
    }
}

/// Owns one `ldns_buffer`, reused to write many packets.
final class LDNSBuffer {
    let pointer: UnsafeMutablePointer<ldns_buffer>

    init(capacity: Int = 512) throws {
        guard let buffer = ldns_buffer_new(capacity) else { throw LDNSError(message: "out of memory") }
        pointer = buffer
    }

    deinit {
        ldns_buffer_free(pointer)
    }
}

/// A borrowed view of one resource record.
struct LDNSRecord {
    let rr: UnsafeMutablePointer<ldns_rr>

    var type: UInt16 { UInt16(truncatingIfNeeded: ldns_rr_get_type(rr).rawValue) }
    var rrClass: UInt16 { UInt16(truncatingIfNeeded: ldns_rr_get_class(rr).rawValue) }
    var owner: String {
        guard let rdf = ldns_rr_owner(rr) else { return "" }
        return DNameText.render(rdf)
    }
    /// The owner name in (uncompressed) wire form; valid while the record lives.
    var ownerWire: UnsafeRawBufferPointer {
        guard let rdf = ldns_rr_owner(rr), let data = ldns_rdf_data(rdf) else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: data, count: ldns_rdf_size(rdf))
    }
    /// The first rdata field when it is a domain name (NS, CNAME), in wire form; valid while the record lives.
    var nameRdata: UnsafeRawBufferPointer? {
        guard let rdf = ldns_rr_rdf(rr, 0), ldns_rdf_get_type(rdf) == LDNS_RDF_TYPE_DNAME, let data = ldns_rdf_data(rdf) else { return nil }
        return UnsafeRawBufferPointer(start: data, count: ldns_rdf_size(rdf))
    }
    var rdataCount: Int { ldns_rr_rd_count(rr) }

    func rdataBytes(_ i: Int) -> UnsafeRawBufferPointer? {
        guard let rdf = ldns_rr_rdf(rr, i), let data = ldns_rdf_data(rdf) else { return nil }
        return UnsafeRawBufferPointer(start: data, count: ldns_rdf_size(rdf))
    }

    /// Presentation text of the rdata for the types dnswatch records; nil for others or bad rdata.
    var presentation: String? {
        switch type {
        case RRType.a.code:
            guard let bytes = rdataBytes(0), bytes.count == 4 else { return nil }
            return IPv4Text.render(bytes)
        case RRType.aaaa.code:
            guard let bytes = rdataBytes(0), bytes.count == 16 else { return nil }
            return IPv6Text.render(bytes)
        case RRType.ns.code, RRType.cname.code:
            guard let rdf = ldns_rr_rdf(rr, 0), ldns_rdf_get_type(rdf) == LDNS_RDF_TYPE_DNAME else { return nil }
            return DNameText.render(rdf)
        case RRType.txt.code:
            var text: [UInt8] = []
            for i in 0..<rdataCount {
                guard let bytes = rdataBytes(i), !bytes.isEmpty else { continue }
                // A character-string rdf is its length byte followed by the bytes.
                let n = min(Int(bytes[0]), bytes.count - 1)
                text.append(contentsOf: bytes[1..<(1 + n)])
            }
            return String(decoding: text, as: UTF8.self)
        default:
            return nil
        }
    }
}

/// Renders a wire-format domain name the way ldns does (`\.`, `\DDD` escapes), but lower case and
/// without the trailing dot; the root is "".
enum DNameText {
    static func render(_ rdf: UnsafePointer<ldns_rdf>) -> String {
        guard let data = ldns_rdf_data(rdf) else { return "" }
        return render(UnsafeBufferPointer(start: data, count: ldns_rdf_size(rdf)))
    }

    static func render(_ wire: UnsafeBufferPointer<UInt8>) -> String {
        String(unsafeUninitializedCapacity: max(1, wire.count * 4)) { out in
            var o = 0
            var i = 0
            while i < wire.count {
                let len = Int(wire[i])
                if len == 0 || i + 1 + len > wire.count { break }
                if o > 0 {
                    out[o] = UInt8(ascii: ".")
                    o += 1
                }
                for c in wire[(i + 1)...(i + len)] {
                    switch c {
                    case UInt8(ascii: "A")...UInt8(ascii: "Z"):
                        out[o] = c | 0x20
                        o += 1
                    case UInt8(ascii: "."), UInt8(ascii: ";"), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "\\"):
                        out[o] = UInt8(ascii: "\\")
                        out[o + 1] = c
                        o += 2
                    case 0x21...0x7E:
                        out[o] = c
                        o += 1
                    default:
                        out[o] = UInt8(ascii: "\\")
                        out[o + 1] = UInt8(ascii: "0") + c / 100
                        out[o + 2] = UInt8(ascii: "0") + (c / 10) % 10
                        out[o + 3] = UInt8(ascii: "0") + c % 10
                        o += 4
                    }
                }
                i += 1 + len
            }
            return o
        }
    }
}

/// Dotted-quad text of four address bytes (what inet_ntop prints, without its formatting machinery).
enum IPv4Text {
    static func render(_ bytes: UnsafeRawBufferPointer) -> String {
        String(unsafeUninitializedCapacity: 15) { out in
            var o = 0
            for (k, b) in bytes.prefix(4).enumerated() {
                if k > 0 {
                    out[o] = UInt8(ascii: ".")
                    o += 1
                }
                if b >= 100 {
                    out[o] = UInt8(ascii: "0") + b / 100
                    o += 1
                }
                if b >= 10 {
                    out[o] = UInt8(ascii: "0") + (b / 10) % 10
                    o += 1
                }
                out[o] = UInt8(ascii: "0") + b % 10
                o += 1
            }
            return o
        }
    }
}

/// RFC 5952 text of sixteen address bytes, as glibc's inet_ntop prints it: lower-case hex without leading
/// zeros, the longest run of two or more zero groups (the first of equal runs) as "::". Addresses whose
/// first ten bytes are zero (IPv4-mapped and -compatible forms, which inet_ntop prints with a dotted quad)
/// are handed to `IPAddress`.
enum IPv6Text {
    static func render(_ bytes: UnsafeRawBufferPointer) -> String {
        guard bytes.count == 16 else { return "" }
        if bytes.prefix(10).allSatisfy({ $0 == 0 }) {
            return IPAddress(bytes: Array(bytes))?.description ?? ""
        }
        var groups: (UInt16, UInt16, UInt16, UInt16, UInt16, UInt16, UInt16, UInt16) = (0, 0, 0, 0, 0, 0, 0, 0)
        return withUnsafeMutableBytes(of: &groups) { raw in
            let g = raw.bindMemory(to: UInt16.self)
            var bestStart = -1, bestLength = 0, runStart = -1
            for i in 0..<8 {
                g[i] = UInt16(bytes[2 * i]) << 8 | UInt16(bytes[2 * i + 1])
                if g[i] == 0 {
                    if runStart < 0 { runStart = i }
                    if i - runStart + 1 > bestLength { bestStart = runStart; bestLength = i - runStart + 1 }
                } else {
                    runStart = -1
                }
            }
            if bestLength < 2 { bestStart = -1 }
            return String(unsafeUninitializedCapacity: 41) { out in
                var o = 0
                var i = 0
                while i < 8 {
                    if i == bestStart {
                        out[o] = UInt8(ascii: ":")
                        out[o + 1] = UInt8(ascii: ":")
                        o += 2
                        i += bestLength
                        continue
                    }
                    if i > 0 && !(bestStart >= 0 && i == bestStart + bestLength) {
                        out[o] = UInt8(ascii: ":")
                        o += 1
                    }
                    let v = g[i]
                    var shift = v >= 0x1000 ? 12 : v >= 0x100 ? 8 : v >= 0x10 ? 4 : 0
                    while shift >= 0 {
                        let d = UInt8((v >> UInt16(shift)) & 0xF)
                        out[o] = d < 10 ? UInt8(ascii: "0") + d : UInt8(ascii: "a") + d - 10
                        o += 1
                        shift -= 4
                    }
                    i += 1
                }
                return o
            }
        }
    }
}
