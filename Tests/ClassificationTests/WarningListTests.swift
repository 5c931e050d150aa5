import Foundation
import Testing
@testable import Classification
import DNSWatchModel

/// The real MISP lists copied into the repository (data/warninglists, provenance in its README.md).
let warningListsDirectory: URL = packageRoot.appendingPathComponent("data/warninglists")

/// A fresh cache directory per test, removed at the end.
func withCache<T>(_ body: (URL) throws -> T) throws -> T {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dnswatch-wl-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: dir) }
    return try body(dir)
}

func realLists(cache: URL?, actions: WarningListActions? = nil) throws -> WarningLists {
    try #require(FileManager.default.fileExists(atPath: warningListsDirectory.appendingPathComponent("lists/amazon-aws/list.json").path),
                 "expected the MISP lists in data/warninglists (see its README.md)")
    return try WarningLists.load(paths: [warningListsDirectory.path], actions: try actions ?? WarningListActions.embedded(),
                                 cacheDirectory: cache)
}

@Suite struct WarningListTests {
    /// The real lists with the shipped fingerprints, built once (in memory) for the classification tests.
    static let classifier: Classifier? = {
        guard let fp = try? FingerprintSet.embedded(), let actions = try? WarningListActions.embedded(),
              let lists = try? WarningLists.load(paths: [warningListsDirectory.path], actions: actions, cacheDirectory: nil)
        else { return nil }
        return Classifier(fingerprints: fp, warningLists: lists)
    }()

    func classifier() throws -> Classifier {
        try #require(Self.classifier, "the real warning lists in data/warninglists do not load")
    }

    @Test func cloudAndResolverAddressesAreShared() throws {
        let c = try classifier()
        // 3.5.140.2 is in 3.5.140.0/22 of amazon-aws; 104.16.1.1 in Cloudflare's 104.16.0.0/13; 8.8.8.8 a public resolver;
        // 104.154.130.1 in google-gcp's 104.154.128.0/17; 13.64.0.1 in microsoft-azure.
        for (address, list) in [("3.5.140.2", "amazon-aws"), ("104.16.1.1", "cloudflare"), ("8.8.8.8", "public-dns-v4"),
                                ("2001:4860:4860::8888", "public-dns-v6"), ("104.154.130.1", "google-gcp"), ("13.64.0.1", "microsoft-azure")] {
            let v = c.classify(address: try ip(address), asn: nil)
            #expect(v.class == .shared, "\(address): \(v)")
            #expect(v.provider == list, "\(address): \(v)")
            #expect(v.warninglists?.map(\.name).contains(list) == true, "\(address): \(String(describing: v.warninglists))")
            #expect(v.reason.contains("warning list \(list)"), "\(v.reason)")
        }
    }

    @Test func annotatingListsChangeNoClass() throws {
        let c = try classifier()
        // 1.116.0.1 is on vpn-ipv4 only.
        let v = c.classify(address: try ip("1.116.0.1"), asn: nil)
        #expect(v.class == .unknown)
        #expect(v.warninglists?.map(\.name) == ["vpn-ipv4"])
        #expect(v.reason.hasSuffix("on warning list vpn-ipv4"))
        // A registrar's default name server (parking-domain-ns, a hostname list: the name and every name under it).
        let ns = c.classify(nameServer: "NS1.Bodis.com.")
        #expect(ns.warninglists?.map(\.name).contains("parking-domain-ns") == true, "\(ns)")
        #expect(c.classify(nameServer: "ns1.notbodis.com").warninglists == nil)
        // Without lists: today's classes, and no field.
        let plain = try shipped().classify(address: try ip("3.5.140.2"), asn: nil)
        #expect(plain.class == .unknown && plain.warninglists == nil)
    }

    @Test func sinkholeAndParkingListsClassifyWithoutFingerprints() throws {
        let lists = try realLists(cache: nil)
        let c = Classifier(fingerprints: FingerprintSet(), warningLists: lists)
        let s = c.classify(address: try ip("142.0.36.234"), asn: nil)  // on sinkholes
        #expect(s.class == .sinkhole && s.provider == "sinkholes", "\(s)")
        let p = c.classify(address: try ip("103.224.182.9"), asn: nil)  // parking-domain 103.224.182.0/23 (Above.com)
        #expect(p.class == .parked && p.provider == "parking-domain", "\(p)")
        // With the fingerprints, the provider they name wins.
        let named = try classifier().classify(address: try ip("91.195.240.94"), asn: nil)
        #expect(named.class == .parked && named.provider == "Sedo")
        #expect(named.warninglists?.map(\.name) == ["parking-domain"])
        // A sinkhole list entry inside a shared range is weak, as a fingerprint there is: shared, not sinkhole.
        let weak = c.classify(address: try ip("104.21.27.14"), asn: nil)  // sinkholes and cloudflare
        #expect(weak.class == .shared && weak.weakProvider == "sinkholes", "\(weak)")
    }

    @Test func precedenceOfOneValue() throws {
        let lists = try realLists(cache: nil)
        // owned beats shared; dormant ranges are never shared.
        let owned = Classifier(fingerprints: FingerprintSet(), owned: OwnedInfrastructure(cidrs: [try cidr("3.5.140.0/24")]), warningLists: lists)
        #expect(owned.classify(address: try ip("3.5.140.2"), asn: nil).class == .owned)
        #expect(owned.classify(address: try ip("3.5.141.2"), asn: nil).class == .shared)
    }

    @Test func aUserTableTurnsAListIntoShared() throws {
        let actions = try WarningListActions.embedded().merging(["vpn-ipv4": .shared, "amazon-aws": .annotate])
        let c = Classifier(fingerprints: FingerprintSet(), warningLists: try realLists(cache: nil, actions: actions))
        #expect(c.classify(address: try ip("1.116.0.1"), asn: nil).class == .shared)
        let aws = c.classify(address: try ip("3.5.140.2"), asn: nil)  // also on vpn-ipv4
        #expect(aws.class == .shared && aws.provider == "vpn-ipv4", "\(aws)")
        // The class version follows the table: a changed action is a changed derivation.
        let shippedVersion = try classifier().version
        #expect(c.version != Classifier(fingerprints: FingerprintSet()).version)
        #expect(shippedVersion.contains("+wl"))
    }

    @Test func blocksWhollyCovered() throws {
        let lists = try realLists(cache: nil)
        #expect(lists.matches(block: try cidr("3.5.140.0/23")).map { lists.lists[$0].name }.contains("amazon-aws"))
        // 3.5.128.0/19 is AWS; the /18 around it is not wholly AWS.
        #expect(lists.matches(block: try cidr("3.5.136.0/21")).map { lists.lists[$0].name }.contains("amazon-aws"))
        #expect(!lists.matches(block: try cidr("3.5.128.0/18")).map { lists.lists[$0].name }.contains("amazon-aws"))
        #expect(lists.matches(block: try cidr("192.0.2.0/24")).isEmpty)
        #expect(lists.matches(block: try cidr("2606:4700::/48")).map { lists.lists[$0].name } == ["cloudflare"])
    }

    @Test func everyListTypeMatches() throws {
        try withCache { dir in
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            let file = dir.appendingPathComponent("mine.json")
            try Data(#"{"name":"mine","description":"a user list","version":7,"type":"regex","matching_attributes":["hostname"],"list":["^c2-[0-9]+\\.example\\.net$","("]}"#.utf8).write(to: file)
            let lists = try WarningLists.load(paths: [warningListsDirectory.path, file.path], actions: .init(["mine": .shared]), cacheDirectory: dir)
            let byName = Dictionary(uniqueKeysWithValues: lists.lists.enumerated().map { ($0.element.name, $0.offset) })
            let mine = try #require(byName["mine"])
            #expect(lists.lists[mine].unusable == 1)  // "(" is no regex
            #expect(lists.lists[mine].version == "7")
            #expect(lists.matches(name: "c2-42.example.net") == [mine])
            #expect(lists.matches(name: "c2-x.example.net").isEmpty)
            // substring (automated-malware-analysis), string (rfc6761), hostname (parking-domain-ns)
            #expect(lists.matches(name: "foo.app.any.run.example").contains(try #require(byName["automated-malware-analysis"])))
            #expect(lists.matches(name: "10.in-addr.arpa").contains(try #require(byName["rfc6761"])))
            #expect(!lists.matches(name: "x.10.in-addr.arpa").contains(try #require(byName["rfc6761"])))  // string: exact only
            #expect(lists.matches(name: "ns2.above.com").contains(try #require(byName["parking-domain-ns"])))
        }
    }

    @Test func theIndexIsReusedWhileTheListsAreUnchanged() throws {
        try withCache { dir in
            let root = dir.appendingPathComponent("checkout/lists")
            for name in ["amazon-aws", "cloudflare"] {
                try FileManager.default.createDirectory(at: root.appendingPathComponent(name), withIntermediateDirectories: true)
                try FileManager.default.copyItem(at: warningListsDirectory.appendingPathComponent("lists/\(name)/list.json"),
                                                 to: root.appendingPathComponent("\(name)/list.json"))
            }
            let checkout = root.deletingLastPathComponent().path
            let cache = dir.appendingPathComponent("cache")
            let first = try WarningLists.load(paths: [checkout], actions: try .embedded(), cacheDirectory: cache)
            guard case .built(let path) = first.origin else { Issue.record("first load: \(first.origin)"); return }
            let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
            #expect(mode == 0o600)
            let second = try WarningLists.load(paths: [checkout], actions: try .embedded(), cacheDirectory: cache)
            #expect(second.origin == .reused(path: path))
            #expect(second.classify(try ip("104.16.1.1")) == ["cloudflare"])
            // A changed list is compiled again.
            let cf = root.appendingPathComponent("cloudflare/list.json")
            try Data(#"{"name":"cf","description":"d","version":2,"type":"cidr","list":["198.51.100.0/24"]}"#.utf8).write(to: cf)
            let third = try WarningLists.load(paths: [checkout], actions: try .embedded(), cacheDirectory: cache)
            #expect(third.origin == .built(path: path))
            #expect(third.classify(try ip("104.16.1.1")).isEmpty)
            #expect(third.classify(try ip("198.51.100.7")) == ["cloudflare"])
            // A damaged index is rebuilt, never trusted.
            try Data("DNSWLX01garbage".utf8).write(to: URL(fileURLWithPath: path))
            let fourth = try WarningLists.load(paths: [checkout], actions: try .embedded(), cacheDirectory: cache)
            #expect(fourth.origin == .built(path: path))
            #expect(fourth.classify(try ip("198.51.100.7")) == ["cloudflare"])
        }
    }

    @Test func badListsAreRefusedWithTheirPath() throws {
        try withCache { dir in
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            for (name, text) in [("notjson", "{"), ("nolist", #"{"name":"x","type":"cidr"}"#), ("numbers", #"{"type":"string","list":[1,2]}"#)] {
                let file = dir.appendingPathComponent("\(name).json")
                try Data(text.utf8).write(to: file)
                #expect(throws: WarningListError.self) {
                    _ = try WarningLists.load(paths: [file.path], actions: .init(), cacheDirectory: nil)
                }
                do {
                    _ = try WarningLists.load(paths: [file.path], actions: .init(), cacheDirectory: nil)
                } catch let e as WarningListError {
                    #expect(e.description.hasPrefix(file.path), "\(e)")
                }
            }
            #expect(throws: WarningListError.self) {
                _ = try WarningLists.load(paths: [dir.appendingPathComponent("missing").path], actions: .init(), cacheDirectory: nil)
            }
        }
    }

    @Test func overlappingBlocksAreCutIntoSegments() {
        let segments = WarningListCompiler.cut([(10, 20, 0), (15, 30, 1), (40, 50, 0), (51, 60, 0), (0, UInt128.max, 2)])
        #expect(segments.map { "\($0.lo)-\($0.hi):\($0.lists)" } == [
            "0-9:[2]", "10-14:[0, 2]", "15-20:[0, 1, 2]", "21-30:[1, 2]", "31-39:[2]", "40-60:[0, 2]", "61-\(UInt128.max):[2]",
        ])
    }

    @Test func theShippedTableCoversTheContractsLists() throws {
        let t = try WarningListActions.embedded()
        #expect(t.action(for: "parking-domain") == .parking)
        #expect(t.action(for: "sinkholes") == .sinkhole)
        for shared in ["amazon-aws", "google-gcp", "microsoft-azure", "cloudflare", "akamai", "fastly", "public-dns-v4", "public-dns-v6", "public-dns-hostname"] {
            #expect(t.action(for: shared) == .shared, "\(shared)")
        }
        for annotate in ["parking-domain-ns", "vpn-ipv4", "vpn-ipv6", "dynamic-dns", "tranco", "alexa", "google-chrome-crux-1million", "never-heard-of"] {
            #expect(t.action(for: annotate) == .annotate, "\(annotate)")
        }
    }
}

extension WarningLists {
    /// The names of the lists that match an address (tests).
    func classify(_ address: IPAddress) -> [String] { matches(address: address).map { lists[$0].name } }
}
