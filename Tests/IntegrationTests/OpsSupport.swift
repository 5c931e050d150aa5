import Classification
import DNSWatchModel
import Foundation
import GRDB
import SQLiteStore
import Store
import Logging
import Poller
import Resolver
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// A world for the operational tests: a real Unbound that answers any number of generated names without a
/// record per name (`d<i>.r.example` via a `redirect` zone: A 45.0.121.77 and NS, AAAA NODATA;
/// `nx<i>.example`: NXDOMAIN), and a fresh database.
final class BulkWorld: @unchecked Sendable {
    let unbound: UnboundServer
    let dbPath: String
    let store: SQLiteStore
    let classifier: Classifier
    /// The world's scratch directory (the database, files, the background processes' output); `workdir` is its URL.
    let directory: TemporaryDirectory
    let workdir: URL

    static let liveA = "45.0.121.77"

    init() throws {
        unbound = try UnboundServer(
            localZones: ["example. static", "r.example. redirect"],
            localData: ["r.example. 300 IN A \(BulkWorld.liveA)", "r.example. 300 IN NS ns1.r.example."])
        directory = try TemporaryDirectory("dnswatch-ops")
        workdir = directory.url
        dbPath = directory.path("db.sqlite")
        store = try SQLiteStore(path: dbPath)
        classifier = Classifier(fingerprints: try FingerprintSet.embedded())
    }

    /// Stops the server and removes the directory (a bulk world's database is large).
    deinit {
        unbound.stop()
        do {
            try directory.remove()
        } catch {
            Issue.record("cannot remove \(directory.path): \(error)")
        }
    }

    /// `count` names: every fourth does not exist (NXDOMAIN), the others resolve.
    static func names(_ count: Int, prefix: String = "d") -> [String] {
        (0..<count).map { i in i % 4 == 3 ? "\(prefix)nx\(i).example" : "\(prefix)\(i).r.example" }
    }

    func watch(_ names: [String], list: String, kind: ListKind = .c2, interval: Int? = nil) async throws {
        _ = try await store.addEntries(try names.map { ListEntry(domain: try DomainName($0)) },
                                 to: ListSpec(name: list, kind: kind, interval: interval), now: 1)
    }

    /// A text file in the work directory, one line each; returns its path.
    func file(_ name: String, lines: [String]) throws -> String {
        try directory.write(name, lines.joined(separator: "\n").appending("\n"))
    }

    /// A watchlist file: header lines, then one name a line.
    func watchlistFile(_ name: String, header: [String] = [], names: [String]) throws -> String {
        try file(name, lines: header + names)
    }

    /// A poller wired like the CLI's, without origin-ASN lookups and without sinks.
    func poller(qps: Double? = nil, _ configure: (inout PollOptions) -> Void = { _ in }) throws -> Poller {
        var o = ResolverOptions()
        o.timeout = 2
        o.retries = 2
        o.queriesPerSecondPerResolver = qps
        let resolver = try DNSResolver(endpoints: [try ResolverEndpoint(unbound.endpoint)], options: o)
        var p = PollOptions()
        p.asnLookups = false
        configure(&p)
        return Poller(store: store, holding: try PollLock(store: store, wait: false), engine: resolver, classifier: classifier, options: p, logger: Logger(label: "ops-test"))
    }

    /// Common `dnswatch` arguments: this database, this resolver, no ASN lookups.
    var pollArgs: [String] { ["--db", dbPath, "--resolver", unbound.endpoint, "--no-asn"] }

    /// Runs `dnswatch` to completion without blocking a thread of the test runner's pool (which other
    /// tests share) while it runs.
    func dnswatch(_ args: [String], timeout: Double = 120) async throws -> CLI.Result {
        let p = try Background(args, workdir: workdir)
        let end = try await p.wait(timeout: timeout)
        return CLI.Result(code: end?.status ?? -1, out: p.out, err: p.err + (end == nil ? "\n(killed after \(timeout) s)" : ""))
    }
}

/// The operational tests run one at a time: they are heavy (tens of thousands of queries, several
/// processes) and some measure time, so they neither overlap each other nor load the machine twice over.
@Suite(.serialized) enum OperationsTests {}

// MARK: - Reading the database as an auditor

/// A read-only view of a dnswatch database, independent of SQLiteStore, to check its invariants.
struct Audit {
    let queue: DatabaseQueue

    init(_ path: String) throws {
        var c = Configuration()
        c.readonly = true
        c.busyMode = .timeout(10)
        queue = try DatabaseQueue(path: path, configuration: c)
    }

    struct PollRow: Equatable, CustomStringConvertible {
        var id: Int64, started: Int64, finished: Int64?, domains: Int, failures: Int
        var description: String { "poll \(id): started \(started) finished \(finished.map(String.init) ?? "NULL") domains \(domains) failures \(failures)" }
    }

    func polls() throws -> [PollRow] {
        try queue.read { db in
            try Row.fetchAll(db, sql: "SELECT id, started, finished, domains, failures FROM polls ORDER BY id").map {
                PollRow(id: $0[0], started: $0[1], finished: $0[2], domains: $0[3], failures: $0[4])
            }
        }
    }

    /// One domain's history as the checks need it.
    struct DomainRow: Equatable {
        var id: Int64, name: String
        var spans: Int, pairs: Int, minCount: Int?, maxCount: Int?, timeLasts: Int, maxTimeLast: Int64?, lastPolled: Int64?
    }

    /// Every domain in id order, with a summary of its spans and status.
    func domains() throws -> [DomainRow] {
        try queue.read { db in
            try Row.fetchAll(db, sql: """
                SELECT d.id, d.name, count(s.id), count(DISTINCT s.rrtype), min(s.count), max(s.count),
                       count(DISTINCT s.time_last), max(s.time_last), st.last_polled
                FROM domains d LEFT JOIN spans_seen s ON s.domain_id = d.id LEFT JOIN domain_status st ON st.domain_id = d.id
                GROUP BY d.id ORDER BY d.id
                """).map {
                DomainRow(id: $0[0], name: $0[1], spans: $0[2], pairs: $0[3], minCount: $0[4], maxCount: $0[5],
                          timeLasts: $0[6], maxTimeLast: $0[7], lastPolled: $0[8])
            }
        }
    }

    /// Structural problems of the span history; all zero when sound.
    struct SpanProblems: Equatable, CustomStringConvertible {
        /// Two spans of one (domain, rrtype) whose [time_first, time_last] overlap.
        var overlapping = 0
        /// A head that is not the newest span of its pair, or names a span of another pair.
        var wrongHeads = 0
        /// A (domain, rrtype) with spans but no head.
        var missingHeads = 0
        /// A span with time_first > time_last or count < 1.
        var malformed = 0
        var description: String {
            "overlapping=\(overlapping) wrongHeads=\(wrongHeads) missingHeads=\(missingHeads) malformed=\(malformed)"
        }
    }

    func spanProblems() throws -> SpanProblems {
        try queue.read { db in
            var p = SpanProblems()
            p.overlapping = try Int.fetchOne(db, sql: """
                SELECT count(*) FROM spans_seen a JOIN spans_seen b
                  ON b.domain_id = a.domain_id AND b.rrtype = a.rrtype AND b.id > a.id
                 AND a.time_first <= b.time_last AND b.time_first <= a.time_last
                """) ?? -1
            p.wrongHeads = try Int.fetchOne(db, sql: """
                SELECT count(*) FROM heads h LEFT JOIN spans s ON s.id = h.span_id
                WHERE s.id IS NULL OR s.domain_id != h.domain_id OR s.rrtype != h.rrtype
                   OR EXISTS (SELECT 1 FROM spans n WHERE n.domain_id = h.domain_id AND n.rrtype = h.rrtype AND n.id > h.span_id)
                """) ?? -1
            p.missingHeads = try Int.fetchOne(db, sql: """
                SELECT count(*) FROM (SELECT DISTINCT domain_id, rrtype FROM spans) x
                WHERE NOT EXISTS (SELECT 1 FROM heads h WHERE h.domain_id = x.domain_id AND h.rrtype = x.rrtype)
                """) ?? -1
            p.malformed = try Int.fetchOne(db, sql: "SELECT count(*) FROM spans_seen WHERE time_first > time_last OR count < 1") ?? -1
            return p
        }
    }

    func scalar(_ sql: String) throws -> Int {
        try queue.read { db in try Int.fetchOne(db, sql: sql) ?? 0 }
    }
}

// MARK: - Running the dnswatch binary in the background

/// A `dnswatch` process started in the background, its stdout and stderr going to files.
final class Background: @unchecked Sendable {
    let process = Process()
    let outPath: String
    let errPath: String
    let started = Date()
    private let lock = NSLock()
    private var _ended: Date?
    /// When the process ended, taken by its termination handler (not by a test loop that may be starved).
    var endedAt: Date? { lock.withLock { _ended } }

    init(_ args: [String], workdir: URL, environment: [String: String] = [:]) throws {
        let tag = UUID().uuidString.prefix(8)
        outPath = workdir.appendingPathComponent("out-\(tag).txt").path
        errPath = workdir.appendingPathComponent("err-\(tag).txt").path
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        process.executableURL = DNSWatchBinary.url
        process.arguments = args
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "DNSWATCH_CONFIG")
        env.removeValue(forKey: "DNSWATCH_DB")
        for (k, v) in environment { env[k] = v }
        process.environment = env
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        process.terminationHandler = { [weak self] _ in
            guard let self else { return }
            let now = Date()
            self.lock.withLock { self._ended = now }
        }
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }
    var out: String { (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "" }
    var err: String { (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "" }
    var outLines: [String] { out.split(separator: "\n").map(String.init) }

    func signal(_ sig: Int32) { kill(pid, sig) }

    /// Waits for the process to end (killing it after `timeout`); returns its exit status, or nil when it
    /// did not end by itself in time. `ended` is when it was seen gone.
    @discardableResult
    func wait(timeout: Double = 60) async throws -> (status: Int32, signalled: Bool, ended: Date)? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning {
            if Date() > deadline {
                kill(pid, SIGKILL)
                process.waitUntilExit()
                return nil
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        process.waitUntilExit()
        return (process.terminationStatus, process.terminationReason == .uncaughtSignal, endedAt ?? Date())
    }

    deinit {
        if process.isRunning {
            kill(pid, SIGKILL)
            process.waitUntilExit()
        }
    }
}

/// The size of a file in bytes (0 if absent).
func fileSize(_ path: String) -> Int {
    ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
}

extension Background {
    /// Waits for all of them, watching them together so each end time is when that one ended.
    /// `sample` runs between checks while any is still running.
    static func waitAll(_ processes: [Background], timeout: Double = 90,
                        sample: () throws -> Void = {}) async throws -> [(status: Int32, ended: Date)?] {
        var ended = [(status: Int32, ended: Date)?](repeating: nil, count: processes.count)
        let deadline = Date().addingTimeInterval(timeout)
        while ended.contains(where: { $0 == nil }), Date() < deadline {
            for (i, p) in processes.enumerated() where ended[i] == nil && !p.isRunning {
                p.process.waitUntilExit()
                ended[i] = (p.process.terminationStatus, p.endedAt ?? Date())
            }
            try sample()
            try await Task.sleep(for: .milliseconds(5))
        }
        for p in processes where p.isRunning { p.signal(SIGKILL) }
        return ended
    }
}

/// Prints a measured figure when `DNSWATCH_TEST_FIGURES` is set (for reports; silent otherwise).
func figure(_ text: String) {
    if ProcessInfo.processInfo.environment["DNSWATCH_TEST_FIGURES"] != nil {
        FileHandle.standardError.write(Data("figure: \(text)\n".utf8))
    }
}
