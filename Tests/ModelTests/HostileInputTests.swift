import Foundation
import Testing
@testable import DNSWatchModel

/// Hostile input to the duration and time parsers (hardening issue, row 3): values that overflow `Int`
/// or lie far outside any sane range are refused with `TimeParseError`, never a trap.
@Suite struct DurationBoundsTests {
    @Test(arguments: [
        "200000000000000d", "106751991167300d", "9223372036854775807s", "9223372036854775807",
        "99999999999999999999", "99999999999999999999s", "15250284452w", "1h9223372036854775807s",
        "9223372036854775807s9223372036854775807s", "3000000000d",
    ])
    func overflowIsRefused(text: String) {
        #expect(throws: TimeParseError.self) { try DurationParser.seconds(text) }
    }

    @Test func theLargestDurationIsAccepted() throws {
        #expect(try DurationParser.seconds("\(DurationParser.maximum)") == DurationParser.maximum)
        #expect(try DurationParser.seconds("\(DurationParser.maximum)s") == DurationParser.maximum)
        #expect(throws: TimeParseError.self) { try DurationParser.seconds("\(DurationParser.maximum + 1)s") }
    }

    @Test func outOfRangeHasItsOwnMessage() {
        do {
            _ = try DurationParser.seconds("200000000000000d")
            Issue.record("no error")
        } catch {
            #expect(error.outOfRange)
            #expect(error.description.contains("out of range"))
        }
        do {
            _ = try DurationParser.seconds("5x")
            Issue.record("no error")
        } catch {
            #expect(!error.outOfRange)
        }
    }

    @Test(arguments: [
        "200000000000000d", "106751991167300d", "9223372036854775807", "9223372036854775807s",
        "99999999999999999999", "-9223372036854775808", "3000000000d", "99999-01-01",
        "+275760-09-13T00:00:00Z", "10000-01-01T00:00:00Z",
    ])
    func timesFarAwayAreRefused(text: String) {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(throws: TimeParseError.self) { try TimeSpecParser.epoch(text, now: now) }
    }

    /// Found by FuzzDuration: ICU's date parser died of SIGFPE on a long fraction of a second.
    @Test(arguments: [
        "2071-11-20T10:11:12.5" + String(repeating: "0", count: 110),
        "2026-11-20T10:11:12.5" + String(repeating: "0", count: 110) + "Z",
        "2026-11-20T10:11:12.1234567890Z", "2026-11-20T10:11:12Z\u{0}\u{0}", "2026-11-20T10:11:12Z\u{202E}",
        "2026-11-20 10:11:12Z",  // the formatter does not read it as that time
    ])
    func aLongFractionOrAStrayCharacterIsRefusedBeforeTheFormatter(text: String) {
        #expect(throws: TimeParseError.self) { try TimeSpecParser.epoch(text, now: Date(timeIntervalSince1970: 1_800_000_000)) }
    }

    @Test func timesInRangeStillParse() throws {
        #expect(try TimeSpecParser.epoch("2026-11-20T10:11:12.123456789Z") == 1_795_169_472)
        #expect(try TimeSpecParser.epoch("2026-11-20T10:11:12.5+01:00") == 1_795_165_872)
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(try TimeSpecParser.epoch("0", now: now) == 0)
        #expect(try TimeSpecParser.epoch("9999-12-31T23:59:59Z", now: now) == 253_402_300_799)
        #expect(try TimeSpecParser.epoch("\(TimeSpecParser.latest)", now: now) == TimeSpecParser.latest)
        #expect(throws: TimeParseError.self) { try TimeSpecParser.epoch("\(TimeSpecParser.latest + 1)", now: now) }
        #expect(try TimeSpecParser.epoch("30d", now: now) == 1_800_000_000 - 30 * 86400)
    }

    @Test func aRelativeTimeBeforeTheEpochIsRefused() {
        let now = Date(timeIntervalSince1970: 1_000)
        #expect(throws: TimeParseError.self) { try TimeSpecParser.epoch("1h", now: now) }
    }

    @Test func inputIsQuotedVisibly() {
        let e = TimeParseError(input: "1\u{1B}[2Jh")
        #expect(!e.description.contains("\u{1B}"))
        #expect(e.description.contains("\\x1b[2Jh"))
    }
}

/// IDN A-labels must be valid punycode (hardening issue, row 11), and error messages never carry raw
/// control bytes (row 12).
@Suite struct ALabelTests {
    @Test(arguments: [
        "xn--zz.example", "xn--.example", "xn--abc-.example", "xn--a.example", "xn--99999999.example",
        "a.xn--zz", "xn--bcher-kva9.example", "xn--ls8h-.example", "xn--a-ecp.xn--zz",
    ])
    func invalidALabelsAreRefused(raw: String) {
        #expect(throws: DomainNameError.self) { try DomainName(raw) }
    }

    @Test(arguments: [
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("XN--BCHER-KVA.Example", "xn--bcher-kva.example"),
        ("xn--r8jz45g.xn--zckzah", "xn--r8jz45g.xn--zckzah"),
        ("xn--mnchen-3ya.de", "xn--mnchen-3ya.de"),
        ("xn--ls8h.example", "xn--ls8h.example"),
    ])
    func validALabelsAreKept(raw: String, expected: String) throws {
        #expect(try DomainName(raw).value == expected)
    }

    @Test func punycodeRoundTrips() {
        for u in ["bücher", "例え", "münchen", "ü", "a-ü-b", "💩"] {
            guard let encoded = Punycode.encode(u) else {
                Issue.record("cannot encode \(u)")
                continue
            }
            #expect(Punycode.decode(encoded) == u)
        }
        #expect(Punycode.decode("zz") == nil)
    }

    @Test func theReasonNamesTheLabel() {
        #expect(throws: DomainNameError.self) { try DomainName("xn--zz.example") }
        do {
            _ = try DomainName("xn--zz.example")
        } catch {
            #expect(error.description.contains("xn--zz"))
        }
    }

    @Test func controlBytesInAReasonAreEscaped() {
        for raw in ["a\u{1B}[31mb.example", "a\u{0}b.example", "a\u{7F}.example", "\u{9B}x.example"] {
            do {
                _ = try DomainName(raw)
                Issue.record("accepted \(raw.debugDescription)")
            } catch {
                #expect(!error.description.unicodeScalars.contains { $0.properties.generalCategory == .control },
                        "\(error.description.debugDescription)")
            }
        }
        #expect(VisibleText.escape("a\u{1B}b\u{0}c\u{85}d\u{202E}e\nf") == "a\\x1bb\\x00c\\u{85}d\\u{202E}e\\x0af")
    }
}

@Suite struct PathTextTests {
    @Test(arguments: [
        ("a/b/c", "a/b"), ("/a", "/"), ("a/b/", "a"), ("a", ""), ("ш", ""), ("x/", ""), ("./", ""), ("a//", ""),
        ("/", "/"), ("//", "/"), ("//x", "/"), ("a//b", "a"), ("/var/log/dnswatch/alerts.ndjson", "/var/log/dnswatch"),
        ("", ""), ("../x", ".."),
    ])
    func directory(path: String, expected: String) {
        #expect(PathText.directory(of: path) == expected)
    }
}
