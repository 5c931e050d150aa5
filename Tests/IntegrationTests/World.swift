import Alerting
import Classification
import DNSWatchModel
import Foundation
import TestWorlds

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
