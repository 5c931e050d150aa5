import Testing
import DNSWatchModel
@testable import Watchlists

@Suite struct HeaderTests {
    @Test func readsAllKeys() {
        let list = parse(
            "# kind: owned", "# interval: 6h", "# description: Our own domains, watched closely", "",
            "corp.example")
        #expect(list.header == WatchlistHeader(kind: .owned, interval: 6 * 3600,
                                               description: "Our own domains, watched closely"))
        #expect(list.invalid.isEmpty)
    }

    @Test func absentKeysAreNil() {
        let list = parse("# just a comment", "a.example")
        #expect(list.header == WatchlistHeader())
    }

    @Test func keysAndKindAreCaseInsensitiveAndSpacingTolerant() {
        let list = parse("#KIND:Expired", "  #   Interval :  90m", "## Description:   x y  ", "a.example")
        #expect(list.header == WatchlistHeader(kind: .expired, interval: 5400, description: "x y"))
    }

    @Test func contractExampleWithTrailingExplanationParses() {
        // The contract documents the header with explanations after the value; taken literally it still works.
        let list = parse(
            "# kind: c2            c2 | owned | expired      (default c2)",
            "# interval: 1h        how often its domains are due (default from config, else 1h)",
            "# description: Ursnif C&C from vendor reports",
            "bad-domain.example",
            "other.example.net     # inline note, kept")
        #expect(list.header == WatchlistHeader(kind: .c2, interval: 3600, description: "Ursnif C&C from vendor reports"))
        #expect(list.invalid.isEmpty)
        #expect(list.entries.map(\.domain.value) == ["bad-domain.example", "other.example.net"])
    }

    @Test func headerIsReadUntilTheFirstDomainEvenAfterSkippedLines() {
        let list = parse("# Reference: https://x.example/", "192.0.2.1", "# kind: expired", "a.example", "# kind: owned")
        #expect(list.header.kind == .expired)  // the comment after the first domain is a plain comment
        #expect(list.invalid.isEmpty)
    }

    @Test func repeatedKeyOverrides() {
        #expect(parse("# interval: 1h", "# interval: 2h", "a.example").header.interval == 7200)
    }

    @Test func unknownKeysAreComments() {
        let list = parse("# Reference: https://example.org/x", "# Aliases: gozi, isfb", "# Copyright (c) 2014 x (https://y)")
        #expect(list.header == WatchlistHeader())
        #expect(list.invalid.isEmpty)
    }

    @Test func badKindIsAnInvalidLine() {
        let list = parse("# a list", "# kind: phishing", "a.example", path: "lists/x.txt")
        #expect(list.header.kind == nil)
        #expect(list.invalid.map(\.description) == ["lists/x.txt:2: unknown kind 'phishing' (expected c2, owned, expired)"])
        #expect(list.invalid.first?.text == "# kind: phishing")
    }

    @Test(arguments: [
        ("# interval: often", "t.txt:1: bad interval 'often' (expected a duration such as 30m, 1h, 6h)"),
        ("# interval:", "t.txt:1: bad interval '' (expected a duration such as 30m, 1h, 6h)"),
        ("# interval: 1x", "t.txt:1: bad interval '1x' (expected a duration such as 30m, 1h, 6h)"),
        ("# interval: 0", "t.txt:1: interval must be longer than 0"),
        ("# kind:", "t.txt:1: unknown kind '' (expected c2, owned, expired)"),
    ])
    func badHeaderValues(line: String, message: String) {
        let list = parse(line, "a.example")
        #expect(list.invalid.map(\.description) == [message])
        #expect(list.header == WatchlistHeader())
    }

    @Test func emptyDescriptionIsNil() {
        #expect(parse("# description:   ", "a.example").header.description == nil)
    }

    @Test func listNameIsTheFileNameWithoutExtension() {
        #expect(parse("a.example", path: "/srv/lists/c2-ursnif.txt").name == "c2-ursnif")
        #expect(parse("a.example", path: "owned").name == "owned")
        #expect(parse("a.example", path: "lists/v1.2.txt").name == "v1.2")
    }
}
