import Foundation
import Testing
import TestSupport

/// Issue 24, item 5: a database written by the release (dnswatch 0.19.0) is carried forward by this build,
/// on both backends, through the `dnswatch` binary only. The fixtures in `Tests/Fixtures/carry-forward/`
/// were made by 0.19.0 itself (see the README there): a SQLite file, a plain `pg_dump` of a PostgreSQL
/// database it polled into, and what 0.19.0's read commands printed for each. This build must
/// - read each as 0.19.0 did (every read command's JSON lines, exactly), or, when this build's schema is
///   newer, refuse as readers do (docs/operations.md: "needs migrating", a writing command asked for);
/// - once migrated by `reclassify` (a writing command that adds nothing), read exactly as 0.19.0 did;
/// - poll into it and keep the old history: spans closed before stay as they were, current ones are
///   extended by the new poll, old alerts stay (last: newest first), the lists unchanged;
/// - copy the SQLite one into an empty PostgreSQL database with `migrate --from` (after the remedy its
///   refusal names, when the schema moved), which then reads as the SQLite file did and polls on.
/// The tests never run 0.19.0 (CI has only the repository); re-making the fixtures does (below).
@Suite(.serialized) struct CarryForwardTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/carry-forward")
    static let sqliteFixture = fixtures.appendingPathComponent("release.sqlite3")
    static let postgresFixture = fixtures.appendingPathComponent("release-postgresql.sql")
    static let readsFixture = fixtures.appendingPathComponent("release-reads.json")

    /// What 0.19.0 printed for each read of each fixture (`sqlite`, `postgresql`: command → JSON lines).
    static func releaseReads(_ backend: Backend) throws -> [String: JSONValue] {
        let recorded = try JSONDecoder().decode(JSONValue.self, from: Data(contentsOf: readsFixture))
        guard case .object(let reads)? = recorded[backend.rawValue] else {
            throw GoldenError("\(readsFixture.path) holds no reads for \(backend.rawValue)")
        }
        return reads
    }

    @Test func sqliteWrittenByTheReleaseIsReadAndPolledForward() async throws {
        let world = try CarryWorld()
        defer { world.server.stop() }
        let db = try world.copyOfSQLiteFixture()
        try await carryForward(world, db: db, expected: try Self.releaseReads(.sqlite), backend: .sqlite)
    }

    @Test func postgresqlWrittenByTheReleaseIsReadAndPolledForward() async throws {
        let world = try CarryWorld()
        defer { world.server.stop() }
        let url = try TestPostgres.freshDatabase(prefix: "carry")
        try CarryWorld.load(dump: Self.postgresFixture, into: url)
        try await carryForward(world, db: url, expected: try Self.releaseReads(.postgresql), backend: .postgresql)
    }

    @Test func migrateFromCopiesTheReleasesSQLiteIntoPostgreSQL() async throws {
        let world = try CarryWorld()
        defer { world.server.stop() }
        let sqlite = try world.copyOfSQLiteFixture()
        let url = try TestPostgres.freshDatabase(prefix: "carrymig")
        var r = try await world.run(["migrate", "--from", sqlite, "--db", url])
        if r.code != 0 {
            // migrate opens its source read-only: a file whose schema is older than this build's is refused
            // as any reader refuses it (docs/operations.md), and the sentence names the remedy, which must work.
            #expect(r.code == 1 && r.err.contains("needs migrating"), "migrate --from exited \(r.code): \(r.out) \(r.err)")
            try await world.migrateByWriting(sqlite)
            r = try await world.run(["migrate", "--from", sqlite, "--db", url])
        }
        try #require(r.code == 0, "migrate --from exited \(r.code): \(r.out) \(r.err)")
        var expected = try Self.releaseReads(.sqlite)
        var reads = try await world.reads(url)
        // `pollers`: 0.19.0 on PostgreSQL read its own table, which its migrate did not fill (run with
        // DNSWATCH_BINARY=0.19.0 this test finds no poller); a copy that shows them must show the SQLite
        // file's, as the other reads.
        let pollers = (copied: reads["pollers"], file: expected["pollers"])
        reads["pollers"] = nil
        expected["pollers"] = nil
        expectSame(reads, expected, "PostgreSQL after migrate --from the release's SQLite file")
        if pollers.copied != .array([]) {
            // Since d80c6e0 PostgreSQL counts a copied poller's claimed domains from its runs, as SQLite does.
            expectSame(["pollers": pollers.copied ?? .null], ["pollers": pollers.file ?? .null],
                       "PostgreSQL's pollers after migrate --from the release's SQLite file")
        }
        // The copied history goes on as the SQLite file's would.
        try await carryForward(world, db: url, expected: expected, backend: .postgresql, readFirst: false)
    }

    /// Reads `db` (as 0.19.0 read it: `expected`), polls once more with this build, and checks the old
    /// history is still there, extended.
    func carryForward(_ world: CarryWorld, db: String, expected: [String: JSONValue], backend: Backend,
                      readFirst: Bool = true) async throws {
        if readFirst {
            let first = try await world.run(["watch", "list", "--db", db, "--json"])
            if first.code == 0 {
                expectSame(try await world.reads(db), expected, "\(backend.rawValue) as 0.19.0 wrote it, read by \(world.version)")
            } else {
                // The schema moved since 0.19.0: a reader asks for a writing command (docs/operations.md).
                #expect(first.code == 1 && first.err.contains("needs migrating"),
                        "\(backend.rawValue): watch list exited \(first.code): \(first.err)")
            }
            // Migrated by a writing command that adds nothing, it still reads as 0.19.0 read it.
            try await world.migrateByWriting(db)
            expectSame(try await world.reads(db), expected, "\(backend.rawValue) migrated by \(world.version)'s reclassify")
        }
        try await world.poll(db, index: CarryScript.releasePolls)
        #expect(world.unexpectedQueries.isEmpty, "queries the script does not hold: \(world.unexpectedQueries)")
        let after = try await world.reads(db)
        let label = "\(backend.rawValue) after \(world.version)'s poll"

        // The memberships are unchanged (each domain's poll times, state and last alert move on with the poll).
        #expect(after["watch list"].map(Self.memberships) == expected["watch list"].map(Self.memberships),
                "\(label): the lists changed: \(after["watch list"]?.compact ?? "-")")
        // Old alerts stay, last (alerts lists newest first) and unchanged; the poll's change (both.example's new
        // address) adds some.
        if case .array(let old)? = expected["alerts"], case .array(let new)? = after["alerts"] {
            #expect(new.count > old.count, "\(label): no new alert for both.example's new address")
            expectSame(["alerts": .array(Array(new.suffix(old.count)))], ["alerts": .array(old)], "\(label): the release's alerts")
        } else {
            Issue.record("\(label): no alerts read")
        }
        for domain in CarryScript.domains.map(\.name) {
            let key = "history \(domain)"
            guard case .array(let old)? = expected[key], case .array(let new)? = after[key] else {
                Issue.record("\(label): no \(key)")
                continue
            }
            for problem in CarryHistory.carried(old: old, new: new) { Issue.record("\(label): \(key): \(problem)") }
        }
        // The new poll's answers are in: both.example moved to 45.0.121.31.
        if case .array(let lines)? = after["history both.example"] {
            #expect(lines.contains { $0.compact.contains("45.0.121.31") }, "\(label): both.example's new address is not in its history")
        }
    }

    /// `watch list --json` lines with only the fields of a membership (those 0.19.0 printed).
    static func memberships(_ lines: JSONValue) -> JSONValue {
        guard case .array(let items) = lines else { return lines }
        return .array(items.map { item in
            guard case .object(let o) = item else { return item }
            return .object(o.filter { ["domain", "list", "kind", "interval", "added"].contains($0.key) })
        })
    }

    func expectSame(_ actual: [String: JSONValue], _ expected: [String: JSONValue], _ label: String) {
        let differences = JSONValue.differences(expected: .object(expected), actual: .object(actual), at: "")
        if !differences.isEmpty {
            Issue.record("""
                \(label): \(differences.count) difference(s) from what 0.19.0 printed, the first ones:
                \(differences.prefix(30).joined(separator: "\n"))\(differences.count > 30 ? "\n…" : "")
                """)
        }
    }

    /// Re-makes the fixtures with the build `$DNSWATCH_BINARY` names (0.19.0's when they were made):
    /// `DNSWATCH_RECORD_CARRY='<which build, and why>' DNSWATCH_BINARY=<that dnswatch> swift test
    /// --skip-build --filter CarryForwardTests/recordTheFixtures`. Skipped otherwise.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["DNSWATCH_RECORD_CARRY"] != nil))
    func recordTheFixtures() async throws {
        let provenance = try #require(ProcessInfo.processInfo.environment["DNSWATCH_RECORD_CARRY"])
        try #require(!provenance.isEmpty, "DNSWATCH_RECORD_CARRY must say which build is recorded, and why")
        let world = try CarryWorld()
        defer { world.server.stop() }
        _ = try await world.run(["--version"])
        let sqlite = world.directory.path("release.sqlite")
        let postgres = try TestPostgres.freshDatabase(prefix: "carryrec")
        var reads: [String: JSONValue] = [:]
        for (backend, db) in [(Backend.sqlite, sqlite), (.postgresql, postgres)] {
            for list in CarryScript.lists {
                let path = try world.directory.write(list.file, list.text)
                let r = try await world.run(["watch", "import", path, "--db", db])
                try #require(r.code == 0, "watch import \(list.file) exited \(r.code): \(r.err)")
            }
            // Each poll in seconds of its own, so that a span's first and last seen tell its polls apart.
            for index in 0..<CarryScript.releasePolls {
                try await CarryWorld.nextSecond()
                try await world.poll(db, index: index)
            }
            let first = try await world.reads(db)
            // Reads that depend on the clock would make the fixture wrong by the next run: read again later.
            try await Task.sleep(for: .seconds(2))
            let again = try await world.reads(db)
            let unstable = JSONValue.differences(expected: .object(first), actual: .object(again), at: "")
            try #require(unstable.isEmpty, "\(backend.rawValue): reads differ from one second to the next: \(unstable)")
            reads[backend.rawValue] = .object(first)
        }
        #expect(world.unexpectedQueries.isEmpty, "queries the script does not hold: \(world.unexpectedQueries)")

        try FileManager.default.createDirectory(at: Self.fixtures, withIntermediateDirectories: true)
        // The release leaves its WAL file behind, empty (and the -shm that indexes it): everything is in the
        // database file.
        if FileManager.default.fileExists(atPath: sqlite + "-wal") {
            let size = try #require(try FileManager.default.attributesOfItem(atPath: sqlite + "-wal")[.size] as? Int)
            try #require(size == 0, "\(sqlite)-wal was left behind with \(size) bytes: the fixture must be one file")
        }
        if FileManager.default.fileExists(atPath: Self.sqliteFixture.path) { try FileManager.default.removeItem(at: Self.sqliteFixture) }
        try FileManager.default.copyItem(atPath: sqlite, toPath: Self.sqliteFixture.path)
        let dump = try await ChildProcess.run(URL(fileURLWithPath: try TestPostgres.server().binDirectory + "/pg_dump"),
                                        [postgres, "--no-owner", "--no-privileges", "--format=plain", "--file", Self.postgresFixture.path])
        try #require(dump.code == 0, "pg_dump exited \(dump.code): \(dump.err)")
        // pg_dump's \restrict and \unrestrict lines (a random key against a hostile dump; psql before 15.14 and
        // 16.10 does not know them) go: this dump is our own, to be loaded by any psql.
        let text = try String(contentsOf: Self.postgresFixture, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix("\\restrict ") && !$0.hasPrefix("\\unrestrict ") }.joined(separator: "\n")
        try text.write(to: Self.postgresFixture, atomically: true, encoding: .utf8)

        let file: JSONValue = .object([
            "about": .array([
                "What \(world.version) printed for each read of the fixtures it made (release.sqlite3; release-postgresql.sql, pg_dump of its",
                "PostgreSQL database): CarryForwardTests.recordTheFixtures, \(CarryScript.releasePolls) polls of CarryScript's answers.",
                "Recorded: \(provenance).",
            ].map(JSONValue.string)),
            "recorded_with": .string(world.version),
            "sqlite": reads["sqlite"]!,
            "postgresql": reads["postgresql"]!,
        ])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try (encoder.encode(file) + Data("\n".utf8)).write(to: Self.readsFixture)
        print("CarryForwardTests: recorded \(Self.fixtures.path) with \(world.version)")
    }
}

// MARK: - The answers

/// Two lists, four domains (one on both lists), three polls by the release and a fourth by this build.
/// 45.0.121.0/24 matches no fingerprint (a live host); 91.195.240.0/23 and ns*.sedoparking.com are Sedo's
/// parking.
enum CarryScript {
    /// Polls 0..<releasePolls were the release's; poll `releasePolls` is this build's.
    static let releasePolls = 3
    static let hosting: GoldenReply = .records(["ns1.hosting.example", "ns2.hosting.example"])

    static let lists: [(file: String, text: String)] = [
        ("c2-carry.txt", """
            # kind: c2
            # description: names whose answers move
            alpha.example
            bravo.example
            both.example

            """),
        ("expired-carry.txt", """
            # kind: expired
            # interval: 12h
            charlie.example
            both.example

            """),
    ]

    static let domains: [GoldenDomain] = [
        // Nothing changes: its spans stay current and are extended by every poll.
        GoldenDomain(name: "alpha.example", phases: [
            GoldenPhase(0...3, a: .records(["45.0.121.10"]), ns: hosting),
        ]),
        // A new address at poll 2: a closed span in the release's history.
        GoldenDomain(name: "bravo.example", phases: [
            GoldenPhase(0...1, a: .records(["45.0.121.20"]), ns: hosting),
            GoldenPhase(2...3, a: .records(["45.0.121.21"]), aaaa: .records(["2a01:4f8:1:2::21"]), ns: hosting),
        ]),
        // Not registered, then parked at Sedo.
        GoldenDomain(name: "charlie.example", phases: [
            GoldenPhase(0...0, all: .nxdomain),
            GoldenPhase(1...3, a: .records(["91.195.240.94"]), ns: .records(["ns1.sedoparking.com", "ns2.sedoparking.com"])),
        ]),
        // On both lists; moves at this build's poll.
        GoldenDomain(name: "both.example", phases: [
            GoldenPhase(0...2, a: .records(["45.0.121.30"]), ns: hosting),
            GoldenPhase(3...3, a: .records(["45.0.121.31"]), ns: hosting),
        ]),
    ]

    static let byName: [String: GoldenDomain] = Dictionary(uniqueKeysWithValues: domains.map { ($0.name, $0) })

    /// The addresses of the release's polls (for `dnswatch ip`), sorted.
    static var addresses: [String] {
        var all = Set<String>()
        for d in domains {
            for p in d.phases where p.polls.lowerBound < releasePolls {
                for r in [p.a, p.aaaa] {
                    if case .records(let v) = r { all.formUnion(v) }
                }
            }
        }
        return all.sorted()
    }
}

// MARK: - The world

/// A scripted resolver on a free loopback port answering `CarryScript`'s poll, a temporary directory, the
/// binary.
final class CarryWorld: @unchecked Sendable {
    let server: ScriptedUDPServer
    let directory: TemporaryDirectory
    let binary: URL
    private let lock = NSLock()
    private var poll = -1
    private var unexpected: [String] = []
    private(set) var version = ""

    init() throws {
        binary = try DNSWatchBinary.required()
        directory = try TemporaryDirectory("dnswatch-carry")
        let box = Box()
        server = try ScriptedUDPServer(respond: { (query: [UInt8]) -> [[UInt8]] in box.world?.answer(query) ?? [] })
        box.world = self
    }

    private final class Box: @unchecked Sendable {
        weak var world: CarryWorld?
    }

    /// Stops the server and removes the directory (its copies of the fixture).
    deinit {
        server.stop()
        do {
            try directory.remove()
        } catch {
            Issue.record("cannot remove \(directory.path): \(error)")
        }
    }

    var unexpectedQueries: [String] { lock.withLock { unexpected } }

    /// The reply of the current poll's script to one query (as HistoryGoldenTests' world answers).
    func answer(_ query: [UInt8]) -> [[UInt8]] {
        let current = lock.withLock { poll }
        guard let q = DNSTestWire.parseQuery(query), let domain = CarryScript.byName[q.name], let phase = domain.phase(current),
              let reply = [UInt16(1): phase.a, 28: phase.aaaa, 2: phase.ns][q.type]
        else {
            let what = DNSTestWire.parseQuery(query).map { "\($0.name) type \($0.type)" } ?? "\(query.count) bytes"
            lock.withLock { unexpected.append("\(what) at poll \(current)") }
            return [DNSTestWire.reply(to: query, rcode: 5)]
        }
        return reply.replies(to: query, name: q.name, type: q.type)
    }

    func run(_ args: [String]) async throws -> ChildResult {
        if version.isEmpty {
            version = try await ChildProcess.run(binary, ["--version"]).out.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return try await ChildProcess.run(binary, args)
    }

    /// Runs a command that must succeed; its stdout's lines, each a JSON value.
    func lines(_ args: [String]) async throws -> JSONValue {
        let r = try await run(args)
        guard r.code == 0 else { throw GoldenError("dnswatch \(args.joined(separator: " ")) exited \(r.code): \(r.err)") }
        return .array(try r.lines.map { try JSONDecoder().decode(JSONValue.self, from: Data($0.utf8)) })
    }

    /// One poll of the script's answers for poll `index`.
    func poll(_ db: String, index: Int) async throws {
        lock.withLock { poll = index }
        defer { lock.withLock { poll = -1 } }
        let r = try await run([
            "poll", "--db", db, "--resolver", server.endpoint, "--no-asn", "--timeout", "1", "--retries", "2",
            "--no-stdout-alerts", "--alerts-file", directory.path("alerts.ndjson"), "--poller", "carry", "--json",
        ])
        guard r.code == 0 else { throw GoldenError("poll \(index) exited \(r.code): \(r.out) \(r.err)") }
    }

    /// Migrates `db` by a writing command that adds no history: `reclassify` (the shipped fingerprints, the
    /// ones 0.19.0 classified with: the same classes).
    func migrateByWriting(_ db: String) async throws {
        let r = try await run(["reclassify", "--db", db])
        guard r.code == 0 else { throw GoldenError("reclassify --db \(db) exited \(r.code): \(r.out) \(r.err)") }
    }

    /// Every read command's JSON lines, by command.
    func reads(_ db: String) async throws -> [String: JSONValue] {
        var out: [String: JSONValue] = [
            "watch list": try await lines(["watch", "list", "--db", db, "--json"]),
            "alerts": try await lines(["alerts", "--db", db, "--json"]),
            "pollers": try await lines(["pollers", "--db", db, "--json"]),
        ]
        for d in CarryScript.domains.map(\.name) {
            // `resolver` (issue 20) is a field 0.19.0 did not print: the contract welcomes added fields, and
            // the release's spans have none (null). Compared without it.
            out["history \(d)"] = Self.without("resolver", try await lines(["history", d, "--db", db, "--json"]))
            out["triage \(d)"] = try await lines(["triage", d, "--db", db, "--json"])
        }
        for a in CarryScript.addresses {
            out["ip \(a)"] = try await lines(["ip", a, "--db", db, "--json"])
        }
        return out
    }

    /// `lines` (an array of objects) without the field `key`.
    static func without(_ key: String, _ lines: JSONValue) -> JSONValue {
        guard case .array(let items) = lines else { return lines }
        return .array(items.map { item in
            guard case .object(var o) = item else { return item }
            o[key] = nil
            return .object(o)
        })
    }

    /// A copy of the release's SQLite file in this world's directory, private as dnswatch makes its files.
    func copyOfSQLiteFixture() throws -> String {
        let path = directory.path("carried.sqlite")
        try FileManager.default.copyItem(atPath: CarryForwardTests.sqliteFixture.path, toPath: path)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        return path
    }

    /// Returns once the clock is in a whole second after the current one.
    static func nextSecond() async throws {
        let next = Date().timeIntervalSince1970.rounded(.down) + 1
        try await waitUntil("the clock passed \(next)", timeout: 5, every: 10) { Date().timeIntervalSince1970 >= next }
    }

    /// Loads a plain SQL dump into the (empty) database at `url` with psql.
    static func load(dump: URL, into url: String) throws {
        let psql = URL(fileURLWithPath: try TestPostgres.server().binDirectory + "/psql")
        let r = try ChildProcess.run(psql, [url, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", dump.path])
        guard r.code == 0 else { throw GoldenError("psql -f \(dump.lastPathComponent) exited \(r.code): \(r.err)") }
    }
}

// MARK: - History carried

enum CarryHistory {
    /// Problems with `new` as the history `old` had plus one more poll: each old line is in `new` unchanged,
    /// or (a span current at the release's last poll) the same but for a later `time_last` and a `count` one
    /// larger; no old line is lost, and new lines come only with that poll.
    static func carried(old: [JSONValue], new: [JSONValue]) -> [String] {
        var problems: [String] = []
        var unmatched = new
        for line in old {
            if let i = unmatched.firstIndex(of: line) {
                unmatched.remove(at: i)
                continue
            }
            guard case .object(let fields) = line, case .int(let last)? = fields["time_last"], case .int(let count)? = fields["count"] else {
                problems.append("the release's line \(line.compact) has no time_last and count")
                continue
            }
            let extended = unmatched.firstIndex { candidate in
                guard case .object(var other) = candidate, case .int(let newLast)? = other["time_last"],
                      case .int(let newCount)? = other["count"], newLast > last, newCount == count + 1 else { return false }
                other["time_last"] = fields["time_last"]
                other["count"] = fields["count"]
                return other == fields
            }
            if let i = extended {
                unmatched.remove(at: i)
            } else {
                problems.append("the release's line \(line.compact) is gone (neither kept nor extended by one poll)")
            }
        }
        let oldLast: Int64 = old.compactMap { line -> Int64? in if case .int(let t)? = line["time_last"] { t } else { nil } }.max() ?? Int64(0)
        for line in unmatched {
            guard case .int(let first)? = line["time_first"], first > oldLast else {
                problems.append("a line that is neither the release's nor the new poll's: \(line.compact)")
                continue
            }
        }
        return problems
    }
}
