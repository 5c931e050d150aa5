import Foundation
import Testing
import DNSWatchModel
@testable import Watchlists
import TestSupport

/// IoC feeds read with the watchlist rules: addresses, prefixes and domains kept and normalised, each
/// distinct value once with its first line.
@Suite struct FeedReaderTests {
    func write(_ text: String, _ name: String = "feed.txt") throws -> String {
        try TemporaryDirectory("dnswatch-feed").write(name, text)
    }

    func readAll(_ reader: FeedReader, batch: Int = 3) throws -> [FeedEntry] {
        var out: [FeedEntry] = []
        while true {
            let b = try reader.next(batch)
            if b.isEmpty { return out }
            #expect(b.count <= batch)
            out += b
        }
    }

    @Test func oneRuleSetForFeedsAndWatchlists() throws {
        #expect(FeedIndicator.classify("1.2.3.4:80") == .value(.address(IPAddress("1.2.3.4")!)))
        #expect(FeedIndicator.classify("http://1.2.3.4/x") == .value(.address(IPAddress("1.2.3.4")!)))
        #expect(FeedIndicator.classify("::ffff:1.2.3.4") == .value(.address(IPAddress("1.2.3.4")!)), "IPv4-mapped is IPv4")
        #expect(FeedIndicator.classify("[2001:db8::1]:443") == .value(.address(IPAddress("2001:db8::1")!)))
        #expect(FeedIndicator.classify("10.1.2.3/8") == .value(.block(CIDR("10.0.0.0/8")!)), "host bits masked")
        #expect(FeedIndicator.classify("1.2.3.4/32") == .value(.address(IPAddress("1.2.3.4")!)), "a full-length prefix is its address")
        #expect(FeedIndicator.classify("::ffff:10.0.0.0/104") == .value(.block(CIDR("10.0.0.0/8")!)))
        #expect(FeedIndicator.classify("HTTP://Bad.Example./gate.php") == .value(.domain(try name("bad.example"))))
        #expect(FeedIndicator.classify("bücher.example") == .value(.domain(try name("xn--bcher-kva.example"))))
        #expect(FeedIndicator.classify("/x/y/") == .skipped(.urlPath))
        #expect(FeedIndicator.classify("bad..example") == .invalid("empty label"))
        // The watchlist side of the same rules is unchanged.
        #expect(Indicator.classify("1.2.3.4:80") == .skipped(.addressHost))
        #expect(Indicator.classify("1.2.3.4") == .skipped(.ipv4))
        #expect(Indicator.classify("10.0.0.0/8") == .skipped(.cidr))
        #expect(Indicator.classify("2001:db8::1/x") == .skipped(.addressHost))
        #expect(FeedIndicator.classify("2001:db8::1/x") == .value(.address(IPAddress("2001:db8::1")!)))
    }

    @Test func duplicatesAreOneValueWithTheirFirstLine() throws {
        let path = try write("""
            # Reference: https://example.org/report
            1.2.3.4:80   # first
            http://1.2.3.4/x
            Bad.Example
            /gate.php

            bad.example.
            10.9.8.7/8
            10.0.0.0/8
            """)
        let reader = FeedReader(paths: [path])
        let entries = try readAll(reader)
        #expect(entries == [
            FeedEntry(value: .address(IPAddress("1.2.3.4")!), text: "1.2.3.4:80", path: path, line: 2),
            FeedEntry(value: .domain(try name("bad.example")), text: "Bad.Example", path: path, line: 4),
            FeedEntry(value: .block(CIDR("10.0.0.0/8")!), text: "10.9.8.7/8", path: path, line: 8),
        ])
        let t = reader.tally
        #expect(t.lines == 9 && t.indicators == 7 && t.values == 3 && t.duplicates == 3 && t.skipped == [.urlPath: 1] && t.invalidCount == 0)
    }

    @Test func valuesAreDistinctAcrossFiles() throws {
        let a = try write("a.example\n1.2.3.4\n"), b = try write("A.EXAMPLE\nb.example\n")
        let entries = try readAll(FeedReader(paths: [a, b]))
        #expect(entries.map(\.value.description) == ["a.example", "1.2.3.4", "b.example"])
        #expect(entries.map(\.path) == [a, a, b] && entries.map(\.line) == [1, 2, 2])
    }

    @Test func invalidLinesAreCountedWithFileAndLine() throws {
        let path = try write("ok.example\nbad..example\nbad!.example\nalso.example")
        let reader = FeedReader(paths: [path])
        let entries = try readAll(reader)
        #expect(entries.map(\.value.description) == ["ok.example", "also.example"], "a last line without a line break is read")
        #expect(reader.tally.invalidCount == 2)
        #expect(reader.tally.invalid.first?.description == "\(path):2: empty label")
    }

    /// Lines cut by chunk boundaries (64 KiB reads) keep their text and numbers; CRLF and a BOM are as in watchlists.
    @Test func chunkBoundariesKeepLinesWhole() throws {
        var text = "\u{FEFF}"
        for i in 0..<20_000 { text += "host-\(i).example\r\n" }
        let path = try write(text)
        let entries = try readAll(FeedReader(paths: [path]), batch: 777)
        #expect(entries.count == 20_000)
        #expect(entries.enumerated().allSatisfy { i, e in e.line == i + 1 && e.text == "host-\(i).example" })
        let watchlist = try WatchlistParser.parse(fileAt: path)
        #expect(watchlist.entries.map(\.line) == entries.map(\.line), "the same line numbers as a watchlist import")
    }

    @Test func unreadableFeedIsAnError() throws {
        #expect(throws: RegularFileError.self) { try FeedReader(paths: ["/nonexistent/feed.txt"]).next(10) }
        #expect(throws: RegularFileError.self) { try FeedReader(paths: ["/tmp"]).next(10) }
    }
}

/// Issue 19, row 3: the line-length limit of `LineReader`, one rule for feeds, watchlists and COF.
@Suite struct LineLengthLimitTests {
    static let long = String(repeating: "a", count: LineReader.maxLineLength) + ".example"

    func write(_ text: String) throws -> String {
        try TemporaryDirectory("dnswatch-feed").write("feed.txt", text)
    }

    @Test func aFeedLineLongerThanTheLimitIsInvalidAndTheNextLinesAreRead() throws {
        let path = try write("1.2.3.4\n" + Self.long + "\r\nok.example\rb.example\n")
        let reader = FeedReader(paths: [path])
        var entries: [FeedEntry] = []
        while case let batch = try reader.next(10), !batch.isEmpty { entries += batch }
        #expect(entries.map(\.line) == [1, 3, 4], "line numbers as before: a CR ends a line too")
        #expect(reader.tally.invalid == [InvalidLine(path: path, line: 2, text: "", reason: LineReader.tooLong)])
        #expect(reader.tally.invalid.first?.description == "\(path):2: line longer than 1048576 bytes (1 MiB)")
    }

    @Test func aReaderThatStopsAtTheFirstInvalidLineReadsNoFurther() throws {
        // Three times the limit: the reader stops inside the long line, chunks before ok.example.
        let path = try write("1.2.3.4\n" + String(repeating: Self.long, count: 3) + "\nok.example\n")
        let reader = FeedReader(paths: [path], stopAtInvalid: true)
        #expect(try reader.next(10).count == 1)
        #expect(reader.tally.invalidCount == 1 && reader.tally.values == 1, "ok.example is not read")
    }

    @Test func aWatchlistLineLongerThanTheLimitIsInvalidWithTheSameReason() {
        let parsed = WatchlistParser.parse(text: "a.example\n" + Self.long + "\nb.example\n", path: "w.txt")
        #expect(parsed.invalid == [InvalidLine(path: "w.txt", line: 2, text: "", reason: LineReader.tooLong)])
        #expect(parsed.entries.map(\.line) == [1, 3])
        // Exactly the limit is a line (an invalid name here, for its length, not for the line's).
        let atLimit = WatchlistParser.parse(text: String(repeating: "b", count: LineReader.maxLineLength) + "\n", path: "w.txt")
        #expect(atLimit.invalid.first?.reason != LineReader.tooLong)
    }

    /// Row 19: a feed's names with invisible characters are refused by code point, for watchlists as for feeds.
    @Test(arguments: [0x202E, 0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0x2066, 0x2067, 0x2068, 0x2069, 0xFEFF, 0x00AD, 0xE000])
    func invisibleCharactersAreRefusedByCodePoint(_ value: UInt32) throws {
        let scalar = try #require(Unicode.Scalar(value))
        let line = "ab" + String(Character(scalar)) + "c.example"
        guard case .invalid(let why) = FeedIndicator.classify(line) else { Issue.record("\(line.debugDescription) accepted"); return }
        #expect(why.hasPrefix(DomainName.codePointText(value)) && why.hasSuffix("is not allowed in a domain name"), "\(why)")
        #expect(!why.unicodeScalars.contains(scalar))
        #expect(Indicator.classify(line) == .invalid(why))
    }

    /// A format character at a line's edge is refused too (not trimmed away as a blank).
    @Test func aZeroWidthSpaceAtTheEdgeIsNotTrimmed() throws {
        #expect(FeedIndicator.classify("\u{200B}x.example") == .invalid("U+200B (ZERO WIDTH SPACE) is not allowed in a domain name"))
        #expect(Indicator.classify("x.example\u{FEFF}") == .invalid("U+FEFF (ZERO WIDTH NO-BREAK SPACE) is not allowed in a domain name"))
        #expect(FeedIndicator.classify("\u{3000}x.example\t") == .value(.domain(try DomainName("x.example"))))
    }
}
