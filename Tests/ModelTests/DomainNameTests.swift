import Testing
@testable import DNSWatchModel

@Suite struct DomainNameTests {
    @Test(arguments: [
        ("Example.COM.", "example.com"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("München.DE", "xn--mnchen-3ya.de"),
        ("例え.テスト", "xn--r8jz45g.xn--zckzah"),
        ("_dmarc.example.org", "_dmarc.example.org"),
    ])
    func normalises(raw: String, expected: String) throws {
        #expect(try DomainName(raw).value == expected)
    }

    @Test func rejectsBadNames() {
        #expect(throws: DomainNameError.emptyLabel) { try DomainName("a..b") }
        #expect(throws: DomainNameError.wildcard) { try DomainName("*.example.com") }
        #expect(throws: DomainNameError.badCharacter("!")) { try DomainName("bad!.example") }
        #expect(throws: DomainNameError.labelTooLong(String(repeating: "a", count: 64))) {
            try DomainName(String(repeating: "a", count: 64) + ".example")
        }
        let long = Array(repeating: String(repeating: "a", count: 60), count: 5).joined(separator: ".")
        #expect(throws: DomainNameError.nameTooLong(304)) { try DomainName(long) }
        #expect(throws: DomainNameError.empty) { try DomainName(" . ") }
    }

    @Test func absoluteHasTrailingDot() async throws {
        #expect(try DomainName("a.example").absolute == "a.example.")
    }
}

@Suite struct TimeTests {
    @Test(arguments: [("90m", 5400), ("36h", 129600), ("7d", 604800), ("1h30m", 5400), ("45", 45), ("2w", 1209600)])
    func durations(text: String, seconds: Int) async throws {
        #expect(try DurationParser.seconds(text) == seconds)
    }

    @Test func badDurations() {
        for bad in ["", "h", "5x", "1h5", "-3"] {
            #expect(throws: TimeParseError.self) { try DurationParser.seconds(bad) }
        }
    }

    @Test func isoAndRelative() async throws {
        #expect(try TimeSpecParser.epoch("2026-11-20T00:00:00Z") == 1_795_132_800)
        #expect(try TimeSpecParser.epoch("2026-11-20") == 1_795_132_800)
        let now = Date(timeIntervalSince1970: 1_000_000)
        #expect(try TimeSpecParser.epoch("90m", now: now) == 1_000_000 - 5400)
        #expect(try TimeSpecParser.epoch("1795729000", now: now) == 1_795_729_000, "a bare number is epoch seconds")
        #expect(DurationParser.format(5400) == "1h30m")
    }
}

import Foundation

@Suite struct AnswerTests {
    @Test func rdataIsSortedWithoutDuplicates() {
        #expect(Answer(status: .noerror, rdata: ["b", "a", "b", "c", "a"]).rdata == ["a", "b", "c"])
        #expect(Answer(status: .noerror, rdata: ["x"]).rdata == ["x"])
        #expect(Answer(status: .nodata).rdata.isEmpty)
    }
}

@Suite struct IPTests {
    @Test func parsesAndPrints() async throws {
        #expect(IPAddress("91.195.240.94")?.description == "91.195.240.94")
        #expect(IPAddress("2001:DB8:0:0::1")?.description == "2001:db8::1")
        #expect(IPAddress("300.1.1.1") == nil)
        #expect(IPAddress("example.com") == nil)
        #expect(IPAddress("91.195.240.94")?.reversedLabels == "94.240.195.91")
        #expect(IPAddress("2001:db8::1")?.reversedLabels.hasPrefix("1.0.0.0.") == true)
    }

    @Test func cidrContains() async throws {
        let c = try #require(CIDR("91.195.240.0/23"))
        #expect(c.contains(IPAddress("91.195.241.7")!))
        #expect(!c.contains(IPAddress("91.195.242.1")!))
        #expect(CIDR("2001:db8::/32")!.contains(IPAddress("2001:db8:ffff::1")!))
        #expect(CIDR("10.0.0.0/33") == nil)
        #expect(CIDR("10.1.2.3")?.prefixLength == 32)
        #expect(CIDR("::ffff:91.195.240.94")?.unmapped.description == "91.195.240.94/32")
        #expect(CIDR("::ffff:91.195.240.0/119")?.unmapped.description == "91.195.240.0/23")
        #expect(CIDR("2001:db8::/32")?.unmapped.description == "2001:db8::/32")
    }

    /// Issue 19 row 11: a prefix length with a leading zero was read as decimal (`/024` as /24); it is refused
    /// as leading-zero octets are, as are signs, spaces and non-ASCII digits. `/0` itself stays a length.
    @Test func cidrLengthHasOneSpelling() {
        for bad in ["1.2.3.4/024", "1.2.3.0/00", "1.2.3.0/08", "2001:db8::/032", "1.2.3.4/+24", "1.2.3.4/ 24",
                    "1.2.3.4/", "1.2.3.4/0024", "1.2.3.4/٢٤", "1.2.3.4/24 /", "10.0.0.0/0000000000000000000008"] {
            #expect(CIDR(bad) == nil, "\(bad)")
        }
        #expect(CIDR("0.0.0.0/0")?.prefixLength == 0)
        #expect(CIDR("1.2.3.0/24")?.prefixLength == 24)
        #expect(CIDR("2001:db8::/128")?.prefixLength == 128)
        #expect(CIDR("10.0.0.0/8")?.description == "10.0.0.0/8")
    }
}

@Suite struct ISOTimeTests {
    /// The arithmetic formatter agrees with Foundation over centuries, leap days and negative times (from 1600:
    /// Foundation uses the Julian calendar before 1582).
    @Test func agreesWithFoundation() {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        var samples: [Int64] = [0, -1, 86_399, 86_400, 951_782_400, 951_868_799, 1_764_543_600, 4_102_444_800, -2_208_988_800, 253_402_300_799]
        var g = SystemRandomNumberGenerator()
        for _ in 0..<5000 { samples.append(Int64.random(in: -11_676_096_000...253_402_300_799, using: &g)) }
        for t in samples {
            #expect(ISOTime.format(t) == f.string(from: Date(timeIntervalSince1970: TimeInterval(t))), "\(t)")
        }
    }
}

@Suite struct ImpossibleTimeTests {
    /// The formatter rolled these over to another day; they are refused, their neighbours accepted.
    @Test func impossibleFieldsAreRefused() {
        for bad in ["2024-02-30T00:00:00Z", "2023-02-29", "2024-13-01", "2024-00-10", "2024-04-31",
                    "2024-01-01T25:00:00Z", "2024-01-01T10:60:00Z", "2024-01-01T10:00:60Z", "2024-01-01T01:00:00+99:00"] {
            #expect(throws: TimeParseError.self, "\(bad)") { try TimeSpecParser.epoch(bad) }
        }
        #expect((try? TimeSpecParser.epoch("2024-02-29T00:00:00Z")) == 1_709_164_800)
        #expect((try? TimeSpecParser.epoch("2024-02-29")) == 1_709_164_800)
        #expect((try? TimeSpecParser.epoch("2024-01-01T23:59:59Z")) == 1_704_153_599)
        #expect((try? TimeSpecParser.epoch("2024-01-01T01:00:00+01:00")) == 1_704_067_200)
        #expect((try? TimeSpecParser.epoch("2024-01-01T00:00:00.500Z")) == 1_704_067_200)
    }
}

/// Issue 19, row 19: one rule for the code points a name may hold (IDNA2008 / UTS 46 disallow controls,
/// format characters, separators, private use, unassigned code points and U+FFFD).
@Suite struct DisallowedCodePointTests {
    @Test(arguments: [0x202E, 0x202A, 0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0x2066, 0x2069, 0xFEFF, 0x00AD, 0x061C, 0xFFFD, 0xE000, 0x3000, 0xFDD0, 0x0378])
    func refusedWhereverTheyStand(_ value: UInt32) throws {
        let scalar = try #require(Unicode.Scalar(value))
        let c = String(Character(scalar))
        // At the edges a space (Zs, U+3000) is a blank, trimmed as spaces are; a format character is not.
        let edges = scalar.properties.generalCategory == .spaceSeparator ? [] : ["\(c)x.example", "x.example\(c)"]
        for raw in ["a\(c)b.example", "bücher\(c).example", "a.exam\(c)ple"] + edges {
            #expect(throws: DomainNameError.disallowedCodePoint(value)) { try DomainName(raw) }
        }
        // An A-label that decodes to it is refused too.
        let encoded = try #require(Punycode.encode("a\(c)b"))
        do {
            _ = try DomainName("xn--\(encoded).example")
            Issue.record("xn--\(encoded) accepted")
        } catch {
            #expect("\(error)".contains(DomainName.codePointText(value)), "\(error)")
        }
    }

    @Test func theMessageNamesTheCodePointWithoutIt() {
        #expect(DomainNameError.disallowedCodePoint(0x202E).description == "U+202E (RIGHT-TO-LEFT OVERRIDE) is not allowed in a domain name")
        #expect(DomainNameError.disallowedCodePoint(0xFFFD).description == "U+FFFD (REPLACEMENT CHARACTER) is not allowed in a domain name")
        #expect(DomainName.codePointText(0x0378) == "U+0378", "unassigned: no name")
    }

    /// The joiners after a virama (RFC 5892 CONTEXTJ), as Indic names need them; other scripts and symbols as before.
    @Test func joinersAfterAViramaAndOrdinaryIDNsAreAccepted() throws {
        #expect(try DomainName("\u{0915}\u{094D}\u{200C}\u{0937}.example").value.hasPrefix("xn--"))
        #expect(try DomainName("\u{0915}\u{094D}\u{200D}\u{0937}.example").value.hasPrefix("xn--"))
        #expect(try DomainName("bücher.example").value == "xn--bcher-kva.example")
        #expect(try DomainName("例え.テスト").value == "xn--r8jz45g.xn--zckzah")
    }

    /// Messages and CSV cells: every format character and U+FFFD written as an escape.
    @Test func visibleTextEscapesFormatCharacters() {
        #expect(VisibleText.escape("a\u{200B}b\u{FEFF}c\u{00AD}d\u{202E}e\u{FFFD}f\u{2066}") == "a\\u{200B}b\\u{FEFF}c\\u{AD}d\\u{202E}e\\u{FFFD}f\\u{2066}")
        #expect(VisibleText.escape("bücher 例え é") == "bücher 例え é")
    }
}
