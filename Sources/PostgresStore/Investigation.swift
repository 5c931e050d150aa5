public import DNSWatchModel
public import Store
import Logging
import NIOCore
import PostgresNIO

/// The reads of `triage` and `ip` on PostgreSQL: SQLite's queries (SQLiteStore's TriageReads.swift,
/// Lookups.swift, Queries.swift, Watchlists.swift) ported to return the same rows in the same order.
///
/// The inverse index `span_values` has the same keys as on SQLite (`ValueKey`: a family byte and the
/// address's bytes); its key is BYTEA, which compares bytewise as SQLite's BLOB does, so a CIDR block is
/// one range of the primary key, `key BETWEEN low AND high`. The ranges of a whole batch go in one
/// statement (`unnest` of the bounds, a parameterized index scan of `span_values_pkey` per range).
extension PostgresStore: InvestigationReading {
    /// A range of the inverse index: the first and last key (inclusive).
    typealias KeyRange = (low: [UInt8], high: [UInt8])

    public func triageReads(blocks: [CIDR], domains: [String], at: Int64?, now: Int64) async throws -> TriageReads {
        let logger = self.logger
        return try await transaction("reading what a triage needs") { connection in
            // One snapshot for every statement, as SQLite's one read transaction.
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", logger: logger)
            var out = TriageReads()
            let distinct = Array(Set(blocks))
            let found = try await Self.sightings(connection, logger: logger, in: distinct, at: at, limit: nil)
            for (block, hits) in zip(distinct, found) { out.sightings[block] = hits }
            let names = Array(Set(domains))
            if !names.isEmpty {
                out.history = try await Self.history(connection, logger: logger, of: names, at: at)
                out.states = try await Self.states(connection, logger: logger, of: names)
            }
            var shared = Set<String>()
            for span in out.history.values.joined() where (span.rrtype == .a || span.rrtype == .aaaa) && span.status == .noerror {
                shared.formUnion(span.rdata)
            }
            var addresses: [(text: String, block: CIDR)] = []
            for address in shared {
                guard let ip = IPAddress(address) else { continue }
                addresses.append((address, CIDR(network: ip, prefixLength: ip.bytes.count * 8)))
            }
            let sharing = try await Self.sightings(connection, logger: logger, in: addresses.map(\.block), at: at, limit: nil)
            for (address, hits) in zip(addresses, sharing) { out.sharing[address.text] = hits }
            let met = Set(domains).union(out.sightings.values.joined().map(\.domain)).union(out.sharing.values.joined().map(\.domain))
            out.memberships = try await Self.memberships(connection, logger: logger, of: Array(met))
            let singles = blocks.filter { $0.prefixLength == $0.network.bytes.count * 8 }.map(\.network.description)
            out.asns = try await Self.cachedASN(connection, logger: logger, singles + shared, now: now)
            return out
        }
    }

    public func domains(resolvingInto block: CIDR, atMost: Int?) async throws -> [AddressHit] {
        let logger = self.logger
        let hits = try await connection("reading the domains that resolved into \(block)") { connection in
            // One more than `atMost` says that there are more.
            try await Self.sightings(connection, logger: logger, in: [block], at: nil, limit: atMost.map { $0 + 1 })[0]
        }
        if let atMost, hits.count > atMost { throw TooManySightings(block: block, limit: atMost) }
        return hits
    }

    public func memberships(of domains: [String]) async throws -> [String: [WatchedDomain]] {
        let logger = self.logger
        return try await connection("reading memberships") { connection in
            try await Self.memberships(connection, logger: logger, of: domains)
        }
    }

    // MARK: The statements

    /// The columns of a span read with it (after the domain's name), as `span(_:at:domain:)` decodes them.
    static let spanColumns = """
        s.id, s.rrtype, s.status, s.rdata, s.time_first, s.time_last, s.count, s.class, s.provider, s.source_id,
        (SELECT name FROM sources WHERE id = s.source_id)
        """

    /// The sightings of key ranges, `$1` the ranges' numbers, `$2` and `$3` their bounds; with `at` (`$4`)
    /// only spans first seen by then, and a span is current when it is the latest polled one of its
    /// (domain, type) first seen by then; else when it is its (domain, type)'s head. Rows come by range,
    /// then as SQLite's range scan of its primary key gives them: by key, domain, span. `limit` bounds
    /// the rows of all ranges together (`$4`, or `$5` with `at`).
    static func sightingsSQL(at: Bool, limit: Bool) -> String {
        let current = at
            ? """
              s.source_id IS NULL AND NOT EXISTS (SELECT 1 FROM spans n WHERE n.domain_id = s.domain_id AND n.rrtype = s.rrtype
                AND n.source_id IS NULL AND n.time_first >= s.time_first AND n.time_first <= $4
                AND (n.time_first > s.time_first OR n.id > s.id))
              """
            : "EXISTS (SELECT 1 FROM heads h WHERE h.span_id = s.id)"
        return """
            SELECT r.i, v.key, d.name, \(spanColumns), \(current)
            FROM unnest($1::bigint[], $2::bytea[], $3::bytea[]) AS r(i, low, high)
            JOIN span_values v ON v.key BETWEEN r.low AND r.high
            JOIN spans_seen s ON s.id = v.span_id JOIN domains d ON d.id = s.domain_id\(at ? "\nWHERE s.time_first <= $4" : "")
            ORDER BY r.i, v.key, v.domain_id, v.span_id\(limit ? " LIMIT $\(at ? 5 : 4)" : "")
            """
    }

    /// Per block, in order: the sightings inside it, oldest first (then by domain), as SQLite's
    /// `sightings(_:in:at:)` and `domains(resolvingInto:)` give them. An IPv4 block also finds the
    /// IPv4-mapped AAAA values in it (a second range, read after the first).
    static func sightings(_ connection: PostgresConnection, logger: Logger, in blocks: [CIDR], at: Int64?,
                          limit: Int?) async throws -> [[AddressHit]] {
        guard !blocks.isEmpty else { return [] }
        var owner: [Int] = [], lows: [ByteBuffer] = [], highs: [ByteBuffer] = []
        for (n, given) in blocks.enumerated() {
            let block = given.unmapped
            var ranges: [KeyRange] = [ValueKey.range(of: block)]
            if block.network.isIPv4, let mapped = block.mapped { ranges.append(ValueKey.range(of: mapped)) }
            for r in ranges {
                owner.append(n)
                lows.append(ByteBuffer(bytes: r.low))
                highs.append(ByteBuffer(bytes: r.high))
            }
        }
        var binds = PostgresBindings()
        binds.append(Array(Int64(0)..<Int64(owner.count)))
        binds.append(lows)
        binds.append(highs)
        if let at { binds.append(at) }
        if let limit { binds.append(Int64(limit)) }
        var out = Array(repeating: [AddressHit](), count: blocks.count)
        let rows = try await connection.query(PostgresQuery(unsafeSQL: sightingsSQL(at: at != nil, limit: limit != nil), binds: binds),
                                              logger: logger)
        for try await row in rows {
            let c = row.makeRandomAccess()
            let range = Int(try c[0].decode(Int64.self))
            var key = try c[1].decode(ByteBuffer.self)
            let value = try ValueKey.text(of: key.readBytes(length: key.readableBytes) ?? [])
            let span = try Self.span(c, at: 3, domain: try c[2].decode(String.self))
            out[owner[range]].append(AddressHit(span: span, address: value, current: try c[14].decode(Bool.self)))
        }
        return out.map { hits in hits.sorted { ($0.timeFirst, $0.domain) < ($1.timeFirst, $1.domain) } }
    }

    /// The spans of these domains by name, oldest first per domain; with `at`, only those first seen by then.
    static func history(_ connection: PostgresConnection, logger: Logger, of names: [String], at: Int64?) async throws -> [String: [SpanRecord]] {
        var binds = PostgresBindings()
        binds.append(names)
        if let at { binds.append(at) }
        let rows = try await connection.query(PostgresQuery(unsafeSQL: """
            SELECT d.name, \(spanColumns) FROM domains d JOIN spans_seen s ON s.domain_id = d.id
            WHERE d.name = ANY($1)\(at != nil ? " AND s.time_first <= $2" : "") ORDER BY d.name COLLATE "C", s.time_first, s.id
            """, binds: binds), logger: logger)
        var out: [String: [SpanRecord]] = [:]
        for try await row in rows {
            let c = row.makeRandomAccess()
            let name = try c[0].decode(String.self)
            out[name, default: []].append(try Self.span(c, at: 1, domain: name))
        }
        return out
    }

    /// The stored states of these domains by name.
    static func states(_ connection: PostgresConnection, logger: Logger, of names: [String]) async throws -> [String: DomainState] {
        let rows = try await connection.query("""
            SELECT d.name, s.class, s.provider FROM domain_state s JOIN domains d ON d.id = s.domain_id WHERE d.name = ANY(\(names))
            """, logger: logger)
        var out: [String: DomainState] = [:]
        for try await (name, cls, provider) in rows.decode((String, String, String?).self) {
            out[name] = DomainState(class: try Stored.domainClass(cls), provider: provider)
        }
        return out
    }

    /// Every membership (retired ones too) of these domains, grouped by `WatchedDomain.byDomain`.
    static func memberships(_ connection: PostgresConnection, logger: Logger, of names: [String]) async throws -> [String: [WatchedDomain]] {
        guard !names.isEmpty else { return [:] }
        let rows = try await connection.query("""
            SELECT d.name, l.name, l.kind, l.interval, m.added, m.note, m.retired
            FROM domains d JOIN memberships m ON m.domain_id = d.id JOIN lists l ON l.id = m.list_id
            WHERE d.name = ANY(\(names))
            """, logger: logger)
        var out: [WatchedDomain] = []
        for try await (domain, list, kind, interval, added, note, retired) in rows.decode((String, String, String, Int64?, Int64, String?, Int64?).self) {
            out.append(WatchedDomain(domain: domain, list: list, kind: try Stored.listKind(kind),
                                     interval: interval.map { Int($0) }, added: added, note: note, retired: retired))
        }
        return WatchedDomain.byDomain(out)
    }

    /// Cached origin-ASN answers not yet expired at `now`, inside the caller's connection (or transaction).
    static func cachedASN(_ connection: PostgresConnection, logger: Logger, _ addresses: [String], now: Int64) async throws -> [String: ASNEntry] {
        guard !addresses.isEmpty else { return [:] }
        var out: [String: ASNEntry] = [:]
        let rows = try await connection.query("""
            SELECT address, asn, prefix, country, registry FROM asn_cache WHERE address = ANY(\(Array(Set(addresses)))) AND expires > \(now)
            """, logger: logger)
        for try await (address, asn, prefix, country, registry) in rows.decode((String, Int64?, String?, String?, String?).self) {
            out[address] = ASNEntry(address: address, asn: asn.map { Int($0) }, prefix: prefix, country: country, registry: registry)
        }
        return out
    }

    /// A span from the `spanColumns` of a row, starting at column `i`; stored values this version does not
    /// know are errors, as a span naming a source that is not stored.
    static func span(_ c: PostgresRandomAccessRow, at i: Int, domain: String) throws -> SpanRecord {
        let id = try c[i].decode(Int64.self)
        let sourceID = try c[i + 9].decode(Int64?.self), source = try c[i + 10].decode(String?.self)
        guard source != nil || sourceID == nil else { throw Failure("span \(id) names a source that is not stored") }
        return SpanRecord(
            id: id, domain: domain, rrtype: try Stored.rrtype(try c[i + 1].decode(String.self)),
            status: try Stored.status(try c[i + 2].decode(String.self)), rdata: RdataCodec.decode(try c[i + 3].decode(String.self)),
            timeFirst: try c[i + 4].decode(Int64.self), timeLast: try c[i + 5].decode(Int64.self), count: Int(try c[i + 6].decode(Int64.self)),
            class: try c[i + 7].decode(String?.self).map(Stored.domainClass), provider: try c[i + 8].decode(String?.self), source: source)
    }
}
