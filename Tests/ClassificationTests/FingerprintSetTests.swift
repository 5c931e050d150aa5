import Testing
@testable import Classification
import DNSWatchModel
import FoundationEssentials

@Suite struct FingerprintSetTests {
    @Test func embeddedSetParsesAndEveryEntryHasASource() async throws {
        let set = try FingerprintSet.embedded()
        #expect(set.entries.count > 500)
        #expect(set.origins.count == 1 && set.origins[0].origin == "embedded" && set.origins[0].count == set.entries.count)
        let known: Set<String> = ["T", "MN", "MI", "MD", "MS", "D", "U", "H", "DI", "S", "G", "B"]
        for e in set.entries {
            let keys = e.source.split(separator: ";").map(String.init)
            #expect(!keys.isEmpty)
            for k in keys {
                #expect(known.contains(k) || k.hasPrefix("K:") || k.hasPrefix("Mc:"), "unknown source key \(k) in \(e)")
            }
        }
        for category in FingerprintCategory.allCases {
            #expect(set.countsByCategory[category, default: 0] > 0, "no \(category) entries")
        }
        // No special-purpose address is shipped as a fingerprint.
        for e in set.entries where e.kind == .ip || e.kind == .cidr {
            let network = try #require(CIDR(e.value)).network
            #expect(SpecialPurpose.block(containing: network) == nil, "\(e)")
        }
    }

    @Test func embeddedMatchesTheDataFile() async throws {
        let text = try String(contentsOf: packageRoot.appendingPathComponent("data/fingerprints.tsv"), encoding: .utf8)
        let fromFile = try FingerprintSet(tsv: text, origin: "data/fingerprints.tsv")
        #expect(fromFile.version == (try FingerprintSet.embedded()).version)
    }

    @Test func versionIsStableAndContentSensitive() async throws {
        let a = try FingerprintSet(tsv: "P\tip\t192.0.2.1\tparking\tt\n", origin: "a")
        let b = try FingerprintSet(tsv: "# comment\nprovider\tkind\tvalue\tcategory\tsource\r\nP\tip\t192.0.2.1\tparking\tt", origin: "b")
        let c = try FingerprintSet(tsv: "P\tip\t192.0.2.2\tparking\tt\n", origin: "a")
        #expect(a.version == b.version, "formatting and origin do not change the version")
        #expect(a.version != c.version)
        #expect(a.version.count == 12 && a.version.allSatisfy(\.isHexDigit))
        #expect(a.version == "\(try FingerprintSet(tsv: "P\tip\t192.0.2.1\tparking\tt", origin: "x").version)")
        #expect(a.merging(c).version != a.version)
    }

    /// The version is stored with every span and state (`fp_version`); a different value for the same rows
    /// would make every stored classification look out of date. Pinned: the first 12 of 16 zero-padded hex
    /// digits of FNV-1a 64 (vectors in ModelTests/FNV1aTests) over the canonical rows
    /// "provider\tkind\tvalue\tcategory\tsource\n"; 192.0.2.2's hash starts with a zero digit (0x04e5…), which
    /// pins the padding.
    @Test func versionIsPinned() async throws {
        #expect(try FingerprintSet(tsv: "", origin: "x").version == "cbf29ce48422", "no rows: the offset basis")
        #expect(try FingerprintSet(tsv: "P\tip\t192.0.2.1\tparking\tt\n", origin: "x").version == "b5840413ede0")
        #expect(try FingerprintSet(tsv: "P\tip\t192.0.2.2\tparking\tt\n", origin: "x").version == "04e59465532d")
        #expect(FingerprintSet.stableHash(["P\tip\t192.0.2.2\tparking\tt\n"]) == "04e59465532d")
    }

    @Test func normalisation() async throws {
        let set = try FingerprintSet(tsv: """
            P\tns\tNS1.Example.COM.\tparking\tt
            P\tip\t2001:DB8:0:0::1\tparking\tt
            P\tasn\t47846\tparking\tt
            P\tASN\tas13335\tSINKHOLE\tt
            """, origin: "x")
        #expect(set.entries.map(\.value) == ["ns1.example.com", "2001:db8::1", "AS47846", "AS13335"])
        #expect(set.entries[3].kind == .asn && set.entries[3].category == .sinkhole)
    }

    @Test func mergingKeepsOriginsAndOrder() async throws {
        let base = try FingerprintSet.embedded()
        let user = try FingerprintSet(tsv: "Mine\tns\t*.mypark.example\tparking\tlocal\nMine\tip\t203.0.113.9\tparking\tlocal", origin: "/etc/dnswatch/extra.tsv")
        let merged = base.merging(user)
        #expect(merged.entries.count == base.entries.count + 2)
        #expect(merged.origins.map(\.origin) == ["embedded", "/etc/dnswatch/extra.tsv"])
        #expect(merged.origins.map(\.count) == [base.entries.count, 2])
        let c = Classifier(fingerprints: merged)
        #expect(c.classify(nameServer: "ns1.mypark.example").provider == "Mine")
        #expect(Classifier(fingerprints: base).classify(nameServer: "ns1.mypark.example").class == .unknown)
    }

    @Test(arguments: [
        ("P\tns\tx.example\tparking", 1, "5 tab-separated columns"),
        ("# c\n\nP\tdomain\tx.example\tparking\tt", 3, "unknown kind"),
        ("provider\tkind\tvalue\tcategory\tsource\nP\tns\tx.example\tparked\tt", 2, "unknown category"),
        ("P\tns\tx.example\tparking\t", 1, "empty source"),
        ("\tns\tx.example\tparking\tt", 1, "empty provider"),
        ("P\tip\t300.1.1.1\tparking\tt", 1, "not an IP address"),
        ("P\tcidr\t10.0.0.1/8\tparking\tt", 1, "host bits"),
        ("P\tcidr\t10.0.0.0/33\tparking\tt", 1, "not a CIDR"),
        ("P\tasn\tASX\tparking\tt", 1, "not an AS number"),
        ("P\tns\ta..example\tparking\tt", 1, "empty label"),
        ("P\tns\tns1.*\tparking\tt", 1, "must be literal"),
        ("P\tns\t*\tparking\tt", 1, "must be literal"),
        ("P\tns\tns%.example\tparking\tt", 1, "invalid character"),
        ("P\tip\t192.0.2.1\tregdefault\tt", 1, "ns entries only"),
        ("P\tns\tok.example\tparking\tt\nP\tns\tok.example\tparking", 2, "5 tab-separated columns"),
    ])
    func parseErrorsNameFileAndLine(_ input: (String, Int, String)) {
        let (tsv, line, message) = input
        #expect {
            _ = try FingerprintSet(tsv: tsv, origin: "extra.tsv")
        } throws: { error in
            guard let e = error as? FingerprintError else { return false }
            return e.origin == "extra.tsv" && e.line == line && e.message.contains(message)
                && "\(e)".hasPrefix("extra.tsv:\(line): ")
        }
    }
}
