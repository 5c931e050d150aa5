import DNSWatchModel
import Foundation
import Store
import Hummingbird
import HTTPTypes
import Investigation

/// CIRCL passive DNS (Passive DNS Common Output Format, as `pypdns` and `dnsdbq -u circl` read it):
/// `GET /pdns/query/{domain | address | prefix}` → one COF object a line, aggregated per (name, type,
/// rdata set), paged by the dribble headers.
enum CIRCLRoutes {
    static let filterHeader = "dribble-filter-rrtype"
    static let countHeader = "dribble-paginate-count"
    static let cursorHeader = "dribble-paginate-cursor"
    static let nextCursorHeader = "x-dribble-cursor"

    static func register(on router: Router<ServeContext>, _ deps: ServeDependencies) {
        let handler: @Sendable (Request, ServeContext) async throws -> Response = { request, context in
            let text = try PathValue.decodeWithLength(context, "query")
            let page = try Page(request.headers)
            // The lookup, resolved before the answer starts (a bad query is a 400, not a broken body).
            let lookup: @Sendable (_ take: (PDNSObject) async throws -> Bool) async throws -> Void
            if CIDR(text.replacingOccurrences(of: ",", with: "/")) != nil || text.contains(where: { "/,:".contains($0) })
                || text.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }) {
                let block = try PathValue.block(text)
                lookup = { take in try await Aggregation.values(deps.store.addressSpans(in: block), aggregate: true, take) }
            } else {
                let name = try PathValue.name(text)
                lookup = { take in
                    var more = true
                    try await Aggregation.rrsets(deps.store.rrsetSpans(name), aggregate: true) { o in
                        more = try await take(o)
                        return more
                    }
                    if more { try await Aggregation.values(deps.store.nameSpans(holding: name), aggregate: true, take) }
                }
            }
            let headers: HTTPFields = [.contentType: "application/x-ndjson"]
            guard page.paginated else {
                // No paging asked: the objects are streamed as the store's pages come (up to the server's
                // maximum), 32 KB at a time.
                let body = ResponseBody { writer in
                    var buffer = ByteBuffer()
                    var window = Window(offset: 0, limit: page.count)
                    try await lookup { object in
                        guard page.types.admits(object.rrtype) else { return true }
                        guard case .send = window.next() else { return false }
                        buffer.writeBytes(try JSONLine.data(COFObject(object)))
                        buffer.writeString("\n")
                        if buffer.readableBytes >= 32_768 {
                            try await writer.write(buffer)
                            buffer.clear()
                        }
                        return true
                    }
                    try await writer.write(buffer)
                    try await writer.finish(nil)
                }
                return Response(status: .ok, headers: headers, body: body)
            }
            // A page: built in memory (bounded by its count), since the cursor header goes before the body.
            var window = Window(offset: page.cursor, limit: page.count)
            var body = ByteBuffer()
            var more = false
            try await lookup { object in
                guard page.types.admits(object.rrtype) else { return true }
                switch window.next() {
                case .skip: return true
                case .send:
                    body.writeBytes(try JSONLine.data(COFObject(object)))
                    body.writeString("\n")
                    return true
                case .full: more = true; return false
                }
            }
            var paged = headers
            if more, let name = HTTPField.Name(nextCursorHeader) {
                paged[name] = String(page.cursor + window.sent)
            }
            return Response(status: .ok, headers: paged, body: .init(byteBuffer: body))
        }
        router.get("pdns/query/:query", use: handler)
        router.get("pdns/query/:query/:length", use: handler)
    }

    /// The dribble headers: a type filter, a page size and where the page starts.
    struct Page {
        var types = TypeQuery.any
        var count = DNSDBRoutes.maxLimit
        var cursor = 0
        /// `dribble-paginate-count` or a cursor was given: the answer is one page, with a cursor while more remain.
        var paginated = false

        init(_ headers: HTTPFields) throws(BadRequest) {
            func value(_ name: String) -> String? {
                headers.first(where: { $0.name.canonicalName == name })?.value.trimmingCharacters(in: .whitespaces)
            }
            if let t = value(CIRCLRoutes.filterHeader), !t.isEmpty {
                types = try TypeQuery(t)
            }
            if let c = value(CIRCLRoutes.countHeader) {
                guard let n = Int(c), (1...DNSDBRoutes.maxLimit).contains(n) else {
                    throw BadRequest("\(CIRCLRoutes.countHeader): '\(VisibleText.escape(String(c.prefix(40))))' is not an integer from 1 to \(DNSDBRoutes.maxLimit)")
                }
                count = n
                paginated = true
            }
            if let c = value(CIRCLRoutes.cursorHeader) {
                guard let n = Int(c), (0...DNSDBRoutes.maxOffset).contains(n) else {
                    throw BadRequest("\(CIRCLRoutes.cursorHeader): '\(VisibleText.escape(String(c.prefix(40))))' is not a cursor this server gave")
                }
                cursor = n
                paginated = true
            }
        }
    }
}

extension TypeQuery {
    func admits(_ mnemonic: String) -> Bool {
        RRType(name: mnemonic).map(admits) ?? false
    }
}

/// One COF line: `rdata` a string for one value, else an array; `sensor_id` the source of imported records
/// (absent for dnswatch's own polls).
struct COFObject: Encodable {
    let rrname: String, rrtype: String, rdata: DNSDBRdata, time_first: Int64, time_last: Int64, count: Int
    let sensor_id: String?

    init(_ o: PDNSObject) {
        rrname = o.rrname
        rrtype = o.rrtype
        rdata = o.rdata.count == 1 ? .second(o.rdata[0]) : .first(o.rdata)
        time_first = o.timeFirst
        time_last = o.timeLast
        count = o.count
        sensor_id = o.source
    }
}
