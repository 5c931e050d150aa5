import CLDNS

/// Builds query messages fast with ldns: the header and the EDNS0 OPT record are written once by
/// `ldns_pkt2wire` from a template query, and each question section by `ldns_rr2buffer_wire` (no name
/// compression tree per message). The output equals `LDNSPacket.query(...).wire()` but for the ID.
final class LDNSQueryBuilder {
    private let buffer: LDNSBuffer
    private let header: [UInt8]
    private let trailer: [UInt8]

    init(ednsBufferSize: UInt16) throws {
        buffer = try LDNSBuffer()
        // A query for the root: header (12) + question (root name 1, type 2, class 2) + OPT (if any).
        let template = try LDNSPacket.query(name: ".", type: 1, ednsBufferSize: ednsBufferSize).packet.wire(using: buffer)
        guard template.count >= 17 else { throw LDNSError(message: "unexpected template query") }
        header = Array(template[0..<12])
        trailer = Array(template[17...])
    }

    /// The wire query for `name`/`type` (ID 0) and the name as `DNameText` renders it.
    func query(name: String, type: UInt16) throws -> (wire: [UInt8], name: String) {
        guard let owner = ldns_dname_new_frm_str(name) else { throw LDNSError(LDNS_STATUS_INVALID_STR) }
        let text = DNameText.render(owner)
        guard let rr = ldns_rr_new() else {
            ldns_rdf_deep_free(owner)
            throw LDNSError(message: "out of memory")
        }
        defer { ldns_rr_free(rr) }  // frees the owner name too
        ldns_rr_set_owner(rr, owner)
        ldns_rr_set_question(rr, 1)
        ldns_rr_set_type(rr, ldns_rr_type(rawValue: UInt32(type)))
        ldns_rr_set_class(rr, LDNS_RR_CLASS_IN)
        ldns_buffer_clear(buffer.pointer)
        let status = ldns_rr2buffer_wire(buffer.pointer, rr, Int32(LDNS_SECTION_QUESTION.rawValue))
        guard status == LDNS_STATUS_OK, let data = ldns_buffer_begin(buffer.pointer) else { throw LDNSError(status) }
        let question = UnsafeBufferPointer(start: data, count: ldns_buffer_position(buffer.pointer))
        var wire = [UInt8]()
        wire.reserveCapacity(header.count + question.count + trailer.count)
        wire += header
        wire += question
        wire += trailer
        return (wire, text)
    }
}
