import Foundation
import Testing
@testable import Classification
import DNSWatchModel

/// Hostile warning lists (issue 19): over-broad blocks, pathological regexes, very large files.
@Suite struct WarningListHardeningTests {
    /// A checkout holding these lists (name → list.json text), in a fresh directory.
    func checkout(_ dir: URL, _ lists: [String: String]) throws -> String {
        for (name, text) in lists {
            let d = dir.appendingPathComponent("checkout/lists/\(name)")
            try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
            try Data(text.utf8).write(to: d.appendingPathComponent("list.json"))
        }
        return dir.appendingPathComponent("checkout").path
    }

    func json(_ entries: [String], type: String = "cidr", name: String = "test") throws -> String {
        let list = String(decoding: try JSONEncoder().encode(entries), as: UTF8.self)
        return #"{"description":"d","list":\#(list),"matching_attributes":["ip-dst","hostname"],"name":"\#(name)","type":"\#(type)","version":1}"#
    }

    // MARK: row 4: over-broad entries

    @Test func wideBlocksInAListThatChangesAClassAreIgnoredAndNamed() throws {
        try withCache { dir in
            let aws = try String(contentsOf: warningListsDirectory.appendingPathComponent("lists/amazon-aws/list.json"), encoding: .utf8)
            var real = try #require(JSONSerialization.jsonObject(with: Data(aws.utf8)) as? [String: Any])
            real["list"] = ((real["list"] as? [String]) ?? []) + ["0.0.0.0/0", "::/0", "128.0.0.0/1", "44.0.0.0/8", "2a00::/16", "2c00::/15"]
            let text = String(decoding: try JSONSerialization.data(withJSONObject: real), as: UTF8.self)
            let path = try checkout(dir, ["amazon-aws": text])
            let lists = try WarningLists.load(paths: [path], actions: try .embedded(), cacheDirectory: dir.appendingPathComponent("cache"))
            let c = Classifier(fingerprints: try FingerprintSet.embedded(), warningLists: lists)
            // Any routable address is no longer shared; the real AWS ranges and the /8 and /16 still are.
            for other in ["93.184.216.34", "200.1.2.3", "2001:4860:1::1"] {
                let v = c.classify(address: try ip(other), asn: nil)
                #expect(v.class == .unknown && v.warninglists == nil, "\(other): \(v)")
            }
            #expect(c.classify(address: try ip("3.5.140.2"), asn: nil).class == .shared)
            #expect(c.classify(address: try ip("44.1.2.3"), asn: nil).class == .shared)
            #expect(c.classify(address: try ip("2a00:1::1"), asn: nil).class == .shared)
            #expect(c.classify(address: try ip("2c00:1::1"), asn: nil).class == .unknown)
            // A known sinkhole (AnubisNetworks) stays a sinkhole, and a feed's prefix is no shared block.
            let sinkhole = c.classify(address: try ip("195.22.26.200"), asn: nil)
            #expect(sinkhole.class == .sinkhole && sinkhole.provider == "AnubisNetworks", "\(sinkhole)")
            #expect(c.classify(block: try cidr("93.184.0.0/16")).class == .unknown)
            // Loudly: each ignored entry named with its list, for the command to print.
            let info = try #require(lists.lists.first)
            #expect(info.wideCount == 4 && info.wide == ["0.0.0.0/0", "::/0", "128.0.0.0/1", "2c00::/15"])
            #expect(lists.warnings.count == 4, "\(lists.warnings)")
            #expect(lists.warnings.allSatisfy { $0.hasPrefix("warning list amazon-aws (") }, "\(lists.warnings)")
            #expect(lists.warnings.first?.contains("entry 0.0.0.0/0 is ignored") == true, "\(lists.warnings)")
            #expect(lists.warnings.contains { $0.contains("entry ::/0 is ignored") })
            // The same from the index on disk, reused.
            let again = try WarningLists.load(paths: [path], actions: try .embedded(), cacheDirectory: dir.appendingPathComponent("cache"))
            guard case .reused = again.origin else { Issue.record("not reused: \(again.origin)"); return }
            #expect(again.warnings == lists.warnings)
            #expect(again.matches(address: try ip("93.184.216.34")).isEmpty)
        }
    }

    @Test func wideBlocksOfAnAnnotatingListStillAnnotate() throws {
        try withCache { dir in
            let path = try checkout(dir, ["multicast": try json(["224.0.0.0/4", "ff00::/8"]), "public-dns-v4": try json(["0.0.0.0/0"])])
            let actions = try WarningListActions.embedded()
            let lists = try WarningLists.load(paths: [path], actions: actions, cacheDirectory: nil)
            let names = { (a: String) in try lists.matches(address: ip(a)).map { lists.lists[$0].name } }
            #expect(try names("239.1.1.1") == ["multicast"])
            #expect(try names("ff02::1") == ["multicast"])
            #expect(try names("8.8.8.8").isEmpty, "public-dns-v4 is shared: its 0.0.0.0/0 is ignored")
            #expect(lists.matches(block: try cidr("239.0.0.0/8")).map { lists.lists[$0].name } == ["multicast"])
            #expect(lists.warnings.count == 1 && lists.warnings[0].contains("public-dns-v4") && lists.warnings[0].contains("0.0.0.0/0"))
            // The same list turned into an annotating one by the user's table: it annotates everything, no warning.
            let annotating = try WarningLists.load(paths: [path], actions: actions.merging(["public-dns-v4": .annotate]), cacheDirectory: nil)
            #expect(annotating.warnings.isEmpty)
            #expect(annotating.matches(address: try ip("8.8.8.8")).map { annotating.lists[$0].name } == ["public-dns-v4"])
            // The same index under the other table (what the fuzz target compares).
            let applied = lists.applying(actions.merging(["public-dns-v4": .annotate]))
            let google = try ip("8.8.8.8")
            #expect(applied.warnings.isEmpty && applied.matches(address: google) == annotating.matches(address: google))
        }
    }

    @Test func aSharedListNeverOutranksASinkholeFingerprintOrList() throws {
        // Precedence sinkhole > owned > dormant > parked > shared > unknown, for every path to a class.
        try withCache { dir in
            let path = try checkout(dir, [
                "amazon-aws": try json(["195.22.0.0/16", "142.0.36.0/24"]),  // covers a sinkhole fingerprint and a sinkhole list entry
                "sinkholes": try json(["142.0.36.200"]),
            ])
            let c = Classifier(fingerprints: try FingerprintSet.embedded(), warningLists: try WarningLists.load(paths: [path], actions: try .embedded(), cacheDirectory: nil))
            // A fingerprint sinkhole inside a shared list's range is a weak match (documented), never a plain `shared`
            // that hides it: the sinkhole operator stays named.
            let fp = c.classify(address: try ip("195.22.26.200"), asn: nil)
            #expect(fp.class == .shared && fp.weakProvider == "AnubisNetworks" && fp.subtype == "sinkhole", "\(fp)")
            let listed = c.classify(address: try ip("142.0.36.200"), asn: nil)
            #expect(listed.class == .shared && listed.weakProvider == "sinkholes", "\(listed)")
            // Outside any shared range a sinkhole is a sinkhole, whatever else lists it.
            let plain = Classifier(fingerprints: try FingerprintSet.embedded(), warningLists: try WarningLists.load(
                paths: [path], actions: try WarningListActions.embedded().merging(["amazon-aws": .annotate]), cacheDirectory: nil))
            #expect(plain.classify(address: try ip("195.22.26.200"), asn: nil).class == .sinkhole)
            #expect(plain.classify(address: try ip("142.0.36.200"), asn: nil).provider == "sinkholes")
        }
    }

    // MARK: row 10: regexes in linear time

    @Test func pathologicalRegexesFinishAndAnswerRight() throws {
        let name = String(repeating: "x", count: 30) + ".example"
        let long = String(repeating: "a", count: 253)
        // Each takes seconds to centuries in a backtracking engine on these texts.
        let cases: [(String, String, Bool)] = [
            ("(x+x+)+y", name, false),
            ("(x+x+)+y", String(repeating: "x", count: 30) + "y.example", true),
            ("(a|a)*b", long, false),
            ("(a*)*b", long, false),
            ("(a|aa)+$", long, true),
            ("^(a+)+$", long, true),
            ("^(a+)+$", long + "!", false),
            ("(.*a){20}", long, true),
            ("(.*a){20}b", long, false),
            ("(a?){40}a{40}", String(repeating: "a", count: 40), true),
        ]
        for (pattern, text, expected) in cases {
            let r = try LinearRegex(pattern)
            var steps = 0
            #expect(r.matches(text, steps: &steps) == expected, "\(pattern)")
            #expect(steps <= r.size * (text.unicodeScalars.count + 1), "\(pattern): \(steps) steps, program \(r.size)")
        }
        // Through a list: a hostile name server against the issue's pattern.
        let lists = try WarningLists.compile(json: Array(try json(["(x+x+)+y", "^c2-[0-9]+\\.example\\.net$"], type: "regex").utf8),
                                             name: "hostile", actions: .init(["hostile": .shared]))
        #expect(lists.matches(name: name).isEmpty)
        #expect(lists.matches(name: "c2-42.example.net") == [0])
    }

    @Test func theRegexesOfRealListsMatchAsBefore() throws {
        // Patterns as MISP lists and users write them, against NSRegularExpression (what dnswatch used before).
        let patterns = [
            #"^c2-[0-9]+\.example\.net$"#, #".*\.amazonaws\.com$"#, #"^(.*\.)?cloudfront\.net$"#, #"[a-z0-9-]+\.ngrok\.io"#,
            #"^ns[0-9]{1,3}\.(parking|park)[a-z]*\.(com|net)$"#, #"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}"#, #"^(?:www\.)?example\.(?:com|org)$"#,
            #"\bexample\b"#, #"(?i)^NS\d\.EXAMPLE\.COM$"#, #"^[^.]+\.duckdns\.org$"#, #"^\w+-\w+\.azurewebsites\.net$"#,
            #"x{2,}y?"#, #"^$"#, #"a|b|c"#, #"[\w.-]+\.onion$"#, #"\.(tk|ml|ga|cf|gq)$"#, #"^xn--[a-z0-9-]+\.[a-z]+$"#,
            #"^(?<host>[a-z]+)\.example\.com$"#, #"^[a-f0-9]{32}\.com$"#, #"a.c"#, #"\Aexample\.com\z"#, #"^\s*example"#,
        ]
        let texts = [
            "c2-42.example.net", "c2-x.example.net", "bucket.s3.amazonaws.com", "amazonaws.com", "d1.cloudfront.net", "cloudfront.net",
            "xcloudfront.net", "abc-1.ngrok.io", "ns1.parkingcrew.net", "ns12.parklogic.com", "ns1234.parking.com", "10.1.2.3",
            "www.example.com", "example.org", "www.example.net", "an.example.com", "examples.com", "ns1.example.com", "NS1.EXAMPLE.COM",
            "x.duckdns.org", "a.b.duckdns.org", "my-app.azurewebsites.net", "", "xxy", "x", "abc.onion", "free.tk", "xn--bcher-kva.example",
            "host.example.com", "0123456789abcdef0123456789abcdef.com", "a.c", "abc", "axc", "example.com", " example.com", "über.example",
        ]
        for p in patterns {
            let ours = try LinearRegex(p)
            let theirs = try NSRegularExpression(pattern: p)
            for t in texts {
                let expected = theirs.firstMatch(in: t, range: NSRange(t.startIndex..., in: t)) != nil
                #expect(ours.matches(t) == expected, "\(p) on \(t.debugDescription)")
            }
        }
    }

    @Test func constructsALinearEngineCannotDoAreRefusedPerEntry() throws {
        let refused = [#"(a)\1"#, #"foo(?=bar)"#, #"(?<!x)y"#, #"(?<=x)y"#, #"foo(?!bar)"#, #"(?>a+)b"#, #"a++"#, #"(?P=n)"#,
                       #"\p{L}"#, #"[[:alpha:]]"#, #"(?x) a"#, #"a{1001}"#, #"((a{1000}){1000})"#, "(", "a)", "*a", "[a"]
        for p in refused {
            #expect(throws: LinearRegexError.self, "\(p)") { _ = try LinearRegex(p) }
        }
        // The refusal quotes the pattern's characters visibly (found by the fuzz target: "a bad range n-\r" raw).
        for p in ["[n-\r]", "(?\u{1B}[2J)", "\\\u{202E}"] {
            do {
                _ = try LinearRegex(p)
                Issue.record("\(p.debugDescription) accepted")
            } catch {
                #expect(!error.message.unicodeScalars.contains(where: VisibleText.needsEscape), "\(error.message.debugDescription)")
            }
        }
        // In a list: the entry is not used, counted and named, and the other entries work.
        let text = try json(["(a)\\1", "foo(?=bar)", "^ok\\.example$"], type: "regex")
        let lists = try WarningLists.compile(json: Array(text.utf8), name: "mine", actions: .init())
        #expect(lists.lists[0].unusable == 2)
        #expect(lists.warnings.count == 2, "\(lists.warnings)")
        #expect(lists.warnings[0].contains(#"regex "(a)\1" not used: backreferences are not supported"#), "\(lists.warnings)")
        #expect(lists.warnings[1].contains("lookahead"), "\(lists.warnings)")
        #expect(lists.matches(name: "ok.example") == [0])
    }

    // MARK: row 18: streaming

    @Test func aLargeListIsReadAsAStreamWithTheSameResult() throws {
        try withCache { dir in
            // About 3.6 MB: 120,000 hostnames, with escapes, spread over many 64 KB chunks.
            var names: [String] = []
            for i in 0..<120_000 { names.append("host\(i).zone\(i % 97).example") }
            var text = #"{"description":"big \u00e9\ud83d\ude00","list":["#
            text += names.map { "\"\($0)\"" }.joined(separator: ",\n  ")
            text += #", "\u0062ig.example", "*.wild.example"],"matching_attributes":["hostname"],"extra":{"a":[1,2.5e3,{"b":null}],"c":true},"#
            text += #""name":"Big","type":"hostname","version":"2025"}"#
            let file = dir.appendingPathComponent("big.json")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            try Data(text.utf8).write(to: file)
            #expect(text.utf8.count > 3_000_000)
            let lists = try WarningLists.load(paths: [file.path], actions: .init(["big": .annotate]), cacheDirectory: nil)
            let info = try #require(lists.lists.first)
            #expect(info.entries == 120_002 && info.unusable == 0 && info.type == "hostname" && info.version == "2025")
            #expect(info.description == "big é😀" && info.title == "Big")
            #expect(lists.matches(name: "host99999.zone\(99999 % 97).example") == [0])
            #expect(lists.matches(name: "www.host5.zone5.example") == [0])
            #expect(lists.matches(name: "host5.zone6.example").isEmpty)
            #expect(lists.matches(name: "big.example") == [0] && lists.matches(name: "x.wild.example") == [0])
            // The content hash is the one stableHash gives for the same lines.
            let lines = ["hostname\n"] + names.map { $0 + "\n" } + ["big.example\n", "wild.example\n"]
            #expect(info.contentHash == FingerprintSet.stableHash(lines))
        }
    }

    @Test func theStreamingReaderRefusesWhatIsNotAWarningList() throws {
        let bad: [(String, String)] = [
            ("{", "expected a key"), ("[]", "'{'"), (#"{"list":[1]}"#, "array of strings"), (#"{"name":"x"}"#, "no \"list\""),
            (#"{"list":[],"list":[]}"#, "duplicate key"), (#"{"list":["a"]} x"#, "text after"), (#"{"list":["\ud800"]}"#, "lone surrogate"),
            (#"{"list":["a\u0001"],"version":1.5}"#, "integer or a string"), ("{\"list\":[\"a\u{01}\"]}", "control character"),
            (#"{"x":"# + String(repeating: "[", count: 600) + "]}", "nesting"), (#"{"list":["a"],"x":01}"#, "leading zero"),
            (#"{"list":["\x"]}"#, "bad escape"), (#"{"list":null}"#, "array of strings"),
        ]
        for (text, why) in bad {
            #expect(throws: WarningListReader.Failure.self, "\(text)") { _ = try WarningListReader.read(bytes: Array(text.utf8), entry: nil) }
            do {
                _ = try WarningListReader.read(bytes: Array(text.utf8), entry: nil)
            } catch let e as WarningListReader.Failure {
                #expect(e.message.contains(why), "\(text): \(e.message)")
            }
        }
        #expect(throws: WarningListReader.Failure.self) { _ = try WarningListReader.read(bytes: [0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x31, 0x7D], entry: nil) }
        // null for an optional field is its absence; other keys are skipped whatever they hold.
        let f = try WarningListReader.read(bytes: Array(#"{"name":null,"version":null,"type":null,"matching_attributes":null,"x":[{},[],""],"list":[]}"#.utf8), entry: nil)
        #expect(f.name == nil && f.version == nil && f.type == nil && f.matchingAttributes == nil && f.entries == 0)
    }
}
