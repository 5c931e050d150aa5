import Foundation
import Testing
import TestSupport

/// Issue 20, item 6 (finding things), through the `dnswatch` binary on both backends: `watch list` with each
/// domain's state, last poll, next due time and last alert, filtered by `--state`; `alerts` newest first,
/// filtered by `--domain`, `--list`, `--type` and limited by `--limit`.
@Suite(.serialized) struct FindingCLITests {
    /// ursnif (c2): c2.example (parked at Sedo, then on an address of its own: activation), live.example (a
    /// host, then another: new-ip) and still.example (parked throughout); other (c2): gone.example (no such
    /// name, then a host: registered). fresh.example joins other after the second poll and is never polled.
    struct World {
        let unbound: UnboundServer
        let cli: CLI
        let db: String

        init(_ backend: Backend) throws {
            unbound = try UnboundServer(localZones: ["example. static"], localData: [
                "c2.example. 300 IN NS ns1.sedoparking.com.", "c2.example. 300 IN NS ns2.sedoparking.com.",
                "c2.example. 300 IN A 91.195.240.94",
                "still.example. 300 IN NS ns1.sedoparking.com.", "still.example. 300 IN NS ns2.sedoparking.com.",
                "still.example. 300 IN A 91.195.240.94",
                "live.example. 300 IN A 45.0.121.5",
            ])
            cli = try CLI()
            db = backend == .sqlite ? cli.db : try TestPostgres.freshDatabase(prefix: "finding")
        }

        func run(_ args: [String]) throws -> ChildResult {
            try cli.run(args + ["--db", db])
        }

        func json(_ args: [String]) throws -> [[String: Any]] {
            let r = try run(args + ["--json"])
            #expect(r.code == 0, "dnswatch \(args.joined(separator: " ")): \(r.err)")
            return try r.lines.map(CLI.json)
        }

        func poll() throws {
            let r = try run(["poll", "--resolver", unbound.endpoint, "--no-asn", "--no-stdout-alerts"])
            #expect(r.code == 0, "poll: \(r.out) \(r.err)")
        }

        /// The world after its two polls: three alerts.
        func polled() throws {
            #expect(try run(["watch", "add", "c2.example", "live.example", "still.example", "--list", "ursnif"]).code == 0)
            #expect(try run(["watch", "add", "gone.example", "--list", "other"]).code == 0)
            try poll()
            try unbound.removeLocalData(["c2.example", "live.example"])
            try unbound.addLocalData(["c2.example. 300 IN A 45.0.121.77", "live.example. 300 IN A 45.0.121.6",
                                      "gone.example. 300 IN A 45.0.121.9"])
            try poll()
            #expect(try run(["watch", "add", "fresh.example", "--list", "other"]).code == 0)
        }
    }

    @Test(arguments: Backend.allCases)
    func alertsAreNewestFirstAndFiltered(backend: Backend) async throws {
        let w = try World(backend)
        try w.polled()
        let all = try w.json(["alerts"])
        #expect(all.map { "\($0["domain"] as? String ?? "?") \($0["type"] as? String ?? "?")" }
                == ["gone.example registered", "live.example new-ip", "c2.example activation"],
                "newest first: by time, then id (the domains were polled in the order they were added)")
        let ids = all.compactMap { $0["id"] as? Int }
        #expect(ids.count == 3 && ids == ids.sorted(by: >), "\(ids)")
        let times = all.compactMap { $0["time"] as? Int }
        #expect(times == times.sorted(by: >))

        func found(_ args: [String]) throws -> [String] {
            try w.json(["alerts"] + args).map { "\($0["domain"] as? String ?? "?") \($0["type"] as? String ?? "?")" }
        }
        #expect(try found(["--domain", "c2.example"]) == ["c2.example activation"])
        #expect(try found(["--domain", "C2.Example."]) == ["c2.example activation"], "the name normalised as everywhere")
        #expect(try found(["--list", "other"]) == ["gone.example registered"])
        #expect(try found(["--list", "ursnif"]) == ["live.example new-ip", "c2.example activation"])
        #expect(try found(["--type", "activation,new-ip"]) == ["live.example new-ip", "c2.example activation"])
        #expect(try found(["--type", "activation", "--type", "registered"]) == ["gone.example registered", "c2.example activation"])
        #expect(try found(["--limit", "1"]) == ["gone.example registered"], "the newest")
        #expect(try found(["--limit", "2", "--list", "ursnif"]) == ["live.example new-ip", "c2.example activation"])
        #expect(try found(["--severity", "critical", "--list", "ursnif", "--limit", "5"]) == ["c2.example activation"])
        #expect(try found(["--domain", "c2.example", "--type", "new-ip"]) == [], "every filter holds")

        let table = try w.run(["alerts", "--limit", "2"])
        #expect(table.code == 0 && table.lines.count == 3, "a header and two alerts: \(table.out)")
        #expect(table.lines.dropFirst().map { $0.contains("registered") } == [true, false], "the table is newest first too: \(table.out)")

        for bad in [["--type", "bogus"], ["--type", "activation,"], ["--limit", "0"], ["--limit", "-3"], ["--domain", "not a name"]] {
            let r = try w.run(["alerts"] + bad)
            #expect(r.code == 64 && r.out.isEmpty, "alerts \(bad.joined(separator: " ")): exit \(r.code) \(r.err)")
        }
        let none = try w.run(["alerts", "--domain", "still.example"])
        #expect(none.code == 0 && none.out.isEmpty && none.err == "dnswatch: no alerts\n")
    }

    @Test(arguments: Backend.allCases)
    func watchListShowsStatePollTimesAndLastAlert(backend: Backend) async throws {
        let w = try World(backend)
        try w.polled()
        let rows = try w.json(["watch", "list"])
        #expect(rows.map { "\($0["list"] as? String ?? "?")/\($0["domain"] as? String ?? "?")" }
                == ["other/fresh.example", "other/gone.example", "ursnif/c2.example", "ursnif/live.example", "ursnif/still.example"])
        let byDomain = Dictionary(uniqueKeysWithValues: rows.map { ($0["domain"] as? String ?? "?", $0) })
        for row in rows {
            // The fields watch list --json always had, as they were.
            #expect(row["kind"] as? String == "c2" && row["interval"] as? Int == 3600 && row["added"] is Int, "\(row)")
        }
        #expect(rows.map { $0["state"] as? String } == ["unpolled", "unknown", "unknown", "unknown", "parked"])
        let still = try #require(byDomain["still.example"])
        #expect(still["class"] as? String == "parked" && still["provider"] as? String == "Sedo")
        #expect(still["last_alert"] is NSNull, "no alert: null")
        let fresh = try #require(byDomain["fresh.example"])
        for key in ["class", "provider", "last_polled", "next_due", "last_alert"] {
            #expect(fresh[key] is NSNull, "never polled: \(key) null: \(fresh)")
        }
        let c2 = try #require(byDomain["c2.example"])
        #expect(c2["class"] as? String == "unknown" && c2["provider"] is NSNull)
        let polled = try #require(c2["last_polled"] as? Int), due = try #require(c2["next_due"] as? Int)
        #expect(abs(polled - Int(Date().timeIntervalSince1970)) < 120, "last polled now: \(polled)")
        #expect(due > polled && due <= polled + 3600, "next due within the interval (less its jitter): \(due)")
        let alert = try #require(c2["last_alert"] as? [String: Any])
        let stored = try #require(try w.json(["alerts", "--domain", "c2.example"]).first)
        #expect(alert["type"] as? String == "activation" && alert["severity"] as? String == "critical")
        #expect(alert["id"] as? Int == stored["id"] as? Int && alert["time"] as? Int == stored["time"] as? Int)

        func listed(_ args: [String]) throws -> [String] {
            try w.json(["watch", "list"] + args).map { "\($0["list"] as? String ?? "?")/\($0["domain"] as? String ?? "?")" }
        }
        #expect(try listed(["--state", "parked"]) == ["ursnif/still.example"])
        #expect(try listed(["--state", "unknown"]) == ["other/gone.example", "ursnif/c2.example", "ursnif/live.example"])
        #expect(try listed(["--state", "unpolled"]) == ["other/fresh.example"])
        #expect(try listed(["--state", "UNKNOWN", "--list", "other"]) == ["other/gone.example"])
        let none = try w.run(["watch", "list", "--state", "sinkhole"])
        #expect(none.code == 0 && none.out.isEmpty && none.err.contains("no watched domains in state sinkhole"), "\(none.err)")
        let bad = try w.run(["watch", "list", "--state", "bogus"])
        #expect(bad.code == 64 && bad.err.contains("unpolled"), "the error names the states: \(bad.err)")

        let table = try w.run(["watch", "list", "--list", "ursnif"])
        #expect(table.code == 0 && table.lines.count == 4, "\(table.out)")
        let header = try #require(table.lines.first)
        for column in ["DOMAIN", "LIST", "KIND", "INTERVAL", "ADDED", "STATE", "LAST POLLED", "NEXT DUE", "LAST ALERT", "NOTE"] {
            #expect(header.contains(column), "\(column) in \(header)")
        }
        #expect(table.lines.contains { $0.contains("still.example") && $0.contains("parked (Sedo)") }, "\(table.out)")
        #expect(table.lines.contains { $0.contains("c2.example") && $0.contains(" activation") }, "\(table.out)")
    }
}
