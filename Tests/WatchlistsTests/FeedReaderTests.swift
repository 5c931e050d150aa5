import Foundation
import Testing
import DNSWatchModel
@testable import Watchlists

/// IoC feeds read with the watchlist rules: addresses, prefixes and domains kept and normalised, each
/// distinct value once with its first line.
@Suite struct FeedReaderTests {
    func write(_ text: String, _ name: String = "feed-\(UUID().uuidString).txt") throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
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
