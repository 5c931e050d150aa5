import Foundation
import Testing
import DNSWatchModel
@testable import Watchlists

/// The Ursnif trail file of the maltrail project, imported as it is (a copy in data/reference/real/, provenance in its README.md).
/// Expected figures were measured with an independent extraction (Python `ipaddress` + regular expressions,
/// cross-checked with a grep/sed pipeline): 13 390 lines = 1 819 comments + 2 466 blank + 9 105 indicators.
@Suite struct RealTrailFileTests {
    static let path = packageRoot()
        .appendingPathComponent("data/reference/real/maltrail-ursnif.txt").standardizedFileURL.path

    func load() throws -> ParsedWatchlist {
        try #require(
            FileManager.default.fileExists(atPath: Self.path),
            "real trail file missing at \(Self.path): expected data/reference/real/maltrail-ursnif.txt in the repository")
        return try WatchlistParser.parse(fileAt: Self.path)
    }

    @Test func importsAsItIs() async throws {
        let list = try load()
        #expect(list.name == "maltrail-ursnif")
        #expect(list.invalid.isEmpty, "\(list.invalid.prefix(5))")
        #expect(list.entries.count == 4955)
        #expect(list.duplicates == 1381)
        #expect(list.skipped == [.urlPath: 1690, .addressHost: 1079])
        #expect(list.entries.count + list.duplicates + list.skippedTotal == 9105)
        #expect(list.header == WatchlistHeader())  // `# Copyright`, `# Aliases:`, `# Reference:` are not header keys
    }

    @Test func trickyRealLines() async throws {
        let list = try load()
        let byName = Dictionary(list.entries.map { ($0.domain.value, $0) }, uniquingKeysWith: { first, _ in first })
        // First indicator of the file.
        #expect(list.entries.first == WatchlistEntry(domain: try name("creatortherefore.cn"), note: nil, line: 8))
        // Trailing stray space (line 1243: "ghdy656262oe.com ").
        #expect(byName["ghdy656262oe.com"]?.line == 1243)
        // Host of a URL without scheme (line 825: "bostonfrogpond.com/groups/tag.emf").
        #expect(byName["bostonfrogpond.com"]?.line == 825)
        #expect(byName["betarg.com"] != nil)  // betarg.com/cms/cashback/pinkash/wp-content/plugins/loginpage/
        // Upper case in the file is lowered ("UpdatelinkNew.cc").
        #expect(byName["updatelinknew.cc"] != nil)
        #expect(!list.entries.contains { $0.domain.value != $0.domain.value.lowercased() })
        // Onion names are names (line 1739, with a trailing space).
        #expect(byName["jm2g6cyszkutaurp.onion"]?.line == 1739)
        // Nothing address-like slipped through as a name.
        #expect(!list.entries.contains { IPAddress($0.domain.value) != nil })
        #expect(list.entries.allSatisfy { $0.note == nil })
    }
}
