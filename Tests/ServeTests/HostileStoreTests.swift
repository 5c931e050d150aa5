import Classification
import DNSWatchModel
import Foundation
import GRDB
import SQLiteStore
import Store
import Hummingbird
import HummingbirdTesting
import Investigation
@testable import Serve
import Testing
import TestSupport

/// A database holding what dnswatch never writes itself but may find stored (a database written by an older
/// version, by hand, or by an import that let it through): times at the ends of Int64 and counts that overflow
/// when added. No page, API answer or passive-DNS answer may take the server down (issue 19 row 1: the
/// timeline's padding overflowed on `time_last` 9223372036854775807 and the process died).
struct AbsurdStore {
    static let address = "192.0.2.9"
    let path: String

    init() async throws {
        path = try TemporaryDirectory("dnswatch-absurd").path("db.sqlite")
        let store = try SQLiteStore(path: path)
        _ = try await store.addEntries(try ["far.example", "past.example"].map { ListEntry(domain: try DomainName($0)) },
                                       to: ListSpec(name: "feed", kind: .c2), now: 1)
        let ids = Dictionary(uniqueKeysWithValues: try await store.pollTargets(afterID: 0, limit: 10).map { ($0.name, $0.domainID) })
        let far = try #require(ids["far.example"]), past = try #require(ids["past.example"])
        // Written as polls write (one plan per write time, `PlannedHistory`); then the hostile values below.
        let history = try await PlannedHistory(store, at: 1000)
        // far.example: the same answer twice (two spans aggregated into one passive-DNS object), another between.
        for (i, rdata) in [Self.address, "192.0.2.10", Self.address].enumerated() {
            let activation = i == 0 ? [PlannedHistory.transition(domainID: far, domain: "far.example", list: "feed", type: "activation",
                                                                 severity: "critical", severityRank: 4) { id in
                #"{"id":\#(id),"message":"far.example"}"#
            }] : []
            try await history.write(at: Int64(1000 * (i + 1)),
                                    start: [NewSpan(domainID: far, rrtype: .a, status: .noerror, rdata: [rdata], class: .unknown, provider: nil)],
                                    transitions: activation)
        }
        try await history.write(at: 5000, start: [NewSpan(domainID: past, rrtype: .a, status: .noerror, rdata: [Self.address], class: .unknown, provider: nil)])
        try await history.finish(at: 5000)
        // Written directly by SQL, as no writer of dnswatch's would: the ends of Int64 (a plan's spans start at
        // count 1 and grow by one a sighting, at its clock's times; no poll reaches these).
        try await DatabaseQueue(path: path).write { db in
            try db.execute(sql: """
                UPDATE spans SET time_first = 0, time_last = 9223372036854775807, count = 9223372036854775807
                    WHERE domain_id = \(far);
                UPDATE spans SET time_first = -9223372036854775808, time_last = -9223372036854775808, count = 9223372036854775807
                    WHERE domain_id = \(past);
                UPDATE alerts SET time = 9223372036854775807;
                """)
        }
    }

    func app() throws -> some ApplicationProtocol {
        let deps = ServeDependencies(store: try SQLiteStore.readOnly(path: path), classifier: Classifier(fingerprints: try .embedded()))
        return Application(router: DNSWatchServer.router(deps))
    }
}

@Suite struct HostileStoreTests {
    /// Every family of pages that renders stored times or adds counts answers (a crash would end this process).
    @Test func absurdTimesAndCountsTakeNoPageDown() async throws {
        let world = try await AbsurdStore()
        let uris = [
            "/", "/ui/domain/far.example", "/ui/domain/past.example", "/ui/ip/\(AbsurdStore.address)", "/ui/ip/192.0.2.0/24",
            "/api/v1/history/far.example", "/api/v1/history/past.example", "/api/v1/ip/\(AbsurdStore.address)",
            "/api/v1/triage/\(AbsurdStore.address)", "/api/v1/triage/far.example", "/api/v1/alerts",
            "/dnsdb/v2/lookup/rrset/name/far.example?humantime=t", "/dnsdb/v2/summarize/rrset/name/far.example?humantime=t",
            "/dnsdb/v2/lookup/rdata/ip/\(AbsurdStore.address)?humantime=t", "/dnsdb/v2/summarize/rdata/ip/192.0.2.0,24?humantime=t",
            "/pdns/query/far.example", "/pdns/query/\(AbsurdStore.address)",
        ]
        let app = try world.app()
        try await app.test(.router) { client in
            for uri in uris {
                try await client.execute(uri: uri, method: .get) { r in
                    #expect(r.status == .ok, "\(uri): \(String(buffer: r.body).prefix(300))")
                    #expect(!String(buffer: r.body).contains(#""cond":"failed""#), "\(uri)")
                }
            }
            // The aggregated count stops at the largest integer instead of trapping.
            try await client.execute(uri: "/dnsdb/v2/lookup/rrset/name/far.example", method: .get) { r in
                #expect(String(buffer: r.body).contains(#""count":9223372036854775807"#))
            }
        }
    }

    /// The axis stays within the times dnswatch accepts, whatever is stored; positions stay finite.
    @Test func timelineAxisIsClampedToTheAcceptedRange() async throws {
        let world = try await AbsurdStore()
        let store = try SQLiteStore.readOnly(path: world.path)
        var spans: [HistoryLine] = []
        for name in ["far.example", "past.example"] { spans += try await store.history(domain: name).map(HistoryLine.init) }
        #expect(spans.map(\.time_last).contains(.max) && spans.map(\.time_first).contains(.min))
        let t = Timeline(spans: spans, alerts: [])
        #expect(t.start < 0 && t.start >= -TimeSpecParser.latest)
        #expect(t.end > TimeSpecParser.latest && t.end <= 2 * TimeSpecParser.latest)
        for time in [Int64.min, -1, 0, TimeSpecParser.latest, .max] {
            let p = t.position(time)
            #expect(p.isFinite && p > 0 && p < 100, "\(time): \(p)")
        }
        #expect(!t.ticks().isEmpty)
    }
}
