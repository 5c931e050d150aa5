import Alerting
import Classification
import DNSWatchModel
import Foundation
// Exported so that every file of this target sees World's members (declared in TestWorlds' SedoWorld) without
// importing TestWorlds itself (MemberImportVisibility).
import TestWorlds

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

/// The shared Sedo world (TestWorlds' `SedoWorld`) with a sink that records what the polls deliver and a
/// classifier that knows the tests' own infrastructure (198.51.100.0/24, ns1.corp.example).
final class World: SedoWorld, @unchecked Sendable {
    let sink: CaptureSink

    init(records: [String], sink: CaptureSink = CaptureSink()) throws {
        self.sink = sink
        try super.init(records: records, sinks: [sink],
                       classifier: Classifier(fingerprints: try FingerprintSet.embedded(),
                                              owned: OwnedInfrastructure(cidrs: [CIDR("198.51.100.0/24")!], nameServers: ["ns1.corp.example"])),
                       prefix: "dnswatch-it")
    }
}
