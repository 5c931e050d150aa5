import Foundation
import Testing
import TestSupport

/// Issue 20's world: two resolvers on loopback and five C&C domains. One flaps between two parking
/// providers on every poll, one is answered by a single resolver that lies once, one is activated on both
/// resolvers, one resolver keeps disagreeing about another, and one live domain never changes. Alerts are
/// confirmed by the other resolver, damped when flapping, and name their resolvers.
@Suite(.serialized) struct TrustScenarioTests {
    static let sedo = ["NS ns1.sedoparking.com.", "NS ns2.sedoparking.com.", "A 91.195.240.94"]
    static let bodis = ["NS ns1.bodis.com.", "NS ns2.bodis.com.", "A 199.59.243.220"]

    static func records(_ name: String, _ rrs: [String]) -> [String] { rrs.map { "\(name). 300 IN \($0)" } }

    /// Makes `servers` answer `rrs` for `name`; none: NXDOMAIN (the name is gone from their static zone).
    static func answer(_ name: String, _ rrs: [String], on servers: [UnboundServer]) throws {
        for s in servers {
            try s.removeLocalData([name])
            if !rrs.isEmpty { try s.addLocalData(records(name, rrs)) }
        }
    }

    @Test func flappingLyingActivatedAndDisagreeingDomains() async throws {
        let start = Self.records("flap.example", Self.sedo) + Self.records("lie.example", Self.sedo)
            + Self.records("act.example", Self.sedo) + Self.records("split.example", Self.sedo)
            + Self.records("live.example", ["A 45.0.121.99"])
        let a = try UnboundServer(localZones: ["example. static"], localData: start)
        let b = try UnboundServer(localZones: ["example. static"], localData: start)
        defer { a.stop(); b.stop() }
        let cli = try CLI()
        for d in ["flap", "lie", "act", "split", "live"] {
            #expect(try cli.run(["watch", "add", "\(d).example", "--list", "ursnif", "--kind", "c2"]).code == 0)
        }
        let config = try cli.file("dnswatch.toml", """
            [resolvers]
            servers = ["\(a.endpoint)", "\(b.endpoint)"]
            timeout = "1s"
            # One query at a time: the resolvers take the questions in strict turn (A, AAAA, NS of each domain
            # in order), so that each domain has an address question at each resolver and a lie is seen.
            max_in_flight = 1
            [poll]
            asn = false
            [alerts]
            stdout = false
            """)
        var alertsByPoll: [Int] = []
        func poll() throws {
            let r = try cli.run(["poll", "--config", config, "--json"])
            #expect(r.code == 0, "\(r.err)")
            let summary = try CLI.json(r.out.trimmingCharacters(in: .whitespacesAndNewlines))
            #expect(summary["resolvers"] as? [String] == [a.endpoint, b.endpoint], "the summary names the resolvers")
            alertsByPoll.append(summary["alerts"] as? Int ?? -1)
        }
        try poll()                                                          // 1: baseline
        try Self.answer("flap.example", Self.bodis, on: [a, b])
        try poll()                                                          // 2: flap parked (Bodis)
        try Self.answer("flap.example", Self.sedo, on: [a, b])
        try Self.answer("lie.example", [], on: [a])                         // one resolver lies (NXDOMAIN), once
        try poll()                                                          // 3: flap parked (Sedo); the lie unconfirmed
        try Self.answer("flap.example", Self.bodis, on: [a, b])
        try Self.answer("lie.example", Self.sedo, on: [a])
        try Self.answer("act.example", ["A 45.0.121.88"], on: [a, b])       // a real activation, on both
        try poll()                                                          // 4: flapping (held back); activation
        for n in 5...8 {
            try Self.answer("flap.example", n % 2 == 1 ? Self.sedo : Self.bodis, on: [a, b])
            if n == 5 { try Self.answer("split.example", [], on: [a]) }         // resolver A disagrees from now on
            try poll()
        }

        let alerts = try cli.run(["alerts", "--json"]).lines.map(CLI.json)
        func of(_ domain: String) -> [[String: Any]] {
            alerts.filter { $0["domain"] as? String == domain }.sorted { ($0["id"] as? Int ?? 0) < ($1["id"] as? Int ?? 0) }
        }
        // Flapping between Sedo and Bodis on every poll: two parked alerts, then one flapping alert, then silence.
        #expect(of("flap.example").map { $0["type"] as? String } == ["parked", "parked", "flapping"], "\(of("flap.example"))")
        #expect(of("flap.example").last?["severity"] as? String == "low")
        // One resolver lying once: no alert, and no span of the lie in the history.
        #expect(of("lie.example").isEmpty, "\(of("lie.example"))")
        let lieHistory = try cli.run(["history", "lie.example", "--json"]).lines.map(CLI.json)
        #expect(!lieHistory.isEmpty && !lieHistory.contains { $0["status"] as? String == "NXDOMAIN" }, "\(lieHistory)")
        // The real activation, seen by both: critical, in the poll that saw it, naming both resolvers.
        let act = of("act.example")
        #expect(act.map { $0["type"] as? String } == ["activation"] && act.first?["severity"] as? String == "critical")
        #expect(Set(act.first?["resolvers"] as? [String] ?? []) == [a.endpoint, b.endpoint], "\(act)")
        // A resolver that keeps disagreeing: one disagreement alert after three polls, naming each answer.
        let split = of("split.example")
        #expect(split.map { $0["type"] as? String } == ["disagreement"], "\(split)")
        #expect(split.first?["severity"] as? String == "medium")
        // The poll's own look, then each resolver's look again.
        #expect((split.first?["observations"] as? [[String: Any]])?.map { $0["role"] as? String } == ["first", "again", "again"])
        #expect(of("live.example").isEmpty)
        // Alerts per poll: 2 (parked), 3 (parked), 4 (flapping, activation), 7 (disagreement).
        #expect(alertsByPoll == [0, 1, 1, 2, 0, 0, 1, 0], "\(alertsByPoll)")
        // Provenance: every polled span names the resolver that first saw it.
        let live = try cli.run(["history", "live.example", "--json"]).lines.map(CLI.json)
        #expect(!live.isEmpty && live.allSatisfy { [a.endpoint, b.endpoint].contains($0["resolver"] as? String ?? "") })
    }

    @Test func theFallbackToResolvConfIsSaidAndCanBeRefused() async throws {
        let cli = try CLI()
        #expect(try cli.run(["watch", "add", "c2.example", "--list", "ursnif"]).code == 0)
        let refused = try cli.run(["poll", "--no-system-resolvers"])
        #expect(refused.code == 64 && refused.err.contains("/etc/resolv.conf"), "\(refused.err)")
        let config = try cli.file("c.toml", "[resolvers]\nsystem = false\n")
        let byConfig = try cli.run(["poll", "--config", config])
        #expect(byConfig.code == 64 && byConfig.err.contains("resolvers.system"), "\(byConfig.err)")
        // The fallback itself is not run here: it would send the name outside loopback.
    }
}
