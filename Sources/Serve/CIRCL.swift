import DNSWatchModel
import Foundation
import HistoryStore
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
            var text = try PathValue.decode(context.parameters.get("query"), what: "query")
            if let length = context.parameters.get("length") {
                text += "/" + (try PathValue.decode(length, what: "prefix length"))
            }
            let page = try Page(request.headers)
            var window = Window(offset: page.cursor, limit: page.count)
            var objects: [PDNSObject] = []
            var more = false
            func take(_ object: PDNSObject) async throws -> Bool {
                guard page.types.admits(object.rrtype) else { return true }
                switch window.next() {
                case .skip: return true
                case .send: objects.append(object); return true
                case .full: more = true; return false
                }
            }
            if CIDR(text.replacingOccurrences(of: ",", with: "/")) != nil || text.contains(where: { "/,:".contains($0) })
                || text.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }) {
                let block = try PathValue.block(text)
                try await Aggregation.values(deps.store.addressSpans(in: block), aggregate: true, take)
            } else {
                let name = try PathValue.name(text)
                try await Aggregation.rrsets(deps.store.rrsetSpans(name), aggregate: true, take)
                if !more {
                    try await Aggregation.values(deps.store.nameSpans(holding: name), aggregate: true, take)
                }
            }
            var body = ByteBuffer()
            for o in objects {
                body.writeBytes(try JSONLine.data(COFObject(o)))
                body.writeString("\n")
            }
            var headers: HTTPFields = [.contentType: "application/x-ndjson"]
            if more, let name = HTTPField.Name(nextCursorHeader) {
                headers[name] = String(page.cursor + window.sent)
            }
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: body))
        }
        router.get("pdns/query/:query", use: handler)
        router.get("pdns/query/:query/:length", use: handler)
    }

    /// The dribble headers: a type filter, a page size and where the page starts.
    struct Page {
        var types = TypeQuery.any
        var count = DNSDBRoutes.maxLimit
        var cursor = 0

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
            }
            if let c = value(CIRCLRoutes.cursorHeader) {
                guard let n = Int(c), (0...DNSDBRoutes.maxOffset).contains(n) else {
                    throw BadRequest("\(CIRCLRoutes.cursorHeader): '\(VisibleText.escape(String(c.prefix(40))))' is not a cursor this server gave")
                }
                cursor = n
            }
        }
    }
}

extension TypeQuery {
    func admits(_ mnemonic: String) -> Bool {
        RRType(name: mnemonic).map(admits) ?? false
    }
}

/// One COF line: `rdata` a string for one value, else an array.
struct COFObject: Encodable {
    let rrname: String, rrtype: String, rdata: DNSDBRdata, time_first: Int64, time_last: Int64, count: Int

    init(_ o: PDNSObject) {
        rrname = o.rrname
        rrtype = o.rrtype
        rdata = o.rdata.count == 1 ? .value(o.rdata[0]) : .set(o.rdata)
        time_first = o.timeFirst
        time_last = o.timeLast
        count = o.count
    }
}
