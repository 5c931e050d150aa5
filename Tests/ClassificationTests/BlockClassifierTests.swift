import Testing
@testable import Classification
import DNSWatchModel

/// `classify(block:)`: a prefix of an IoC feed is judged as a range, by what covers it wholly.
@Suite struct BlockClassifierTests {
    @Test func aRangeCoveredWhollyTakesItsClass() throws {
        let c = try shipped()
        let sedo = c.classify(block: try cidr("91.195.240.0/24"))
        #expect(sedo.class == .parked && sedo.provider == "Sedo", "\(sedo)")
        #expect(c.classify(block: try cidr("91.195.240.0/23")).class == .parked, "the fingerprint's own range")
        #expect(c.classify(block: try cidr("192.168.10.0/24")).class == .dormant)
        #expect(c.classify(block: try cidr("2001:db8:1::/48")).class == .dormant)
        #expect(c.classify(block: try cidr("::ffff:10.1.0.0/112")).class == .dormant, "IPv4-mapped is IPv4")
    }

    @Test func aRangeCoveredInPartIsUnknown() throws {
        let c = try shipped()
        let wide = c.classify(block: try cidr("91.195.240.0/22"))
        #expect(wide.class == .unknown && wide.provider == nil, "a /23 of Sedo covers half of it: \(wide)")
        #expect(c.classify(block: try cidr("10.0.0.0/7")).class == .unknown, "10/8 is only half of 10/7")
        #expect(c.classify(block: try cidr("45.0.121.0/24")).class == .unknown)
    }

    @Test func precedenceAsForAnAddress() throws {
        let set = try FingerprintSet(tsv: """
            Park\tcidr\t198.18.0.0/16\tparking\tt
            Park\tcidr\t100.0.0.0/16\tparking\tt
            Hole\tcidr\t100.0.1.0/24\tsinkhole\tt
            """, origin: "test")
        let c = Classifier(fingerprints: set, owned: OwnedInfrastructure(cidrs: [try cidr("100.0.0.0/20")]))
        #expect(c.classify(block: try cidr("100.0.1.0/25")).class == .sinkhole, "sinkhole > owned > parking")
        #expect(c.classify(block: try cidr("100.0.2.0/24")).class == .owned)
        #expect(c.classify(block: try cidr("100.0.0.0/19")).class == .parked, "owned covers only part; parking all")
        #expect(c.classify(block: try cidr("198.18.0.0/24")).class == .dormant, "special-purpose beats parking")
        #expect(c.classify(block: try cidr("100.0.1.7/32")) == c.classify(address: try ip("100.0.1.7"), asn: nil), "a /32 is its address")
    }
}
