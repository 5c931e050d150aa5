import Alerting
import Classification
import DNSWatchModel
import Foundation
import HistoryStore
import Logging
import Poller
import Resolver
import TestSupport

/// A sink that records what it is given, and fails while told to.
final class CaptureSink: AlertSink, @unchecked Sendable {
    let key: String
    private let lock = NSLock()
    private var _received: [[String: Any]] = []
    private var failuresLeft: Int

    init(key: String = "capture", failFirst: Int = 0) {
        self.key = key
        self.failuresLeft = failFirst
    }

    var received: [[String: Any]] { lock.withLock { _received } }
    var types: [String] { received.compactMap { $0["type"] as? String } }

    func deliver(_ alertJSON: [UInt8]) async throws {
        try lock.withLock {
            if failuresLeft > 0 {
                failuresLeft -= 1
                throw AlertSinkError(sink: key, reason: .httpStatus(503), message: "test sink down")
            }
            let obj = try JSONSerialization.jsonObject(with: Data(alertJSON)) as? [String: Any] ?? [:]
            _received.append(obj)
        }
    }
}

/// A scripted world: a real Unbound serving `example.` (static) and the Cymru TXT records we need, a fresh
/// database, and a poller wired like the CLI's.
final class World: @unchecked Sendable {
    let unbound: UnboundServer
    let store: HistoryStore
    let sink: CaptureSink
    let classifier: Classifier
    let dbPath: String

    static let sedoA = "91.195.240.94"
    static func parkedRecords(_ name: String) -> [String] {
        ["\(name). 300 IN NS ns1.sedoparking.com.", "\(name). 300 IN NS ns2.sedoparking.com.", "\(name). 300 IN A \(sedoA)"]
    }

    init(records: [String], sink: CaptureSink = CaptureSink()) throws {
        unbound = try UnboundServer(
            localZones: ["example. static", "cymru.com. static"],
            localData: records + [
                "94.240.195.91.origin.asn.cymru.com. 300 IN TXT \"47846 | 91.195.240.0/23 | DE | ripencc | 2009-04-08\"",
            ])
        dbPath = FileManager.default.temporaryDirectory.appendingPathComponent("dnswatch-it-\(UUID().uuidString)/db.sqlite").path
        store = try HistoryStore(path: dbPath)
        self.sink = sink
        classifier = Classifier(fingerprints: try FingerprintSet.embedded(),
                                owned: OwnedInfrastructure(cidrs: [CIDR("198.51.100.0/24")!], nameServers: ["ns1.corp.example"]))
    }

    func watch(_ names: [String], list: String, kind: ListKind) async throws {
        _ = try await store.addEntries(try names.map { ListEntry(domain: try DomainName($0)) },
                                 to: ListSpec(name: list, kind: kind), now: 1)
    }

    func poller(endpoints: [String]? = nil, timeout: Double = 1, retries: Int = 1, batch: Int = 5000,
                classifier: Classifier? = nil, types: [RRType] = RRType.pollDefault, due: Bool = false) throws -> Poller {
        var o = ResolverOptions()
        o.timeout = timeout
        o.retries = retries
        let resolver = try DNSResolver(endpoints: try (endpoints ?? [unbound.endpoint]).map { try ResolverEndpoint($0) }, options: o)
        var p = PollOptions()
        p.batchSize = batch
        p.types = types
        p.dueOnly = due
        return Poller(lock: try PollLock(store: store, wait: false), engine: resolver, classifier: classifier ?? self.classifier, sinks: [sink], options: p,
                      logger: Logger(label: "test"))
    }

    @discardableResult
    func poll(at time: Int64, endpoints: [String]? = nil) async throws -> PollSummary {
        try await poller(endpoints: endpoints).poll(clock: { time })
    }

    func set(_ name: String, _ records: [String]) throws {
        try unbound.removeLocalData([name])
        try unbound.addLocalData(records)
    }
}
