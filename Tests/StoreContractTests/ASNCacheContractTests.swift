import DNSWatchModel
import Store
import Testing
import TestSupport
import TestWorlds

/// The origin-ASN cache a poll keeps (`saveASN`) and reads (`cachedASN`): an answer lives `ttl` seconds
/// from its save, an address with no origin `negativeTTL`, the last answer for an address replaces the one
/// before, whatever each one's expiry.
@Suite struct ASNCacheContractTests {
    let known = ASNEntry(address: "91.195.240.94", asn: 47846, prefix: "91.195.240.0/23", country: "DE", registry: "ripencc")
    let none = ASNEntry(address: "192.0.2.77", asn: nil)
    let v6 = ASNEntry(address: "2001:db8::1", asn: 64501, prefix: "2001:db8::/32")

    /// An entry is read until, not at, its save time plus its TTL; every field comes back as saved.
    @Test(arguments: Backend.allCases)
    func anAnswerLivesItsTTLAndANegativeOneItsNegativeTTL(backend: Backend) async throws {
        try await withStore(backend) { store in
            try await store.saveASN([known, v6], none: [none], at: 1000, ttl: 600, negativeTTL: 60)
            let all = [known.address, v6.address, none.address]
            await #expect(try store.cachedASN(all, now: 1000) == [known.address: known, v6.address: v6, none.address: none])
            await #expect(try store.cachedASN(all, now: 1059) == [known.address: known, v6.address: v6, none.address: none])
            await #expect(try store.cachedASN(all, now: 1060) == [known.address: known, v6.address: v6], "the negative answer expired")
            await #expect(try store.cachedASN(all, now: 1599).count == 2)
            await #expect(try store.cachedASN(all, now: 1600).isEmpty)
            await #expect(try store.cachedASN([v6.address, "198.51.100.1", v6.address], now: 1100) == [v6.address: v6],
                          "an address asked twice, one never saved")
            await #expect(try store.cachedASN([], now: 1100).isEmpty)
        }
    }

    /// A new answer replaces the old one, a shorter-lived one too: a negative answer ends a known origin,
    /// and an origin learnt later ends a negative answer.
    @Test(arguments: Backend.allCases)
    func theLastAnswerForAnAddressReplacesTheOneBefore(backend: Backend) async throws {
        try await withStore(backend) { store in
            try await store.saveASN([known], none: [], at: 1000, ttl: 600, negativeTTL: 60)
            let gone = ASNEntry(address: known.address, asn: nil)
            try await store.saveASN([], none: [gone], at: 1100, ttl: 600, negativeTTL: 60)
            await #expect(try store.cachedASN([known.address], now: 1159) == [known.address: gone])
            await #expect(try store.cachedASN([known.address], now: 1160).isEmpty, "the old answer does not come back")

            try await store.saveASN([], none: [none], at: 2000, ttl: 600, negativeTTL: 60)
            let learnt = ASNEntry(address: none.address, asn: 64500, prefix: "192.0.2.0/24", country: "ZZ", registry: "arin")
            try await store.saveASN([learnt], none: [], at: 2030, ttl: 600, negativeTTL: 60)
            await #expect(try store.cachedASN([none.address], now: 2100) == [none.address: learnt])
            await #expect(try store.cachedASN([none.address], now: 2629) == [none.address: learnt])
            await #expect(try store.cachedASN([none.address], now: 2630).isEmpty)
        }
    }

    /// A poll's batch saves thousands of addresses at once, and reads them back at once.
    @Test(arguments: Backend.allCases)
    func manyAddressesAreSavedAndReadInOneCall(backend: Backend) async throws {
        try await withStore(backend) { store in
            let entries = (0..<1500).map { i in ASNEntry(address: "10.\(i / 250).\(i % 250).1", asn: 64512 + i % 7) }
            let unknown = (0..<700).map { i in ASNEntry(address: "10.200.\(i / 250).\(i % 250)", asn: nil) }
            try await store.saveASN(entries, none: unknown, at: 5000, ttl: 100, negativeTTL: 10)
            let addresses = (entries + unknown).map(\.address)
            let read = try await store.cachedASN(addresses, now: 5009)
            #expect(read.count == 2200)
            #expect(read == Dictionary(uniqueKeysWithValues: (entries + unknown).map { ($0.address, $0) }))
            let later = try await store.cachedASN(addresses, now: 5010)
            #expect(later.count == 1500 && later.values.allSatisfy { $0.asn != nil })
        }
    }
}
