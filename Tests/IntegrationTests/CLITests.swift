import Foundation
import SQLiteStore
import Store
import Poller
import Testing
import TestSupport

/// Runs the built `dnswatch` binary (`DNSWatchBinary.url`), as users and scripts do, in a fresh
/// temporary directory with a database of its own.
struct CLI {
    let db: String
    let workdir: URL

    init() throws {
        workdir = try TemporaryDirectory("dnswatch-cli").url
        db = workdir.appendingPathComponent("db.sqlite").path
    }

    typealias Result = ChildResult

    func file(_ name: String, _ text: String) throws -> String {
        let path = workdir.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func run(_ args: [String], binary: URL = DNSWatchBinary.url, environment: [String: String] = [:], in directory: URL? = nil) throws -> Result {
        try ChildProcess.run(binary, args, environment: ["DNSWATCH_DB": db].merging(environment) { $1 }, in: directory)
    }

    /// One line of `--json` output as a JSON object. Anything else (empty, unparsable, an array) throws
    /// with the text, so that no check passes on garbage.
    struct NotAJSONObject: Error, CustomStringConvertible {
        let text: String
        var description: String { "not a JSON object: \(text.debugDescription)" }
    }

    static func json(_ line: String) throws -> [String: Any] {
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: Data(line.utf8))
        } catch {
            throw NotAJSONObject(text: line)
        }
        guard let object = parsed as? [String: Any] else { throw NotAJSONObject(text: line) }
        return object
    }
}

@Suite(.serialized) struct CLITests {
    @Test func usageErrorsExit64() async throws {
        let cli = try CLI()
        #expect(try cli.run(["poll", "--bogus"]).code == 64)
        #expect(try cli.run(["history", "a.example", "--since", "yesterday-ish"]).code == 64)
        #expect(try cli.run(["poll", "--due", "--all"]).code == 64)
        #expect(try cli.run(["poll", "--resolver", "not-an-ip"]).code == 64)
        #expect(try cli.run(["watch", "add", "bad!.example", "--list", "x"]).code == 64)
    }

    @Test func invalidWatchlistLineRefusesTheWholeFile() async throws {
        let cli = try CLI()
        let path = try cli.file("bad.txt", "# kind: owned\nok.example\nbad..example\nalso-ok.example\n")
        let r = try cli.run(["watch", "import", path])
        #expect(r.code == 65)
        #expect(r.err.contains("\(path):3: empty label"))
        #expect(try cli.run(["watch", "list", "--json"]).out.isEmpty, "nothing stored")
        let skip = try cli.run(["watch", "import", path, "--skip-invalid"])
        #expect(skip.code == 0 && skip.out.contains("added 2"))
        let rows = try cli.run(["watch", "list", "--json"]).lines.map(CLI.json)
        #expect(rows.map { $0["domain"] as? String } == ["also-ok.example", "ok.example"])
        #expect(rows.allSatisfy { $0["list"] as? String == "bad" && $0["kind"] as? String == "owned" && $0["interval"] as? Int == 3600 && $0["added"] is Int })
    }

    @Test func realTrailFileImportsAsItIs() async throws {
        let cli = try CLI()
        let trail = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("data/reference/real/maltrail-ursnif.txt")
        try #require(FileManager.default.fileExists(atPath: trail.path), "missing \(trail.path)")
        let r = try cli.run(["watch", "import", trail.path, "--list", "ursnif"])
        #expect(r.code == 0)
        #expect(r.out.hasPrefix("added 4955, already present 0, skipped 2769"))
        #expect(try cli.run(["watch", "list", "--list", "ursnif", "--json"]).lines.count == 4955)
        #expect(try cli.run(["watch", "import", trail.path, "--list", "ursnif"]).out.hasPrefix("added 0, already present 4955"))
    }

    @Test func pollHistoryJSONAndExitCodes() async throws {
        let unbound = try UnboundServer(localZones: ["example. static"], localData: [
            "p.example. 300 IN NS ns1.sedoparking.com.", "p.example. 300 IN NS ns2.sedoparking.com.",
            "p.example. 300 IN A 91.195.240.94",
        ])
        let cli = try CLI()
        #expect(try cli.run(["watch", "add", "P.Example.", "nx.example", "--list", "c2"]).code == 0)
        let poll = try cli.run(["poll", "--resolver", unbound.endpoint, "--no-asn"])
        #expect(poll.code == 0, "\(poll.err)")
        #expect(poll.out.contains("domains=2 queries=6 answers=6 failures=0"))
        let history = try cli.run(["history", "p.example", "--json"])
        let spans = try history.lines.map(CLI.json)
        #expect(spans.count == 3)
        let ns = try #require(spans.first { $0["rrtype"] as? String == "NS" })
        #expect(ns["rrname"] as? String == "p.example.")
        #expect(ns["rdata"] as? [String] == ["ns1.sedoparking.com.", "ns2.sedoparking.com."])
        #expect(ns["status"] as? String == "NOERROR" && ns["class"] as? String == "parked" && ns["provider"] as? String == "Sedo")
        #expect(ns["count"] as? Int == 1 && ns["time_first"] is Int && ns["time_last"] is Int)
        let aaaa = try #require(spans.first { $0["rrtype"] as? String == "AAAA" })
        #expect(aaaa["status"] as? String == "NODATA" && aaaa["rdata"] as? [String] == [])
        #expect(aaaa.keys.contains("provider"))
        let nx = try cli.run(["history", "nx.example", "--json", "--type", "A"]).lines.map(CLI.json)
        #expect(nx.count == 1 && nx[0]["status"] as? String == "NXDOMAIN")
        let table = try cli.run(["history", "p.example"])
        #expect(table.out.contains("parked (Sedo)") && table.out.contains("FIRST SEEN"))
        let none = try cli.run(["history", "never.example"])
        #expect(none.code == 0 && none.out.isEmpty && none.err == "dnswatch: no history for never.example\n", "\(none.err)")

        let silent = try SilentUDPServer()
        let down = try cli.run(["poll", "--resolver", silent.endpoint, "--timeout", "0.2", "--retries", "0", "--no-asn"])
        #expect(down.code == 69)
        #expect(down.err.contains("resolver unavailable"))
    }

    @Test func aSecondPollOnTheSameDatabaseExitsWithAMessage() async throws {
        let cli = try CLI()
        #expect(try cli.run(["watch", "add", "a.example", "--list", "l"]).code == 0)
        let held = try PollLock(store: SQLiteStore(path: cli.db), wait: false)
        let r = try cli.run(["poll", "--resolver", "127.0.0.1:9", "--no-asn"])
        #expect(r.code == 1)
        #expect(r.err.contains("another dnswatch poll is running"))
        withExtendedLifetime(held) {}
    }

    @Test func binaryCopiedAloneCreatesAndMigratesADatabase() async throws {
        let cli = try CLI()
        let lonely = cli.workdir.appendingPathComponent("alone/dnswatch")
        try FileManager.default.createDirectory(at: lonely.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: DNSWatchBinary.url, to: lonely)
        let db = cli.workdir.appendingPathComponent("fresh/nested/db.sqlite").path
        let r = try cli.run(["watch", "add", "a.example", "--list", "l", "--db", db], binary: lonely)
        #expect(r.code == 0, "\(r.err)")
        #expect(FileManager.default.fileExists(atPath: db))
        let list = try cli.run(["watch", "list", "--db", db], binary: lonely)
        #expect(list.out.contains("a.example"))
        let classify = try cli.run(["classify", "91.195.240.94", "ns1.sedoparking.com", "--json", "--db", db], binary: lonely)
        #expect(try classify.lines.map { try CLI.json($0)["provider"] as? String } == ["Sedo", "Sedo"], "fingerprints are embedded")
    }
}
