import Foundation
import Synchronization
import TestSupport
import Testing

/// The passive-DNS clients analysts use, unmodified (dnsdbq from Debian, dnsdb2 and pypdns from PyPI),
/// against a `dnswatch serve` child process over a database made by real polls of a local Unbound.
@Suite(.serialized) struct RealClientTests {
    static let python = DNSWatchBinary.packageRoot.appendingPathComponent(".build/pyclients/bin/python").path
    static let dnsdbq = "/usr/bin/dnsdbq"
    static let key = "rc-key-5f1b2c3d4e"

    /// The history: three polls, two seconds apart (alpha.example A→B→A; www.alpha.example a CNAME to it;
    /// beta.example sharing alpha's first address; 60 domains in 198.51.100.0/24 for paging).
    struct World: Sendable {
        let workdir: URL
        let db: String
        let keyFile: String
        /// When each poll started (epoch seconds).
        let polls: [Int64]
    }

    static let world = Task<World, any Error> {
        let workdir = try TemporaryDirectory("dnswatch-rc").url
        let db = workdir.appendingPathComponent("db.sqlite").path
        let keyFile = workdir.appendingPathComponent("keys").path
        try "# test keys\nanalyst \(key)\n".write(toFile: keyFile, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: keyFile)
        let many = (0..<60).map { String(format: "m%02d.example", $0) }
        let unbound = try UnboundServer(localZones: ["example. static"], localData: [
            "alpha.example. 300 IN A 192.0.2.1", "www.alpha.example. 300 IN CNAME alpha.example.",
            "beta.example. 300 IN A 192.0.2.1",
        ] + many.enumerated().map { "\($0.element). 300 IN A 198.51.100.\($0.offset + 1)" })
        defer { unbound.stop() }
        let env = ["DNSWATCH_DB": db]
        let added = try run(try DNSWatchBinary.required().path, ["watch", "add", "alpha.example", "www.alpha.example", "beta.example"] + many + ["--list", "rc"], env)
        guard added.code == 0 else { throw TestSupportError.process("watch add: \(added.err)") }
        var polls: [Int64] = []
        for step in 0..<3 {
            if step > 0 {
                try unbound.removeLocalData(["alpha.example."])
                try unbound.addLocalData([step == 1 ? "alpha.example. 300 IN A 192.0.2.2" : "alpha.example. 300 IN A 192.0.2.1"])
                try unbound.flushCache()
                // Two seconds and more between polls: a span's time_first (the poll's start, in whole
                // seconds) is at most polls[i] + 1, so polls[i + 1] - 1 separates the spans of two polls.
                try await Task.sleep(for: .milliseconds(2100))
            }
            polls.append(Int64(Date().timeIntervalSince1970))
            let poll = try run(try DNSWatchBinary.required().path, ["poll", "--resolver", unbound.endpoint, "--no-asn", "--types", "A"], env)
            guard poll.code == 0 else { throw TestSupportError.process("poll: \(poll.err)") }
        }
        return World(workdir: workdir, db: db, keyFile: keyFile, polls: polls)
    }

    // MARK: dnsdbq

    @Test func dnsdbqRRsetPerSpanWithFirstLastCount() async throws {
        let w = try await RealClientTests.world.value
        try await Served.with(w) { server in
            let r = try dnsdbq(server, ["-r", "alpha.example/A", "-g", "-j"])
            #expect(r.code == 0, "\(r.err)")
            let objects = r.out.split(separator: "\n").compactMap(json)
            #expect(objects.count == 3, "\(r.out)")
            // Spans in time order: 192.0.2.1 at poll 1, 192.0.2.2 at poll 2, 192.0.2.1 at poll 3.
            let sorted = objects.sorted { ($0["time_first"] as? Int ?? 0) < ($1["time_first"] as? Int ?? 0) }
            #expect(sorted.map { $0["rdata"] as? [String] ?? [] } == [["192.0.2.1"], ["192.0.2.2"], ["192.0.2.1"]])
            for (i, o) in sorted.enumerated() {
                #expect(o["rrname"] as? String == "alpha.example.")
                #expect(o["count"] as? Int == 1)
                let first = try #require(o["time_first"] as? Int)
                #expect(abs(Int64(first) - w.polls[i]) <= 1, "\(o) poll \(w.polls[i])")
            }
            // Aggregated (dnsdbq's default, -G): two rdata sets, the first seen twice.
            let agg = try dnsdbq(server, ["-r", "alpha.example/A", "-j"])
            let aggObjects = agg.out.split(separator: "\n").compactMap(json)
            #expect(aggObjects.count == 2, "\(agg.out)")
            #expect(aggObjects.first { $0["rdata"] as? [String] == ["192.0.2.1"] }?["count"] as? Int == 2)
            // The text output: dnsdbq's own presentation of the same.
            let text = try dnsdbq(server, ["-r", "alpha.example/A", "-g"])
            #expect(text.code == 0)
            #expect(text.out.components(separatedBy: "alpha.example.  A  192.0.2.1\n").count - 1 == 2, "\(text.out)")
            #expect(text.out.components(separatedBy: "alpha.example.  A  192.0.2.2\n").count - 1 == 1, "\(text.out)")
            #expect(text.out.components(separatedBy: ";; count: 1\n").count - 1 == 3, "\(text.out)")
            #expect(text.out.contains(";; record times: \(RealClientTests.dnsdbqTime(w.polls[0]))")
                    || text.out.contains(";; record times: \(RealClientTests.dnsdbqTime(w.polls[0] + 1))"), "\(text.out)")
        }
    }

    @Test func dnsdbqAddressAndPrefix() async throws {
        let w = try await RealClientTests.world.value
        try await Served.with(w) { server in
            let one = try dnsdbq(server, ["-i", "192.0.2.1", "-j"])
            #expect(one.code == 0, "\(one.err)")
            #expect(Set(one.out.split(separator: "\n").compactMap(json).compactMap { $0["rrname"] as? String }) == ["alpha.example.", "beta.example."])
            let prefix = try dnsdbq(server, ["-i", "198.51.100.0/24", "-j"])
            #expect(prefix.code == 0, "\(prefix.err)")
            let names = Set(prefix.out.split(separator: "\n").compactMap(json).compactMap { $0["rrname"] as? String })
            #expect(names.count == 60, "\(prefix.out.prefix(500))")
            #expect(names.contains("m00.example.") && names.contains("m59.example."))
        }
    }

    @Test func dnsdbqFencesAndLimit() async throws {
        let w = try await RealClientTests.world.value
        try await Served.with(w) { server in
            // -A: seen after poll 3 began (time_last_after): spans still seen then.
            let after = try dnsdbq(server, ["-r", "alpha.example/A", "-g", "-j", "-A", String(w.polls[2])])
            #expect(after.code == 0, "\(after.err)")
            let afterObjects = after.out.split(separator: "\n").compactMap(json)
            #expect(afterObjects.count == 1 && afterObjects.first?["rdata"] as? [String] == ["192.0.2.1"], "\(after.out)")
            // -B: first seen before poll 2 began (time_first_before, inclusive): the first span only.
            let before = try dnsdbq(server, ["-r", "alpha.example/A", "-g", "-j", "-B", String(w.polls[1] - 1)])
            let beforeObjects = before.out.split(separator: "\n").compactMap(json)
            #expect(beforeObjects.count == 1, "\(before.out) \(before.err)")
            #expect(abs(Int64(beforeObjects.first?["time_first"] as? Int ?? 0) - w.polls[0]) <= 1)
            // -l: a limit that cuts.
            let limited = try dnsdbq(server, ["-i", "198.51.100.0/24", "-j", "-l", "5"])
            #expect(limited.out.split(separator: "\n").compactMap(json).count == 5, "\(limited.out) \(limited.err)")
        }
    }

    /// dnsdbq's CIRCL system (`-u circl`): CIRCL_SERVER and CIRCL_AUTH (user:key, sent as HTTP Basic) from
    /// its config file, the aggregated COF objects of /pdns/query.
    @Test func dnsdbqCIRCLSystem() async throws {
        let w = try await RealClientTests.world.value
        try await Served.with(w) { server in
            let conf = w.workdir.appendingPathComponent("dnsdbq-circl.conf").path
            try "CIRCL_SERVER=\(server.url)/pdns/query\nCIRCL_AUTH=analyst:\(RealClientTests.key)\n".write(toFile: conf, atomically: true, encoding: .utf8)
            let env = ["DNSDBQ_CONFIG_FILE": conf]
            let r = try RealClientTests.run(RealClientTests.dnsdbq, ["-u", "circl", "-r", "alpha.example", "-j"], env, timeout: 30)
            #expect(r.code == 0, "\(r.err)")
            let objects = r.out.split(separator: "\n").compactMap(json).filter { $0["rrtype"] as? String == "A" }
            let byRdata = Dictionary(objects.map { (($0["rdata"] as? [String])?.joined() ?? ($0["rdata"] as? String ?? ""), $0["count"] as? Int ?? 0) }) { $0 + $1 }
            #expect(byRdata == ["192.0.2.1": 2, "192.0.2.2": 1], "\(r.out) \(r.err)")
            let i = try RealClientTests.run(RealClientTests.dnsdbq, ["-u", "circl", "-i", "192.0.2.1", "-j"], env, timeout: 30)
            #expect(Set(i.out.split(separator: "\n").compactMap(json).compactMap { $0["rrname"] as? String }) == ["alpha.example.", "beta.example."],
                    "\(i.out) \(i.err)")
            #expect(server.log.contains("GET /pdns/query/alpha.example 200"), "\(server.log)")
        }
    }

    @Test func dnsdbqMissingNameIsNoResults() async throws {
        let w = try await RealClientTests.world.value
        try await Served.with(w) { server in
            let r = try dnsdbq(server, ["-r", "nothing-here.example"])
            #expect(r.out.isEmpty, "\(r.out)")
            #expect(r.code == 0, "\(r.err)")
            #expect(r.err.contains("no results found"), "\(r.err)")
            #expect(!r.err.contains("warning"), "\(r.err)")
            // A name that is not a DNS type: the server's 400 with its sentence, which dnsdbq shows; no data.
            let bad = try dnsdbq(server, ["-r", "alpha.example/BOGUSTYPE"])
            #expect(bad.out.isEmpty, "\(bad.out)")
            #expect(bad.err.contains("libcurl 400") && bad.err.contains("unknown record type 'BOGUSTYPE'"), "\(bad.err)")
            #expect(server.log.contains("analyst GET /dnsdb/v2/lookup/rrset/name/alpha.example/BOGUSTYPE 400"), "\(server.log)")
        }
    }

    @Test func dnsdbqWrongKeyIsRefused() async throws {
        let w = try await RealClientTests.world.value
        try await Served.with(w) { server in
            let r = try RealClientTests.run(RealClientTests.dnsdbq, ["-r", "alpha.example/A", "-j"],
                                            ["DNSDB_SERVER": server.url, "DNSDB_API_KEY": "wrong"], timeout: 30)
            // A wrong key is a 403 with its sentence (docs/serve.md), which dnsdbq shows; no data.
            #expect(r.out.isEmpty, "\(r.out)")
            #expect(r.err.contains("libcurl 403") && r.err.contains("the API key is not valid"), "\(r.err)")
            #expect(server.log.contains("- GET /dnsdb/v2/lookup/rrset/name/alpha.example/A 403"), "\(server.log)")
        }
    }

    // MARK: the command

    @Test func serveRefusesBeyondLoopbackWithoutKeysAndEndsCleanlyOnSIGTERM() async throws {
        let w = try await RealClientTests.world.value
        let open = try RealClientTests.run(try DNSWatchBinary.required().path, ["serve", "--listen", "0.0.0.0:0", "--db", w.db], [:], timeout: 20)
        #expect(open.code == 64, "\(open.err)")
        #expect(open.err.contains("not a loopback address"), "\(open.err)")
        let bad = try RealClientTests.run(try DNSWatchBinary.required().path, ["serve", "--listen", "127.0.0.1:99999", "--db", w.db], [:], timeout: 20)
        #expect(bad.code == 64, "\(bad.err)")
        // A missing database: nothing created, an empty history served (a note on stderr).
        let missing = w.workdir.appendingPathComponent("none/db.sqlite").path
        let p = Process()
        p.executableURL = try DNSWatchBinary.required()
        p.arguments = ["serve", "--listen", "[::1]:0", "--db", missing]
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        let stderr = SharedText()
        err.fileHandleForReading.readabilityHandler = { h in stderr.append(String(decoding: h.availableData, as: UTF8.self)) }
        try p.run()
        // Serving (and saying the database is not there yet), then still running when it is told to end.
        let serving = try await eventually(timeout: 60, every: 20) {
            stderr.text.contains("serving http://[::1]:") && stderr.text.contains("no database at") || !p.isRunning
        }
        #expect(serving && p.isRunning, "\(stderr.text)")
        p.terminate()  // SIGTERM
        p.waitUntilExit()
        err.fileHandleForReading.readabilityHandler = nil
        let text = stderr.text + String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(p.terminationStatus == 0, "\(text)")
        #expect(text.contains("serving http://[::1]:"), "\(text)")
        #expect(text.contains("no database at \(missing)"), "\(text)")
        #expect(!FileManager.default.fileExists(atPath: missing))
    }

    // MARK: dnsdb2 and pypdns

    @Test func dnsdb2SameRRsetsAndQueryLimited() async throws {
        let w = try await RealClientTests.world.value
        try await Served.with(w) { server in
            let r = try python(server, """
                import dnsdb2, json, os
                c = dnsdb2.Client(os.environ["KEY"], server=os.environ["URL"])
                print(json.dumps(sorted([o["rdata"], o["count"]] for o in c.lookup_rrset("alpha.example", rrtype="A"))))
                print(json.dumps(len(list(c.lookup_rrset("alpha.example", rrtype="A", aggr=False)))))
                print(json.dumps(sorted(o["rrname"] for o in c.lookup_rdata_ip("192.0.2.1"))))
                try:
                    list(c.lookup_rdata_ip("198.51.100.0/24", limit=3))
                    print("not limited")
                except dnsdb2.QueryLimited:
                    print("QueryLimited")
                print(len(list(c.lookup_rdata_ip("198.51.100.0/24", limit=60))))
                print(json.dumps(c.ping()))
                """)
            #expect(r.code == 0, "\(r.err)")
            let lines = r.out.split(separator: "\n").map(String.init)
            #expect(lines.count == 6, "\(r.out) \(r.err)")
            guard lines.count == 6 else { return }
            #expect(lines[0] == #"[[["192.0.2.1"], 2], [["192.0.2.2"], 1]]"#)
            #expect(lines[1] == "3")
            #expect(lines[2] == #"["alpha.example.", "beta.example."]"#)
            #expect(lines[3] == "QueryLimited")
            #expect(lines[4] == "60")
            #expect(lines[5] == "true")
        }
    }

    @Test func pypdnsQueryAndIterQueryPages() async throws {
        let w = try await RealClientTests.world.value
        try await Served.with(w) { server in
            let r = try python(server, """
                import json, os
                from pypdns import PyPDNS
                p = PyPDNS(url=os.environ["URL"] + "/pdns/query", basic_auth=("analyst", os.environ["KEY"]))
                rows = p.query("alpha.example")
                print(json.dumps(sorted([r["rrname"], r["rrtype"], r["rdata"], r["count"]] for r in rows)))
                records = list(p.iter_query("198.51.100.0/24"))
                print(len(records), len({r.rrname for r in records}))
                print(len(list(p.iter_query("alpha.example", filter_rrtype="CNAME"))))
                """)
            #expect(r.code == 0, "\(r.err)")
            let lines = r.out.split(separator: "\n").map(String.init)
            #expect(lines.count == 3, "\(r.out) \(r.err)")
            guard lines.count == 3 else { return }
            #expect(lines[0] == #"[["alpha.example.", "A", "192.0.2.1", 2], ["alpha.example.", "A", "192.0.2.2", 1], ["www.alpha.example.", "CNAME", "alpha.example.", 3]]"#)
            #expect(lines[1] == "60 60")
            #expect(lines[2] == "1")
            // iter_query asks 50 a page: two requests for the /24, the second with the server's cursor.
            let pages = server.log.components(separatedBy: "GET /pdns/query/198.51.100.0/24 200").count - 1
            #expect(pages == 2, "\(server.log)")
        }
    }

    // MARK: helpers

    /// dnsdbq's time text: `2026-12-01 14:50:50` (UTC).
    static func dnsdbqTime(_ t: Int64) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return f.string(from: Date(timeIntervalSince1970: TimeInterval(t)))
    }

    func dnsdbq(_ server: Served, _ args: [String]) throws -> RunResult {
        guard FileManager.default.isExecutableFile(atPath: RealClientTests.dnsdbq) else {
            throw TestSupportError.process("\(RealClientTests.dnsdbq) is missing: run scripts/install-deps")
        }
        return try RealClientTests.run(RealClientTests.dnsdbq, args, ["DNSDB_SERVER": server.url, "DNSDB_API_KEY": RealClientTests.key], timeout: 30)
    }

    func python(_ server: Served, _ script: String) throws -> RunResult {
        guard FileManager.default.isExecutableFile(atPath: RealClientTests.python) else {
            throw TestSupportError.process("\(RealClientTests.python) is missing: run scripts/install-deps")
        }
        return try RealClientTests.run(RealClientTests.python, ["-c", script], ["URL": server.url, "KEY": RealClientTests.key], timeout: 60)
    }

    func json(_ line: Substring) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
    }

    typealias RunResult = ChildResult

    /// Runs a program to its end (killed after `timeout` seconds), with HOME in a scratch directory so
    /// that no user configuration (~/.dnsdb-query.conf) is read.
    static func run(_ path: String, _ args: [String], _ environment: [String: String], timeout: Double = 60) throws -> RunResult {
        try ChildProcess.run(URL(fileURLWithPath: path), args,
                             environment: ["HOME": FileManager.default.temporaryDirectory.path].merging(environment) { $1 }, timeout: timeout)
    }
}

/// Text appended by one thread, read by another.
final class SharedText: Sendable {
    private let value = Mutex("")
    func append(_ s: String) { value.withLock { $0 += s } }
    var text: String { value.withLock { $0 } }
}

/// A `dnswatch serve` child process on a free loopback port, with its stderr (the request log) kept.
struct Served: Sendable {
    let port: Int
    let stderr: SharedText

    var url: String { "http://127.0.0.1:\(port)" }
    var log: String { stderr.text }

    static func with(_ world: RealClientTests.World, extra: [String] = [],
                     _ body: (Served) async throws -> Void) async throws {
        let p = Process()
        p.executableURL = try DNSWatchBinary.required()
        p.arguments = ["serve", "--listen", "127.0.0.1:0", "--db", world.db, "--api-keys", world.keyFile] + extra
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "DNSWATCH_CONFIG")
        env.removeValue(forKey: "DNSWATCH_LOG_LEVEL")
        p.environment = env
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        p.standardInput = FileHandle.nullDevice
        let text = SharedText()
        err.fileHandleForReading.readabilityHandler = { h in
            text.append(String(decoding: h.availableData, as: UTF8.self))
        }
        try p.run()
        defer {
            if p.isRunning { p.terminate() }
            p.waitUntilExit()
            err.fileHandleForReading.readabilityHandler = nil
        }
        var port: Int?
        try await waitUntil("dnswatch serve listening: \(text.text)", timeout: 60, every: 20) {
            let now = text.text
            if let r = now.range(of: "serving http://127.0.0.1:") {
                port = Int(now[r.upperBound...].prefix { $0.isNumber })
                return true
            }
            guard p.isRunning else { throw TestSupportError.process("dnswatch serve ended: \(now)") }
            return false
        }
        guard let port else { throw TestSupportError.notReady("dnswatch serve: no port in \(text.text)") }
        try await body(Served(port: port, stderr: text))
    }
}
