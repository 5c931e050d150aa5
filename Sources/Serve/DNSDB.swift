import DNSWatchModel
import Foundation
import Store
import Hummingbird
import Investigation
import Logging

/// Farsight DNSDB API v2 (the subset `dnsdbq` and `dnsdb2` use): ping, rate_limit, rrset and rdata lookups
/// and their summaries, in SAF framing (`application/x-ndjson`), streamed as the store's pages arrive.
enum DNSDBRoutes {
    /// DNSDB's default `limit`, and the most one request answers (`limit=0` asks for it); `offset` pages on.
    static let defaultLimit = 10_000
    static let maxLimit = 100_000
    static let maxOffset = 10_000_000

    static func register(on router: Router<ServeContext>, _ deps: ServeDependencies) {
        let v2 = router.group("dnsdb/v2")
        v2.get("ping") { _, _ in json(#"{"ping":"ok"}"#) }
        v2.get("rate_limit") { _, _ in
            json(#"{"rate":{"limit":"unlimited","remaining":"n/a","reset":"n/a"}}"#)
        }
        for summarize in [false, true] {
            let base = v2.group(summarize ? "summarize" : "lookup")
            let rrset: @Sendable (Request, ServeContext) async throws -> Response = { request, context in
                let (name, type) = try nameAndType(context)
                if let bailiwick = context.parameters.get("bailiwick") {
                    _ = try PathValue.decode(bailiwick, what: "bailiwick")  // accepted and ignored
                }
                let query = try DNSDBQuery(try request.queryList(), summarize: summarize)
                return answer(query) { emit in
                    try await type.withStoredType { stored in
                        try await Aggregation.rrsets(deps.store.rrsetSpans(name, type: stored, fence: query.fence), aggregate: query.aggregate, emit)
                    }
                }
            }
            base.get("rrset/name/:name", use: rrset)
            base.get("rrset/name/:name/:type", use: rrset)
            base.get("rrset/name/:name/:type/:bailiwick", use: rrset)
            let rdataIP: @Sendable (Request, ServeContext) async throws -> Response = { request, context in
                let block = try PathValue.block(try PathValue.decodeWithLength(context, "address"))
                let query = try DNSDBQuery(try request.queryList(), summarize: summarize)
                return answer(query) { emit in
                    try await Aggregation.values(deps.store.addressSpans(in: block, fence: query.fence), aggregate: query.aggregate, emit)
                }
            }
            base.get("rdata/ip/:address", use: rdataIP)
            base.get("rdata/ip/:address/:length", use: rdataIP)
            let rdataName: @Sendable (Request, ServeContext) async throws -> Response = { request, context in
                let (name, type) = try nameAndType(context)
                let query = try DNSDBQuery(try request.queryList(), summarize: summarize)
                return answer(query) { emit in
                    // Only NS and CNAME rdata are names.
                    try await type.withStoredType(accepting: \.hasNameRdata) { stored in
                        try await Aggregation.values(deps.store.nameSpans(holding: name, type: stored, fence: query.fence),
                                                     aggregate: query.aggregate, emit)
                    }
                }
            }
            base.get("rdata/name/:name", use: rdataName)
            base.get("rdata/name/:name/:type", use: rdataName)
        }
    }

    /// The `{name}` (or `*.suffix`) and the optional `{type}` of a path.
    static func nameAndType(_ context: ServeContext) throws(BadRequest) -> (NameMatch, TypeQuery) {
        let name = try PathValue.name(try PathValue.decode(context.parameters.get("name"), what: "name"))
        guard let type = context.parameters.get("type") else { return (name, .any) }
        return (name, try TypeQuery(try PathValue.decode(type, what: "type")))
    }

    private static func json(_ text: String) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text + "\n")))
    }

    /// The SAF body: `begin` at once, then the objects (or for summarize the one summary) inside the
    /// window, then `succeeded`, `limited` (the limit cut results) or `failed` (the store failed midway).
    static func answer(_ query: DNSDBQuery,
                       _ lookup: @escaping @Sendable (_ emit: (PDNSObject) async throws -> Bool) async throws -> Void) -> Response {
        let body = ResponseBody { writer in
            var buffer = ByteBuffer()
            buffer.writeString(#"{"cond":"begin"}"# + "\n")
            try await writer.write(buffer)
            buffer.clear()
            var window = Window(offset: query.offset, limit: query.limit)
            var limited = false
            var summary = Summary()
            let condition: String
            do {
                try await lookup { object in
                    switch window.next() {
                    case .skip:
                        return true
                    case .full:
                        limited = true
                        return false
                    case .send:
                        if query.summarize {
                            summary.add(object)
                            if let max = query.maxCount, summary.count >= max {
                                limited = true
                                return false
                            }
                        } else {
                            buffer.writeBytes(try JSONLine.data(ObjectLine(obj: DNSDBObject(object, human: query.humanTime))))
                            buffer.writeString("\n")
                            if buffer.readableBytes >= 32_768 {
                                try await writer.write(buffer)
                                buffer.clear()
                            }
                        }
                        return true
                    }
                }
                if query.summarize, summary.results > 0 {
                    buffer.writeBytes(try JSONLine.data(ObjectLine(obj: summary.object(human: query.humanTime))))
                    buffer.writeString("\n")
                }
                condition = limited ? #"{"cond":"limited","msg":"Result limit reached"}"# : #"{"cond":"succeeded"}"#
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                Logger(label: "dnswatch.serve").error("lookup failed: \(error)")
                condition = #"{"cond":"failed","msg":"the history database could not be read"}"#
            }
            buffer.writeString(condition + "\n")
            try await writer.write(buffer)
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "application/x-ndjson"], body: body)
    }

    struct Summary {
        var count = 0
        var results = 0
        var first = Int64.max
        var last = Int64.min

        mutating func add(_ o: PDNSObject) {
            count = PDNSObject.sum(count, o.count)
            results += 1
            first = min(first, o.timeFirst)
            last = max(last, o.timeLast)
        }

        func object(human: Bool) -> SummaryObject {
            SummaryObject(count: count, num_results: results, time_first: .init(first, human: human), time_last: .init(last, human: human))
        }
    }
}

extension Request {
    /// The query string's parameters, percent-decoded (`QueryText`), in order.
    func queryList() throws(BadRequest) -> [(key: String, value: String)] {
        try QueryText.parameters(uri.query)
    }
}

/// A lookup's query parameters, each checked: a bad value is a 400 naming it.
struct DNSDBQuery: Sendable {
    var limit = DNSDBRoutes.defaultLimit
    var offset = 0
    var fence = TimeFence.none
    var aggregate = true
    var humanTime = false
    var maxCount: Int?
    var summarize: Bool

    static let known: Set<String> = [
        "limit", "offset", "time_first_before", "time_first_after", "time_last_before", "time_last_after",
        "aggr", "humantime", "swclient", "version", "max_count", "id",
    ]

    init(_ parameters: [(key: String, value: String)], summarize: Bool, now: Int64 = Int64(Date().timeIntervalSince1970)) throws(BadRequest) {
        self.summarize = summarize
        for (key, value) in parameters {
            let name = key
            guard DNSDBQuery.known.contains(name) else {
                // A client may send parameters of its own (empty ones too): ignored, as DNSDB's own
                // "ignored where meaningless" ones. But a misspelt time fence would silently widen the
                // answer: a `time...` name this server does not know is refused.
                if name.lowercased().hasPrefix("time") {
                    throw BadRequest("unknown time fence '\(VisibleText.escape(String(name.prefix(40))))' (time_first_before, time_first_after, time_last_before, time_last_after)")
                }
                continue
            }
            let text = value
            guard text.utf8.count <= 100 else { throw BadRequest("\(name): value too long") }
            switch name {
            case "limit":
                // Above the server's maximum the maximum is used (and `limited` says when it cut results):
                // a client asking for "everything" gets the most a request gives, then pages with `offset`.
                let n = try DNSDBQuery.integer(text, name, 0...100_000_000_000)
                limit = n == 0 ? DNSDBRoutes.maxLimit : Int(min(n, Int64(DNSDBRoutes.maxLimit)))
            case "offset":
                offset = Int(try DNSDBQuery.integer(text, name, 0...Int64(DNSDBRoutes.maxOffset)))
            case "max_count":
                maxCount = Int(try DNSDBQuery.integer(text, name, 1...Int64(Int32.max)))
            case "time_first_before": fence.firstBefore = try DNSDBQuery.time(text, name, now)
            case "time_first_after": fence.firstAfter = try DNSDBQuery.time(text, name, now)
            case "time_last_before": fence.lastBefore = try DNSDBQuery.time(text, name, now)
            case "time_last_after": fence.lastAfter = try DNSDBQuery.time(text, name, now)
            case "aggr": aggregate = try DNSDBQuery.boolean(text, name)
            case "humantime": humanTime = try DNSDBQuery.boolean(text, name)
            default: break  // swclient, version, id: who asks, recorded nowhere
            }
        }
    }

    static func integer(_ text: String, _ name: String, _ range: ClosedRange<Int64>) throws(BadRequest) -> Int64 {
        guard let n = Int64(text), range.contains(n) else {
            throw BadRequest("\(name): '\(VisibleText.escape(text))' is not an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return n
    }

    /// Epoch seconds, or a negative number: that many seconds before now.
    static func time(_ text: String, _ name: String, _ now: Int64) throws(BadRequest) -> Int64 {
        let n = try integer(text, name, -100_000_000_000...100_000_000_000)
        return n < 0 ? now + n : n
    }

    static func boolean(_ text: String, _ name: String) throws(BadRequest) -> Bool {
        switch text.lowercased() {
        case "t", "true", "1": return true
        case "f", "false", "0": return false
        default: throw BadRequest("\(name): '\(VisibleText.escape(text))' is not a boolean (t, f, true, false, 1 or 0)")
        }
    }
}

/// A JSON value that is one of two types, encoded as the one it holds.
enum OneOf<First: Encodable, Second: Encodable>: Encodable {
    case first(First)
    case second(Second)

    func encode(to encoder: any Encoder) throws {
        switch self {
        case .first(let v): try v.encode(to: encoder)
        case .second(let v): try v.encode(to: encoder)
        }
    }
}

/// A time as DNSDB writes it: epoch seconds, or with `humantime` the UTC text `2026-12-01 14:00:00`.
typealias DNSDBTime = OneOf<Int64, String>

extension OneOf where First == Int64, Second == String {
    init(_ t: Int64, human: Bool) {
        self = human ? .second(String(ISOTime.format(t).dropLast().replacingOccurrences(of: "T", with: " "))) : .first(t)
    }
}

/// `rdata`: an array for an rrset, the matched value for an rdata lookup (COF: a string for one value).
typealias DNSDBRdata = OneOf<[String], String>

/// A DNSDB object; `sensor_id` (as COF names it) the source of imported records, absent for dnswatch's own polls.
struct DNSDBObject: Encodable {
    let rrname: String, rrtype: String, rdata: DNSDBRdata, time_first: DNSDBTime, time_last: DNSDBTime, count: Int
    let sensor_id: String?

    init(_ o: PDNSObject, human: Bool) {
        rrname = o.rrname
        rrtype = o.rrtype
        rdata = o.isValueHit ? .second(o.rdata.first ?? "") : .first(o.rdata)
        time_first = DNSDBTime(o.timeFirst, human: human)
        time_last = DNSDBTime(o.timeLast, human: human)
        count = o.count
        sensor_id = o.source
    }
}

struct SummaryObject: Encodable {
    let count: Int, num_results: Int, time_first: DNSDBTime, time_last: DNSDBTime
}

struct ObjectLine<T: Encodable>: Encodable {
    let obj: T
}
