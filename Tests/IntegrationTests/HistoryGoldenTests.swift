import Foundation
import Testing
import TestSupport

/// "The history is the same, bit for bit" (issue 24): a recorded sequence of answers, replayed through the
/// `dnswatch` binary only (watch import, 8 polls, then every read command), gives the same spans, first and
/// last seen, counts, states, transitions and alerts as the release recorded in
/// `Tests/Fixtures/history-golden.json`, on SQLite and on PostgreSQL (one fixture for both).
///
/// A scripted resolver answers for 14 domains on three lists (c2, expired, owned); its answers change
/// from poll to poll (`GoldenScript`): unchanged answers, a changed A set, A to NXDOMAIN and back, NODATA,
/// a CNAME chain that appears and goes, an NS change, SERVFAIL and timeouts (no span), AAAA, parking
/// (Sedo, Bodis, a Sedo CNAME), a sinkhole, the user's own addresses leaving them, a parked domain moving
/// to a host of its own, a domain on two lists. Each poll gets whole seconds of its own, so every stored
/// time is replaced by the index of the poll that wrote it (a time that falls in no poll fails the test);
/// the resolver's random port becomes `<resolver>` and the alerts file's sink hash in `delivery_id`
/// `<sink>`; nothing else is left out but the poll's own duration.
///
/// Re-recording (only when a change of the history is intended, or to take the fixture from another
/// build): `DNSWATCH_RECORD_GOLDEN='<which build, and why>' DNSWATCH_BINARY=<that dnswatch> swift test
/// --skip-build --filter HistoryGoldenTests`. The first backend's run writes the fixture; the other
/// backend's run is compared with it, so the backends must agree for a recording to pass.
@Suite(.serialized) struct HistoryGoldenTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/history-golden.json")

    @Test(arguments: Backend.allCases) func theHistoryOfARecordedSequenceIsTheRecordedOne(_ backend: Backend) async throws {
        let world = try GoldenWorld(backend: backend)
        defer { world.server.stop() }
        let dump = try await world.replay()
        #expect(world.unexpectedQueries.isEmpty, "queries the script does not hold: \(world.unexpectedQueries)")

        if let provenance = ProcessInfo.processInfo.environment["DNSWATCH_RECORD_GOLDEN"] {
            try #require(!provenance.isEmpty, "DNSWATCH_RECORD_GOLDEN must say which build is recorded, and why")
            if try GoldenRecording.writeOnce(dump, provenance: provenance, version: world.version, to: Self.fixture) {
                print("HistoryGoldenTests: recorded \(Self.fixture.path) with \(world.version) on \(backend.rawValue): \(GoldenFile.figures(dump))")
                return
            }
        }
        let data = try Data(contentsOf: Self.fixture)
        let recorded = try JSONDecoder().decode(JSONValue.self, from: data)
        guard case .object(var expected) = recorded else { throw GoldenError("\(Self.fixture.path) is not a JSON object") }
        for key in GoldenFile.provenanceKeys { expected[key] = nil }
        let differences = JSONValue.differences(expected: .object(expected), actual: dump, at: "")
        if !differences.isEmpty {
            Issue.record("""
                \(backend.rawValue): \(differences.count) difference(s) from \(Self.fixture.lastPathComponent) \
                (recorded with \(recorded["recorded_with"]?.text ?? "?"); this run: \(world.version)), the first ones:
                \(differences.prefix(40).joined(separator: "\n"))\(differences.count > 40 ? "\n…" : "")
                """)
        }
    }
}

// MARK: - The recorded sequence of answers

/// What the scripted resolver answers to one question.
enum GoldenReply: Sendable, Equatable, CustomStringConvertible {
    /// The asked type's records (A/AAAA addresses, NS names), in this order on the wire.
    case records([String])
    /// A CNAME from the asked name to the target, then the target's records of the asked type (none: NOERROR
    /// with the chain alone).
    case chain(String, [String])
    case nodata, nxdomain, servfail
    /// No reply at all (a timeout).
    case silent

    var description: String {
        switch self {
        case .records(let values): return values.joined(separator: " ")
        case .chain(let target, let values): return (["CNAME \(target)"] + values).joined(separator: " ")
        case .nodata: return "NODATA"
        case .nxdomain: return "NXDOMAIN"
        case .servfail: return "SERVFAIL"
        case .silent: return "(no reply)"
        }
    }
}

/// The answers of one domain over a range of polls.
struct GoldenPhase: Sendable {
    let polls: ClosedRange<Int>
    let a: GoldenReply
    let aaaa: GoldenReply
    let ns: GoldenReply

    init(_ polls: ClosedRange<Int>, a: GoldenReply, aaaa: GoldenReply = .nodata, ns: GoldenReply) {
        self.polls = polls
        self.a = a
        self.aaaa = aaaa
        self.ns = ns
    }

    /// The same reply to every question (NXDOMAIN, SERVFAIL, silence).
    init(_ polls: ClosedRange<Int>, all reply: GoldenReply) {
        self.init(polls, a: reply, aaaa: reply, ns: reply)
    }
}

struct GoldenDomain: Sendable {
    let name: String
    let phases: [GoldenPhase]

    func phase(_ poll: Int) -> GoldenPhase? { phases.first { $0.polls.contains(poll) } }
}

/// The lists, the domains and their answers poll by poll. 45.0.121.0/24 and 2a01:4f8:1:2::/64 match no
/// fingerprint (class unknown: a live host); 91.195.240.0/23 and ns*.sedoparking.com are Sedo's parking,
/// 199.59.240.0/22 and ns*.bodis.com Bodis', *.sedoparking.com a Sedo CNAME, 199.2.137.0/24 a Microsoft DCU
/// sinkhole, 198.51.100.0/24, 2001:db8:1::/48 and ns*.corp.example the user's own (`config`).
enum GoldenScript {
    static let polls = 8
    static let hosting: GoldenReply = .records(["ns1.hosting.example", "ns2.hosting.example"])

    /// The watchlist files (name, text), imported in this order.
    static let lists: [(file: String, text: String)] = [
        ("c2-golden.txt", """
            # kind: c2
            # description: C&C names whose answers move
            steady.example
            rotate.example
            flicker.example
            parkme.example
            chain.example
            v6.example
            twolists.example

            """),
        ("expired-golden.txt", """
            # kind: expired
            # interval: 12h
            oldbrand.example
            quiet.example
            flaky.example
            nsmove.example
            twolists.example
            cnamepark.example

            """),
        ("owned-golden.txt", """
            # kind: owned
            corp.example
            shop.example

            """),
    ]

    static let config = """
        [owned]
        cidrs = ["198.51.100.0/24", "2001:db8:1::/48"]
        nameservers = ["ns*.corp.example"]

        """

    static let domains: [GoldenDomain] = [
        // Nothing changes: one span per type, extended by every poll.
        GoldenDomain(name: "steady.example", phases: [
            GoldenPhase(0...7, a: .records(["45.0.121.10"]), ns: hosting),
        ]),
        // The A set changes (a new address, then another set; the wire order is not the sorted one), then
        // goes to loopback (dormant).
        GoldenDomain(name: "rotate.example", phases: [
            GoldenPhase(0...1, a: .records(["45.0.121.20"]), ns: hosting),
            GoldenPhase(2...4, a: .records(["45.0.121.21", "45.0.121.20"]), ns: hosting),
            GoldenPhase(5...6, a: .records(["45.0.121.22"]), ns: hosting),
            GoldenPhase(7...7, a: .records(["127.0.0.1"]), ns: hosting),
        ]),
        // A to NXDOMAIN and back to the same address.
        GoldenDomain(name: "flicker.example", phases: [
            GoldenPhase(0...2, a: .records(["45.0.121.30"]), ns: hosting),
            GoldenPhase(3...4, all: .nxdomain),
            GoldenPhase(5...7, a: .records(["45.0.121.30"]), ns: hosting),
        ]),
        // A host, then parked at Sedo (address and name servers), then a host of its own with AAAA.
        GoldenDomain(name: "parkme.example", phases: [
            GoldenPhase(0...2, a: .records(["45.0.121.40"]), ns: hosting),
            GoldenPhase(3...5, a: .records(["91.195.240.94"]), ns: .records(["ns2.sedoparking.com", "ns1.sedoparking.com"])),
            GoldenPhase(6...7, a: .records(["45.0.121.41"]), aaaa: .records(["2a01:4f8:1:2::41"]), ns: .records(["ns1.newhost.example"])),
        ]),
        // A CNAME chain appears (to another address) and goes.
        GoldenDomain(name: "chain.example", phases: [
            GoldenPhase(0...1, a: .records(["45.0.121.50"]), ns: hosting),
            GoldenPhase(2...4, a: .chain("edge.cdn.example", ["45.0.121.51"]), aaaa: .chain("edge.cdn.example", []),
                        ns: .chain("edge.cdn.example", [])),
            GoldenPhase(5...7, a: .records(["45.0.121.50"]), ns: hosting),
        ]),
        // IPv6 only: AAAA changes, A is NODATA throughout.
        GoldenDomain(name: "v6.example", phases: [
            GoldenPhase(0...3, a: .nodata, aaaa: .records(["2a01:4f8:1:2::3"]), ns: hosting),
            GoldenPhase(4...7, a: .nodata, aaaa: .records(["2a01:4f8:1:2::4", "2a01:4f8:1:2::3"]), ns: hosting),
        ]),
        // On the c2 and the expired list; parks at Sedo by address alone.
        GoldenDomain(name: "twolists.example", phases: [
            GoldenPhase(0...3, a: .records(["45.0.121.120"]), ns: hosting),
            GoldenPhase(4...7, a: .records(["91.195.240.95"]), ns: hosting),
        ]),
        // Not registered, then registered and parked at Bodis.
        GoldenDomain(name: "oldbrand.example", phases: [
            GoldenPhase(0...1, all: .nxdomain),
            GoldenPhase(2...7, a: .records(["199.59.242.150"]), ns: .records(["ns1.bodis.com", "ns2.bodis.com"])),
        ]),
        // A, then NODATA (the domain goes quiet), then another address.
        GoldenDomain(name: "quiet.example", phases: [
            GoldenPhase(0...2, a: .records(["45.0.121.70"]), ns: hosting),
            GoldenPhase(3...5, a: .nodata, ns: hosting),
            GoldenPhase(6...7, a: .records(["45.0.121.71"]), ns: hosting),
        ]),
        // Failures: every question SERVFAIL, then no reply at all, then A alone SERVFAIL; none is a span;
        // then a new address.
        GoldenDomain(name: "flaky.example", phases: [
            GoldenPhase(0...1, a: .records(["45.0.121.80"]), ns: hosting),
            GoldenPhase(2...2, all: .servfail),
            GoldenPhase(3...3, a: .records(["45.0.121.80"]), ns: hosting),
            GoldenPhase(4...4, all: .silent),
            GoldenPhase(5...5, a: .servfail, ns: hosting),
            GoldenPhase(6...7, a: .records(["45.0.121.81"]), ns: hosting),
        ]),
        // Only the name servers change.
        GoldenDomain(name: "nsmove.example", phases: [
            GoldenPhase(0...3, a: .records(["45.0.121.90"]), ns: .records(["ns1.alpha-dns.example", "ns2.alpha-dns.example"])),
            GoldenPhase(4...7, a: .records(["45.0.121.90"]), ns: .records(["ns1.beta-dns.example"])),
        ]),
        // Not registered, then a CNAME to Sedo's parking.
        GoldenDomain(name: "cnamepark.example", phases: [
            GoldenPhase(0...3, all: .nxdomain),
            GoldenPhase(4...7, a: .chain("cnamepark.sedoparking.com", ["91.195.241.10"]), aaaa: .chain("cnamepark.sedoparking.com", []),
                        ns: .chain("cnamepark.sedoparking.com", [])),
        ]),
        // The user's own addresses and name servers, then an address elsewhere (the domain moved).
        GoldenDomain(name: "corp.example", phases: [
            GoldenPhase(0...4, a: .records(["198.51.100.10"]), aaaa: .records(["2001:db8:1::10"]),
                        ns: .records(["ns1.corp.example", "ns2.corp.example"])),
            GoldenPhase(5...7, a: .records(["45.0.121.110"]), ns: .records(["ns1.corp.example", "ns2.corp.example"])),
        ]),
        // The user's own address, then a sinkhole's.
        GoldenDomain(name: "shop.example", phases: [
            GoldenPhase(0...2, a: .records(["198.51.100.20"]), ns: .records(["ns1.corp.example"])),
            GoldenPhase(3...7, a: .records(["199.2.137.10"]), ns: .records(["ns1.corp.example"])),
        ]),
    ]

    static let byName: [String: GoldenDomain] = Dictionary(uniqueKeysWithValues: domains.map { ($0.name, $0) })

    /// Every address the script hands out (for `dnswatch ip`), sorted.
    static var addresses: [String] {
        var all = Set<String>()
        for d in domains {
            for p in d.phases {
                for r in [p.a, p.aaaa] {
                    switch r {
                    case .records(let v), .chain(_, let v): all.formUnion(v)
                    default: break
                    }
                }
            }
        }
        return all.sorted()
    }

    /// The script as text, kept in the fixture: a script changed without re-recording fails the test.
    static var rendered: JSONValue {
        .object(Dictionary(uniqueKeysWithValues: domains.map { d in
            (d.name, JSONValue.array(d.phases.map { p in
                .string("polls \(p.polls.lowerBound)-\(p.polls.upperBound): A \(p.a); AAAA \(p.aaaa); NS \(p.ns)")
            }))
        }) .merging(["lists": .array(lists.map { .string("\($0.file): \($0.text)") }), "config": .string(config)]) { a, _ in a })
    }
}

// MARK: - The world: a scripted resolver, a database, the binary

/// One replay: a scripted resolver on a free loopback port, a fresh database of `backend`, the watchlist
/// and config files in a temporary directory.
final class GoldenWorld: @unchecked Sendable {
    let server: ScriptedUDPServer
    let backend: Backend
    let db: String
    let directory: TemporaryDirectory
    let binary: URL
    private let lock = NSLock()
    private var poll = -1
    private var unexpected: [String] = []
    private(set) var version = ""

    init(backend: Backend) throws {
        self.backend = backend
        binary = try DNSWatchBinary.required()
        directory = try TemporaryDirectory("dnswatch-golden")
        switch backend {
        case .sqlite: db = directory.path("db.sqlite")
        case .postgresql: db = try TestPostgres.freshDatabase(prefix: "golden")
        }
        let box = Box()
        server = try ScriptedUDPServer(respond: { (query: [UInt8]) -> [[UInt8]] in box.world?.answer(query) ?? [] })
        box.world = self
    }

    /// Lets the server's closure reach the world once it exists.
    private final class Box: @unchecked Sendable {
        weak var world: GoldenWorld?
    }

    var unexpectedQueries: [String] { lock.withLock { unexpected } }

    /// The reply of the current poll's script to one query.
    func answer(_ query: [UInt8]) -> [[UInt8]] {
        let current = lock.withLock { poll }
        guard let q = DNSTestWire.parseQuery(query), let domain = GoldenScript.byName[q.name], let phase = domain.phase(current),
              let reply = [UInt16(1): phase.a, 28: phase.aaaa, 2: phase.ns][q.type]
        else {
            let what = DNSTestWire.parseQuery(query).map { "\($0.name) type \($0.type)" } ?? "\(query.count) bytes"
            lock.withLock { unexpected.append("\(what) at poll \(current)") }
            return [DNSTestWire.reply(to: query, rcode: 5)]
        }
        return reply.replies(to: query, name: q.name, type: q.type)
    }

    func run(_ args: [String]) async throws -> ChildResult {
        try await ChildProcess.run(binary, args)
    }

    /// Runs a command that must succeed; its stdout's lines, each a JSON value.
    func lines(_ args: [String]) async throws -> [JSONValue] {
        let r = try await run(args)
        guard r.code == 0 else { throw GoldenError("dnswatch \(args.joined(separator: " ")) exited \(r.code): \(r.err)") }
        return try r.lines.map { try JSONDecoder().decode(JSONValue.self, from: Data($0.utf8)) }
    }

    /// Imports the lists, runs the polls (each in whole seconds of its own), then reads everything back
    /// through the CLI: the dump, its times replaced by poll indices.
    func replay() async throws -> JSONValue {
        let versionRun = try await run(["--version"])
        version = versionRun.out.trimmingCharacters(in: .whitespacesAndNewlines)
        let config = try directory.write("golden.toml", GoldenScript.config)
        let alertsFile = directory.path("alerts.ndjson")
        var windows = GoldenWindows()

        var start = Date()
        for list in GoldenScript.lists {
            let path = try directory.write(list.file, list.text)
            let r = try await run(["watch", "import", path, "--db", db, "--config", config])
            guard r.code == 0 else { throw GoldenError("watch import \(list.file) exited \(r.code): \(r.err)") }
        }
        try await windows.close("import", from: start)

        var summaries: [JSONValue] = []
        for index in 0..<GoldenScript.polls {
            lock.withLock { poll = index }
            start = Date()
            let r = try await run([
                "poll", "--db", db, "--config", config, "--resolver", server.endpoint, "--no-asn", "--timeout", "1",
                "--retries", "2", "--no-stdout-alerts", "--alerts-file", alertsFile, "--poller", "golden", "--json",
            ])
            guard r.code == 0, r.lines.count == 1 else { throw GoldenError("poll \(index) exited \(r.code): \(r.out) \(r.err)") }
            guard case .object(var summary) = try JSONDecoder().decode(JSONValue.self, from: Data(r.out.utf8)) else {
                throw GoldenError("poll \(index) printed no JSON object: \(r.out)")
            }
            // The poll's own duration is the one figure that is not the history's.
            summary["seconds"] = nil
            summaries.append(.object(summary))
            try await windows.close("poll \(index)", from: start)
        }
        lock.withLock { poll = -1 }

        var domains: [String: JSONValue] = [:]
        for d in GoldenScript.domains {
            domains[d.name] = .object([
                "history": .array(try await lines(["history", d.name, "--db", db, "--json"])),
                "triage": .array(try await lines(["triage", d.name, "--db", db, "--config", config, "--json"])),
            ])
        }
        var addresses: [String: JSONValue] = [:]
        for a in GoldenScript.addresses {
            addresses[a] = .array(try await lines(["ip", a, "--db", db, "--config", config, "--json"]))
        }
        let delivered = try String(contentsOfFile: alertsFile, encoding: .utf8).split(separator: "\n")
            .map { try JSONDecoder().decode(JSONValue.self, from: Data($0.utf8)) }
        let dump: JSONValue = .object([
            "answers": GoldenScript.rendered,
            "polls": .array(summaries),
            "watch_list": .array(try await lines(["watch", "list", "--db", db, "--config", config, "--json"]).map(GoldenFile.nextDueAfterLastPoll)),
            "domains": .object(domains),
            "alerts": .array(try await lines(["alerts", "--db", db, "--json"])),
            "delivered": .array(delivered),
            "addresses": .object(addresses),
            "pollers": .array(try await lines(["pollers", "--db", db, "--json"])),
        ])
        return try windows.normalise(dump, replacing: [server.endpoint: "<resolver>", alertsFile: "<alerts-file>"])
    }
}

/// The wall-clock seconds of each step ([first, last] whole seconds, disjoint), and the rewriting of stored
/// times into the step that wrote them.
struct GoldenWindows {
    private(set) var steps: [(label: String, first: Int64, last: Int64)] = []

    /// Ends the step begun at `start`, then waits until the clock is past the last second it may have
    /// written, so that the next step's seconds are its own.
    mutating func close(_ label: String, from start: Date) async throws {
        let end = Date().timeIntervalSince1970
        let last = Int64(end.rounded(.up))
        steps.append((label, Int64(start.timeIntervalSince1970.rounded(.down)), last))
        try await waitUntil("the clock passed \(last + 1)", timeout: 5, every: 10) { Date().timeIntervalSince1970 >= Double(last + 1) }
    }

    /// The step whose seconds hold `seconds`, as `@<step>`; a time in no step throws.
    func step(_ seconds: Int64, at path: String, was text: String) throws -> JSONValue {
        guard let step = steps.first(where: { $0.first <= seconds && seconds <= $0.last }) else {
            throw GoldenError("\(path) = \(text): a time in no step (\(steps.map { "\($0.label) [\($0.first), \($0.last)]" }))")
        }
        return .string("@\(step.label)")
    }

    /// Times become `@<step>`: epoch seconds (or milliseconds), and ISO 8601 texts (`pollers`). Strings lose
    /// the run's own names (the resolver's port, file paths); a `delivery_id` (`<alert id>-<hash of the
    /// sink's key>`, and the key holds the alerts file's path) keeps its alert id.
    func normalise(_ value: JSONValue, replacing names: [String: String], at path: String = "") throws -> JSONValue {
        switch value {
        case .int(let n) where n >= 1_000_000_000:
            return try step(n >= 1_000_000_000_000 ? n / 1000 : n, at: path, was: "\(n)")
        case .double(let d) where d >= 1_000_000_000:
            throw GoldenError("\(path) = \(d): a fractional time; give it a rule here")
        case .string(let s) where path.hasSuffix(".delivery_id"):
            let parts = s.split(separator: "-")
            guard parts.count == 2, Int(parts[0]) != nil, parts[1].count == 12, parts[1].allSatisfy(\.isHexDigit) else {
                throw GoldenError("\(path) = \(s): not <alert id>-<12 hex digits>")
            }
            return .string("\(parts[0])-<sink>")
        case .string(let s) where s.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/) != nil:
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = s.contains(".") ? [.withInternetDateTime, .withFractionalSeconds] : [.withInternetDateTime]
            guard let date = formatter.date(from: s) else { throw GoldenError("\(path) = \(s): not an ISO 8601 time") }
            return try step(Int64(date.timeIntervalSince1970.rounded(.down)), at: path, was: s)
        case .string(let s):
            var out = s
            for (name, replacement) in names { out = out.replacingOccurrences(of: name, with: replacement) }
            return .string(out)
        case .array(let items):
            return .array(try items.enumerated().map { try normalise($1, replacing: names, at: "\(path)[\($0)]") })
        case .object(let fields):
            var out: [String: JSONValue] = [:]
            for (k, v) in fields { out[k] = try normalise(v, replacing: names, at: "\(path).\(k)") }
            return .object(out)
        default:
            return value
        }
    }
}

// MARK: - The fixture

enum GoldenFile {
    /// Keys of the fixture that say where it comes from (not compared).
    static let provenanceKeys = ["about", "recorded_with"]

    /// A `watch list --json` line with `next_due` as seconds after `last_polled` (`"+N"`: the interval less the
    /// domain's jitter), a time after every step of the replay.
    static func nextDueAfterLastPoll(_ line: JSONValue) -> JSONValue {
        guard case .object(var o) = line, case .int(let due)? = o["next_due"], case .int(let polled)? = o["last_polled"] else { return line }
        o["next_due"] = .string("+\(due - polled)")
        return .object(o)
    }

    static func figures(_ dump: JSONValue) -> String {
        guard case .object(let d) = dump, case .array(let polls)? = d["polls"], case .object(let domains)? = d["domains"],
              case .array(let alerts)? = d["alerts"] else { return "?" }
        let spans = domains.values.reduce(0) { n, v in
            guard case .object(let o) = v, case .array(let h)? = o["history"] else { return n }
            return n + h.count
        }
        return "\(polls.count) polls, \(domains.count) domains, \(spans) spans, \(alerts.count) alerts"
    }
}

/// Record mode: the first backend of this test process writes the fixture, the others are compared with it.
enum GoldenRecording {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var written = false

    /// Writes the fixture unless this process already wrote it; true when it wrote.
    static func writeOnce(_ dump: JSONValue, provenance: String, version: String, to url: URL) throws -> Bool {
        try lock.withLock {
            guard !written else { return false }
            guard case .object(var fields) = dump else { throw GoldenError("the dump is not an object") }
            fields["about"] = .array([
                "What dnswatch wrote for the scripted answers under \"answers\" (Tests/IntegrationTests/HistoryGoldenTests.swift):",
                "every span (history --json), alert, delivered alert, triage verdict, ip line, watch list line and poll summary.",
                "A time is the step that wrote it (@import, @poll N); <resolver> is the scripted resolver's random port.",
                "Recorded: \(provenance).",
                "Re-record only for an intended change of history: DNSWATCH_RECORD_GOLDEN='<which build, and why>'",
                "DNSWATCH_BINARY=<that dnswatch> swift test --skip-build --filter HistoryGoldenTests (both backends must agree).",
            ].map(JSONValue.string))
            fields["recorded_with"] = .string(version)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try (encoder.encode(JSONValue.object(fields)) + Data("\n".utf8)).write(to: url)
            written = true
            return true
        }
    }
}

struct GoldenError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

// MARK: - JSON, exactly

/// A JSON value as parsed, integers kept apart from fractions and from booleans.
indirect enum JSONValue: Codable, Equatable, Sendable {
    case null, bool(Bool), int(Int64), double(Double), string(String), array([JSONValue]), object([String: JSONValue])

    /// Tries each kind in turn (a mismatch is the answer "not this kind", not an error lost); what is none
    /// of the others must be an object, or the decoding throws.
    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int64.self) { self = .int(i) }
        else if let d = try? c.decode(Double.self) { self = .double(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .int(let i): try c.encode(i)
        case .double(let d): try c.encode(d)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }

    subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    var text: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// Compact text of a value, for a difference's line (strings quoted as Swift does).
    var compact: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return "\(b)"
        case .int(let i): return "\(i)"
        case .double(let d): return "\(d)"
        case .string(let s): return s.debugDescription
        case .array(let a): return "[" + a.map(\.compact).joined(separator: ",") + "]"
        case .object(let o): return "{" + o.keys.sorted().map { "\($0.debugDescription):\(o[$0]!.compact)" }.joined(separator: ",") + "}"
        }
    }

    /// Each place where `actual` differs from `expected`, as `path: expected X, got Y`.
    static func differences(expected: JSONValue, actual: JSONValue, at path: String) -> [String] {
        switch (expected, actual) {
        case (.object(let e), .object(let a)):
            return Set(e.keys).union(a.keys).sorted().flatMap { k -> [String] in
                switch (e[k], a[k]) {
                case (let ev?, let av?): return differences(expected: ev, actual: av, at: "\(path).\(k)")
                case (let ev?, nil): return ["\(path).\(k): expected \(ev.compact), missing"]
                case (nil, let av?): return ["\(path).\(k): not expected, got \(av.compact)"]
                case (nil, nil): return []
                }
            }
        case (.array(let e), .array(let a)):
            var out = zip(e, a).enumerated().flatMap { differences(expected: $1.0, actual: $1.1, at: "\(path)[\($0)]") }
            if e.count != a.count {
                out.append("\(path): \(e.count) items expected, got \(a.count)"
                    + (e.count > a.count ? "; missing \(e[a.count].compact)" : "; extra \(a[e.count].compact)"))
            }
            return out
        default:
            return expected == actual ? [] : ["\(path): expected \(expected.compact), got \(actual.compact)"]
        }
    }
}

extension GoldenReply {
    /// The datagrams that answer `query` (for `name` and `type`: A, AAAA or NS) with this reply: the one
    /// way the golden and carry-forward worlds' scripted servers answer.
    func replies(to query: [UInt8], name: String, type: UInt16) -> [[UInt8]] {
        func record(_ owner: String, _ value: String) -> DNSTestWire.Record {
            switch type {
            case 1: return .a(owner, value)
            case 28: return .aaaa(owner, value)
            default: return .ns(owner, value)
            }
        }
        let soa = DNSTestWire.soa(name)
        switch self {
        case .records(let values): return [DNSTestWire.reply(to: query, answers: values.map { record(name, $0) })]
        case .chain(let target, let values):
            return [DNSTestWire.reply(to: query, answers: [.cname(name, target)] + values.map { record(target, $0) })]
        case .nodata: return [DNSTestWire.reply(to: query, authority: [soa])]
        case .nxdomain: return [DNSTestWire.reply(to: query, rcode: 3, authority: [soa])]
        case .servfail: return [DNSTestWire.reply(to: query, rcode: 2)]
        case .silent: return []
        }
    }
}
