import DNSWatchModel
import Foundation
public import HistoryStore

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
        let wire: Wire
        do {
            wire = try decoder.decode(Wire.self, from: Data(bytes))
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
        guard let rdata = wire.rdata?.values else { return .invalid("no rdata") }
        let first: Int64, last: Int64
        if let f = wire.time_first, let l = wire.time_last {
            (first, last) = (f, l)
        } else if let f = wire.zone_time_first, let l = wire.zone_time_last {
            (first, last) = (f, l)
        } else {
            return .invalid("no pair of times (time_first and time_last, or zone_time_first and zone_time_last)")
        }
        guard first >= 0, first <= last else { return .invalid("time_first \(first) is not a time at or before time_last \(last)") }
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
                guard let ip = IPAddress(v.trimmingCharacters(in: .whitespaces)), ip.isIPv4 == (type == .a) else {
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
