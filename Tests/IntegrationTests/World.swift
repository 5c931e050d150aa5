import Alerting
import Classification
import DNSWatchModel
import Foundation
import SQLiteStore
import TestWorlds

/// The shared Sedo world (TestWorlds' `SedoWorld`) on a SQLite file, each poll holding its poll lock, with a
/// sink that records what the polls deliver and a classifier that knows the tests' own infrastructure
/// (198.51.100.0/24, ns1.corp.example).
final class World: SedoWorld<SQLiteStore>, @unchecked Sendable {
    let sink: CaptureSink

    init(records: [String], sink: CaptureSink = CaptureSink()) throws {
        self.sink = sink
        try super.init(records: records, sinks: [sink],
                       classifier: Classifier(fingerprints: try FingerprintSet.embedded(),
                                              owned: OwnedInfrastructure(cidrs: [CIDR("198.51.100.0/24")!], nameServers: ["ns1.corp.example"])),
                       prefix: "dnswatch-it", open: { try SQLiteStore(path: $0) }, holding: { try PollLock(store: $0, wait: false) })
    }
}
