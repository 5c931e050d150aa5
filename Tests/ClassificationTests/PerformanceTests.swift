import Foundation
import Testing
@testable import Classification
import DNSWatchModel

@Suite struct PerformanceTests {
    /// Lookups must not scan the fingerprint list: 100k mixed classifications over the shipped set plus 20k
    /// synthetic entries. The bound is loose enough for a debug build on a busy machine.
    @Test func manyLookupsOverALargeSet() async throws {
        var tsv = ""
        for i in 0..<10_000 {
            tsv += "Synth\tns\tns\(i).synthetic-\(i % 500).example\tparking\tt\n"
            tsv += "Synth\tcidr\t\(20 + i % 50).\(i / 50 % 256).\(i % 7 * 32).0/27\tparking\tt\n"
        }
        let set = try FingerprintSet.embedded().merging(FingerprintSet(tsv: tsv, origin: "synthetic"))
        let c = Classifier(fingerprints: set)
        let addresses = try (0..<1000).map { try ip("\(20 + $0 % 80).\($0 % 256).\($0 * 7 % 256).\($0 % 250 + 1)") }
        let names = (0..<1000).map { "ns\($0 * 13).synthetic-\($0 % 600).example" }
        var parked = 0
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            for i in 0..<50_000 {
                if c.classify(address: addresses[i % 1000], asn: nil).class == .parked { parked += 1 }
                if c.classify(nameServer: names[i % 1000]).class == .parked { parked += 1 }
            }
        }
        #expect(parked > 0)
        #expect(elapsed < .seconds(20), "100k classifications took \(elapsed)")
    }
}
