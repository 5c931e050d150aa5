import DNSWatchModel
import Foundation
import Store
import Hummingbird
import HTTPTypes
import Investigation

// What the DNSDB and CIRCL endpoints share: parsing a path's name, address or type, and aggregating the
// store's ordered spans into passive-DNS objects as the pages arrive (only the current group is held).

/// A passive-DNS object before framing: an rrset (`rdata` the set) or an rdata hit (`rdata` one value).
struct PDNSObject: Sendable, Equatable {
    var rrname: String
    var rrtype: String
    var rdata: [String]
    var timeFirst: Int64
    var timeLast: Int64
    var count: Int
    /// An rdata lookup's hit: `rdata` is the one matched value (written as a string, not an array).
    var isValueHit = false
    /// The source of imported records (`import cof`), written as `sensor_id`; nil for dnswatch's own polls.
    /// Objects are aggregated per source: a sensor's counts are never added to another's.
    var source: String? = nil

    mutating func absorb(first: Int64, last: Int64, count: Int) {
        timeFirst = min(timeFirst, first)
        timeLast = max(timeLast, last)
        self.count = PDNSObject.sum(self.count, count)
    }

    /// Counts added without overflow: stored counts come from other sensors too (`import cof`), and an
    /// absurd one must not take the server down; the sum stops at `Int.max`.
    static func sum(_ a: Int, _ b: Int) -> Int {
        let (total, overflow) = a.addingReportingOverflow(b)
        return overflow ? (b > 0 ? Int.max : Int.min) : total
    }
}

/// A request's problem, answered 400 with its sentence as a text body.
struct BadRequest: Error, HTTPResponseError {
    let message: String
    init(_ message: String) { self.message = message }
    var status: HTTPResponse.Status { .badRequest }
    func response(from request: Request, context: some RequestContext) throws -> Response {
        Response(status: .badRequest, headers: [.contentType: "text/plain; charset=utf-8"],
                 body: .init(byteBuffer: ByteBuffer(string: message + "\n")))
    }
}

/// What a record type in a path or header asks for.
enum TypeQuery: Equatable {
    /// Every type (`ANY`, or none given).
    case any
    /// A type dnswatch records.
    case recorded(RRType)
    /// A real DNS type that dnswatch never records: no result.
    case unrecorded

    /// DNS type mnemonics (IANA's registry, the ones in use) and `TYPEnnn`; anything else is a 400.
    static let knownMnemonics: Set<String> = [
        "A", "NS", "MD", "MF", "CNAME", "SOA", "MB", "MG", "MR", "NULL", "WKS", "PTR", "HINFO", "MINFO", "MX", "TXT",
        "RP", "AFSDB", "X25", "ISDN", "RT", "NSAP", "NSAP-PTR", "SIG", "KEY", "PX", "GPOS", "AAAA", "LOC", "NXT", "EID",
        "NIMLOC", "SRV", "ATMA", "NAPTR", "KX", "CERT", "A6", "DNAME", "SINK", "OPT", "APL", "DS", "SSHFP", "IPSECKEY",
        "RRSIG", "NSEC", "DNSKEY", "DHCID", "NSEC3", "NSEC3PARAM", "TLSA", "SMIMEA", "HIP", "NINFO", "RKEY", "TALINK",
        "CDS", "CDNSKEY", "OPENPGPKEY", "CSYNC", "ZONEMD", "SVCB", "HTTPS", "SPF", "UINFO", "UID", "GID", "UNSPEC",
        "NID", "L32", "L64", "LP", "EUI48", "EUI64", "TKEY", "TSIG", "IXFR", "AXFR", "MAILB", "MAILA", "URI", "CAA",
        "AVC", "DOA", "AMTRELAY", "TA", "DLV", "ANY-DNSSEC",
    ]

    init(_ text: String) throws(BadRequest) {
        let upper = text.uppercased()
        if upper == "ANY" {
            self = .any
        } else if let t = RRType(name: upper) {
            self = .recorded(t)
        } else if TypeQuery.knownMnemonics.contains(upper) {
            self = .unrecorded
        } else if upper.hasPrefix("TYPE"), upper.count <= 9, let code = UInt16(upper.dropFirst(4)) {
            self = RRType(code: code).map(TypeQuery.recorded) ?? .unrecorded
        } else {
            throw BadRequest("unknown record type '\(VisibleText.escape(String(text.prefix(40))))'")
        }
    }

    func admits(_ t: RRType) -> Bool {
        switch self {
        case .any: true
        case .recorded(let r): r == t
        case .unrecorded: false
        }
    }
}

enum PathValue {
    /// A path segment percent-decoded; at most `SQLiteStore`'s longest name and then some.
    static func decode(_ segment: String?, what: String) throws(BadRequest) -> String {
        guard let segment else { throw BadRequest("missing \(what)") }
        guard segment.utf8.count <= 1024 else { throw BadRequest("\(what) too long") }
        guard let text = PercentText.decode(segment[...]) else {
            throw BadRequest("\(what) is not valid percent-encoded UTF-8")
        }
        return text
    }

    /// The path parameter `name`, and after it the `length` segment when the route has one: an address or
    /// prefix may come as `ADDRESS,LEN`, `ADDRESS%2FLEN` or `ADDRESS/LEN` (two segments).
    static func decodeWithLength(_ context: ServeContext, _ name: String) throws(BadRequest) -> String {
        var text = try decode(context.parameters.get(name), what: name)
        if let length = context.parameters.get("length") {
            text += "/" + (try decode(length, what: "prefix length"))
        }
        return text
    }

    /// A name, or a left-hand wildcard `*.suffix`, normalised as the store keeps names.
    static func name(_ text: String) throws(BadRequest) -> NameMatch {
        do {
            if text.hasPrefix("*.") {
                return .subdomains(of: try DomainName(String(text.dropFirst(2))).value)
            }
            return .exact(try DomainName(text).value)
        } catch {
            if text.hasSuffix(".*") || text == "*" {
                throw BadRequest("only left-hand wildcards (*.example.com) are supported")
            }
            throw BadRequest("'\(VisibleText.escape(String(text.prefix(80))))' is not a domain name: \(error.description)")
        }
    }

    /// An address or a prefix, written `ADDRESS/LEN` or `ADDRESS,LEN`.
    static func block(_ text: String) throws(BadRequest) -> CIDR {
        let slashed = text.replacingOccurrences(of: ",", with: "/")
        guard let block = CIDR(slashed) else {
            throw BadRequest("'\(VisibleText.escape(String(text.prefix(80))))' is not an address or a prefix (ADDRESS or ADDRESS,LEN)")
        }
        return block
    }
}

/// Which of the lookup's objects are answered: skip `offset`, then at most `limit`.
struct Window {
    let offset: Int
    let limit: Int
    private(set) var seen = 0
    private(set) var sent = 0

    init(offset: Int, limit: Int) {
        self.offset = offset
        self.limit = limit
    }

    enum Verdict { case skip, send, full }

    /// For the next object: skipped (before the offset), sent, or `full` (the limit was reached: there is
    /// more than the limit lets through).
    mutating func next() -> Verdict {
        defer { seen += 1 }
        if seen < offset { return .skip }
        if sent >= limit { return .full }
        sent += 1
        return .send
    }
}

enum Aggregation {
    /// Name-valued rdata as passive DNS writes it: absolute.
    static func presented(_ value: String, _ type: RRType) -> String {
        type.hasNameRdata ? value + "." : value
    }

    /// rrset objects from spans ordered so that a (name, type, rdata, source) group is consecutive: one per
    /// group when `aggregate`, else one per span. `emit` returns false to stop.
    static func rrsets(_ pages: LookupPages<SpanRecord>, aggregate: Bool, types: TypeQuery = .any,
                       _ emit: (PDNSObject) async throws -> Bool) async throws {
        var current: (key: SpanRecord, object: PDNSObject)?
        for try await page in pages {
            for span in page where types.admits(span.rrtype) {
                if aggregate, let c = current, c.key.domain == span.domain, c.key.rrtype == span.rrtype, c.key.rdata == span.rdata,
                   c.key.source == span.source {
                    current?.object.absorb(first: span.timeFirst, last: span.timeLast, count: span.count)
                    continue
                }
                if let c = current, !(try await emit(c.object)) { return }
                let line = HistoryLine(span)
                current = (span, PDNSObject(rrname: line.rrname, rrtype: line.rrtype, rdata: line.rdata,
                                            timeFirst: span.timeFirst, timeLast: span.timeLast, count: span.count, source: span.source))
            }
        }
        if let c = current { _ = try await emit(c.object) }
    }

    /// rdata objects from value hits ordered by value, then domain: one per (name, type, value, source) when
    /// `aggregate` (the hits of one value and domain are consecutive, and held only until the next begins),
    /// else one per (span, value).
    static func values(_ pages: LookupPages<ValueHit>, aggregate: Bool, types: TypeQuery = .any,
                       _ emit: (PDNSObject) async throws -> Bool) async throws {
        var current: (value: String, domain: String)?
        var order: [String] = []
        var groups: [String: PDNSObject] = [:]
        func flush() async throws -> Bool {
            defer { order.removeAll(keepingCapacity: true); groups.removeAll(keepingCapacity: true) }
            for key in order {
                if let object = groups[key], !(try await emit(object)) { return false }
            }
            return true
        }
        for try await page in pages {
            for hit in page where types.admits(hit.span.rrtype) {
                let object = PDNSObject(rrname: hit.span.domain + ".", rrtype: hit.span.rrtype.rawValue,
                                        rdata: [presented(hit.value, hit.span.rrtype)],
                                        timeFirst: hit.span.timeFirst, timeLast: hit.span.timeLast, count: hit.span.count,
                                        isValueHit: true, source: hit.span.source)
                guard aggregate else {
                    if !(try await emit(object)) { return }
                    continue
                }
                if current?.value != hit.value || current?.domain != hit.span.domain {
                    if !(try await flush()) { return }
                    current = (hit.value, hit.span.domain)
                }
                let key = object.rrname + " " + object.rrtype + (object.source.map { " " + $0 } ?? "")
                if groups[key] != nil {
                    groups[key]?.absorb(first: object.timeFirst, last: object.timeLast, count: object.count)
                } else {
                    groups[key] = object
                    order.append(key)
                }
            }
        }
        _ = try await flush()
    }
}

extension TypeQuery {
    /// Runs `lookup` with the stored type asked for (nil: every type). A type dnswatch never records, or one
    /// that `accepting` refuses, has no records: `lookup` is not run, and the answer is empty.
    func withStoredType(accepting: (RRType) -> Bool = { _ in true }, _ lookup: (RRType?) async throws -> Void) async rethrows {
        switch self {
        case .unrecorded: return
        case .any: try await lookup(nil)
        case .recorded(let t): if accepting(t) { try await lookup(t) }
        }
    }
}
