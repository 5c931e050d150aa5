import Classification
import DNSWatchModel
import Foundation
import SQLiteStore
import Store
import Hummingbird
import Investigation
import HummingbirdTesting
@testable import Serve
import Testing
import TestSupport

/// A store written as polls write it, from plans made by hand (`PlannedHistory`, no resolver): the spans, states,
/// lists and alerts the pages draw, some of them hostile.
struct UIFixture {
    let store: SQLiteStore
    let path: String

    static let t0: Int64 = 1_796_112_000  // 2026-12-01T08:00:00Z
    static let hour: Int64 = 3600
    static let hostileList = "<script>alert(\"list\")</script>"
    static let hostileNote = "note \"a\" & 'b' <marquee>"
    static let hostileTXT = "<script>alert(1)</script>"
    static let hostileTXT2 = "\"q\" & 'x' <blink>"
    static let hostileProvider = "<img src=x onerror=alert(2)>"
    static let hostileMessage = "<script>alert(3)</script> & \"quoted\" 'single'"

    init() async throws {
        path = try TemporaryDirectory("dnswatch-ui").path("db.sqlite")
        store = try SQLiteStore(path: path)
        _ = try await store.addEntries([ListEntry(domain: try DomainName("c2.example"))], to: ListSpec(name: "ursnif", kind: .c2), now: Self.t0)
        _ = try await store.addEntries([ListEntry(domain: try DomainName("evil.example"), note: Self.hostileNote)],
                                       to: ListSpec(name: Self.hostileList, kind: .c2), now: Self.t0)
        let ids = Dictionary(uniqueKeysWithValues: try await store.pollTargets(afterID: 0, limit: 10).map { ($0.name, $0.domainID) })
        let c2 = try #require(ids["c2.example"]), evil = try #require(ids["evil.example"])
        let t0 = Self.t0, h = Self.hour
        // Written as polls write (one plan per write time, `PlannedHistory`), in the order that gives the ids
        // (spans, transitions, alerts) c2.example's first.
        let history = try await PlannedHistory(store, at: t0)
        // c2.example: parked at Sedo for 18 hours, then on a new host.
        try await history.write(at: t0, start: [
            NewSpan(domainID: c2, rrtype: .a, status: .noerror, rdata: ["91.195.240.94"], class: .parked, provider: "Sedo"),
            NewSpan(domainID: c2, rrtype: .ns, status: .noerror, rdata: ["ns1.sedoparking.com", "ns2.sedoparking.com"], class: .parked, provider: "Sedo"),
            NewSpan(domainID: c2, rrtype: .aaaa, status: .nodata, rdata: [], class: .nodata, provider: nil),
        ])
        try await history.write(at: t0 + 18 * h, extend: [ExtendHeads(domainIDs: [c2], types: [.a, .ns, .aaaa])])
        let activation = PlannedHistory.transition(domainID: c2, domain: "c2.example", list: "ursnif", type: "activation",
                                                   severity: "critical", severityRank: 4) { id in
            #"{"id":\#(id),"message":"c2.example: parked (Sedo) → unknown (A 45.0.121.77)"}"#
        }
        try await history.write(at: t0 + 24 * h, start: [
            NewSpan(domainID: c2, rrtype: .a, status: .noerror, rdata: ["45.0.121.77"], class: .unknown, provider: nil),
            NewSpan(domainID: c2, rrtype: .ns, status: .noerror, rdata: ["ns1.bulletproof.example"], class: .unknown, provider: nil),
        ], states: [PlannedState(domainID: c2, state: DomainState(class: .unknown))], transitions: [activation])
        try await history.write(at: t0 + 36 * h, extend: [ExtendHeads(domainIDs: [c2], types: [.a, .ns, .aaaa])])
        // evil.example: every stored value hostile.
        try await history.write(at: t0, start: [
            NewSpan(domainID: evil, rrtype: .txt, status: .noerror, rdata: [Self.hostileTXT, Self.hostileTXT2], class: .unknown,
                    provider: Self.hostileProvider),
            NewSpan(domainID: evil, rrtype: .a, status: .noerror, rdata: ["192.0.2.66"], class: .sinkhole, provider: Self.hostileProvider),
        ], states: [PlannedState(domainID: evil, state: DomainState(class: .sinkhole, provider: Self.hostileProvider))])
        let message = String(decoding: try JSONSerialization.data(withJSONObject: ["message": Self.hostileMessage]), as: UTF8.self)
        try await history.write(at: t0 + h, transitions: [
            PlannedHistory.transition(domainID: evil, domain: "evil.example", list: Self.hostileList, type: "sinkholed",
                                      severity: "high", severityRank: 3) { _ in message },
        ])
        try await history.finish(at: t0 + 36 * h)
    }

    func app() throws -> some ApplicationProtocol {
        let deps = ServeDependencies(store: try SQLiteStore.readOnly(path: path), classifier: Classifier(fingerprints: try .embedded()))
        return Application(router: DNSWatchServer.router(deps))
    }
}

extension TestResponse {
    var text: String { String(buffer: body) }
}

@Suite struct UIPageTests {
    func get(_ app: some ApplicationProtocol, _ uri: String, _ check: @escaping @Sendable (TestResponse) throws -> Void) async throws {
        try await app.test(.router) { client in
            try await client.execute(uri: uri, method: .get) { try check($0) }
        }
    }

    static func expectPageHeaders(_ r: TestResponse, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.headers[.contentType] == "text/html; charset=utf-8", sourceLocation: sourceLocation)
        let csp = r.headers[.contentSecurityPolicy] ?? ""
        #expect(csp.contains("default-src 'none'") && csp.contains("form-action 'self'") && !csp.contains("script-src"),
                sourceLocation: sourceLocation)
        #expect(r.headers[.xContentTypeOptions] == "nosniff", sourceLocation: sourceLocation)
        #expect(r.headers.first { $0.name.canonicalName == "referrer-policy" }?.value == "no-referrer", sourceLocation: sourceLocation)
    }

    /// Nothing loaded from elsewhere: no script, link, image or frame; every URL a path on this server; no CSS url().
    static func expectSelfContained(_ html: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let els = DOM.elements(html)
        #expect(!els.contains { ["script", "link", "img", "iframe", "object", "embed"].contains($0.tag) }, sourceLocation: sourceLocation)
        for e in els {
            for key in ["href", "src", "action"] {
                if let url = e[key] { #expect(url.hasPrefix("/") && !url.hasPrefix("//"), "\(e)", sourceLocation: sourceLocation) }
            }
        }
        #expect(!html.contains("url(") && !html.contains("@import"), sourceLocation: sourceLocation)
    }

    @Test func escapingOfTextAndAttributes() {
        #expect(HTML.escape("<script>alert(\"x\")</script> & 'y'") == "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;")
        #expect(HTML.escape("plain.example") == "plain.example")
        #expect(HTML.escape("a\u{202E}b\u{1B}[31m") == "a\\u{202E}b\\x1b[31m", "bidi overrides and control characters made visible")
        let hostile = "\"><script>"
        let html: HTML = "<p title=\"\(hostile)\">\(hostile)</p>"
        #expect(html.text == "<p title=\"&quot;&gt;&lt;script&gt;\">&quot;&gt;&lt;script&gt;</p>")
    }

    @Test func axisLabelsAreRoundUTCTimes() async throws {
        let store = try SQLiteStore(path: try TemporaryDirectory("dnswatch-ui").path("db.sqlite"))
        let names = ["day.example", "month.example", "once.example"]
        _ = try await store.addEntries(try names.map { ListEntry(domain: try DomainName($0)) }, to: ListSpec(name: "t", kind: .c2), now: 1)
        let ids = Dictionary(uniqueKeysWithValues: try await store.pollTargets(afterID: 0, limit: 10).map { ($0.name, $0.domainID) })
        let t0 = UIFixture.t0
        let history = try await PlannedHistory(store, at: t0)
        for (name, last) in [("day.example", t0 + 36 * 3600), ("month.example", t0 + 40 * 86_400), ("once.example", t0)] {
            let id = try #require(ids[name])
            try await history.write(at: t0, start: [NewSpan(domainID: id, rrtype: .a, status: .noerror, rdata: ["192.0.2.1"], class: .unknown, provider: nil)])
            if last > t0 { try await history.write(at: last, extend: [ExtendHeads(domainIDs: [id], types: [.a])]) }
        }
        func timeline(_ name: String) async throws -> Timeline {
            Timeline(spans: try await store.history(domain: name).map(HistoryLine.init), alerts: [])
        }
        let day = try await timeline("day.example").ticks().map(\.label)
        #expect(day == ["2026-12-01 12:00Z", "2026-12-01 18:00Z", "2026-12-02 00:00Z", "2026-12-02 06:00Z", "2026-12-02 12:00Z", "2026-12-02 18:00Z"])
        let month = try await timeline("month.example").ticks().map(\.label)
        #expect(month == ["2026-12-03", "2026-12-10", "2026-12-17", "2026-12-24", "2026-12-31", "2027-01-07"])
        let once = try await timeline("once.example")
        #expect(once.start < once.end && (1...7).contains(once.ticks().count), "one sighting still has an axis")
        #expect(once.position(t0) == 50)
    }

    @Test func frontPageHasTheSearchAndTheLatestAlerts() async throws {
        let f = try await UIFixture()
        try await get(try f.app(), "/") { r in
            #expect(r.status == .ok)
            Self.expectPageHeaders(r)
            let els = DOM.elements(r.text)
            let form = try #require(els.first { $0.tag == "form" })
            #expect(form["method"] == "get" && form["action"] == "/ui/search")
            #expect(els.contains { $0.tag == "input" && $0["name"] == "q" })
            let alerts = DOM.elements(r.text, class: "alert")
            #expect(alerts.map { $0["data-alert-type"] } == ["sinkholed", "activation"], "newest first")
            #expect(els.contains { $0.tag == "a" && $0["href"] == "/ui/domain/c2.example" })
            #expect(!r.text.contains("<script"), "no script, and no stored value as markup")
            Self.expectSelfContained(r.text)
        }
    }

    @Test func domainTimelineDrawsBarsPerTypeAndAnswerWithAlertMarks() async throws {
        let f = try await UIFixture()
        try await get(try f.app(), "/ui/domain/C2.Example.") { r in
            #expect(r.status == .ok)
            Self.expectPageHeaders(r)
            Self.expectSelfContained(r.text)
            let bars = DOM.elements(r.text, class: "bar")
            #expect(bars.count == 5)
            #expect(bars.allSatisfy { DOM.isUTC($0["data-first"]) && DOM.isUTC($0["data-last"]) })
            let a = bars.filter { $0["data-rrtype"] == "A" }
            #expect(a.map { $0["data-class"] } == ["parked", "unknown"])
            #expect(a.map { $0["data-rdata"] } == ["91.195.240.94", "45.0.121.77"])
            #expect(a.map { $0["data-first"] } == ["2026-12-01T08:00:00Z", "2026-12-02T08:00:00Z"])
            #expect(a.map { $0["data-last"] } == ["2026-12-02T02:00:00Z", "2026-12-02T20:00:00Z"])
            #expect(a.first?["data-provider"] == "Sedo")
            let ns = bars.filter { $0["data-rrtype"] == "NS" }
            #expect(ns.map { $0["data-rdata"] } == ["ns1.sedoparking.com. ns2.sedoparking.com.", "ns1.bulletproof.example."])
            let aaaa = try #require(bars.first { $0["data-rrtype"] == "AAAA" })
            #expect(aaaa["data-class"] == "nodata" && aaaa["data-status"] == "NODATA" && aaaa["data-rdata"] == "")
            #expect(DOM.elements(r.text, class: "tl-row").filter { $0["data-row-rrtype"] != nil }.count == 5, "one row per type and answer")
            let marks = DOM.elements(r.text, class: "mark")
            #expect(marks.count == 1)
            #expect(marks.first?["data-alert-type"] == "activation" && marks.first?["data-time"] == "2026-12-02T08:00:00Z")
            // the later A bar starts where the alert is marked
            #expect(a.last?["style"]?.hasPrefix(marks.first?["style"] ?? "-") == true)
            let legend = DOM.elements(r.text).filter { $0.classes.contains("sw") }.compactMap { $0["data-class"] }
            #expect(Set(DomainClass.allCases.map(\.rawValue)).isSubset(of: Set(legend)))
            #expect(r.text.contains("id=\"state\"><span class=\"pill\" data-class=\"unknown\">"))
            #expect(r.text.contains("2026-12-01 08:00:00Z"), "times shown in UTC")
            #expect(DOM.elements(r.text, class: "span").count == 5, "the table of spans")
            #expect(r.text.contains("ursnif (c2)"))
        }
    }

    /// The domain view's "Explain" section says what `dnswatch explain` says: each current value with what matched
    /// it (Sedo's fingerprint for a parked domain's name servers), the damping, the next due time.
    @Test func domainViewExplainsTheState() async throws {
        let path = try TemporaryDirectory("dnswatch-ui").path("db.sqlite")
        let store = try SQLiteStore(path: path)
        _ = try await store.addEntries([ListEntry(domain: try DomainName("park.example"))], to: ListSpec(name: "ursnif", kind: .c2), now: 1)
        let id = try #require(try await store.pollTargets(afterID: 0, limit: 10).first?.domainID)
        let t0 = UIFixture.t0
        let history = try await PlannedHistory(store, at: t0)
        try await history.write(at: t0, start: [
            NewSpan(domainID: id, rrtype: .a, status: .noerror, rdata: ["91.195.240.94"], class: .parked, provider: "Sedo"),
            NewSpan(domainID: id, rrtype: .ns, status: .noerror, rdata: ["ns1.sedoparking.com", "ns2.sedoparking.com"], class: .parked, provider: "Sedo"),
            NewSpan(domainID: id, rrtype: .aaaa, status: .nodata, rdata: [], class: .nodata, provider: nil),
        ], states: [PlannedState(domainID: id, state: DomainState(class: .parked, provider: "Sedo"))])
        try await history.finish(at: t0)
        let deps = ServeDependencies(store: try SQLiteStore.readOnly(path: path), classifier: Classifier(fingerprints: try .embedded()))
        try await get(Application(router: DNSWatchServer.router(deps)), "/ui/domain/park.example") { r in
            #expect(r.status == .ok)
            Self.expectSelfContained(r.text)
            #expect(r.text.contains("<h2>Explain</h2>"))
            let rows = DOM.elements(r.text, class: "explained")
            #expect(rows.map { $0["data-rrtype"] } == ["A", "AAAA", "NS", "NS"], "\(rows)")
            let ns = rows.filter { $0["data-rrtype"] == "NS" }
            #expect(ns.map { $0["data-value"] } == ["ns1.sedoparking.com", "ns2.sedoparking.com"])
            #expect(ns.allSatisfy { $0["data-evidence-kind"] == "fingerprint" }, "\(ns)")
            #expect(r.text.contains("sedoparking.com (source "), "the fingerprint entry and its source")
            let damping = try #require(DOM.elements(r.text).first { $0["id"] == "damping" })
            #expect(damping["data-suppressed"] == "false" && damping["data-penalty"] == "0")
            #expect(DOM.elements(r.text).contains { $0["id"] == "next-due" })
        }
    }

    @Test func everyStoredValueIsEscaped() async throws {
        let f = try await UIFixture()
        for uri in ["/ui/domain/evil.example", "/", "/ui/ip/192.0.2.66", "/ui/ip/192.0.2.0/24"] {
            try await get(try f.app(), uri) { r in
                #expect(r.status == .ok, "\(uri)")
                let body = r.text
                #expect(!body.contains("<script"), "\(uri)")
                #expect(!body.contains("<img"), "\(uri)")
                #expect(!body.contains("<blink") && !body.contains("<marquee"), "\(uri)")
            }
        }
        try await get(try f.app(), "/ui/domain/evil.example") { r in
            let body = r.text
            #expect(body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
            #expect(body.contains("&quot;q&quot; &amp; &#39;x&#39; &lt;blink&gt;"))
            #expect(body.contains("&lt;img src=x onerror=alert(2)&gt;"))
            #expect(body.contains("&lt;script&gt;alert(&quot;list&quot;)&lt;/script&gt;"))
            #expect(body.contains("note &quot;a&quot; &amp; &#39;b&#39; &lt;marquee&gt;"))
            #expect(body.contains("&lt;script&gt;alert(3)&lt;/script&gt; &amp; &quot;quoted&quot; &#39;single&#39;"))
            // attributes hold the values exactly, once unescaped
            let txt = try #require(DOM.elements(body, class: "bar").first { $0["data-rrtype"] == "TXT" })
            #expect(txt["data-rdata"] == UIFixture.hostileTXT2 + " " + UIFixture.hostileTXT || txt["data-rdata"] == UIFixture.hostileTXT + " " + UIFixture.hostileTXT2)
            #expect(txt["data-provider"] == UIFixture.hostileProvider)
            let mark = try #require(DOM.elements(body, class: "mark").first)
            #expect(mark["title"]?.contains(UIFixture.hostileMessage) == true)
        }
    }

    @Test func badNamesAndAddressesGetA400Page() async throws {
        let f = try await UIFixture()
        let cases: [(String, String)] = [
            ("/ui/domain/bad!name.example", "not a domain name"),
            ("/ui/domain/%3Cscript%3Ealert(1)%3C%2Fscript%3E", "not a domain name"),
            ("/ui/domain/*.example", "not a domain name"),
            ("/ui/domain/" + String(repeating: "a", count: 2000), "too long"),
            ("/ui/domain/%ZZ", "percent-encoding"),
            ("/ui/ip/999.1.1.1", "not an address or prefix"),
            ("/ui/ip/10.0.0.0/99", "not an address or prefix"),
            ("/ui/ip/10.0.0.0,x", "not an address or prefix"),
            ("/ui/ip/%3Cscript%3E", "not an address or prefix"),
            ("/ui/ip/c2.example", "not an address or prefix"),
            ("/ui/search", "type a domain name"),
            ("/ui/search?q=", "type a domain name"),
            ("/ui/search?q=%3Cscript%3E", "not a domain name"),
            ("/ui/search?q=1.2.3.4/40", "not an address or prefix"),
            ("/ui/search?q=" + String(repeating: "b", count: 400), "too long"),
        ]
        for (uri, message) in cases {
            try await get(try f.app(), uri) { r in
                #expect(r.status == .badRequest, "\(uri)")
                Self.expectPageHeaders(r)
                #expect(r.text.contains(message), "\(uri): \(r.text.prefix(200))")
                #expect(!r.text.contains("<script"), "\(uri)")
                #expect(DOM.elements(r.text, class: "error").count == 1, "\(uri)")
            }
        }
    }

    @Test func anUnknownDomainIsAPageSayingNoHistory() async throws {
        let f = try await UIFixture()
        try await get(try f.app(), "/ui/domain/never-seen.example") { r in
            #expect(r.status == .ok)
            Self.expectPageHeaders(r)
            #expect(r.text.contains("id=\"no-history\""))
            #expect(r.text.contains("No history for never-seen.example"))
            #expect(DOM.elements(r.text, class: "bar").isEmpty)
        }
    }

    @Test func searchRedirectsToTheView() async throws {
        let f = try await UIFixture()
        let cases = [
            ("C2.Example.", "/ui/domain/c2.example"),
            ("%20c2.example%20", "/ui/domain/c2.example"),
            ("91.195.240.94", "/ui/ip/91.195.240.94"),
            ("91.195.240.0%2F23", "/ui/ip/91.195.240.0/23"),
            ("91.195.240.1,23", "/ui/ip/91.195.240.0/23"),
            ("2001:DB8::1", "/ui/ip/2001:db8::1"),
            ("2001:db8::%2F32", "/ui/ip/2001:db8::/32"),
            ("192.0.2.7/32", "/ui/ip/192.0.2.7"),
        ]
        for (q, location) in cases {
            try await get(try f.app(), "/ui/search?q=\(q)") { r in
                #expect(r.status == .seeOther, "\(q)")
                #expect(r.headers[.location] == location, "\(q)")
                #expect(r.headers[.xContentTypeOptions] == "nosniff")
            }
        }
    }

    @Test func addressViewIsTheTriageWithTheDomainsSharingIt() async throws {
        let f = try await UIFixture()
        try await get(try f.app(), "/ui/ip/91.195.240.94") { r in
            #expect(r.status == .ok)
            Self.expectPageHeaders(r)
            let triage = try #require(DOM.elements(r.text).first { $0["id"] == "triage" })
            #expect(triage["data-class"] == "parked" && triage["data-verdict"] == "likely-false-positive")
            #expect(r.text.contains("Sedo"))
            let row = try #require(DOM.elements(r.text).first { $0.tag == "tr" && $0["data-domain"] == "c2.example" })
            #expect(row["data-domain"] == "c2.example")
            #expect(DOM.elements(r.text).contains { $0.tag == "a" && $0["href"] == "/ui/domain/c2.example" })
            #expect(r.text.contains("2026-12-01 08:00:00Z") && r.text.contains("2026-12-02 02:00:00Z"), "first and last seen, UTC")
        }
        for uri in ["/ui/ip/91.195.240.0/23", "/ui/ip/91.195.240.0,23", "/ui/ip/91.195.240.0%2C23"] {
            try await get(try f.app(), uri) { r in
                #expect(r.status == .ok, "\(uri)")
                #expect(r.text.contains("<h1>91.195.240.0/23</h1>"), "\(uri)")
                let rows = DOM.elements(r.text).filter { $0.tag == "tr" && $0["data-domain"] != nil }
                #expect(rows.map { $0["data-domain"] } == ["c2.example"], "\(uri)")
                #expect(DOM.elements(r.text).contains { $0.tag == "a" && $0["href"] == "/ui/ip/91.195.240.94" })
            }
        }
        try await get(try f.app(), "/ui/ip/2001:db8::1") { r in
            #expect(r.status == .ok)
            #expect(r.text.contains("None of the watched domains has resolved into it"))
        }
    }

    @Test func aDomainWithThousandsOfSpansIsDrawnCapped() async throws {
        let f = try await UIFixture()
        _ = try await f.store.addEntries([ListEntry(domain: try DomainName("flux.example"))], to: ListSpec(name: "flux", kind: .c2), now: 1)
        let id = try #require(try await f.store.pollTargets(afterID: 0, limit: 10).first { $0.name == "flux.example" }?.domainID)
        let history = try await PlannedHistory(f.store, at: UIFixture.t0)
        for i in 0..<3000 {  // a new answer each minute: one plan each (a plan starts one span per domain and type)
            try await history.write(at: UIFixture.t0 + Int64(i) * 60,
                                    start: [NewSpan(domainID: id, rrtype: .a, status: .noerror, rdata: ["198.18.\(i / 250).\(i % 250)"], class: .unknown, provider: nil)])
        }
        try await get(try f.app(), "/ui/domain/flux.example") { r in
            #expect(r.status == .ok)
            let body = r.text
            #expect(DOM.elements(body, class: "bar").count == Timeline.Limits().maxRows, "one bar per drawn row here")
            #expect(DOM.elements(body, class: "tl-row").filter { $0["data-row-rrtype"] != nil }.count == Timeline.Limits().maxRows)
            #expect(body.contains("id=\"capped\""))
            #expect(body.contains("Drawn: 100 of 3000 spans in 100 of 3000 rows"))
            #expect(DOM.elements(body, class: "span").count == UIPages.maxTableRows)
            #expect(body.contains("The table shows the latest 500 of 3000 spans."))
            #expect(body.utf8.count < 1_000_000, "bounded: \(body.utf8.count) bytes")
            // the latest are the ones drawn
            #expect(DOM.elements(body, class: "bar").contains { $0["data-rdata"] == "198.18.11.249" })
        }
    }
}
