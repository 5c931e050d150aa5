import CLDNS

/// Builds query messages fast with ldns: the header and the EDNS0 OPT record are written once by
/// `ldns_pkt2wire` from a template query, and each question's name is encoded by `ldns_dname_new_frm_str`
/// (the question section is that name, the type and class IN, as `ldns_rr2buffer_wire` writes it). The
/// output equals `LDNSPacket.query(...).wire()` but for the ID.
final class LDNSQueryBuilder {
    private let header: [UInt8]
    private let trailer: [UInt8]

    init(ednsBufferSize: UInt16) throws {
        // A query for the root: header (12) + question (root name 1, type 2, class 2) + OPT (if any).
        let template = try LDNSPacket.query(name: ".", type: 1, ednsBufferSize: ednsBufferSize).packet.wire(using: LDNSBuffer())
        guard template.count >= 17 else { throw LDNSError(message: "unexpected template query") }
        header = Array(template[0..<12])
        trailer = Array(template[17...])
    }

    /// Appends the wire query for `name`/`type` (ID 0) to `out`; returns the length of the encoded name (the
    /// question section is the `nameLength + 4` bytes after the 12-byte header). `out` is unchanged on error.
    func append(name: String, type: UInt16, to out: inout [UInt8]) throws(LDNSError) -> Int {
        guard let owner = ldns_dname_new_frm_str(name) else { throw LDNSError(LDNS_STATUS_INVALID_STR) }
        defer { ldns_rdf_deep_free(owner) }
        guard let data = ldns_rdf_data(owner) else { throw LDNSError(LDNS_STATUS_INVALID_STR) }
        let nameWire = UnsafeBufferPointer(start: data, count: ldns_rdf_size(owner))
        out += header
        out += nameWire
        out.append(UInt8(type >> 8))
        out.append(UInt8(type & 0xFF))
        out.append(0)
        out.append(UInt8(LDNS_RR_CLASS_IN.rawValue))
        out += trailer
        return nameWire.count
    }

    /// The wire query for `name`/`type` (ID 0) and the name as `DNameText` renders it.
    func query(name: String, type: UInt16) throws -> (wire: [UInt8], name: String) {
        var wire: [UInt8] = []
        let length = try append(name: name, type: type, to: &wire)
        let text = wire.withUnsafeBufferPointer { DNameText.render(UnsafeBufferPointer(rebasing: $0[12..<(12 + length)])) }
        return (wire, text)
    }
}
