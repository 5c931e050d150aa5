import DNSWatchModel
import Detection
import Foundation
import Store
import HTTPTypes
import Hummingbird
import Investigation

/// dnswatch's own API, `/api/v1/...`: each answer is a JSON array of exactly the objects the CLI's
/// `--json` writes a line each (triage: its one object), built by the same Investigation types
/// (`HistoryLine`, `AddressLine`, `TriageOutput`, `WatchedLine`, the stored alert payloads) and encoded by
/// `JSONLine`. Described by `openapi.json` (served at `/api/v1/openapi.json`, embedded in the binary).
///
/// Every parameter is checked: an unknown or repeated query parameter, a bad domain, address, time, type,
/// severity, `limit` or `offset` is a 400 with `{"error": "..."}`. Arrays are paged: `limit` (default
/// ``defaultLimit``, at most ``maximumLimit``) objects from `offset`; when more remain the answer carries
/// `X-Next-Offset`, the `offset` of the next page.
enum APIRoutes {
    static let defaultLimit = 1000
    static let maximumLimit = 10_000
    static let maximumOffset = 1_000_000_000
    /// The most sightings `/api/v1/ip` reads for one prefix (all are read before paging, oldest first); a
    /// wider one is a 400 pointing to DNSDB's rdata/ip, which streams.
    static let maximumSightings = 100_000

    static func register(on router: Router<ServeContext>, _ deps: ServeDependencies) {
        let api = router.group("api/v1")
        api.get("openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"],
                     body: .init(byteBuffer: ByteBuffer(bytes: PackageResources.openapi_json)))
        }
        api.get("history/:domain") { request, context in
            let q = try Query(request, allowed: ["type", "since", "until", "source", "limit", "offset"])
            let page = try Page(q)
            let name = try domain(try segment("domain", context))
            let type = try q["type"].map { v in try parameter("type") { () throws(InputError) in try RRType.historyType(v) } }
            let since = try q["since"].map { try time("since", $0) }, until = try q["until"].map { try time("until", $0) }
            let source = q["source"].map(SourceFilter.init)
            let lines = try await deps.store.history(domain: name.value, type: type, since: since, until: until, source: source)
                .map(HistoryLine.init)
            return try page.answer(lines) { try JSONLine.encode($0) }
        }
        let ip: @Sendable (Request, ServeContext) async throws -> Response = { request, context in
            let page = try Page(try Query(request, allowed: ["limit", "offset"]))
            let text: String
            do throws(BadRequest) {
                text = try PathValue.decodeWithLength(context, "address")
            } catch {
                throw APIError(.badRequest, error.message)
            }
            // A prefix's '/' comes as is (two segments), percent-encoded, or as ',' as in DNSDB's rdata/ip.
            guard let block = CIDR(text.replacingOccurrences(of: ",", with: "/")) else {
                throw APIError(.badRequest, "'\(VisibleText.escape(text))' is not an IP address or CIDR prefix")
            }
            let lines: [AddressLine]
            do {
                lines = try await deps.investigator.addresses(in: block.unmapped, atMost: maximumSightings)
            } catch let e as TooManySightings {
                throw APIError(.badRequest, e.description)
            }
            return try page.answer(lines) { try JSONLine.encode($0) }
        }
        api.get("ip/:address", use: ip)
        api.get("ip/:address/:length", use: ip)
        api.get("triage/:value") { request, context in
            let q = try Query(request, allowed: ["at", "limit"])
            let value = try segment("value", context)
            let query = IPAddress(value) != nil ? value : try domain(value).value
            let at = try q["at"].map { try time("at", $0) }
            let limit = try q["limit"].map { text in
                try parameter("limit") { () throws(InputError) in
                    guard let n = Int(text), n >= 0 else { throw InputError("'\(VisibleText.escape(text))' is not a count (0 or more)") }
                    return n
                }
            }
            return json(try JSONLine.encode(TriageOutput(try await deps.investigator.triage(query, at: at, limit: limit))))
        }
        api.get("alerts") { request, _ in
            let q = try Query(request, allowed: ["since", "severity", "limit", "offset"])
            let page = try Page(q)
            let since = try q["since"].map { try time("since", $0) }
            let severity = try q["severity"].map { v in try parameter("severity") { () throws(InputError) in try Severity.named(v) } }
            do {
                return try page.answer(try await deps.store.knownAlerts(since: since, severity: severity)) { $0.payload }
            } catch let e as UnknownAlertError {
                // Not the client's fault: the database holds what this version cannot vouch for.
                throw APIError(.internalServerError, e.description)
            }
        }
        api.get("domains") { request, _ in
            let q = try Query(request, allowed: ["list", "limit", "offset"])
            let page = try Page(q)
            let rows = try await deps.store.watchedDomains(list: q["list"])
            return try page.answer(rows) { try JSONLine.encode(WatchedLine($0, defaults: deps.intervals)) }
        }
    }

    /// A path parameter, percent-decoded.
    static func segment(_ name: String, _ context: ServeContext) throws(APIError) -> String {
        do {
            return try PathValue.decode(context.parameters.get(name), what: name)
        } catch {
            throw APIError(.badRequest, error.message)  // the passive-DNS routes' rule, as a JSON error
        }
    }

    static func domain(_ text: String) throws(APIError) -> DomainName {
        do {
            return try DomainName(text)
        } catch {
            throw APIError(.badRequest, "'\(VisibleText.escape(text))' is not a domain name: \(error)")
        }
    }

    /// A TIME as the CLI's `--since`/`--until` take it: ISO 8601, 90m / 36h / 7d ago, or epoch seconds.
    static func time(_ name: String, _ text: String) throws(APIError) -> Int64 {
        do {
            return try TimeSpecParser.epoch(text)
        } catch {
            throw APIError(.badRequest, "\(name): \(error.description)")
        }
    }

    static func parameter<T>(_ name: String, _ parse: () throws(InputError) -> T) throws(APIError) -> T {
        do {
            return try parse()
        } catch {
            throw APIError(.badRequest, "\(name): \(error.description)")
        }
    }

    static func json(_ text: String, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = "application/json"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

/// A query string's parameters: only those the endpoint takes, each at most once.
struct Query {
    private var values: [String: String] = [:]

    init(_ request: Request, allowed: [String]) throws(APIError) {
        let parameters: [(key: String, value: String)]
        do {
            parameters = try request.queryList()
        } catch {
            throw APIError(.badRequest, error.message)
        }
        for (k, value) in parameters {
            guard allowed.contains(k) else {
                let takes = allowed.isEmpty ? "no parameters" : allowed.joined(separator: ", ")
                throw APIError(.badRequest, "unknown parameter '\(VisibleText.escape(k))' (this endpoint takes \(takes))")
            }
            guard values[k] == nil else { throw APIError(.badRequest, "parameter '\(k)' given more than once") }
            values[k] = value
        }
    }

    subscript(_ name: String) -> String? { values[name] }
}

/// `limit` and `offset` of an array answer.
struct Page {
    static let nextOffset: HTTPField.Name = {
        guard let name = HTTPField.Name("X-Next-Offset") else { preconditionFailure("X-Next-Offset is a valid field name") }
        return name
    }()

    let limit: Int, offset: Int

    init(_ q: Query) throws(APIError) {
        limit = try Page.number("limit", q["limit"], default: APIRoutes.defaultLimit, 1...APIRoutes.maximumLimit)
        offset = try Page.number("offset", q["offset"], default: 0, 0...APIRoutes.maximumOffset)
    }

    private static func number(_ name: String, _ text: String?, default value: Int, _ range: ClosedRange<Int>) throws(APIError) -> Int {
        guard let text else { return value }
        guard text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }), let n = Int(text), range.contains(n) else {
            throw APIError(.badRequest, "\(name): '\(VisibleText.escape(text))' is not a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return n
    }

    /// This page of `items` as a JSON array (`object` gives each one's JSON text), with `X-Next-Offset` when
    /// more remain.
    func answer<T>(_ items: [T], _ object: (T) throws -> String) throws -> Response {
        let start = min(offset, items.count), end = min(start + limit, items.count)
        var headers: HTTPFields = [:]
        if end < items.count { headers[Page.nextOffset] = String(end) }
        return APIRoutes.json("[" + (try items[start..<end].map(object)).joined(separator: ",") + "]", headers: headers)
    }
}

/// An answer other than 200: its status and `{"error": message}`.
struct APIError: HTTPResponseError {
    let status: HTTPResponse.Status
    let message: String

    init(_ status: HTTPResponse.Status, _ message: String) {
        self.status = status
        self.message = message
    }

    struct Body: Encodable { let error: String }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        Response(status: status, headers: [.contentType: "application/json"],
                 body: .init(byteBuffer: ByteBuffer(string: try JSONLine.encode(Body(error: message)))))
    }
}
