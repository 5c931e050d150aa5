import Foundation
import Testing
import DNSWatchModel
@testable import Watchlists
import TestSupport

@Suite struct SkipTests {
    @Test(arguments: [
        ("192.0.2.1", SkipReason.ipv4),
        (" 198.51.100.77 ", .ipv4),
        ("2001:db8::1", .ipv6),
        ("::1", .ipv6),
        ("2001:DB8:0:0:0:0:0:1", .ipv6),
        ("192.0.2.0/24", .cidr),
        ("10.0.0.0/8", .cidr),
        ("2001:db8::/32", .cidr),
        ("/MXE/files/", .urlPath),
        ("/cgi-bin/certs.cgi", .urlPath),
        ("/malu1?", .urlPath),
        ("/images/x.php?id=1&b=2", .urlPath),
        ("/", .urlPath),
        ("http://176.10.118.191", .addressHost),
        ("http://185.193.141.248/gs.php", .addressHost),
        ("66.181.168.248:80", .addressHost),
        ("192.0.2.1/path/x.php", .addressHost),
        ("https://user:pw@192.0.2.1:8443/x?y#z", .addressHost),
        ("[2001:db8::1]:443", .addressHost),
        ("[2001:db8::1]", .addressHost),
        ("http://[2001:db8::1]:8080/x", .addressHost),
        ("http://[::1]/", .addressHost),
        ("2001:db8::1/x.php", .addressHost),
    ])
    func skipped(line: String, reason: SkipReason) {
        #expect(Indicator.classify(line) == .skipped(reason))
        let list = parse(line)
        #expect(list.skipped == [reason: 1])
        #expect(list.entries.isEmpty && list.invalid.isEmpty)
    }

    @Test func countsPerReason() {
        let list = parse("192.0.2.1", "192.0.2.2", "2001:db8::1", "192.0.2.0/24", "/a/", "/b", "http://192.0.2.9/", "a.example")
        #expect(list.skipped == [.ipv4: 2, .ipv6: 1, .cidr: 1, .urlPath: 2, .addressHost: 1])
        #expect(list.skippedTotal == 7)
        #expect(list.entries.count == 1)
    }

    @Test func skipReasonNames() {
        #expect(SkipReason.allCases.map(\.rawValue) == ["ipv4", "ipv6", "cidr", "url-path", "address-host"])
    }
}

@Suite struct URLFormTests {
    @Test(arguments: [
        "http://host.example",
        "http://host.example/",
        "https://host.example:8443/path/x.php?a=1&b=2#frag",
        "HTTP://HOST.EXAMPLE/Path",
        "hxxp://host.example/x",
        "ftp://user@host.example/pub/",
        "http://user:secret@host.example:21/",
        "http://host.example:/x",
        "http://host.example?q=1",
        "http://host.example#frag",
        "host.example/path/",
        "host.example/cms/wp-content/plugins/loginpage/",
        "host.example?x=y",
        "host.example:443",
        "host.example:8080/gate.php",
        "user@host.example",
        "host.example.:80",
    ])
    func contributesTheHost(line: String) throws {
        #expect(Indicator.classify(line) == .domain(try name("host.example")))
        let list = parse(line)
        #expect(list.domains.map(\.value) == ["host.example"])
        #expect(list.invalid.isEmpty && list.skipped.isEmpty)
    }
}

@Suite struct InvalidLineTests {
    @Test(arguments: [
        ("a..example", "empty label"),
        (".example", "empty label"),
        ("*.example.com", "wildcard '*' is not a domain name"),
        ("http://*.example.com/x", "wildcard '*' is not a domain name"),
        (String(repeating: "a", count: 64) + ".example", "label longer than 63 octets (aaaaaaaaaaaaaaaaaaaa…)"),
        (Array(repeating: String(repeating: "a", count: 60), count: 5).joined(separator: "."),
         "name longer than 253 octets (304)"),
        ("bad!.example", "bad character '!'"),
        ("under%20.example", "bad character '%'"),
        ("a.example b.example", "several words on one line (put '#' before a note)"),
        ("localhost", "single-label name, not under a top-level domain"),
        ("Ursnif", "single-label name, not under a top-level domain"),
        ("1.2.3", "numeric top-level label (a malformed address?)"),
        ("010.0.0.1", "numeric top-level label (a malformed address?)"),
        ("256.1.1.1", "numeric top-level label (a malformed address?)"),
        ("host.example:http", "bad port 'http'"),
        ("host.example:0", "bad port '0'"),
        ("host.example:65536", "bad port '65536'"),
        ("host.example:", "bad port ''"),
        ("[2001:db8::1]x", "unexpected text after ']'"),
        ("[2001:db8::1]:99999", "bad port '99999'"),
        ("[host.example]:80", "no IPv6 address inside '[ ]'"),
        ("[2001:db8::1", "unclosed '['"),
        ("http:///x", "no host name"),
        ("://host.example", "bad URL scheme"),
        ("1http://host.example", "bad URL scheme"),
        ("a:b:c", "bad address or port"),
        ("\u{FFFD}.example", "not valid UTF-8"),
    ])
    func reportsFileLineReason(line: String, reason: String) {
        let list = parse("# kind: c2", "good.example", line, path: "lists/c2.txt")
        #expect(list.invalid == [InvalidLine(path: "lists/c2.txt", line: 3, text: line, reason: reason)])
        #expect(list.invalid.first?.description == "lists/c2.txt:3: \(reason)")
        #expect(list.domains.map(\.value) == ["good.example"])
        #expect(Indicator.classify(line) == .invalid(reason))
    }

    @Test func invalidLinesKeepTheirOriginalTextAndOrder() {
        let list = parse("a..b.example   # oops", "ok.example", "*.x.example", path: "f.txt")
        #expect(list.invalid.map(\.description) == ["f.txt:1: empty label", "f.txt:3: wildcard '*' is not a domain name"])
        #expect(list.invalid.first?.text == "a..b.example   # oops")
    }

    @Test func invalidBytesInAFileAreReportedPerLine() async throws {
        let path = try TemporaryDirectory("dnswatch-wl").path("wl.txt")
        var bytes = Array("good.example\n".utf8)
        bytes += [0x62, 0xFC, 0x63, 0x68, 0x65, 0x72, 0x2E, 0x64, 0x65, 0x0A]  // "bücher.de" in Latin-1
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let list = try WatchlistParser.parse(fileAt: path)
        #expect(list.domains.map(\.value) == ["good.example"])
        #expect(list.invalid.map(\.description) == ["\(path):2: not valid UTF-8"])
    }
}
