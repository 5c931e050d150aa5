import DNSWatchModel
import Foundation
import GRDB
import HistoryStore
import Poller
import Testing
import TestSupport

/// `dnswatch import cof`: other sensors' passive DNS, from the files their tools write.
@Suite(.serialized) struct ImportTests {
    /// As `dnsdbq -j` writes: rdata arrays, absolute names, bailiwick, zone times for a zone-file record.
    static let dnsdbq = """
        {"count":12,"time_first":1700000000,"time_last":1700100000,"rrname":"evil.example.","rrtype":"A","bailiwick":"example.","rdata":["45.0.121.5","45.0.121.6"]}
        {"count":4,"time_first":1700000000,"time_last":1700050000,"rrname":"www.Evil.example.","rrtype":"CNAME","bailiwick":"evil.example.","rdata":["evil.example."]}
        {"zone_time_first":1690000000,"zone_time_last":1700000000,"rrname":"evil.example.","rrtype":"NS","bailiwick":"example.","rdata":["ns1.host.example.","NS2.host.example."]}
        {"count":3,"time_first":1700000000,"time_last":1700100000,"rrname":"evil.example.","rrtype":"MX","bailiwick":"example.","rdata":["10 mx.evil.example."]}
        {"count":3,"time_first":1700000000,"time_last":1700100000,"rrname":"*.evil.example.","rrtype":"A","bailiwick":"example.","rdata":["45.0.121.5"]}

        """
    /// As CIRCL passive DNS answers: rdata a string, names without the trailing dot, a sensor_id.
    static let circl = """
        {"count": 7, "origin": "https://www.circl.lu/pdns/", "rdata": "45.0.121.5", "rrname": "other.example", "rrtype": "A", "time_first": 1710000000, "time_last": 1710000900, "sensor_id": "sensor-17"}
        {"count": 2, "origin": "https://www.circl.lu/pdns/", "rdata": "2001:DB8::5", "rrname": "other.example", "rrtype": "AAAA", "time_first": 1710000000, "time_last": 1710000900}
        {"count": 1, "origin": "https://www.circl.lu/pdns/", "rdata": "v=spf1 -all", "rrname": "other.example", "rrtype": "TXT", "time_first": 1710000000, "time_last": 1710000900}
        """

    /// The rows an import writes, as text: equal dumps, unchanged tables.
    static func dump(_ path: String) throws -> String {
        let queue = try DatabaseQueue(path: path)
        return try queue.read { db in
            var out = ""
            for table in ["sources", "domains", "spans", "span_values", "heads", "domain_state", "domain_status", "transitions", "alerts"] {
                for row in try Row.fetchAll(db, sql: "SELECT * FROM \(table) ORDER BY 1, 2") { out += "\(table) \(row)\n" }
            }
            return out
        }
    }

    @Test func dnsdbqAndCIRCLExportsCountInIPAndTriageWithTheirSource() async throws {
        let cli = try CLI()
        let dnsdb = try cli.file("dnsdb.json", ImportTests.dnsdbq), circl = try cli.file("circl.json", ImportTests.circl)
        let first = try cli.run(["import", "cof", dnsdb])
        #expect(first.code == 0, "\(first.err)")
        #expect(first.out == "read 5, imported 3, merged 0 (changed 0), skipped 2 (MX=1 wildcard name=1)\n")
        let second = try cli.run(["import", "cof", circl])
        #expect(second.out == "read 3, imported 2, merged 0 (changed 0), skipped 1 (TXT=1)\n", "\(second.err)")

        let ip = try cli.run(["ip", "45.0.121.5", "--json"]).lines.map(CLI.json)
        #expect(ip.map { $0["domain"] as? String } == ["evil.example", "other.example"])
        #expect(ip.map { $0["sources"] as? [String] } == [["dnsdb.json"], ["circl.json"]])
        #expect(ip.allSatisfy { $0["current"] as? Bool == false && $0["lists"] as? [String] == [] && $0["class"] as? String == "unknown" })
        let triage = CLI.json(try cli.run(["triage", "45.0.121.5", "--json"]).out)
        #expect(triage["fan_in"] as? Int == 2)
        #expect(triage["domains"] as? [String] == ["evil.example", "other.example"])
        let details = triage["details"] as? [[String: Any]] ?? []
        #expect(details.map { $0["sources"] as? [String] } == [["dnsdb.json"], ["circl.json"]])
        #expect(details.allSatisfy { $0["watched"] as? Bool == false && $0["class"] as? String == "unknown" })
        // Names and name rdata normalised; the zone times of the NS record; CNAME found by its target.
        let ns = try cli.run(["history", "evil.example", "--json", "--type", "NS"]).lines.map(CLI.json)
        #expect(ns.first?["rdata"] as? [String] == ["ns1.host.example.", "ns2.host.example."])
        #expect(ns.first?["time_first"] as? Int == 1690000000 && ns.first?["count"] as? Int == 1)
        #expect(try cli.run(["history", "www.evil.example", "--json"]).lines.map(CLI.json).first?["rdata"] as? [String] == ["evil.example."])
        #expect(CLI.json(try cli.run(["triage", "2001:db8::5", "--json"]).out)["fan_in"] as? Int == 1)

        // Importing the same file again changes no row.
        let before = try ImportTests.dump(cli.db)
        let again = try cli.run(["import", "cof", dnsdb])
        #expect(again.out.hasPrefix("read 5, imported 0, merged 3 (changed 0)"), "\(again.out)")
        #expect(try ImportTests.dump(cli.db) == before)

        // A later export of the same source: the earliest first, the latest last, the largest count.
        let later = try cli.file("dnsdb-later.json", """
            {"count":30,"time_first":1700050000,"time_last":1700900000,"rrname":"evil.example.","rrtype":"A","rdata":["45.0.121.6","45.0.121.5"]}
            {"count":2,"time_first":1690000000,"time_last":1700000000,"rrname":"www.evil.example.","rrtype":"CNAME","rdata":["evil.example."]}
            """)
        let merged = try cli.run(["import", "cof", later, "--source", "dnsdb.json"])
        #expect(merged.out.hasPrefix("read 2, imported 0, merged 2 (changed 2)"), "\(merged.out) \(merged.err)")
        let a = try cli.run(["history", "evil.example", "--json", "--type", "A"]).lines.map(CLI.json)
        #expect(a.count == 1)
        #expect(a.first?["time_first"] as? Int == 1700000000 && a.first?["time_last"] as? Int == 1700900000 && a.first?["count"] as? Int == 30)
        let cname = try cli.run(["history", "www.evil.example", "--json"]).lines.map(CLI.json)
        #expect(cname.first?["time_first"] as? Int == 1690000000 && cname.first?["time_last"] as? Int == 1700050000 && cname.first?["count"] as? Int == 4)
        // Under another source the same record is a record of its own.
        #expect(try cli.run(["import", "cof", later, "--source", "peer"]).out.hasPrefix("read 2, imported 2"))
        #expect(try cli.run(["history", "evil.example", "--json", "--type", "A"]).lines.count == 2)
    }

    @Test func aBadLineRefusesEveryFileAndStoresNothingUnlessSkipped() async throws {
        let cli = try CLI()
        let good = try cli.file("good.json", ImportTests.circl)
        let bad = try cli.file("bad.json", """
            {"rrname":"ok.example","rrtype":"A","rdata":"45.0.121.9","time_first":1,"time_last":2,"count":1}

            {"rrname":"bad.example","rrtype":"A","rdata":["999.0.121.9"],"time_first":1,"time_last":2}
            {"rrname":"bad.example","rrtype":"A","rdata":["45.0.121.9"],"time_first":1}
            not json
            {"rrtype":"A","rdata":["45.0.121.9"],"time_first":1,"time_last":2}
            {"rrname":"bad.example","rrtype":"A","rdata":["2001:db8::1"],"time_first":1,"time_last":2}
            """)
        let r = try cli.run(["import", "cof", good, bad])
        #expect(r.code == 65)
        for expected in ["\(bad):3: rdata: '999.0.121.9' is not an IPv4 address", "\(bad):4: no pair of times", "\(bad):5: not JSON",
                         "\(bad):6: no rrname", "\(bad):7: rdata: '2001:db8::1' is not an IPv4 address"] {
            #expect(r.err.contains(expected), "\(r.err)")
        }
        #expect(r.err.contains("5 invalid lines: nothing imported"))
        #expect(try ImportTests.dump(cli.db).split(separator: "\n").allSatisfy { !$0.hasPrefix("spans") && !$0.hasPrefix("sources") },
                "nothing stored, not even the good file's records")
        // Standard input: refused alike, and its records are the source "stdin" once they are good.
        let piped = try await ChildProcess.run(URL(fileURLWithPath: "/bin/sh"), ["-c", "\"$0\" import cof - < \"$1\"", CLI.binary.path, bad],
                                         environment: ["DNSWATCH_DB": cli.db])
        #expect(piped.code == 65 && piped.err.contains("-:3: rdata"), "\(piped.err)")
        let skipped = try cli.run(["import", "cof", good, bad, "--skip-invalid"])
        #expect(skipped.code == 0, "\(skipped.err)")
        #expect(skipped.out == "read 9, imported 3, merged 0 (changed 0), skipped 1 (TXT=1), invalid skipped 5\n")
        #expect(skipped.err.contains("\(bad):5: not JSON"))
        let stdin = try await ChildProcess.run(URL(fileURLWithPath: "/bin/sh"), ["-c", "\"$0\" import cof - < \"$1\"", CLI.binary.path, good],
                                         environment: ["DNSWATCH_DB": cli.db])
        #expect(stdin.code == 0 && stdin.out.hasPrefix("read 3, imported 2"), "\(stdin.out) \(stdin.err)")
        #expect(try cli.run(["history", "other.example", "--source", "stdin", "--json"]).lines.count == 2)
        #expect(try cli.run(["import", "cof", good, "--source", "polled"]).code == 64, "'polled' names dnswatch's own polls")
    }

    @Test func anImportChangesNoStateAndNoAlertOfThePollsThatFollow() async throws {
        let w = try World(records: ["d.example. 300 IN A 45.0.121.77", "d.example. 300 IN NS ns1.host.example."])
        try await w.watch(["d.example"], list: "c2", kind: .c2)
        try await w.poll(at: 1000)
        let state = try await w.store.state(of: "d.example")
        let targets = try await w.store.countTargets()
        // Another sensor saw it parked at Sedo and on 45.0.121.99, later than our poll.
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("dnswatch-import-\(UUID().uuidString).json").path
        try """
            {"rrname":"d.example.","rrtype":"A","rdata":["\(World.sedoA)"],"time_first":1500,"time_last":1600,"count":9}
            {"rrname":"d.example.","rrtype":"NS","rdata":["ns1.sedoparking.com.","ns2.sedoparking.com."],"time_first":1500,"time_last":1600,"count":9}
            {"rrname":"d.example.","rrtype":"A","rdata":["45.0.121.99"],"time_first":1700,"time_last":1800,"count":2}
            {"rrname":"peer.example.","rrtype":"A","rdata":["45.0.121.77"],"time_first":1700,"time_last":1800,"count":2}
            """.write(toFile: file, atomically: true, encoding: .utf8)
        let summary = try await COFImport(store: w.store, classifier: w.classifier)
            .run([COFImport.Input(path: file, source: "sensor")], skipInvalid: false, now: 1900)
        #expect(summary.counts.imported == 4)
        #expect(try await w.store.state(of: "d.example") == state, "an import never changes a watched domain's state")
        #expect(try await w.store.countTargets() == targets, "an imported name is never watched")
        let sedo = try await w.store.history(domain: "d.example", source: .named("sensor")).first { $0.rdata == [World.sedoA] }
        #expect(sedo?.class == .parked && sedo?.provider == "Sedo", "imported records are classified as polled ones")

        // The same answer polled again: the polled spans are extended, nothing is raised.
        let unchanged = try await w.poll(at: 2000)
        #expect(unchanged.counts.alerts == 0 && unchanged.counts.changes == 0)
        let polled = try await w.store.history(domain: "d.example", source: .polled)
        #expect(polled.filter { $0.rrtype != .aaaa }.allSatisfy { $0.count == 2 && $0.timeLast == 2000 })
        #expect(try await w.store.history(domain: "d.example", source: .named("sensor")).allSatisfy { $0.timeLast <= 1800 })
        // An address only the other sensor saw is still new to dnswatch's own history: new-ip.
        try w.set("d.example", ["d.example. 300 IN A 45.0.121.99", "d.example. 300 IN NS ns1.host.example."])
        try await w.poll(at: 3000)
        #expect(w.sink.types == ["new-ip"])
        let hits = try await w.store.domains(resolvingInto: try #require(CIDR("45.0.121.99/32")))
        #expect(hits.filter(\.current).map(\.source) == [nil], "only the polled span is current")
    }

    @Test func historyJSONShowsEverySourceAndDnsdbqReadsIt() async throws {
        let unbound = try UnboundServer(localZones: ["example. static"], localData: ["evil.example. 300 IN A 45.0.121.5"])
        let cli = try CLI()
        #expect(try cli.run(["watch", "add", "evil.example", "--list", "c2"]).code == 0)
        let poll = try cli.run(["poll", "--resolver", unbound.endpoint, "--no-asn"])
        #expect(poll.code == 0, "\(poll.err)")
        #expect(try cli.run(["import", "cof", try cli.file("dnsdb.json", ImportTests.dnsdbq)]).code == 0)
        let all = try cli.run(["history", "evil.example", "--json"])
        let lines = all.lines.map(CLI.json)
        #expect(lines.count == 5, "3 polled (A, and AAAA and NS NODATA) and 2 imported (A, NS): \(all.out)")
        #expect(lines.allSatisfy { $0.keys.contains("source") })
        #expect(lines.filter { $0["source"] is NSNull }.count == 3 && lines.filter { $0["source"] as? String == "dnsdb.json" }.count == 2)
        let polled = try cli.run(["history", "evil.example", "--json", "--source", "polled"]).lines.map(CLI.json)
        #expect(polled.count == 3 && polled.allSatisfy { $0["source"] is NSNull })
        #expect(try cli.run(["history", "evil.example", "--json", "--source", "dnsdb.json"]).lines.count == 2)
        #expect(try cli.run(["history", "evil.example", "--source", "nobody"]).out.isEmpty)
        #expect(try cli.run(["history", "evil.example"]).out.contains("SOURCE"))

        // dnsdbq -J reads the history as COF and prints the same rrsets (its CSV: one row a value).
        let historyFile = try cli.file("history.json", all.out)
        let dnsdbq = "/usr/bin/dnsdbq"
        try #require(FileManager.default.isExecutableFile(atPath: dnsdbq), "\(dnsdbq) is missing: run scripts/install-deps")
        let read = try ChildProcess.run(URL(fileURLWithPath: dnsdbq), ["-J", historyFile, "-p", "csv"],
                                        environment: ["DNSDB_API_KEY": "unused", "DNSDB_SERVER": "http://127.0.0.1:9"], timeout: 30)
        #expect(read.code == 0, "\(read.err)")
        func text(_ t: Any?) -> String {
            let f = DateFormatter()
            f.locale = Locale(identifier: "en_US_POSIX")
            f.timeZone = TimeZone(identifier: "UTC")
            f.dateFormat = "yyyy-MM-dd HH:mm:ss"
            return f.string(from: Date(timeIntervalSince1970: TimeInterval(t as? Int ?? 0)))
        }
        let expected = Set(lines.flatMap { l in
            (l["rdata"] as? [String] ?? []).map { v in
                "\"\(text(l["time_first"]))\",\"\(text(l["time_last"]))\",,,\(l["count"] as? Int ?? 0),,\"\(l["rrname"] as? String ?? "")\",\"\(l["rrtype"] as? String ?? "")\",\"\(v)\""
            }
        })
        let rows = Set(read.lines.dropFirst())
        #expect(read.lines.first == "time_first,time_last,zone_first,zone_last,count,bailiwick,rrname,rrtype,rdata")
        #expect(rows == expected, "\(read.out)")
        #expect(rows.count == 5, "A of the poll, A and NS of the import (two values each)")

        // Another dnswatch's history: its NOERROR lines are records; the rest skipped by status.
        let other = try CLI()
        let imported = try other.run(["import", "cof", historyFile, "--source", "dnswatch-b"])
        #expect(imported.out.hasPrefix("read 5, imported 3, merged 0 (changed 0), skipped 2 (status NODATA=2)"), "\(imported.out) \(imported.err)")
    }
}

/// `COFLine`: the fast reader of plain lines and JSONDecoder (everything else) read a line alike.
@Suite struct COFLineTests {
    func parse(_ text: String) -> COFLine { COFLine.parse(Array(text.utf8)[...]) }

    @Test func plainAndEscapedLinesReadAlike() {
        let plain = parse(#"{"rrname":"www.example.","rrtype":"a","rdata":["192.0.2.1","192.0.2.1"],"time_first":1,"time_last":2,"count":3}"#)
        let escaped = parse(#"{ "rrname" : "www.ex\u0061mple.", "rrtype":"A", "rdata":"192.0.2.1", "time_first":1, "time_last":2, "count":3, "x":{"y":null} }"#)
        let record = ImportedRecord(domain: "www.example", rrtype: .a, rdata: ["192.0.2.1"], timeFirst: 1, timeLast: 2, count: 3)
        #expect(plain == .record(record))
        #expect(escaped == .record(record))
        // IDN names (non-ASCII text goes to JSONDecoder) as A-labels; an absent count counts 1.
        #expect(parse(#"{"rrname":"bücher.example","rrtype":"NS","rdata":["NS1.Bücher.example."],"zone_time_first":5,"zone_time_last":6}"#)
                == .record(ImportedRecord(domain: "xn--bcher-kva.example", rrtype: .ns, rdata: ["ns1.xn--bcher-kva.example"], timeFirst: 5, timeLast: 6, count: 1)))
        #expect(parse(#"{"rrname":"a.example","rrtype":"AAAA","rdata":["2001:DB8:0::1"],"time_first":1,"time_last":2}"#)
                == .record(ImportedRecord(domain: "a.example", rrtype: .aaaa, rdata: ["2001:db8::1"], timeFirst: 1, timeLast: 2, count: 1)))
    }

    @Test func badAndSkippedLines() {
        #expect(parse(#"{"rrname":"a.example","rrtype":"A","rdata":["192.0.2.1"],"time_first":1.5,"time_last":2}"#).isInvalid)
        #expect(parse(#"{"rrname":7,"rrtype":"A","rdata":["192.0.2.1"],"time_first":1,"time_last":2}"#) == .invalid("rrname: wrong type"))
        #expect(parse(#"{"rrname":"a.example","rrtype":"A","rdata":[1],"time_first":1,"time_last":2}"#) == .invalid("rdata: not a string or an array of strings"))
        #expect(parse(#"{"rrname":"a.example","rrtype":"A","rdata":["192.0.2.1"],"time_first":3,"time_last":2}"#).isInvalid)
        #expect(parse(#"{"rrname":"a.example","rrtype":"A","rdata":[],"time_first":1,"time_last":2}"#) == .invalid("rdata: no values"))
        #expect(parse(#"["a"]"#) == .invalid("not a JSON object"))
        #expect(parse(#"{"rrname":"a.example","rrtype":"A","rdata":["192.0.2.1"],"time_first":1,"time_last":2"#) == .invalid("not JSON"))
        #expect(parse(#"{"rrname":"a.example","rrtype":"SOA","rdata":["x"],"time_first":1,"time_last":2}"#) == .skipped("SOA"))
        #expect(parse(#"{"rrname":"a.example","rrtype":"A","rdata":[],"time_first":1,"time_last":2,"status":"NXDOMAIN"}"#) == .skipped("status NXDOMAIN"))
        #expect(parse(#"{"rrname":"*.a.example","rrtype":"A","rdata":["192.0.2.1"],"time_first":1,"time_last":2}"#) == .skipped("wildcard name"))
    }
}

extension COFLine {
    var isInvalid: Bool { if case .invalid = self { true } else { false } }
}
