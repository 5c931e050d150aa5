import Testing
@testable import Classification
import DNSWatchModel

@Suite struct ClassifierTests {
    // MARK: precedence

    @Test func sinkholeBeatsParkingOnTheSameAddress() async throws {
        let c = try shipped()
        // 158.69.201.47 is in a parking list (MISP) and in sinkhole lists (G, B).
        let listed = c.fingerprints.entries.filter { $0.value == "158.69.201.47" }
        #expect(Set(listed.map(\.category)) == [.sinkhole, .parking], "\(listed)")
        let v = c.classify(address: try ip("158.69.201.47"), asn: nil)
        #expect(v.class == .sinkhole)
        #expect(v.provider == "Now-DNS")
        #expect(v.reason.contains("158.69.201.47") && v.reason.contains("source"))
    }

    @Test func sinkholeBeatsOwnedAndOwnedBeatsParkingAndDormant() async throws {
        let set = try FingerprintSet(tsv: """
            Park\tcidr\t198.51.100.0/24\tparking\tt
            Hole\tip\t192.0.2.7\tsinkhole\tt
            Park\tcidr\t91.195.240.0/23\tparking\tt
            """, origin: "test")
        let owned = OwnedInfrastructure(cidrs: [try cidr("192.0.2.0/24"), try cidr("91.195.240.0/24"), try cidr("10.0.0.0/8")])
        let c = Classifier(fingerprints: set, owned: owned)
        #expect(c.classify(address: try ip("192.0.2.7"), asn: nil).class == .sinkhole)
        #expect(c.classify(address: try ip("192.0.2.8"), asn: nil).class == .owned)
        #expect(c.classify(address: try ip("91.195.240.1"), asn: nil).class == .owned)
        #expect(c.classify(address: try ip("91.195.241.1"), asn: nil).class == .parked)
        #expect(c.classify(address: try ip("10.1.2.3"), asn: nil).class == .owned)
        // Without the owned declaration, a documentation range is dormant even if a fingerprint lists it.
        let plain = Classifier(fingerprints: set)
        #expect(plain.classify(address: try ip("192.0.2.8"), asn: nil).class == .dormant)
        #expect(plain.classify(address: try ip("198.51.100.9"), asn: nil).class == .dormant)
    }

    @Test func addressBeatsAsnAndLongestPrefixWins() async throws {
        let set = try FingerprintSet(tsv: """
            Wide\tcidr\t203.0.0.0/8\tparking\tt
            Narrow\tcidr\t203.1.0.0/16\tmarketplace\tt
            ByAS\tasn\tAS64500\tparking\tt
            HoleAS\tasn\t64501\tsinkhole\tt
            """, origin: "test")
        let c = Classifier(fingerprints: set)
        let v = c.classify(address: try ip("203.1.2.3"), asn: 64500)
        #expect(v.class == .parked && v.provider == "Narrow" && v.subtype == "marketplace")
        #expect(c.classify(address: try ip("203.2.2.3"), asn: nil).provider == "Wide")
        #expect(c.classify(address: try ip("5.5.5.5"), asn: 64500).provider == "ByAS")
        #expect(c.classify(address: try ip("5.5.5.5"), asn: 64501).class == .sinkhole)
        // A sinkhole AS beats a parking address.
        #expect(c.classify(address: try ip("203.1.2.3"), asn: 64501).class == .sinkhole)
        #expect(c.classify(address: try ip("5.5.5.5"), asn: 64502).class == .unknown)
    }

    @Test func nameServerPrecedence() async throws {
        let set = try FingerprintSet(tsv: """
            Registrar\tns\t*.example-dns.com\tregdefault\tt
            Parker\tns\tpark*.example-dns.com\tparking\tt
            Hole\tns\t*.sinkhole.example\tsinkhole\tt
            Cops\tns\tns1.seized.example\tseizure\tt
            """, origin: "test")
        let c = Classifier(fingerprints: set, owned: .init(nameServers: ["*.sinkhole.example", "ns*.mine.example"]))
        let reg = c.classify(nameServer: "ns1.example-dns.com")
        #expect(reg.class == .unknown && reg.subtype == "regdefault" && reg.provider == "Registrar")
        #expect(reg.reason.contains("registrar default") && reg.reason.contains("*.example-dns.com"))
        let park = c.classify(nameServer: "PARK2.example-dns.com.")
        #expect(park.class == .parked && park.provider == "Parker", "the more specific pattern wins")
        #expect(c.classify(nameServer: "a.sinkhole.example").class == .sinkhole, "sinkhole beats owned")
        let seized = c.classify(nameServer: "ns1.seized.example")
        #expect(seized.class == .sinkhole && seized.subtype == "seizure" && seized.provider == "Cops")
        #expect(c.classify(nameServer: "ns7.mine.example").class == .owned)
        #expect(c.classify(nameServer: "mine.example").class == .unknown)
        #expect(c.classify(nameServer: "example-dns.com").class == .unknown, "*. means strictly below")
        #expect(c.classify(nameServer: "x.park1.example-dns.com").subtype == "regdefault", "* stays within a label")
    }

    @Test func shippedRegistrarDefaultsAreNotParked() async throws {
        let c = try shipped()
        for ns in ["ns51.domaincontrol.com", "dns1.registrar-servers.com", "ns1.dns-parking.com", "ns1.dyna-ns.net"] {
            let v = c.classify(nameServer: ns)
            #expect(v.class == .unknown && v.subtype == "regdefault", "\(ns): \(v)")
        }
        // Parking name servers of a registrar family are still parking.
        #expect(c.classify(nameServer: "ns1.sedoparking.com").provider == "Sedo")
        #expect(c.classify(nameServer: "expired-domain-ns1.directnic.com").class == .parked)
        #expect(c.classify(nameServer: "ns1.directnic.com").class == .unknown, "MISP's reduced directnic.com is not used")
    }

    @Test func userFileOverridesShippedEntryOnTie() async throws {
        let base = try FingerprintSet(tsv: "Sedo\tns\t*.sedo.com\tparking\tMN", origin: "embedded")
        let user = try FingerprintSet(tsv: "Sedo\tns\t*.sedo.com\tregdefault\tlocal", origin: "mine.tsv")
        let c = Classifier(fingerprints: base.merging(user))
        #expect(c.classify(nameServer: "ns1.sedo.com").subtype == "regdefault")
        #expect(Classifier(fingerprints: base).classify(nameServer: "ns1.sedo.com").class == .parked)
    }

    // MARK: weak matches in shared cloud ranges

    @Test func sharedCloudAddressIsWeak() async throws {
        let c = try shipped()
        let v = c.classify(address: try ip("34.102.136.180"), asn: nil)
        #expect(v.class == .unknown)
        #expect(v.weakProvider == "GoDaddy Parking")
        #expect(v.subtype == "parking")
        #expect(v.reason.hasPrefix("weak parking match (shared cloud"))
        #expect(v.provider == nil)
        // The same provider in a dedicated range is a strong match.
        let strong = c.classify(address: try ip("91.195.240.94"), asn: nil)
        #expect(strong.class == .parked && strong.provider == "Sedo" && strong.weakProvider == nil)
    }

    @Test func weakSinkholeDoesNotHideStrongParking() async throws {
        let set = try FingerprintSet(tsv: """
            Hole\tip\t35.1.1.1\tsinkhole\tt
            Park\tasn\tAS64500\tparking\tt
            """, origin: "test")
        let c = Classifier(fingerprints: set)
        #expect(c.classify(address: try ip("35.1.1.1"), asn: 64500).class == .parked)
        let weak = c.classify(address: try ip("35.1.1.1"), asn: nil)
        #expect(weak.class == .unknown && weak.weakProvider == "Hole" && weak.reason.hasPrefix("weak sinkhole match"))
    }

    // MARK: dormant

    @Test(arguments: [
        "0.0.0.0", "0.1.2.3", "10.0.0.1", "100.64.0.1", "100.127.255.254", "127.0.0.1", "127.255.255.255",
        "169.254.1.1", "172.16.0.1", "172.31.255.255", "192.0.0.9", "192.0.2.1", "192.88.99.1", "192.168.1.1",
        "198.18.0.1", "198.19.255.255", "198.51.100.1", "203.0.113.255", "224.0.0.1", "239.255.255.255",
        "240.0.0.1", "255.255.255.255",
        "::", "::1", "::ffff:127.0.0.1", "::ffff:10.1.1.1", "64:ff9b::a01:101", "64:ff9b:1::1", "100::1",
        "2001:db8::1", "2001:2::1", "3fff::1", "fc00::1", "fd12:3456::1", "fe80::1", "febf::1", "ff02::1",
        "::0.0.0.2",
    ])
    func dormant(_ text: String) throws {
        let v = try shipped().classify(address: try ip(text), asn: nil)
        #expect(v.class == .dormant, "\(text): \(v)")
        #expect(v.reason.contains("RFC"), "\(text): \(v.reason)")
    }

    @Test(arguments: [
        "1.1.1.1", "9.9.9.9", "100.63.255.255", "100.128.0.0", "172.15.255.255", "172.32.0.0", "192.0.1.255",
        "192.169.0.1", "198.17.255.255", "198.20.0.0", "223.255.255.255", "2001:4860:4860::8888",
        "2a00:1450::1", "::ffff:8.8.8.8", "fec0::1",
    ])
    func notDormant(_ text: String) throws {
        let v = try shipped().classify(address: try ip(text), asn: nil)
        #expect(v.class != .dormant, "\(text): \(v)")
    }

    @Test func mappedAddressesUseIPv4Rules() async throws {
        let c = try shipped()
        let v = c.classify(address: try ip("::ffff:91.195.240.94"), asn: nil)
        #expect(v.class == .parked && v.provider == "Sedo" && v.reason.contains("IPv4-mapped"))
        let nat64 = c.classify(address: try ip("64:ff9b::9e45:c92f"), asn: nil)  // 158.69.201.47
        #expect(nat64.class == .sinkhole && nat64.provider == "Now-DNS")
    }

    // MARK: CNAME and auto-detection

    @Test func cnameTargets() async throws {
        let c = try shipped()
        let v = c.classify(cnameTarget: "Foo.SedoParking.com.")
        #expect(v.class == .parked && v.provider == "Sedo")
        #expect(c.classify(cnameTarget: "pltraffic12.com").provider == "ParkLogic")
        #expect(c.classify(cnameTarget: "traff-3.hugedomains.com").subtype == "marketplace")
        #expect(c.classify(cnameTarget: "www.example.com").class == .unknown)
    }

    @Test func classifyValueDetectsKind() async throws {
        let c = try shipped()
        #expect(c.classify(value: " 91.195.240.1 ", asn: nil).provider == "Sedo")
        #expect(c.classify(value: "2001:db8::5", asn: nil).class == .dormant)
        #expect(c.classify(value: "ns2.bodis.com", asn: nil).provider == "Bodis")
        #expect(c.classify(value: "parking.bodis.com", asn: nil).provider == "Bodis", "falls back to CNAME fingerprints")
        #expect(c.classify(value: "ns1.domaincontrol.com", asn: nil).subtype == "regdefault")
        #expect(c.classify(value: "sinkhole.shadowserver.org", asn: nil).class == .sinkhole)
        #expect(c.classify(value: "www.example.org", asn: nil).class == .unknown)
    }

    // MARK: owned

    @Test func ownedInfrastructure() async throws {
        let owned = OwnedInfrastructure(cidrs: [try cidr("2001:db8:100::/48"), try cidr("8.8.8.0/24")],
                                        nameServers: ["ns*.example.com", "*.dns.example.net", "bad..pattern", "*"])
        let c = Classifier(fingerprints: try FingerprintSet.embedded(), owned: owned)
        #expect(c.classify(address: try ip("8.8.8.8"), asn: nil).class == .owned)
        #expect(c.classify(address: try ip("8.8.9.8"), asn: nil).class == .unknown)
        #expect(c.classify(address: try ip("2001:db8:100::1"), asn: nil).class == .owned, "owned beats dormant")
        #expect(c.classify(address: try ip("2001:db8:200::1"), asn: nil).class == .dormant)
        #expect(c.classify(nameServer: "ns3.example.com").class == .owned)
        #expect(c.classify(nameServer: "a.b.dns.example.net").class == .owned)
        #expect(c.classify(nameServer: "www.example.com").class == .unknown)
        #expect(owned.invalidNameServers.map(\.pattern) == ["bad..pattern", "*"])
    }
}
