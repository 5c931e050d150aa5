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
            return IPAddressText.ipv4(bytes)
        case RRType.aaaa.code:
            guard let bytes = rdataBytes(0), bytes.count == 16 else { return nil }
            return IPAddressText.ipv6(bytes)
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
