import Testing
@testable import Classification
import DNSWatchModel

/// What the shipped fingerprints must say about infrastructure whose owner is documented elsewhere: each fact
/// below is a literal taken from a source other than the files the fingerprint build reads
/// (data/reference/parking-and-sinkholes.tsv and data/reference/sources/), cited next to it. A fingerprint
/// that is lost, moved to another provider or given another category fails here; nothing is read at run time.
///
/// Sources (each a public document, with where it was read):
/// - [sedo-mail] Sedo's mail to its customers on parking by name server (ns1/ns2.sedoparking.com), quoted in
///   "Sedo – Änderungen für geparkte Domains", blogs-optimieren.de/2242 (2011).
/// - [urlscan] urlscan.io result for 91.195.240.94, quoted in github.com/MSAdministrator/enrichment-mcp
///   README.md @ 5a2fb9319fc72110da3284bd035bdcc3ae2b9cf8: "server - Parking/1.0", "asnname - SEDO-AS SEDO
///   GmbH, DE", "asn - AS47846", AbuseIPDB "ISP: Sedo Domain Parking".
/// - [dnstree] dnstree.com/co/googlecode (2013-06-18): googlecode.co delegated to (ns1,ns2).bodis.com, "several
///   thousand of domains" on that name server group.
/// - [hostinger] support.hostinger.com/en/articles/8671230: Hostinger name servers "look similar to
///   [example1].dns-parking.com and [example2].dns-parking.com" (a registrar's DNS, not parking).
/// - [default-ns] "Default nameservers" (grokipedia.com/page/Default_nameservers): GoDaddy's default name
///   servers ns01.domaincontrol.com and ns02.domaincontrol.com.
/// - [grettir] github.com/grettir/malware-sinkholes malware_sinkholes.txt @ 10446f4197759680d59b28d9821fced7945c9fc4
///   (per operator, its sinkhole host names and addresses, each with the operator's evidence).
/// - [tma22] Zirngibl et al., "Domain Parking: Largely Present, Rarely Considered!", TMA 2022, the dataset's
///   "godaddy" service: A 34.102.136.180 (a Google Cloud address: shared, so only a weak match). The one fact
///   here that the build also reads (data/reference/sources/tma22-parking_services.json): no other source for
///   it was found; it checks the shared-cloud rule more than the entry.
@Suite struct ReferenceTableTests {
    struct Fact: Sendable, CustomStringConvertible {
        var value: String
        var provider: String
        var `class`: DomainClass
        var subtype: String
        var source: String
        var description: String { "\(value) (\(source))" }
    }

    static let nameServers: [Fact] = [
        Fact(value: "ns1.sedoparking.com", provider: "Sedo", class: .parked, subtype: "parking", source: "sedo-mail"),
        Fact(value: "ns2.sedoparking.com", provider: "Sedo", class: .parked, subtype: "parking", source: "sedo-mail"),
        Fact(value: "ns1.bodis.com", provider: "Bodis", class: .parked, subtype: "parking", source: "dnstree"),
        Fact(value: "ns2.bodis.com", provider: "Bodis", class: .parked, subtype: "parking", source: "dnstree"),
        Fact(value: "sinkhole.kaspersky.com", provider: "Kaspersky", class: .sinkhole, subtype: "sinkhole", source: "grettir"),
        Fact(value: "sinkhole-iad1-1.cwg.fsi.io", provider: "Farsight", class: .sinkhole, subtype: "sinkhole", source: "grettir"),
        Fact(value: "sc-a.sinkhole.shadowserver.org", provider: "Shadowserver", class: .sinkhole, subtype: "sinkhole", source: "grettir"),
        Fact(value: "sinkhole.cert.pl", provider: "CERT Polska", class: .sinkhole, subtype: "sinkhole", source: "grettir"),
        Fact(value: "sinkhole.sidnlabs.nl", provider: "SIDN Labs", class: .sinkhole, subtype: "sinkhole", source: "grettir"),
        Fact(value: "ns1.sinkhole.ch", provider: "Spamhaus/abuse.ch", class: .sinkhole, subtype: "sinkhole", source: "grettir"),
        // Registrars' default DNS: named, but not parking (class unknown, subtype regdefault).
        Fact(value: "ns1.dns-parking.com", provider: "Hostinger", class: .unknown, subtype: "regdefault", source: "hostinger"),
        Fact(value: "ns01.domaincontrol.com", provider: "GoDaddy", class: .unknown, subtype: "regdefault", source: "default-ns"),
    ]

    static let addresses: [Fact] = [
        Fact(value: "91.195.240.94", provider: "Sedo", class: .parked, subtype: "parking", source: "urlscan"),
        Fact(value: "87.106.250.34", provider: "Shadowserver", class: .sinkhole, subtype: "sinkhole", source: "grettir"),
        Fact(value: "95.211.172.143", provider: "Kaspersky", class: .sinkhole, subtype: "sinkhole", source: "grettir"),
        Fact(value: "23.253.126.58", provider: "Arbor", class: .sinkhole, subtype: "sinkhole", source: "grettir"),
        Fact(value: "192.42.116.41", provider: "Spamhaus/abuse.ch", class: .sinkhole, subtype: "sinkhole", source: "grettir"),
        Fact(value: "176.58.104.168", provider: "SIDN Labs", class: .sinkhole, subtype: "sinkhole", source: "grettir"),
        // grettir's Microsoft entry is a whole /24: its first and last address.
        Fact(value: "199.2.137.0", provider: "Microsoft DCU", class: .sinkhole, subtype: "sinkhole", source: "grettir"),
        Fact(value: "199.2.137.255", provider: "Microsoft DCU", class: .sinkhole, subtype: "sinkhole", source: "grettir"),
    ]

    @Test(arguments: nameServers)
    func nameServer(_ fact: Fact) throws {
        let c = try shipped()
        let v = c.classify(nameServer: fact.value)
        #expect(v.class == fact.class && v.provider == fact.provider && v.subtype == fact.subtype, "\(fact): \(v)")
        // As names come off the wire: a trailing dot, any case.
        #expect(c.classify(nameServer: fact.value.uppercased() + ".") == v, "\(fact)")
    }

    @Test(arguments: addresses)
    func address(_ fact: Fact) throws {
        let v = try shipped().classify(address: try ip(fact.value), asn: nil)
        #expect(v.class == fact.class && v.provider == fact.provider && v.subtype == fact.subtype, "\(fact): \(v)")
    }

    /// [urlscan]: an address announced by SEDO-AS (AS47846) is Sedo's, whatever the address.
    @Test func sedoASN() throws {
        let v = try shipped().classify(address: try ip("1.2.3.4"), asn: 47846)
        #expect(v.class == .parked && v.provider == "Sedo" && v.reason.contains("AS47846"), "\(v)")
        #expect(try shipped().classify(address: try ip("1.2.3.4"), asn: nil).class == .unknown)
    }

    /// [tma22]: GoDaddy's parking address is in Google Cloud, where addresses change tenants: a weak match naming
    /// GoDaddy, never a class on its own.
    @Test func sharedCloudAddressIsOnlyWeak() throws {
        let v = try shipped().classify(address: try ip("34.102.136.180"), asn: nil)
        #expect(v.class == .unknown && v.weakProvider == "GoDaddy Parking" && v.reason.hasPrefix("weak"), "\(v)")
    }

    /// Addresses and names next to the documented ones are nobody's parking or sinkhole: a fingerprint that
    /// grew too wide fails here.
    @Test func neighboursAreUnknown() throws {
        for a in ["1.2.3.4", "91.195.242.1", "87.106.250.35", "199.2.138.0", "2a00:1450::1"] {
            let v = try shipped().classify(address: try ip(a), asn: nil)
            #expect(v.class == .unknown && v.provider == nil && v.weakProvider == nil, "\(a): \(v)")
        }
        for n in ["ns1.host.example", "sedoparking.com.example", "notsedoparking.com", "ns1.bodis.com.example"] {
            let v = try shipped().classify(nameServer: n)
            #expect(v.class == .unknown && v.provider == nil, "\(n): \(v)")
        }
    }

    /// The shared-cloud caveat of the reference notes (AWS Global Accelerator 3.33/16, 15.197/16, 75.2/16,
    /// 76.223/16, 99.83/16; Google Cloud 34/8, 35/8): every range it names is treated as shared.
    @Test func caveatRangesAreShared() async throws {
        for a in ["3.33.1.1", "15.197.1.1", "75.2.1.1", "76.223.1.1", "99.83.1.1", "34.1.2.3", "35.200.1.1"] {
            #expect(SharedCloud.range(containing: try ip(a)) != nil, "\(a)")
        }
        #expect(SharedCloud.range(containing: try ip("91.195.240.1")) == nil)
    }
}
