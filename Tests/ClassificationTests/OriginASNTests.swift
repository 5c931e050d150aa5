import Testing
@testable import Classification
import DNSWatchModel

@Suite struct OriginASNTests {
    @Test func queryNames() async throws {
        #expect(OriginASN.queryName(for: try ip("91.195.240.94")) == "94.240.195.91.origin.asn.cymru.com")
        #expect(OriginASN.queryName(for: try ip("2001:db8::1"))
                == "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.origin6.asn.cymru.com")
        #expect(OriginASN.queryName(for: try ip("::ffff:1.2.3.4")) == "4.3.2.1.origin.asn.cymru.com")
    }

    @Test func parsesTheUsualRecord() async throws {
        let r = try #require(OriginASN.parse(txt: "\"47846 | 91.195.240.0/23 | DE | ripencc | 2009-04-08\""))
        #expect(r.asn == 47846 && r.asns == [47846])
        #expect(r.prefix == "91.195.240.0/23" && r.cidr == CIDR("91.195.240.0/23"))
        #expect(r.country == "DE" && r.registry == "ripencc" && r.allocated == "2009-04-08")
    }

    @Test func parsesSeveralOriginsAndMissingFields() async throws {
        let r = try #require(OriginASN.parse(txt: "15169 36040 | 8.8.8.0/24 | US | arin |"))
        #expect(r.asn == 15169 && r.asns == [15169, 36040])
        #expect(r.allocated == nil && r.registry == "arin")
        let v6 = try #require(OriginASN.parse(txt: "13335 | 2606:4700::/32 | US | arin | 2011-11-01"))
        #expect(v6.asn == 13335 && v6.cidr?.prefixLength == 32)
    }

    @Test(arguments: ["", "garbage", "NA | 1.2.3.0/24 | US | arin | 2000-01-01", "123 | not-a-prefix | US", "12x | 1.2.3.0/24"])
    func rejectsMalformed(_ txt: String) {
        #expect(OriginASN.parse(txt: txt) == nil)
    }

    @Test func bestPicksTheMostSpecificPrefix() async throws {
        let r = try #require(OriginASN.best(of: [
            "3356 | 4.0.0.0/9 | US | arin | 1992-12-01",
            "garbage",
            "3356 64500 | 4.2.2.0/24 | US | arin | 1992-12-01",
        ]))
        #expect(r.prefix == "4.2.2.0/24" && r.asns == [3356, 64500])
        #expect(OriginASN.best(of: []) == nil)
    }
}
