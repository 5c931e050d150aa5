import DNSWatchModel
import Foundation
import Store
import Investigation

/// A domain's history laid out for drawing: one row per record type and answer (the rdata set, or the status
/// for NXDOMAIN / NODATA), each span a bar from its first to its last sighting on a common time axis, and the
/// domain's alerts as marks on it. Bounded: at most `maxBars` spans (the latest seen), `maxRows` rows and
/// `maxMarks` alerts (the latest) are drawn, and what was left out is counted so the page can say so.
struct Timeline: Sendable {
    struct Row: Sendable {
        let rrtype: String
        let status: String
        let rdata: [String]
        var bars: [HistoryLine]
        /// The latest sighting of any of its spans.
        var lastSeen: Int64 { bars.map(\.time_last).max() ?? 0 }
        var firstSeen: Int64 { bars.map(\.time_first).min() ?? 0 }
    }

    struct Limits: Sendable {
        var maxBars = 2000
        var maxRows = 100
        var maxMarks = 200
    }

    let rows: [Row]
    let marks: [StoredAlert]
    /// The axis, epoch seconds, start < end.
    let start: Int64
    let end: Int64
    let spansTotal: Int
    let spansDrawn: Int
    let rowsTotal: Int
    let alertsTotal: Int

    init(spans: [HistoryLine], alerts: [StoredAlert], limits: Limits = Limits()) {
        spansTotal = spans.count
        alertsTotal = alerts.count
        let latest = spans.count <= limits.maxBars ? spans
            : Array(spans.sorted { ($0.time_last, $0.time_first) < ($1.time_last, $1.time_first) }.suffix(limits.maxBars))
        var byKey: [String: Row] = [:]
        var keys: [String] = []
        for s in latest {
            let key = Timeline.rowKey(s)
            if byKey[key] == nil {
                byKey[key] = Row(rrtype: s.rrtype, status: s.status, rdata: s.status == AnswerStatus.noerror.rawValue ? s.rdata : [], bars: [])
                keys.append(key)
            }
            byKey[key]?.bars.append(s)
        }
        var all = keys.compactMap { byKey[$0] }
        rowsTotal = spans.count == latest.count ? all.count : Set(spans.map(Timeline.rowKey)).count
        if all.count > limits.maxRows {
            all = Array(all.sorted { $0.lastSeen > $1.lastSeen }.prefix(limits.maxRows))
        }
        let order = { (t: String) in RRType(rawValue: t).map { RRType.allCases.firstIndex(of: $0) ?? 0 } ?? RRType.allCases.count }
        rows = all.map { r in
            var r = r
            r.bars.sort { ($0.time_first, $0.time_last) < ($1.time_first, $1.time_last) }
            return r
        }.sorted { a, b in
            if order(a.rrtype) != order(b.rrtype) { return order(a.rrtype) < order(b.rrtype) }
            if a.rrtype != b.rrtype { return a.rrtype < b.rrtype }
            return (a.firstSeen, a.status, a.rdata.joined(separator: " ")) < (b.firstSeen, b.status, b.rdata.joined(separator: " "))
        }
        spansDrawn = rows.reduce(0) { $0 + $1.bars.count }
        marks = Array(alerts.sorted { ($0.time, $0.id) < ($1.time, $1.id) }.suffix(limits.maxMarks))
        // The axis is drawn over the times dnswatch accepts: a stored time outside them (a database written by
        // an older version, or by hand) is drawn at the nearest end, so that no arithmetic here can overflow.
        let times = rows.flatMap { $0.bars.flatMap { [$0.time_first, $0.time_last] } } + marks.map(\.time)
        let lo = Timeline.drawable(times.min() ?? 0), hi = Timeline.drawable(times.max() ?? 0)
        // A margin on both sides so that a bar or a mark at an end stays visible; at least a minute.
        let pad = max((hi - lo) / 40, 60)
        start = lo - pad
        end = hi + pad
    }

    /// A time clamped to `TimeSpecParser.range`: what the axis can place.
    static func drawable(_ t: Int64) -> Int64 {
        min(max(t, TimeSpecParser.range.lowerBound), TimeSpecParser.range.upperBound)
    }

    /// One row per (record type, status, rdata set).
    static func rowKey(_ s: HistoryLine) -> String {
        s.rrtype + "\u{0}" + s.status + "\u{0}" + s.rdata.joined(separator: "\u{0}")
    }

    /// Where a time falls on the axis, in percent of its width.
    func position(_ t: Int64) -> Double {
        Double(Timeline.drawable(t) - start) / Double(end - start) * 100
    }

    /// Steps of the axis labels, seconds: the first that gives at most `maxTicks` labels is used.
    static let tickSteps: [Int64] = [60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86_400, 2 * 86_400, 7 * 86_400,
                                     14 * 86_400, 30 * 86_400, 91 * 86_400, 365 * 86_400]
    static let maxTicks: Int64 = 6

    /// The axis labels: round UTC times (multiples of a step) inside the axis, with their text, a date alone
    /// for steps of a day or more.
    func ticks() -> [(time: Int64, label: String)] {
        let span = end - start
        let step = Timeline.tickSteps.first { span / $0 <= Timeline.maxTicks } ?? max(span / Timeline.maxTicks, 1)
        var t = (start / step + 1) * step
        var out: [(Int64, String)] = []
        while t < end && out.count <= Timeline.maxTicks {
            let shown = shownTime(t)
            out.append((t, step >= 86_400 ? String(shown.prefix(10)) : String(shown.prefix(16)) + "Z"))
            t += step
        }
        return out
    }
}

/// A time as the page shows it: `2026-12-01 14:00:00Z` (UTC).
func shownTime(_ epoch: Int64) -> String {
    ISOTime.format(epoch).replacingOccurrences(of: "T", with: " ")
}
