import Foundation
import Testing
import DNSWatchModel
@testable import Watchlists
import TestSupport

@Suite struct FileTests {
    @Test func missingFileIsATypedError() {
        #expect(throws: WatchlistReadError(path: "/nonexistent/dir/c2.txt", reason: "no such file")) {
            try WatchlistParser.parse(fileAt: "/nonexistent/dir/c2.txt")
        }
        #expect(WatchlistReadError(path: "p", reason: "no such file").description == "p: cannot read: no such file")
    }

    @Test func directoryIsATypedError() throws {
        let dir = try TemporaryDirectory("dnswatch-dir").path
        #expect(throws: WatchlistReadError(path: dir, reason: "not a regular file (a directory)")) {
            try WatchlistParser.parse(fileAt: dir)
        }
    }

    @Test func exampleWatchlistsParseCleanly() async throws {
        let dir = DNSWatchBinary.packageRoot.appendingPathComponent("watchlists")
        let c2 = try WatchlistParser.parse(fileAt: dir.appendingPathComponent("c2-ursnif.txt").path)
        #expect(c2.name == "c2-ursnif")
        #expect(c2.header.kind == .c2 && c2.header.interval == 3600 && c2.header.description != nil)
        #expect(c2.entries.count == 16)
        #expect(c2.domains.contains(try name("bostonfrogpond.com")))  // from a URL line

        let owned = try WatchlistParser.parse(fileAt: dir.appendingPathComponent("owned.txt").path)
        #expect(owned.header.kind == .owned && owned.header.interval == 6 * 3600 && owned.header.description != nil)
        #expect(owned.entries.count >= 3)
        #expect(owned.entries.allSatisfy { $0.domain.labels.last == "example" })
        #expect(owned.entries.contains { $0.note != nil })

        let expired = try WatchlistParser.parse(fileAt: dir.appendingPathComponent("expired.txt").path)
        #expect(expired.header.kind == .expired)
        #expect(expired.entries.count >= 3)
        #expect(expired.entries.allSatisfy { $0.domain.labels.last == "example" })

        for list in [c2, owned, expired] {
            #expect(list.invalid.isEmpty, "\(list.invalid)")
            #expect(list.duplicates == 0 && list.skipped.isEmpty)
        }
    }
}
