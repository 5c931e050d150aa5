import Classification
import DNSWatchModel
import Foundation
import SQLiteStore
import Store
import Hummingbird
import HummingbirdTesting
import Serve
import TestWorlds
import Testing
import TestSupport

/// Headless Chromium (Debian's `chromium`, installed by scripts/install-deps), run as a child process with a
/// fresh profile in a temporary directory, killed with its whole process group after a timeout (coreutils
/// `timeout`), so that a hung browser cannot hang the tests.
struct Chromium {
    static let path = "/usr/bin/chromium"
    static let timeoutPath = "/usr/bin/timeout"
    let workdir: URL

    init() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Chromium.path),
                     "\(Chromium.path) is missing: run scripts/install-deps (it installs the Debian package chromium)")
        workdir = try TemporaryDirectory("dnswatch-chromium").url
    }

    /// Runs `chromium --headless ... ARGS URL` and returns what it printed; throws after `seconds`.
    func run(_ args: [String], url: String, seconds: Int = 90) async throws -> ChildResult {
        let profile = workdir.appendingPathComponent("profile-\(UUID().uuidString)")
        // As root Chromium needs --no-sandbox; no GPU, no /dev/shm (small in containers), nothing fetched on start.
        let r = try await ChildProcess.run(URL(fileURLWithPath: Chromium.timeoutPath), [
            "-k", "10", "\(seconds)", Chromium.path, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--user-data-dir=\(profile.path)",
        ] + args + [url], environment: ["HOME": workdir.path])
        if r.code == 124 || r.code == 137 { throw TestSupportError.process("chromium timed out after \(seconds) s: \(r.err.suffix(2000))") }
        return r
    }

    func dumpDOM(_ url: String) async throws -> String {
        let r = try await run(["--dump-dom"], url: url)
        try #require(r.code == 0, "chromium --dump-dom exited \(r.code): \(r.err.suffix(2000))")
        return r.out
    }

    func screenshot(_ url: String, to path: String, size: String = "1200,800") async throws {
        let r = try await run(["--screenshot=\(path)", "--window-size=\(size)", "--hide-scrollbars"], url: url)
        try #require(r.code == 0, "chromium --screenshot exited \(r.code): \(r.err.suffix(2000))")
    }
}

/// A database made by real polls of the shared Sedo world: c2.example parked at Sedo every six hours for a day,
/// then on a new host.
final class PolledWorld: SedoWorld<SQLiteStore>, @unchecked Sendable {
    static let t0: Int64 = 1_796_112_000  // 2026-12-01T08:00:00Z
    static let hour: Int64 = 3600
    // Routable and in no fingerprint (203.0.113.0/24 would be dormant: a documentation range).
    static let newA = "45.0.121.77"

    private init() throws {
        try super.init(records: PolledWorld.parkedRecords("c2.example"), prefix: "dnswatch-ui-world",
                       open: { try SQLiteStore(path: $0) }, holding: { try PollLock(store: $0, wait: false) })
    }

    static func made() async throws -> PolledWorld {
        let w = try PolledWorld()
        try await w.watch(["c2.example"], list: "ursnif", kind: .c2, now: t0)
        for h in [0, 6, 12, 18] as [Int64] { try await w.poll(at: t0 + h * hour) }
        try w.move("c2.example", to: newA, ns: "ns1.bulletproof.example")
        for h in [24, 30, 36] as [Int64] { try await w.poll(at: t0 + h * hour) }
        return w
    }
}

@Suite(.serialized) struct UIBrowserTests {
    @Test func chromiumRendersTheTimelineOfADomainThatWentFromParkedToAHost() async throws {
        let chromium = try Chromium()
        let world = try await PolledWorld.made()
        let alerts = try await world.store.alerts(domain: "c2.example")
        try #require(alerts.map(\.type) == ["activation"], "the polls raised the activation")
        let deps = ServeDependencies(store: try SQLiteStore.readOnly(path: world.dbPath), classifier: Classifier(fingerprints: try .embedded()))
        let app = Application(router: DNSWatchServer.router(deps), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let base = "http://127.0.0.1:\(port)"
            let dom = try await chromium.dumpDOM("\(base)/ui/domain/c2.example")
            let bars = DOM.elements(dom, class: "bar")
            let a = bars.filter { $0["data-rrtype"] == "A" }
            #expect(a.count == 2, "\(bars)")
            #expect(a.map { $0["data-class"] } == ["parked", "unknown"])
            #expect(a.map { $0["data-rdata"] } == [PolledWorld.sedoA, PolledWorld.newA])
            #expect(a.map { $0["data-first"] } == ["2026-12-01T08:00:00Z", "2026-12-02T08:00:00Z"])
            #expect(a.map { $0["data-last"] } == ["2026-12-02T02:00:00Z", "2026-12-02T20:00:00Z"])
            #expect(bars.allSatisfy { DOM.isUTC($0["data-first"]) && DOM.isUTC($0["data-last"]) })
            #expect(bars.filter { $0["data-rrtype"] == "NS" }.map { $0["data-class"] } == ["parked", "unknown"])
            #expect(a.first?["data-provider"] == "Sedo")
            let marks = DOM.elements(dom, class: "mark")
            #expect(marks.count == 1)
            #expect(marks.first?["data-alert-type"] == "activation")
            #expect(marks.first?["data-time"] == "2026-12-02T08:00:00Z")

            // the address's triage links back to the timeline
            let ip = try await chromium.dumpDOM("\(base)/ui/ip/\(PolledWorld.sedoA)")
            let triage = try #require(DOM.elements(ip).first { $0["id"] == "triage" })
            #expect(triage["data-class"] == "parked")
            #expect(DOM.elements(ip).contains { $0.tag == "a" && $0["href"] == "/ui/domain/c2.example" })

            // the search form leads to the same view
            let searched = try await chromium.dumpDOM("\(base)/ui/search?q=C2.Example")
            #expect(DOM.elements(searched, class: "bar").filter { $0["data-rrtype"] == "A" }.count == 2)

            // it renders: a screenshot of the window
            let png = chromium.workdir.appendingPathComponent("timeline.png").path
            try await chromium.screenshot("\(base)/ui/domain/c2.example", to: png)
            let data = try Data(contentsOf: URL(fileURLWithPath: png))
            #expect(data.starts(with: [0x89, 0x50, 0x4E, 0x47]), "a PNG")
            #expect(data.count > 20_000, "more than a blank page: \(data.count) bytes")
            // DNSWATCH_UI_SCREENSHOT=PATH keeps it (docs/serve-timeline.png is made so).
            if let keep = ProcessInfo.processInfo.environment["DNSWATCH_UI_SCREENSHOT"] {
                let target = URL(fileURLWithPath: keep, relativeTo: DNSWatchBinary.packageRoot)
                if FileManager.default.fileExists(atPath: target.path) { try FileManager.default.removeItem(at: target) }
                try FileManager.default.copyItem(at: URL(fileURLWithPath: png), to: target)
            }
        }
    }

    /// With keys, a browser that gives the key as the HTTP Basic password (any user name) sees the page; one
    /// without credentials gets the 401 and no data.
    @Test func aBrowserAuthenticatesWithHTTPBasic() async throws {
        let chromium = try Chromium()
        let world = try await PolledWorld.made()
        let deps = ServeDependencies(store: try SQLiteStore.readOnly(path: world.dbPath), classifier: Classifier(fingerprints: try .embedded()))
        let policy = AuthPolicy(keys: [APIKey(name: "analyst", key: "k-browser-0123456789")], metricsOpen: false)
        let app = Application(router: DNSWatchServer.router(deps, auth: policy), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let keyed = try await chromium.dumpDOM("http://anyone:k-browser-0123456789@127.0.0.1:\(port)/ui/domain/c2.example")
            #expect(DOM.elements(keyed, class: "bar").filter { $0["data-rrtype"] == "A" }.map { $0["data-class"] } == ["parked", "unknown"])
            let anonymous = try await chromium.dumpDOM("http://127.0.0.1:\(port)/ui/domain/c2.example")
            // (headless Chromium answers the Basic challenge with nothing, and shows no page)
            #expect(DOM.elements(anonymous, class: "bar").isEmpty && !anonymous.contains("c2.example"))
        }
    }
}
