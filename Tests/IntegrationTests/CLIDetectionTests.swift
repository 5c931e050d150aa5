import Foundation
import Testing
import TestSupport

@Suite(.serialized) struct CLIDetectionTests {
    static let parked = ["c2.example. 300 IN NS ns1.sedoparking.com.", "c2.example. 300 IN NS ns2.sedoparking.com.",
                         "c2.example. 300 IN A 91.195.240.94"]

    @Test func webhookThatAnswers503KeepsTheAlertQueuedThenDeliversItOnce() async throws {
        let unbound = try UnboundServer(localZones: ["example. static"], localData: Self.parked)
        let hook = try TestHTTPServer(.failFirst(1, status: 503))
        let cli = try CLI()
        #expect(try cli.run(["watch", "add", "c2.example", "--list", "ursnif", "--kind", "c2"]).code == 0)
        let env = ["DNSWATCH_WEBHOOK_URL": hook.url.absoluteString]
        let args = ["poll", "--resolver", unbound.endpoint, "--no-asn", "--no-stdout-alerts"]
        #expect(try cli.run(args, environment: env).code == 0)
        try unbound.removeLocalData(["c2.example"])
        try unbound.addLocalData(["c2.example. 300 IN A 45.0.121.77"])
        let failing = try cli.run(args, environment: env)
        #expect(failing.code == 0, "a failed sink is not a failed poll")
        #expect(failing.out.contains("alerts=1"))
        #expect(hook.recorded.count == 1, "one attempt, answered 503")
        let again = try cli.run(args, environment: env)
        #expect(again.code == 0 && again.out.contains("alerts=0"))
        #expect(hook.recorded.count == 2)
        #expect(try cli.run(args, environment: env).code == 0)
        #expect(hook.recorded.count == 2, "delivered exactly once")
        let body = try CLI.json(String(decoding: hook.recorded[1].body, as: UTF8.self))
        #expect(body["type"] as? String == "activation" && body["severity"] as? String == "critical")
        #expect(hook.recorded[1].headers["content-type"] == "application/json")
        #expect(!again.err.contains("SECRET") && !failing.err.contains("SECRET"), "the token never reaches the logs")
        let alerts = try cli.run(["alerts", "--json", "--severity", "critical"]).lines.map(CLI.json)
        #expect(alerts.count == 1 && alerts[0]["id"] as? Int == body["id"] as? Int)
        #expect(try cli.run(["alerts", "--json", "--since", "1h"]).lines.count == 1)
        #expect(try cli.run(["alerts", "--json", "--since", "2099-01-01"]).lines.isEmpty)
    }

    @Test func alertsFileAndCommandSinksFromTheConfig() async throws {
        let unbound = try UnboundServer(localZones: ["example. static"], localData: Self.parked)
        let cli = try CLI()
        let file = cli.workdir.appendingPathComponent("alerts.ndjson").path
        let out = cli.workdir.appendingPathComponent("command-out.json").path
        let config = try cli.file("dnswatch.toml", """
            [resolvers]
            servers = ["\(unbound.endpoint)"]
            timeout = "1s"
            [poll]
            asn = false
            [alerts]
            stdout = false
            file = "\(file)"
            command = ["sh", "-c", 'cat >> "$0"', "\(out)"]
            """)
        #expect(try cli.run(["watch", "add", "c2.example", "--list", "ursnif"]).code == 0)
        #expect(try cli.run(["poll", "--config", config]).code == 0)
        try unbound.removeLocalData(["c2.example"])
        try unbound.addLocalData(["c2.example. 300 IN A 45.0.121.77"])
        let r = try cli.run(["poll"], environment: ["DNSWATCH_CONFIG": config])
        #expect(r.code == 0 && r.out.contains("alerts=1"))
        #expect(!r.out.contains("{"), "stdout sink off")
        let lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n")
        #expect(try lines.count == 1 && CLI.json(String(lines[0]))["type"] as? String == "activation")
        #expect(try CLI.json(try String(contentsOfFile: out, encoding: .utf8))["domain"] as? String == "c2.example")
    }

    @Test func configErrorsNameTheKey() async throws {
        let cli = try CLI()
        let unknown = try cli.file("u.toml", "[alerts]\nfiel = \"x\"\n")
        let r = try cli.run(["watch", "list", "--config", unknown])
        #expect(r.code == 65 && r.err.contains("alerts.fiel"))
        let servers = try cli.file("v.toml", "[resolvers]\nservers = [\"notanip\"]\n")
        let sv = try cli.run(["classify", "1.2.3.4", "--config", servers])
        #expect(sv.code == 65 && sv.err.contains("resolvers.servers"))
        let timeout = try cli.file("t.toml", "[resolvers]\ntimeout = \"500ms\"\n[alerts]\nwebhook_timeout = 0.5\n")
        #expect(try cli.run(["watch", "list", "--config", timeout]).code == 0)
        let bad = try cli.file("b.toml", "[resolvers]\nretries = \"many\"\n")
        let b = try cli.run(["poll", "--config", bad])
        #expect(b.code == 65 && b.err.contains("resolvers.retries"))
        let cidr = try cli.file("c.toml", "[owned]\ncidrs = [\"10.0.0.0/99\"]\n")
        #expect(try cli.run(["classify", "10.0.0.1", "--config", cidr]).err.contains("owned.cidrs"))
        let command = try cli.file("cmd.toml", "[alerts]\ncommand = [\"no-such-program-dnswatch\", \"--json\"]\n")
        let cr = try cli.run(["watch", "list", "--config", command])
        #expect(cr.code == 65 && cr.err.contains("alerts.command") && cr.err.contains("not found"))
        let owned = try cli.file("o.toml", "[owned]\nnameservers = [\"*bad*\"]\n")
        let or = try cli.run(["watch", "list", "--config", owned])
        #expect(or.code == 65 && or.err.contains("owned.nameservers"))
        #expect(try cli.run(["poll", "--alert-command", "no-such-program-dnswatch"]).code == 64)
        let syntax = try cli.file("s.toml", "[resolvers\n")
        #expect(try cli.run(["watch", "list", "--config", syntax]).code == 65)
    }

    @Test func userFingerprintsAndReclassify() async throws {
        let unbound = try UnboundServer(localZones: ["example. static"], localData: [
            "p.example. 300 IN NS ns1.newparker.example.", "p.example. 300 IN A 45.0.121.5",
        ])
        let cli = try CLI()
        #expect(try cli.run(["watch", "add", "p.example", "--list", "l"]).code == 0)
        #expect(try cli.run(["poll", "--resolver", unbound.endpoint, "--no-asn"]).code == 0)
        let before = try cli.run(["history", "p.example", "--json", "--type", "NS"]).lines.map(CLI.json)
        #expect(before.first?["class"] as? String == "unknown")
        let extra = try cli.file("extra.tsv", "provider\tkind\tvalue\tcategory\tsource\nNewParker\tns\t*.newparker.example\tparking\tlocal\n")
        let providers = try cli.run(["providers", "--fingerprints", extra, "--json"]).lines.map(CLI.json)
        #expect(providers.contains { $0["provider"] as? String == "NewParker" })
        #expect(providers.count > 500, "the shipped set is there too")
        let classify = try cli.run(["classify", "ns1.newparker.example", "--fingerprints", extra, "--json"]).lines.map(CLI.json)
        #expect(classify.first?["class"] as? String == "parked" && classify.first?["provider"] as? String == "NewParker")
        let re = try cli.run(["reclassify", "--fingerprints", extra])
        #expect(re.code == 0, "\(re.err)")
        let after = try cli.run(["history", "p.example", "--json", "--type", "NS"]).lines.map(CLI.json)
        #expect(after.first?["class"] as? String == "parked" && after.first?["provider"] as? String == "NewParker")
        let cname = try cli.run(["classify", "parking.bodis.com", "--json"]).lines.map(CLI.json)
        #expect(cname.first?["provider"] as? String == "Bodis", "CNAME fingerprints count for names too")
        let bad = try cli.file("bad.tsv", "provider\tkind\tvalue\tcategory\tsource\nX\tbogus\tv\tparking\ts\n")
        let r = try cli.run(["classify", "1.2.3.4", "--fingerprints", bad])
        #expect(r.code == 65 && r.err.contains("bad.tsv:2"))
    }

    @Test func removedC2DomainStaysC2HistoryInTriage() async throws {
        let unbound = try UnboundServer(localZones: ["example. static"], localData: ["live.example. 300 IN A 45.0.121.77"])
        let cli = try CLI()
        #expect(try cli.run(["watch", "add", "live.example", "--list", "ursnif", "--kind", "c2"]).code == 0)
        #expect(try cli.run(["poll", "--resolver", unbound.endpoint, "--no-asn"]).code == 0)
        #expect(try CLI.json(try cli.run(["triage", "45.0.121.77", "--json"]).out)["verdict"] as? String == "malicious-history")
        #expect(try cli.run(["watch", "remove", "live.example"]).out.contains("removed 1"))
        let after = try CLI.json(try cli.run(["triage", "45.0.121.77", "--json"]).out)
        #expect(after["verdict"] as? String == "malicious-history")
        let details = try #require(after["details"] as? [[String: Any]])
        #expect(details.first?["watched"] as? Bool == false && details.first?["lists"] as? [String] == ["ursnif"])
        #expect(try cli.run(["history", "live.example", "--json"]).lines.count == 3, "history kept")
    }

    @Test func syncMakesTheListsEqualToTheFiles() async throws {
        let cli = try CLI()
        let dir = cli.workdir.appendingPathComponent("lists")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try "# kind: owned\n# interval: 2h\na.example\nb.example\n".write(to: dir.appendingPathComponent("ours.txt"), atomically: true, encoding: .utf8)
        try "x.example\n".write(to: dir.appendingPathComponent("other.txt"), atomically: true, encoding: .utf8)
        #expect(try cli.run(["watch", "sync", dir.path]).code == 0)
        var rows = try cli.run(["watch", "list", "--json"]).lines.map(CLI.json)
        #expect(rows.count == 3 && rows.first { $0["domain"] as? String == "a.example" }?["interval"] as? Int == 7200)
        try "# kind: expired\nb.example\nc.example\n".write(to: dir.appendingPathComponent("ours.txt"), atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(at: dir.appendingPathComponent("other.txt"))
        let r = try cli.run(["watch", "sync", dir.path])
        #expect(r.out.contains("added 1") && r.out.contains("retired 2"))
        rows = try cli.run(["watch", "list", "--json"]).lines.map(CLI.json)
        #expect(rows.compactMap { $0["domain"] as? String } == ["b.example", "c.example"])
        #expect(rows.allSatisfy { $0["kind"] as? String == "expired" && $0["interval"] as? Int == 3600 }, "a header removed from the file is removed from the list")
    }

    @Test func ipAndTriageCommands() async throws {
        let unbound = try UnboundServer(localZones: ["example. static", "cymru.com. static"], localData: Self.parked + [
            "p2.example. 300 IN NS ns1.sedoparking.com.", "p2.example. 300 IN A 91.195.240.94",
            "94.240.195.91.origin.asn.cymru.com. 300 IN TXT \"47846 | 91.195.240.0/23 | DE | ripencc | 2009-04-08\"",
        ])
        let cli = try CLI()
        #expect(try cli.run(["watch", "add", "c2.example", "p2.example", "--list", "ursnif"]).code == 0)
        #expect(try cli.run(["poll", "--resolver", unbound.endpoint]).code == 0)
        let ip = try cli.run(["ip", "91.195.240.0/23", "--json"]).lines.map(CLI.json)
        #expect(ip.compactMap { $0["domain"] as? String }.sorted() == ["c2.example", "p2.example"])
        #expect(ip.allSatisfy { $0["class"] as? String == "parked" && $0["asn"] as? Int == 47846 })
        let t = try cli.run(["triage", "91.195.240.94", "--json"])
        let j = try CLI.json(t.out)
        #expect(j["query"] as? String == "91.195.240.94" && j["class"] as? String == "parked" && j["provider"] as? String == "Sedo")
        #expect(j["asn"] as? Int == 47846 && j["fan_in"] as? Int == 2 && j["verdict"] as? String == "likely-false-positive")
        #expect((j["domains"] as? [String])?.sorted() == ["c2.example", "p2.example"])
        #expect((j["reason"] as? String)?.contains("Sedo") == true)
        let d = try CLI.json(try cli.run(["triage", "c2.example", "--json"]).out)
        // A C&C name parked today is no false positive: a host that asks for it is likely infected.
        #expect(d["class"] as? String == "parked" && d["verdict"] as? String == "suspicious", "\(d)")
        let selfTriage = try CLI.json(try cli.run(["triage", "p2.example", "--json"]).out)
        #expect(selfTriage["fan_in"] as? Int == 0 && selfTriage["domains"] as? [String] == [], "sharing a parking address relates no domains")
        let unknownDomain = try cli.run(["triage", "never.example", "--json"])
        let never = try CLI.json(unknownDomain.out)
        #expect(unknownDomain.code == 0 && never["verdict"] as? String == "no-history" && never["class"] as? String == "unseen", "\(never)")
        let none = try CLI.json(try cli.run(["triage", "45.0.121.200", "--json"]).out)
        #expect(none["verdict"] as? String == "no-history" && none["class"] as? String == "unknown" && none["fan_in"] as? Int == 0
                && none.keys.contains("provider"), "\(none)")
        #expect(try cli.run(["ip", "not-an-ip"]).code == 64)
    }
}
