import Alerting
import Classification
import DNSWatchModel
import Foundation
import HistoryStore
import Hummingbird
import Logging
import Poller
import Resolver
import Serve
import TestSupport

/// A sink that never delivers: its alerts stay in the outbox (so `dnswatch_outbox_pending` has something).
struct RefusingSink: AlertSink {
    let key = "refusing"
    func deliver(_ alertJSON: [UInt8]) async throws {
        throw AlertSinkError(sink: key, reason: .httpStatus(503), message: "test sink down")
    }
}

/// A database made by real polls of a local Unbound: `parked.example` on Sedo's parking (then moved to a
/// host of its own, raising an alert), `host.example` on a documentation address, `gone.example` NXDOMAIN.
final class APIWorld: @unchecked Sendable {
    static let sedoA = "91.195.240.94"
    static let hostA = "192.0.2.10"
    static let t1: Int64 = 1_790_000_000, t2: Int64 = 1_790_003_600

    let unbound: UnboundServer
    let dbPath: String
    let store: HistoryStore
    let classifier: Classifier
    var summaries: [PollSummary] = []

    init() throws {
        unbound = try UnboundServer(
            localZones: ["example. static", "cymru.com. static"],
            localData: [
                "parked.example. 300 IN NS ns1.sedoparking.com.", "parked.example. 300 IN NS ns2.sedoparking.com.",
                "parked.example. 300 IN A \(APIWorld.sedoA)",
                "host.example. 300 IN A \(APIWorld.hostA)", "host.example. 300 IN NS ns1.host.example.",
                "94.240.195.91.origin.asn.cymru.com. 300 IN TXT \"47846 | 91.195.240.0/23 | DE | ripencc | 2009-04-08\"",
            ])
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dnswatch-api-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        dbPath = dir.appendingPathComponent("db.sqlite").path
        store = try HistoryStore(path: dbPath)
        classifier = Classifier(fingerprints: try FingerprintSet.embedded())
    }

    /// Two polls an hour apart; between them parked.example leaves the parking for a host of its own.
    static func made() async throws -> APIWorld {
        let w = try APIWorld()
        _ = try await w.store.addEntries(try ["parked.example", "host.example", "gone.example"].map { ListEntry(domain: try DomainName($0)) },
                                         to: ListSpec(name: "c2feed", kind: .c2), now: 1)
        _ = try await w.store.addEntries([ListEntry(domain: try DomainName("host.example"))], to: ListSpec(name: "ours", kind: .owned), now: 2)
        try await w.poll(at: t1)
        try w.unbound.removeLocalData(["parked.example"])
        try w.unbound.addLocalData(["parked.example. 300 IN A 192.0.2.77", "parked.example. 300 IN NS ns1.host.example."])
        try await w.poll(at: t2)
        try await w.importPeer()
        return w
    }

    /// Another sensor's passive DNS (`import cof`, source `sensor-x`): host.example and a name of its own on
    /// the host's address, and that name on the parking address too.
    static let peerCOF = """
        {"rrname":"host.example.","rrtype":"A","rdata":["\(hostA)"],"time_first":1780000000,"time_last":1790000100,"count":40}
        {"rrname":"peer.example.","rrtype":"A","rdata":["\(hostA)"],"time_first":1780000000,"time_last":1780000500,"count":3}
        {"rrname":"peer.example","rrtype":"A","rdata":"\(sedoA)","time_first":1770000000,"time_last":1770000500,"count":2,"sensor_id":"x"}
        {"rrname":"peer.example","rrtype":"MX","rdata":"10 mail.peer.example.","time_first":1770000000,"time_last":1770000500,"count":2}
        """

    func importPeer() async throws {
        let path = URL(fileURLWithPath: dbPath).deletingLastPathComponent().appendingPathComponent("sensor-x.json").path
        try APIWorld.peerCOF.write(toFile: path, atomically: true, encoding: .utf8)
        let summary = try await COFImport(store: store, classifier: classifier)
            .run([COFImport.Input(path: path, source: "sensor-x")], skipInvalid: false, now: APIWorld.t2)
        guard summary.counts.imported == 3 else { throw TestSupportError.process("import: \(summary)") }
    }

    func poll(at time: Int64) async throws {
        var o = ResolverOptions()
        o.timeout = 1
        o.retries = 1
        let resolver = try DNSResolver(endpoints: [try ResolverEndpoint(unbound.endpoint)], options: o)
        let poller = Poller(lock: try PollLock(store: store, wait: false), engine: resolver, classifier: classifier,
                            sinks: [RefusingSink()], options: PollOptions(), logger: Logger(label: "test"))
        summaries.append(try await poller.poll(clock: { time }))
    }

    /// The server's routes over a read-only connection to the database, as `dnswatch serve` opens it.
    func router() throws -> Router<ServeContext> {
        DNSWatchServer.router(ServeDependencies(store: try HistoryStore.readOnly(path: dbPath), classifier: classifier))
    }
}

/// Tools the tests run: the built `dnswatch` and the Python clients of `.build/pyclients`.
enum Tools {
    /// The package's root, from this file's path (Tests/ServeTests/APIWorld.swift).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let dnswatch: URL = {
        let dir = Bundle.main.executableURL?.deletingLastPathComponent()
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        return dir.appendingPathComponent("dnswatch")
    }()

    /// A program of the tests' Python environment; missing, the test fails saying how to install it.
    static func python(_ program: String = "python") throws -> String {
        let path = root.appendingPathComponent(".build/pyclients/bin/\(program)").path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw TestSupportError.process("\(path) is missing: run scripts/install-deps (it creates .build/pyclients)")
        }
        return path
    }

    /// Runs a program to its end without blocking a thread.
    static func run(_ path: String, _ args: [String], environment: [String: String] = [:], in directory: URL? = nil) async throws -> ChildResult {
        try await ChildProcess.run(URL(fileURLWithPath: path), args, environment: environment, in: directory)
    }
}
