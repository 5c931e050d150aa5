import Testing
import DNSWatchModel
@testable import Watchlists

@Suite struct DuplicateTests {
    @Test func withinAFileTheFirstOccurrenceIsKept() async throws {
        let list = parse("b.example", "a.example   # first a", "B.example.", "a.example # second a", "http://a.example/x")
        #expect(list.entries == [
            WatchlistEntry(domain: try name("b.example"), note: nil, line: 1),
            WatchlistEntry(domain: try name("a.example"), note: "first a", line: 2),
        ])
        #expect(list.duplicates == 3)
    }

    @Test func acrossFilesOfOneList() async throws {
        let first = parse("# kind: c2", "# interval: 1h", "a.example", "b.example", "a.example", "192.0.2.1", path: "x/c2.txt")
        let second = parse("# interval: 2h", "# description: more", "b.example", "c.example", "bad..example", "/p/",
                           path: "y/c2-more.txt")
        let merged = WatchlistParser.merge([first, second], name: "c2")
        #expect(merged.name == "c2")
        #expect(merged.paths == ["x/c2.txt", "y/c2-more.txt"])
        #expect(merged.domains.map(\.value) == ["a.example", "b.example", "c.example"])
        #expect(merged.entries.map(\.line) == [3, 4, 4])
        #expect(merged.duplicates == 2)  // a.example again in x/c2.txt, b.example in y/c2-more.txt
        #expect(merged.skipped == [.ipv4: 1, .urlPath: 1])
        #expect(merged.skippedTotal == 2)
        #expect(merged.invalid.map(\.description) == ["y/c2-more.txt:5: empty label"])
        #expect(merged.header == WatchlistHeader(kind: .c2, interval: 3600, description: "more"))
        #expect(merged.conflicts == ["y/c2-more.txt: interval 2h differs from 1h (x/c2.txt)"])
    }

    @Test func mergeNamesTheListAfterTheFirstFileByDefault() {
        let merged = WatchlistParser.merge([parse("a.example", path: "owned.txt"), parse("a.example", path: "o2.txt")])
        #expect(merged.name == "owned")
        #expect(merged.domains.map(\.value) == ["a.example"])
        #expect(merged.duplicates == 1)
        #expect(merged.conflicts.isEmpty)
        #expect(WatchlistParser.merge([]).entries.isEmpty)
    }

    @Test func sameHeaderValuesAreNoConflict() {
        let merged = WatchlistParser.merge([parse("# kind: owned", "a.example"), parse("# kind: OWNED", "b.example")])
        #expect(merged.header.kind == .owned)
        #expect(merged.conflicts.isEmpty)
    }
}
