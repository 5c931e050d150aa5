import DNSWatchModel
import Foundation
public import Store

/// One line of passive DNS in the Common Output Format (COF NDJSON), as `dnsdbq -j` writes it (rdata an
/// array), as CIRCL pDNS answers (rdata a string for one value) and as `dnswatch history --json` writes it
/// (a `status`; only NOERROR lines are records): what it is for `import cof`.
public enum COFLine: Sendable, Equatable {
    /// A record dnswatch stores (A, AAAA, NS or CNAME), normalised; not yet classified.
    case record(ImportedRecord)
    /// A well-formed line that is no record dnswatch keeps, with the reason it is counted under
    /// (`MX`, `status NXDOMAIN`, `wildcard name`).
    case skipped(String)
    /// A bad line, with the reason (`FILE:LINE: reason`).
    case invalid(String)

    /// The fields a COF line may have; others (bailiwick, sensor_id, class, provider, source) are ignored.
    fileprivate struct WireFields {
        var rrname: String?
        var rrtype: String?
        var rdata: [String]?
        var time_first: Int64?
        var time_last: Int64?
        var zone_time_first: Int64?
        var zone_time_last: Int64?
        var count: Int64?
        var status: String?
    }

    /// `WireFields` as JSONDecoder reads them.
    private struct Wire: Decodable {
        var rrname: String?
        var rrtype: String?
        var rdata: Rdata?
        var time_first: Int64?
        var time_last: Int64?
        var zone_time_first: Int64?
        var zone_time_last: Int64?
        var count: Int64?
        var status: String?

        var fields: WireFields {
            WireFields(rrname: rrname, rrtype: rrtype, rdata: rdata?.values, time_first: time_first, time_last: time_last,
                       zone_time_first: zone_time_first, zone_time_last: zone_time_last, count: count, status: status)
        }
    }

    /// `rdata`: a string (one value) or an array of strings.
    private struct Rdata: Decodable {
        var values: [String]
        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            do {
                values = [try c.decode(String.self)]
            } catch DecodingError.typeMismatch {
                values = try c.decode([String].self)
            }
        }
    }

    private static let decoder = JSONDecoder()

    /// Reads one line (its bytes, without the newline).
    public static func parse(_ bytes: ArraySlice<UInt8>) -> COFLine {
        let wire: WireFields
        do {
            // The plain lines exports are made of, read by `FlatObject`; anything else (escapes, non-ASCII
            // text, floats, nesting, null, a duplicate key, a wrong type, bad JSON) by JSONDecoder, which
            // also says what is wrong (a duplicate key by `TopLevelKeys`).
            if let plain = FlatObject.wire(bytes) {
                wire = plain
            } else {
                wire = try decoder.decode(Wire.self, from: Data(bytes)).fields
                // JSONDecoder keeps one of a key's values, silently (and jq, Python keep another): a key
                // given twice is refused, whichever value it was meant to have.
                if let key = TopLevelKeys.duplicate(bytes) {
                    return .invalid("duplicate key \"\(VisibleText.escape(String(key.prefix(60))))\"")
                }
            }
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            let field = context.codingPath.first?.stringValue ?? "the line"
            return .invalid(field == "the line" ? "not a JSON object" : "\(field): \(field == "rdata" ? "not a string or an array of strings" : "wrong type")")
        } catch let DecodingError.dataCorrupted(context) where !context.codingPath.isEmpty {
            return .invalid("\(context.codingPath[0].stringValue): \(context.debugDescription)")
        } catch {
            return .invalid("not JSON")
        }
        guard let rrname = wire.rrname else { return .invalid("no rrname") }
        guard let rrtype = wire.rrtype else { return .invalid("no rrtype") }
        guard let rdata = wire.rdata else { return .invalid("no rdata") }
        let first: Int64, last: Int64
        if let f = wire.time_first, let l = wire.time_last {
            (first, last) = (f, l)
        } else if let f = wire.zone_time_first, let l = wire.zone_time_last {
            (first, last) = (f, l)
        } else {
            return .invalid("no pair of times (time_first and time_last, or zone_time_first and zone_time_last)")
        }
        // Times as everywhere else (1970 to 9999, `TimeSpecParser.range`): pages and arithmetic on a span's
        // times never meet a time no calendar writes.
        for (key, t) in [("time_first", first), ("time_last", last)] where !TimeSpecParser.range.contains(t) {
            return .invalid("\(key) \(t) is out of range (\(TimeSpecParser.rangeText))")
        }
        guard first <= last else { return .invalid("time_first \(first) is not a time at or before time_last \(last)") }
        let count = wire.count ?? 1
        guard count >= 0, count <= Int64(Int32.max) * 1024 else { return .invalid("count \(count) is not a count") }
        if let status = wire.status, status.uppercased() != AnswerStatus.noerror.rawValue {
            return .skipped("status \(VisibleText.escape(String(status.prefix(20))))")
        }
        guard let type = RRType(name: rrtype.uppercased()), type != .txt else {
            return .skipped(VisibleText.escape(String(rrtype.uppercased().prefix(20))))
        }
        let name: DomainName
        do {
            name = try DomainName(rrname)
        } catch .wildcard {
            return .skipped("wildcard name")
        } catch {
            return .invalid("rrname: \(error)")
        }
        guard !rdata.isEmpty else { return .invalid("rdata: no values") }
        var values = Set<String>()
        for v in rdata {
            switch type {
            case .a, .aaaa:
                guard let ip = IPAddress(v), ip.isIPv4 == (type == .a) else {
                    return .invalid("rdata: '\(VisibleText.escape(String(v.prefix(60))))' is not an \(type == .a ? "IPv4" : "IPv6") address")
                }
                values.insert(ip.description)
            case .ns, .cname:
                do {
                    values.insert(try DomainName(v).value)
                } catch {
                    return .invalid("rdata: '\(VisibleText.escape(String(v.prefix(60))))' is not a name: \(error)")
                }
            case .txt:
                return .skipped(type.rawValue)
            }
        }
        return .record(ImportedRecord(domain: name.value, rrtype: type, rdata: values.sorted(), timeFirst: first, timeLast: last,
                                      count: Int(count)))
    }
}

/// A fast reader of the one JSON shape COF exports are made of: a flat object whose values are ASCII
/// strings without escapes, integers, arrays of such strings, or `true`/`false`. It returns nil for any
/// other line, which `JSONDecoder` then reads: what it accepts, it reads exactly as `JSONDecoder` would.
/// (Decoding a million lines through `Codable` costs more than storing them.)
enum FlatObject {
    private enum Value {
        case string(String), integer(Int64), strings([String]), other
    }

    fileprivate static func wire(_ line: ArraySlice<UInt8>) -> COFLine.WireFields? {
        line.withUnsafeBufferPointer { buffer -> COFLine.WireFields? in
            var p = Parser(bytes: buffer)
            var w = COFLine.WireFields()
            var seen: [String] = []  // a handful of keys
            p.skipBlanks()
            guard p.take(UInt8(ascii: "{")) else { return nil }
            p.skipBlanks()
            if !p.take(UInt8(ascii: "}")) {
                while true {
                    p.skipBlanks()
                    guard let key = p.string(), !seen.contains(key) else { return nil }
                    seen.append(key)
                    p.skipBlanks()
                    guard p.take(UInt8(ascii: ":")) else { return nil }
                    p.skipBlanks()
                    guard let value = p.value() else { return nil }
                    switch (key, value) {
                    case ("rrname", .string(let v)): w.rrname = v
                    case ("rrtype", .string(let v)): w.rrtype = v
                    case ("status", .string(let v)): w.status = v
                    case ("rdata", .string(let v)): w.rdata = [v]
                    case ("rdata", .strings(let v)): w.rdata = v
                    case ("time_first", .integer(let v)): w.time_first = v
                    case ("time_last", .integer(let v)): w.time_last = v
                    case ("zone_time_first", .integer(let v)): w.zone_time_first = v
                    case ("zone_time_last", .integer(let v)): w.zone_time_last = v
                    case ("count", .integer(let v)): w.count = v
                    case ("rrname", _), ("rrtype", _), ("status", _), ("rdata", _), ("time_first", _), ("time_last", _),
                         ("zone_time_first", _), ("zone_time_last", _), ("count", _):
                        return nil  // a wrong type: JSONDecoder names it
                    default: break
                    }
                    p.skipBlanks()
                    if p.take(UInt8(ascii: ",")) { continue }
                    guard p.take(UInt8(ascii: "}")) else { return nil }
                    break
                }
            }
            p.skipBlanks()
            return p.atEnd ? w : nil
        }
    }

    private struct Parser {
        let bytes: UnsafeBufferPointer<UInt8>
        var i = 0

        var atEnd: Bool { i == bytes.count }

        mutating func skipBlanks() {
            while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x09 || bytes[i] == 0x0A || bytes[i] == 0x0D { i += 1 }
        }

        mutating func take(_ b: UInt8) -> Bool {
            guard i < bytes.count, bytes[i] == b else { return false }
            i += 1
            return true
        }

        /// A string of printable ASCII without escapes.
        mutating func string() -> String? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            let start = i
            while i < bytes.count {
                let b = bytes[i]
                if b == UInt8(ascii: "\"") {
                    let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
                    i += 1
                    return text
                }
                guard b >= 0x20, b < 0x7F, b != UInt8(ascii: "\\") else { return nil }
                i += 1
            }
            return nil
        }

        mutating func value() -> Value? {
            guard i < bytes.count else { return nil }
            switch bytes[i] {
            case UInt8(ascii: "\""):
                return string().map(Value.string)
            case UInt8(ascii: "["):
                i += 1
                var out: [String] = []
                skipBlanks()
                if take(UInt8(ascii: "]")) { return .strings(out) }
                while true {
                    skipBlanks()
                    guard let s = string() else { return nil }
                    out.append(s)
                    skipBlanks()
                    if take(UInt8(ascii: ",")) { continue }
                    return take(UInt8(ascii: "]")) ? .strings(out) : nil
                }
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                let negative = take(UInt8(ascii: "-"))
                let start = i
                var n: Int64 = 0
                while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 {
                    guard i - start < 18 else { return nil }
                    n = n * 10 + Int64(bytes[i] - 0x30)
                    i += 1
                }
                // No digits, a leading zero, a fraction or an exponent: JSONDecoder's.
                guard i > start, !(bytes[start] == 0x30 && i - start > 1) else { return nil }
                if i < bytes.count, [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(bytes[i]) { return nil }
                return .integer(negative ? -n : n)
            case UInt8(ascii: "t"), UInt8(ascii: "f"):
                for word in ["true", "false"] where bytes.count - i >= word.utf8.count
                    && zip(bytes[i...], word.utf8).allSatisfy({ $0 == $1 }) {
                    i += word.utf8.count
                    return .other
                }
                return nil
            default:
                return nil
            }
        }
    }
}

/// The keys of a JSON object, at its top level, for what JSONDecoder does not say: whether one is given
/// twice. Only called on a line JSONDecoder has read as an object (so the text is well-formed JSON).
enum TopLevelKeys {
    /// The first key met a second time at the top level of the object `line`, decoded (`"r\u0072name"`
    /// is `rrname`), or nil.
    static func duplicate(_ line: ArraySlice<UInt8>) -> String? {
        var seen = Set<String>()
        var i = line.startIndex
        var depth = 0
        // After `{` or `,` at depth 1 the next string is a key.
        var expectKey = false
        while i < line.endIndex {
            let b = line[i]
            switch b {
            case UInt8(ascii: "\""):
                let start = i
                i += 1
                while i < line.endIndex, line[i] != UInt8(ascii: "\"") {
                    i += line[i] == UInt8(ascii: "\\") ? 2 : 1
                }
                guard i < line.endIndex else { return nil }
                if depth == 1, expectKey {
                    expectKey = false
                    let token = Data(line[start...i])
                    // The key's own text, its escapes read as JSON reads them.
                    let key: String
                    do {
                        key = try JSONDecoder().decode(String.self, from: token)
                    } catch {
                        return nil
                    }
                    if !seen.insert(key).inserted { return key }
                }
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
                expectKey = depth == 1 && b == UInt8(ascii: "{")
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
            case UInt8(ascii: ","):
                if depth == 1 { expectKey = true }
            default:
                break
            }
            i += 1
        }
        return nil
    }
}
