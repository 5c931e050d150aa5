public import DNSWatchModel
public import Store
import Foundation
import GRDB

extension SQLiteStore {
    /// Everything the triage of `blocks` (addresses and prefixes) and `domains` reads, in one read
    /// transaction: range scans of the inverse index (`span_values`) per block and per address of a queried
    /// domain, the domains' histories, states, memberships and cached ASNs.
    ///
    /// - Parameter at: judge as of this time: only spans first seen at or before it are read, and a span is
    ///   current when it is the latest of its (domain, type) first seen at or before it; nil: every span, and
    ///   the current span is the head.
    public func triageReads(blocks: [CIDR], domains: [String], at: Int64? = nil, now: Int64) async throws -> TriageReads {
        try await read { db in
            var out = TriageReads()
            for block in Set(blocks) {
                out.sightings[block] = try SQLiteStore.sightings(db, in: block, at: at)
            }
            for chunk in Array(Set(domains)).chunked(500) {
                var args = StatementArguments(chunk)
                if let at { args += [at] }
                for span in try SpanRecord.fetchAll(db, sql: SQLiteStore.historySQL(chunk.count, at: at != nil), arguments: args) {
                    out.history[span.domain, default: []].append(span)
                }
                for row in try Row.fetchAll(db, sql: SQLiteStore.statesSQL(chunk.count), arguments: StatementArguments(chunk)) {
                    out.states[row[0]] = DomainState(class: try row.decode(atIndex: 1), provider: row[2])
                }
            }
            var shared = Set<String>()
            for span in out.history.values.joined() where (span.rrtype == .a || span.rrtype == .aaaa) && span.status == .noerror {
                shared.formUnion(span.rdata)
            }
            for address in shared {
                guard let ip = IPAddress(address) else { continue }
                out.sharing[address] = try SQLiteStore.sightings(db, in: CIDR(network: ip, prefixLength: ip.bytes.count * 8), at: at)
            }
            let met = Set(domains).union(out.sightings.values.joined().map(\.domain)).union(out.sharing.values.joined().map(\.domain))
            out.memberships = try SQLiteStore.memberships(db, of: Array(met))
            let singles = blocks.filter { $0.prefixLength == $0.network.bytes.count * 8 }.map(\.network.description)
            out.asns = try SQLiteStore.cachedASN(db, singles + shared, now: now)
            return out
        }
    }

    /// The sightings inside `block`, oldest first (then by domain), each with whether its span is current
    /// (at `at`, or now). A range scan of `span_values`; an IPv4 block also finds the IPv4-mapped AAAA
    /// values in it, as `addressSpans(in:)` does.
    static func sightings(_ db: Database, in block: CIDR, at: Int64?) throws -> [AddressHit] {
        let block = block.unmapped
        var ranges = [ValueKey.range(of: block)]
        if block.network.isIPv4, let mapped = block.mapped { ranges.append(ValueKey.range(of: mapped)) }
        var hits: [AddressHit] = []
        let statement = try db.cachedStatement(sql: sightingsSQL(at: at != nil))  // prepared once per batch's transaction, not per value
        for (low, high) in ranges {
            var args = StatementArguments()
            if let at { args += [at] }
            args += [Data(low), Data(high)]
            if let at { args += [at] }
            for row in try Row.fetchAll(statement, arguments: args) {
                let key: Data = row[0]
                hits.append(AddressHit(ValueHit(span: try SpanRecord(row: row), value: try ValueKey.text(of: Array(key)), current: row["current"])))
            }
        }
        return hits.sorted { ($0.timeFirst, $0.domain) < ($1.timeFirst, $1.domain) }
    }

    /// The sightings of a key range [?, ?]; with `at`, the time is bound first (for `current`: only a polled span
    /// is ever current) and last.
    static func sightingsSQL(at: Bool) -> String {
        let current = at
            ? """
              s.source_id IS NULL AND NOT EXISTS (SELECT 1 FROM spans n WHERE n.domain_id = s.domain_id AND n.rrtype = s.rrtype
                AND n.source_id IS NULL AND n.time_first >= s.time_first AND n.time_first <= ?
                AND (n.time_first > s.time_first OR n.id > s.id))
              """
            : "EXISTS (SELECT 1 FROM heads h WHERE h.span_id = s.id)"
        return """
            SELECT v.key, d.name AS domain, s.*, \(SpanRecord.sourceColumn), \(current) AS current
            FROM span_values v JOIN spans_seen s ON s.id = v.span_id JOIN domains d ON d.id = s.domain_id
            WHERE v.key >= ? AND v.key <= ?\(at ? " AND s.time_first <= ?" : "")
            """
    }

    /// The spans of `count` domains by name, oldest first per domain; with `at`, only those first seen by then.
    static func historySQL(_ count: Int, at: Bool) -> String {
        """
        SELECT d.name AS domain, s.*, \(SpanRecord.sourceColumn) FROM domains d JOIN spans_seen s ON s.domain_id = d.id
        WHERE d.name IN (\(placeholders(count)))\(at ? " AND s.time_first <= ?" : "") ORDER BY d.name, s.time_first, s.id
        """
    }

    /// The stored states of `count` domains by name.
    static func statesSQL(_ count: Int) -> String {
        "SELECT d.name, s.class, s.provider FROM domain_state s JOIN domains d ON d.id = s.domain_id WHERE d.name IN (\(placeholders(count)))"
    }
}

extension SQLiteStore: InvestigationReading {}
