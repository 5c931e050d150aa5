import Testing
import DNSWatchModel
@testable import Watchlists

@Suite struct CommentTests {
    @Test func wholeLineAndInlineComments() async throws {
        let list = parse(
            "# a comment",
            "   # an indented comment",
            "",
            "a.example",
            "b.example     # inline note, kept",
            "c.example\t#tab before the hash",
            "d.example #",
            "e.example # note with # inside")
        #expect(list.entries == [
            WatchlistEntry(domain: try name("a.example"), note: nil, line: 4),
            WatchlistEntry(domain: try name("b.example"), note: "inline note, kept", line: 5),
            WatchlistEntry(domain: try name("c.example"), note: "tab before the hash", line: 6),
            WatchlistEntry(domain: try name("d.example"), note: nil, line: 7),
            WatchlistEntry(domain: try name("e.example"), note: "note with # inside", line: 8),
        ])
        #expect(list.invalid.isEmpty)
        #expect(list.skippedTotal == 0)
    }

    @Test func hashGluedInsideAURLIsPartOfIt() async throws {
        let list = parse("http://host.example/page#frag", "https://other.example/#/route # real note")
        #expect(list.entries == [
            WatchlistEntry(domain: try name("host.example"), note: nil, line: 1),
            WatchlistEntry(domain: try name("other.example"), note: "real note", line: 2),
        ])
    }

    @Test func strayWhitespaceIsTrimmed() async throws {
        let list = parse("  a.example  ", "\tb.example\t", "c.example \u{00A0}")
        #expect(list.domains == [try name("a.example"), try name("b.example"), try name("c.example")])
        #expect(list.invalid.isEmpty)
    }

    @Test func lineEndingsAndByteOrderMark() async throws {
        let text = "\u{FEFF}# kind: owned\r\na.example\r\n\r\nb.example\rc.example\n"
        let list = WatchlistParser.parse(text: text, path: "t.txt")
        #expect(list.header.kind == .owned)
        #expect(list.entries.map(\.line) == [2, 4, 5])
        #expect(list.domains == [try name("a.example"), try name("b.example"), try name("c.example")])
    }

    @Test func emptyFile() {
        let list = WatchlistParser.parse(text: "", path: "empty.txt")
        #expect(list.entries.isEmpty && list.invalid.isEmpty && list.skipped.isEmpty && list.duplicates == 0)
    }
}

@Suite struct NormalisationTests {
    @Test(arguments: [
        ("Example.COM", "example.com"),
        ("example.com.", "example.com"),
        ("WWW.Example.Com.", "www.example.com"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("MÜNCHEN.de", "xn--mnchen-3ya.de"),
        ("例え.テスト", "xn--r8jz45g.xn--zckzah"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("_dmarc.example.org", "_dmarc.example.org"),
        ("http://Bücher.Example./shop", "xn--bcher-kva.example"),
    ])
    func normalises(raw: String, expected: String) throws {
        let list = parse(raw)
        #expect(list.invalid.isEmpty)
        #expect(list.domains.map(\.value) == [expected])
    }

    @Test func differentSpellingsOfOneNameAreDuplicates() {
        let list = parse("bücher.example", "BÜCHER.example.", "xn--bcher-kva.example", "http://bücher.example/x")
        #expect(list.domains.map(\.value) == ["xn--bcher-kva.example"])
        #expect(list.duplicates == 3)
    }
}
