import DNSWatchModel
import SQLiteStore
import Store
import Poller
import Testing
import TestSupport
import TestWorlds

/// The passive-DNS lookups (`serve`, `ip`): by address or block, by name exactly or by left-hand wildcard,
/// by a name held in NS and CNAME answers; paged, fenced in time, NOERROR spans only.
@Suite struct LookupContractTests {
    @Test(arguments: Backend.allCases)
    func aBlockIsOneRangeWithItsEdgesInsideAndItsNeighboursOutside(backend: Backend) async throws {
        try await withStore(backend) { store in
            try await watch(store, ["a.example", "b.example", "c.example", "d.example", "e.example"])
            let dns = ScriptedDNS()
            dns.set("a.example", .a, ["91.195.239.255"])  // just below the /23
            dns.set("b.example", .a, ["91.195.240.0"])  // its first address
            dns.set("c.example", .a, ["91.195.241.255", "192.0.2.1"])  // its last address, and another
            dns.set("d.example", .a, ["91.195.242.0"])  // just above
            dns.set("e.example", .aaaa, ["5bc3:f000::1"])  // an IPv6 address whose first bytes are 91.195.240/241
            try await poll(store, dns, at: 10)
            let hits = try await store.addressSpans(in: CIDR("91.195.240.0/23")!).collect()
            #expect(hits.map(\.span.domain) == ["b.example", "c.example"])
            #expect(hits.map(\.value) == ["91.195.240.0", "91.195.241.255"])
            #expect(hits.map(\.current) == [true, true])
            await #expect(try store.addressSpans(in: CIDR("0.0.0.0/0")!).collect().map(\.value)
                          == ["91.195.239.255", "91.195.240.0", "91.195.241.255", "91.195.242.0", "192.0.2.1"], "every IPv4 value, no IPv6")
            await #expect(try store.addressSpans(in: CIDR("::/0")!).collect().map(\.value) == ["5bc3:f000::1"])
            await #expect(try store.addressSpans(in: CIDR("::ffff:91.195.240.0/120")!).collect().map(\.span.domain) == ["b.example"])
        }
    }

    @Test(arguments: Backend.allCases)
    func anIPv4MappedAAAAValueIsFoundByItsIPv4AddressAndBlock(backend: Backend) async throws {
        try await withStore(backend) { store in
            try await watch(store, ["m.example", "v4.example"])
            let dns = ScriptedDNS()
            dns.set("m.example", .aaaa, ["::ffff:192.0.2.9"])
            dns.set("v4.example", .a, ["192.0.2.10"])
            try await poll(store, dns, at: 10)
            for block in ["192.0.2.9", "::ffff:192.0.2.9", "192.0.2.0/24", "::ffff:192.0.2.0/120"] {
                let hits = try await store.addressSpans(in: CIDR(block)!, pageSize: 1).collect()
                #expect(hits.contains { $0.span.domain == "m.example" && $0.value == "::ffff:192.0.2.9" && $0.span.rrtype == .aaaa },
                        "\(block): \(hits)")
            }
            await #expect(try store.addressSpans(in: CIDR("192.0.2.0/24")!, pageSize: 1).collect().map(\.span.domain)
                          == ["v4.example", "m.example"])
            await #expect(try store.addressSpans(in: CIDR("192.0.3.0/24")!).collect().isEmpty)
        }
    }

    @Test(arguments: Backend.allCases)
    func aBlockWithMoreSightingsThanACallerHoldsIsRefused(backend: Backend) async throws {
        try await withStore(backend) { store in
            let names = ["s1.example", "s2.example", "s3.example", "s4.example", "s5.example"]
            try await watch(store, names)
            let dns = ScriptedDNS()
            for (i, name) in names.enumerated() { dns.set(name, .a, ["192.0.2.\(i + 1)"]) }
            try await poll(store, dns, at: 10)
            let block = CIDR("192.0.2.0/24")!
            await #expect(try store.domains(resolvingInto: block, atMost: 5).map(\.domain) == names)
            await #expect(throws: TooManySightings.self) { try await store.domains(resolvingInto: block, atMost: 4) }
            await #expect(try store.domains(resolvingInto: block, atMost: nil).map(\.address)
                          == ["192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4", "192.0.2.5"])
            let hit = try #require(try await store.domains(resolvingInto: CIDR("192.0.2.3")!, atMost: nil).first)
            #expect(hit.domain == "s3.example" && hit.rrtype == .a && hit.timeFirst == 10 && hit.timeLast == 10 && hit.current)
            await #expect(try store.domains(resolvingInto: CIDR("192.0.2.9")!, atMost: nil).isEmpty)
        }
    }

    @Test(arguments: Backend.allCases)
    func pagesResumeWhereTheLastEndedWithNothingLostOrRepeated(backend: Backend) async throws {
        try await withStore(backend) { store in
            let names = (0..<57).map { "d\($0).example" }
            try await watch(store, names)
            let dns = ScriptedDNS()
            // Every domain on the same address (a parking address); d1 and d10-d19 on a second one too.
            for name in names { dns.set(name, .a, ["91.195.240.94"] + (name.hasPrefix("d1") ? ["91.195.240.95"] : [])) }
            try await poll(store, dns, at: 10)
            var pages: [Int] = []
            var seen: [String] = []
            for try await page in store.addressSpans(in: CIDR("91.195.240.0/23")!, pageSize: 10) {
                pages.append(page.count)
                seen += page.map { "\($0.value) \($0.span.domain)" }
            }
            #expect(pages == [10, 10, 10, 10, 10, 10, 8], "68 sightings (57 + 11) in pages of 10")
            #expect(seen.count == 68 && Set(seen).count == 68)
            #expect(seen.filter { $0.hasPrefix("91.195.240.94 ") }.count == 57)
            #expect(Set(seen.filter { $0.hasPrefix("91.195.240.95 ") })
                    == Set(["d1", "d10", "d11", "d12", "d13", "d14", "d15", "d16", "d17", "d18", "d19"].map { "91.195.240.95 \($0).example" }))
            #expect(seen.firstIndex { $0.hasPrefix("91.195.240.95 ") } == 57, "ordered by address")
            let rrsets = try await store.rrsetSpans(.subdomains(of: "example"), type: nil, fence: .none, pageSize: 16).collect()
            #expect(rrsets.map(\.domain).sorted() == names.sorted(), "one NOERROR span a domain, each once")
        }
    }

    @Test(arguments: Backend.allCases)
    func namesExactlyAndByLeftHandWildcard(backend: Backend) async throws {
        try await withStore(backend) { store in
            try await watch(store, ["example.com", "www.example.com", "a.b.example.com", "badexample.com", "example.org"])
            let dns = ScriptedDNS()
            for name in ["example.com", "www.example.com", "a.b.example.com", "badexample.com", "example.org"] {
                dns.set(name, .a, ["192.0.2.1"])
            }
            try await poll(store, dns, at: 10)
            dns.set("www.example.com", .ns, ["ns1.park.example", "ns2.park.example"])
            dns.set("example.org", .a, ["192.0.2.1"], chain: ["host.park.example"])
            try await poll(store, dns, at: 11)
            let exact = try await store.rrsetSpans(.exact("example.com")).collect()
            #expect(exact.map(\.rrtype) == [.a], "NOERROR only: the NODATA AAAA and NS spans are not served")
            let under = try await store.rrsetSpans(.subdomains(of: "example.com")).collect()
            #expect(Set(under.map(\.domain)) == ["www.example.com", "a.b.example.com"], "not example.com, not badexample.com")
            await #expect(try store.rrsetSpans(.subdomains(of: "example.com"), type: .ns).collect().map(\.rdata)
                          == [["ns1.park.example", "ns2.park.example"]])
            await #expect(try store.nameSpans(holding: .exact("ns1.park.example")).collect().map(\.span.domain) == ["www.example.com"])
            let parkNames = try await store.nameSpans(holding: .subdomains(of: "park.example")).collect()
            #expect(parkNames.map(\.value) == ["host.park.example", "ns1.park.example", "ns2.park.example"])
            #expect(parkNames.map(\.span.timeFirst) == [11, 11, 11])
            await #expect(try store.nameSpans(holding: .subdomains(of: "park.example"), type: .cname).collect().map(\.span.domain)
                          == ["example.org"])
            await #expect(try store.nameSpans(holding: .subdomains(of: "park.example"), type: .ns).collect().map(\.value)
                          == ["ns1.park.example", "ns2.park.example"])
        }
    }

    @Test(arguments: Backend.allCases)
    func rrsetsComeGroupedByNameTypeAndRdataAndFencesAreInclusive(backend: Backend) async throws {
        try await withStore(backend) { store in
            try await watch(store, ["a.example"])
            let dns = ScriptedDNS()
            dns.set("a.example", .a, ["192.0.2.1"])
            try await poll(store, dns, at: 100)
            dns.set("a.example", .a, ["192.0.2.2"])
            try await poll(store, dns, at: 200)
            dns.set("a.example", .a, ["192.0.2.1"])
            try await poll(store, dns, at: 300)
            let spans = try await store.rrsetSpans(.exact("a.example")).collect()
            #expect(spans.map(\.rdata) == [["192.0.2.1"], ["192.0.2.1"], ["192.0.2.2"]], "A→B→A: the two A spans consecutive")
            #expect(spans.map(\.timeFirst) == [100, 300, 200])
            await #expect(try store.rrsetSpans(.exact("a.example"), fence: TimeFence(firstAfter: 200)).collect().map(\.timeFirst).sorted()
                          == [200, 300])
            await #expect(try store.rrsetSpans(.exact("a.example"), fence: TimeFence(firstBefore: 200)).collect().map(\.timeFirst).sorted()
                          == [100, 200])
            await #expect(try store.rrsetSpans(.exact("a.example"), fence: TimeFence(lastAfter: 300)).collect().map(\.timeFirst) == [300])
            await #expect(try store.addressSpans(in: CIDR("192.0.2.1")!, fence: TimeFence(lastBefore: 100)).collect().map(\.span.timeFirst)
                          == [100])
            let hits = try await store.addressSpans(in: CIDR("192.0.2.1")!).collect()
            #expect(hits.map(\.current) == [false, true])
            #expect(hits.map(\.span.timeFirst) == [100, 300])
        }
    }
}
