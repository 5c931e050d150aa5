import Foundation
import Testing
import TestSupport

/// Issue 20, item 5: `dnswatch explain DOMAIN [--json]` through the binary on both backends, with a real
/// Unbound: a parked C&C domain (its name servers' evidence is Sedo's fingerprint) and one flapping between
/// Sedo and Bodis on every poll (its alerts held back, its penalty above the suppress limit).
@Suite(.serialized) struct ExplainCLITests {
    static let sedo = ["NS ns1.sedoparking.com.", "NS ns2.sedoparking.com.", "A 91.195.240.94"]
    static let bodis = ["NS ns1.bodis.com.", "NS ns2.bodis.com.", "A 199.59.243.220"]
    static func records(_ name: String, _ rrs: [String]) -> [String] { rrs.map { "\(name). 300 IN \($0)" } }

    @Test(arguments: Backend.allCases)
    func explainsAParkedAndAFlappingDomain(backend: Backend) async throws {
        let unbound = try UnboundServer(localZones: ["example. static"],
                                        localData: Self.records("park.example", Self.sedo) + Self.records("flap.example", Self.sedo))
        defer { unbound.stop() }
        let cli = try CLI()
        let db = backend == .sqlite ? cli.db : try TestPostgres.freshDatabase(prefix: "explain")
        func run(_ args: [String]) throws -> ChildResult { try cli.run(args + ["--db", db]) }
        #expect(try run(["watch", "add", "park.example", "flap.example", "--list", "ursnif", "--kind", "c2"]).code == 0)
        for n in 0..<4 {
            if n > 0 {
                try unbound.removeLocalData(["flap.example"])
                try unbound.addLocalData(Self.records("flap.example", n % 2 == 1 ? Self.bodis : Self.sedo))
            }
            let r = try run(["poll", "--resolver", unbound.endpoint, "--no-asn", "--no-stdout-alerts"])
            #expect(r.code == 0, "poll: \(r.err)")
        }

        func explain(_ domain: String) throws -> [String: Any] {
            let r = try run(["explain", domain, "--json"])
            #expect(r.code == 0, "explain \(domain): \(r.err)")
            #expect(r.lines.count == 1, "one object")
            return try CLI.json(r.out.trimmingCharacters(in: .whitespacesAndNewlines))
        }

        // The parked domain: each name server's evidence is Sedo's fingerprint, with its source.
        let park = try explain("park.example")
        let state = try #require(park["state"] as? [String: Any])
        #expect(state["class"] as? String == "parked" && state["provider"] as? String == "Sedo", "\(state)")
        let answers = try #require(park["answers"] as? [[String: Any]])
        #expect(answers.map { $0["rrtype"] as? String } == ["A", "AAAA", "NS"], "\(answers)")
        let ns = try #require(answers.first { $0["rrtype"] as? String == "NS" }?["values"] as? [[String: Any]])
        #expect(ns.map { $0["value"] as? String } == ["ns1.sedoparking.com", "ns2.sedoparking.com"])
        for v in ns {
            #expect(v["class"] as? String == "parked" && v["provider"] as? String == "Sedo", "\(v)")
            let evidence = try #require(v["evidence"] as? [String: Any], "\(v)")
            #expect(evidence["kind"] as? String == "fingerprint")
            #expect((evidence["match"] as? String)?.contains("sedoparking.com") == true, "\(evidence)")
            #expect(!((evidence["source"] as? String) ?? "").isEmpty, "\(evidence)")
        }
        #expect((park["lists"] as? [[String: Any]])?.map { "\($0["list"] ?? "")/\($0["kind"] ?? "")" } == ["ursnif/c2"])
        let parkDamping = try #require(park["damping"] as? [String: Any])
        #expect(parkDamping["suppressed"] as? Bool == false && parkDamping["suppressed_since"] is NSNull, "\(parkDamping)")
        #expect(parkDamping["kind"] as? String == "c2")
        #expect((park["transitions"] as? [Any])?.isEmpty == true && (park["alerts"] as? [Any])?.isEmpty == true)
        #expect(park["unconfirmed"] is NSNull && park["disagreement_polls"] as? Int == 0)
        let lastPolled = try #require(park["last_polled"] as? Int), nextDue = try #require(park["next_due"] as? Int)
        #expect(nextDue > lastPolled)

        // The flapping domain: held back since its third change, its penalty above the suppress limit.
        let flap = try explain("flap.example")
        let damping = try #require(flap["damping"] as? [String: Any])
        #expect(damping["suppressed"] as? Bool == true && damping["suppressed_since"] as? Int != nil, "\(damping)")
        let penalty = try #require(damping["penalty"] as? Double), limit = try #require(damping["suppress_limit"] as? Double)
        #expect(penalty > limit && limit == 2500, "penalty \(penalty), suppress limit \(limit)")
        let transitions = try #require(flap["transitions"] as? [[String: Any]])
        #expect(transitions.count == 3)
        let times = transitions.compactMap { $0["time"] as? Int }, ids = transitions.compactMap { $0["id"] as? Int }
        #expect(times == times.sorted(by: >) && ids == ids.sorted(by: >), "newest first")
        #expect((transitions.first?["to"] as? [String: Any])?["provider"] as? String == "Bodis")
        #expect((transitions.first?["from"] as? [String: Any])?["provider"] as? String == "Sedo")
        let alerts = try #require(flap["alerts"] as? [[String: Any]])
        #expect(alerts.map { $0["type"] as? String } == ["flapping", "parked", "parked"], "newest first: \(alerts)")
        #expect(alerts.first?["severity"] as? String == "low")

        // The table, and a domain dnswatch does not know.
        let text = try run(["explain", "flap.example"])
        #expect(text.code == 0 && text.out.contains("EVIDENCE") && text.out.contains("alerts held back since"), "\(text.out)")
        let unknown = try run(["explain", "nobody.example"])
        #expect(unknown.code == 1 && unknown.out.isEmpty && unknown.err.contains("dnswatch: nobody.example is not known: it was never watched"), "\(unknown.err)")
    }

    /// Two resolvers, one of which answers NXDOMAIN once for a parked domain: the change is not confirmed,
    /// and `explain` shows the unconfirmed observation (each resolver's answer) and the disagreement count.
    @Test(arguments: Backend.allCases)
    func explainsAnUnconfirmedObservation(backend: Backend) async throws {
        let start = Self.records("lie.example", Self.sedo)
        let a = try UnboundServer(localZones: ["example. static"], localData: start)
        let b = try UnboundServer(localZones: ["example. static"], localData: start)
        defer { a.stop(); b.stop() }
        let cli = try CLI()
        let db = backend == .sqlite ? cli.db : try TestPostgres.freshDatabase(prefix: "explain")
        func run(_ args: [String]) throws -> ChildResult { try cli.run(args + ["--db", db]) }
        let config = try cli.file("dnswatch.toml", """
            [resolvers]
            servers = ["\(a.endpoint)", "\(b.endpoint)"]
            timeout = "1s"
            max_in_flight = 1
            [poll]
            asn = false
            [alerts]
            stdout = false
            """)
        #expect(try run(["watch", "add", "lie.example", "--list", "ursnif", "--kind", "c2"]).code == 0)
        #expect(try run(["poll", "--config", config]).code == 0)
        try a.removeLocalData(["lie.example"])                          // resolver a lies: NXDOMAIN
        let r = try run(["poll", "--config", config])
        #expect(r.code == 0, "\(r.err)")
        let out = try run(["explain", "lie.example", "--json"])
        #expect(out.code == 0, "\(out.err)")
        let e = try CLI.json(out.out.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect((e["state"] as? [String: Any])?["class"] as? String == "parked", "the state stays: \(e)")
        let unconfirmed = try #require(e["unconfirmed"] as? [String: Any], "\(e)")
        #expect((unconfirmed["from"] as? [String: Any])?["provider"] as? String == "Sedo")
        let observations = try #require(unconfirmed["observations"] as? [[String: Any]])
        let resolvers = Set(observations.flatMap { $0["resolvers"] as? [String] ?? [] })
        #expect(resolvers == [a.endpoint, b.endpoint], "each resolver's answer: \(observations)")
        #expect((unconfirmed["summary"] as? String)?.contains("nxdomain") == true, "\(unconfirmed)")
        #expect(e["disagreement_polls"] as? Int == 1)
        #expect((e["alerts"] as? [Any])?.isEmpty == true && (e["transitions"] as? [Any])?.isEmpty == true, "no alert, no transition")
    }
}
