import Alerting
import DNSWatchModel
import Foundation
import SQLiteStore
import Store
import Hummingbird
import Poller
import Serve
import TestSupport
import TestWorlds

/// A sink that never delivers: its alerts stay in the outbox (so `dnswatch_outbox_pending` has something).
struct RefusingSink: AlertSink {
    let key = "refusing"
    func deliver(_ alertJSON: [UInt8]) async throws {
        throw AlertSinkError(sink: key, reason: .httpStatus(503), message: "test sink down")
    }
}

/// A database made by real polls of the shared Sedo world: `parked.example` on Sedo's parking (then moved to a
/// host of its own, raising an alert), `host.example` on a documentation address, `gone.example` NXDOMAIN.
/// Its polls deliver to a sink that refuses everything, so their alerts stay in the outbox.
final class APIWorld: SedoWorld<SQLiteStore>, @unchecked Sendable {
    static let hostA = "192.0.2.10"
    static let t1: Int64 = 1_790_000_000, t2: Int64 = 1_790_003_600

    init() throws {
        try super.init(records: APIWorld.parkedRecords("parked.example") + [
            "host.example. 300 IN A \(APIWorld.hostA)", "host.example. 300 IN NS ns1.host.example.",
        ], sinks: [RefusingSink()], prefix: "dnswatch-api", open: { try SQLiteStore(path: $0) }, holding: { try PollLock(store: $0, wait: false) })
    }

    /// Two polls an hour apart; between them parked.example leaves the parking for a host of its own.
    static func made() async throws -> APIWorld {
        let w = try APIWorld()
        try await w.watch(["parked.example", "host.example", "gone.example"], list: "c2feed", kind: .c2, now: 1)
        try await w.watch(["host.example"], list: "ours", kind: .owned, now: 2)
        try await w.poll(at: t1)
        try w.move("parked.example", to: "192.0.2.77", ns: "ns1.host.example")
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
        let path = try directory.write("sensor-x.json", APIWorld.peerCOF)
        let summary = try await COFImport(store: store, classifier: classifier)
            .run([COFImport.Input(path: path, source: "sensor-x")], skipInvalid: false, now: APIWorld.t2)
        guard summary.counts.imported == 3 else { throw TestSupportError.process("import: \(summary)") }
    }

    /// The server's routes over a read-only connection to the database, as `dnswatch serve` opens it.
    func router() throws -> Router<ServeContext> {
        DNSWatchServer.router(ServeDependencies(store: try SQLiteStore.readOnly(path: dbPath), classifier: classifier))
    }
}

/// Tools the tests run besides `dnswatch` (TestSupport's `DNSWatchBinary`): the Python clients of `.build/pyclients`.
enum Tools {
    /// A program of the tests' Python environment; missing, the test fails saying how to install it.
    static func python(_ program: String = "python") throws -> String {
        let path = DNSWatchBinary.packageRoot.appendingPathComponent(".build/pyclients/bin/\(program)").path
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
