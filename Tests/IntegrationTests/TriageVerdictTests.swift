import Classification
import DNSWatchModel
import Foundation
import Investigation
import Logging
import Poller
import PostgresStore
import SQLiteStore
import Store
import Testing
import TestSupport
import TestWorlds

/// The triage verdict rules (docs/triage.md, "Triage verdicts") on both backends: history written as a poll
/// writes it (a scripted resolver, a clock the test sets) and as `import cof` imports it, then judged by the
/// `Investigator` the CLI and the server use.
@Suite struct TriageVerdictTests {
    typealias TriageStore = PollStore & WatchlistStore & ImportStore & InvestigationReading

    /// A fresh, migrated, empty store of `backend`.
    func withStore<T: Sendable>(_ backend: Backend, _ body: (any TriageStore) async throws -> T) async throws -> T {
        switch backend {
        case .sqlite:
            let dir = try TemporaryDirectory("dnswatch-triage")
            return try await body(try SQLiteStore(path: dir.path("db.sqlite")))
        case .postgresql:
            let url = try PostgresURL(try TestPostgres.freshDatabase(prefix: "triage"))
            return try await PostgresStore.withStore(url, logger: Logger(label: "triage"), migrate: true) { try await body($0) }
        }
    }

    static let classifier: Result<Classifier, any Error> = Result { Classifier(fingerprints: try .embedded()) }

    func watch(_ store: any TriageStore, _ names: [String], list: String, kind: ListKind) async throws {
        _ = try await store.addEntries(try names.map { ListEntry(domain: try DomainName($0)) },
                                       to: ListSpec(name: list, kind: kind, interval: nil), now: 1)
    }

    /// One poll of every watched domain at `t`, without origin-ASN lookups.
    func poll(_ store: any TriageStore, _ dns: ScriptedDNS, at t: Int64) async throws {
        var o = PollOptions()
        o.asnLookups = false
        o.jitter = 0
        let poller = Poller(store: store, engine: dns, classifier: try Self.classifier.get(), sinks: [], options: o, logger: Logger(label: "triage"))
        _ = try await poller.poll(clock: { t })
    }

    func triage(_ store: any TriageStore, _ value: String, at: Int64? = nil) async throws -> TriageOutput {
        let investigator = Investigator(store: store, classifier: try Self.classifier.get(), asns: Investigator.cachedASNs(store))
        return TriageOutput(try await investigator.triage(value, at: at))
    }

    /// `name` parked at Sedo: its parking name servers and Sedo's parking address.
    func park(_ dns: ScriptedDNS, _ name: String) {
        dns.set(name, .a, [World.sedoA])
        dns.set(name, .ns, ["ns1.sedoparking.com", "ns2.sedoparking.com"])
    }

    func live(_ dns: ScriptedDNS, _ name: String, _ address: String) {
        dns.set(name, .a, [address])
        dns.set(name, .ns, ["ns1.host.example"])
    }

    /// A domain of a c2 list is suspicious while it was never live, malicious-history once it was, whatever it
    /// looks like now; removed from its list it keeps it. A parked domain of another kind stays a likely false positive.
    @Test(arguments: Backend.allCases)
    func aC2DomainIsNeverALikelyFalsePositive(backend: Backend) async throws {
        try await withStore(backend) { store in
            try await watch(store, ["parked.example", "flip.example"], list: "ursnif", kind: .c2)
            try await watch(store, ["expired.example"], list: "drop", kind: .expired)
            let dns = ScriptedDNS()
            for name in ["parked.example", "flip.example", "expired.example"] { park(dns, name) }
            try await poll(store, dns, at: 100)
            live(dns, "flip.example", "45.0.121.77")
            try await poll(store, dns, at: 200)
            park(dns, "flip.example")
            try await poll(store, dns, at: 300)

            let parked = try await triage(store, "parked.example")
            #expect(parked.class == "parked" && parked.provider == "Sedo" && parked.verdict == "suspicious", "\(parked)")
            #expect(parked.reason.hasPrefix("a C&C name (list ursnif), never live (now parked (Sedo)): a host that asks for it is likely infected"),
                    "\(parked.reason)")
            let flip = try await triage(store, "flip.example")
            #expect(flip.class == "parked" && flip.verdict == "malicious-history" && flip.reason.contains("live on 45.0.121.77"), "\(flip)")
            let before = try await triage(store, "flip.example", at: 150)
            #expect(before.class == "parked" && before.verdict == "suspicious", "not live yet at 150: \(before)")
            let other = try await triage(store, "expired.example")
            #expect(other.class == "parked" && other.verdict == "likely-false-positive", "\(other)")

            // Watched but not polled yet: a C&C name all the same.
            try await watch(store, ["unpolled.example"], list: "ursnif", kind: .c2)
            let unpolled = try await triage(store, "unpolled.example")
            #expect(unpolled.class == "unseen" && unpolled.verdict == "suspicious", "\(unpolled)")
            #expect(unpolled.reason.hasPrefix("a C&C name (list ursnif), never live (no record of it): "), "\(unpolled.reason)")
            // Removed from its list, a C&C name is still one.
            _ = try await store.remove([try DomainName("parked.example")], list: "ursnif", now: 400)
            await #expect(try triage(store, "parked.example").verdict == "suspicious")
        }
    }

    /// A domain's fan-in counts only the domains that shared a live address with it: not its parking
    /// provider's other customers, nor those on the same non-routable address. An address's fan-in counts all.
    @Test(arguments: Backend.allCases)
    func aDomainsFanInCountsOnlyDomainsOnALiveAddress(backend: Backend) async throws {
        try await withStore(backend) { store in
            let names = ["p1.example", "p2.example", "h1.example", "h2.example", "q1.example", "q2.example"]
            try await watch(store, names, list: "drop", kind: .expired)
            let dns = ScriptedDNS()
            park(dns, "p1.example")
            park(dns, "p2.example")
            // One host shares its live address with another, and its parking address with p1 and p2.
            dns.set("h1.example", .a, ["45.0.121.9", World.sedoA])
            live(dns, "h2.example", "45.0.121.9")
            live(dns, "q1.example", "10.1.2.3")
            live(dns, "q2.example", "10.1.2.3")
            try await poll(store, dns, at: 100)

            let p1 = try await triage(store, "p1.example")
            #expect(p1.fan_in == 0 && p1.domains.isEmpty && p1.verdict == "likely-false-positive", "\(p1)")
            let h1 = try await triage(store, "h1.example")
            #expect(h1.fan_in == 1 && h1.domains == ["h2.example"] && h1.class == "unknown" && h1.verdict == "unknown", "\(h1)")
            let q1 = try await triage(store, "q1.example")
            #expect(q1.fan_in == 0 && q1.class == "dormant" && q1.verdict == "likely-false-positive", "\(q1)")
            #expect(q1.reason.hasPrefix("resolves only to non-routable addresses"), "\(q1.reason)")
            // The address itself: every domain that resolved into it.
            let sedo = try await triage(store, World.sedoA)
            #expect(sedo.fan_in == 3 && sedo.domains == ["h1.example", "p1.example", "p2.example"], "\(sedo)")
        }
    }

    /// A value no record holds and nothing classifies: `no-history` (a domain's class `unseen`); one a
    /// fingerprint or range classifies keeps its class and verdict; a live domain nothing classifies is `unknown`.
    @Test(arguments: Backend.allCases)
    func valuesNothingHasSeenHaveNoHistory(backend: Backend) async throws {
        try await withStore(backend) { store in
            try await watch(store, ["live.example"], list: "drop", kind: .expired)
            let dns = ScriptedDNS()
            live(dns, "live.example", "45.0.121.50")
            try await poll(store, dns, at: 100)

            let never = try await triage(store, "never.example")
            #expect(never.class == "unseen" && never.verdict == "no-history" && never.fan_in == 0 && never.provider == nil, "\(never)")
            #expect(never.reason.hasPrefix("no record of never.example: never polled nor imported"), "\(never.reason)")
            for value in ["45.0.121.200", "45.0.121.128/25", "2001:db9::1"] {
                let none = try await triage(store, value)
                #expect(none.class == "unknown" && none.verdict == "no-history" && none.fan_in == 0, "\(value): \(none)")
            }
            // Classified without any record: the class's own verdict.
            let parking = try await triage(store, "91.195.240.7")
            #expect(parking.class == "parked" && parking.verdict == "likely-false-positive", "\(parking)")
            let dormant = try await triage(store, "10.9.9.9")
            #expect(dormant.class == "dormant" && dormant.verdict == "likely-false-positive", "\(dormant)")
            let nameServer = try await triage(store, "ns1.sedoparking.com")
            #expect(nameServer.class == "parked" && nameServer.provider == "Sedo" && nameServer.verdict == "likely-false-positive", "\(nameServer)")
            #expect(nameServer.reason.contains("by its name"), "\(nameServer.reason)")
            // Seen: a live host nothing classifies, and its address.
            let seen = try await triage(store, "live.example")
            #expect(seen.class == "unknown" && seen.verdict == "unknown", "\(seen)")
            let address = try await triage(store, "45.0.121.50")
            #expect(address.class == "unknown" && address.verdict == "unknown" && address.fan_in == 1, "\(address)")
            // Before the poll, nothing was seen.
            let then = try await triage(store, "live.example", at: 50)
            #expect(then.class == "unseen" && then.verdict == "no-history", "\(then)")
            await #expect(try triage(store, "45.0.121.50", at: 50).verdict == "no-history")
        }
    }

    /// Under `--at`, a domain only other sensors saw is judged by the imported records that held then (first
    /// seen by then, last seen after): never an invented `nodata`, and nothing at a time no record covers.
    @Test(arguments: Backend.allCases)
    func atReportsOnlyWhatImportedRecordsHeldThen(backend: Backend) async throws {
        try await withStore(backend) { store in
            let dir = try TemporaryDirectory("dnswatch-triage-cof")
            let file = try dir.write("sensor.json", [
                #"{"count":3,"time_first":1000,"time_last":2000,"rrname":"seen.example.","rrtype":"A","rdata":["45.0.121.60"]}"#,
                #"{"count":2,"time_first":1000,"time_last":2000,"rrname":"nsonly.example.","rrtype":"NS","rdata":"ns1.host.example."}"#,
                #"{"count":2,"time_first":1000,"time_last":2000,"rrname":"parkns.example.","rrtype":"NS","rdata":"ns1.sedoparking.com."}"#,
            ].joined(separator: "\n") + "\n")
            _ = try await COFImport(store: store, classifier: try Self.classifier.get())
                .run([COFImport.Input(path: file, source: "sensor")], skipInvalid: false, now: 5000)

            let during = try await triage(store, "seen.example", at: 1500)
            #expect(during.class == "unknown" && during.verdict == "unknown", "\(during)")
            #expect(during.reason.contains("never polled: its class is from other sensors' records (sensor)"), "\(during.reason)")
            let now = try await triage(store, "seen.example")
            #expect(now.class == "unknown" && now.verdict == "unknown", "as when it was last seen: \(now)")
            let before = try await triage(store, "seen.example", at: 500)
            #expect(before.class == "unseen" && before.verdict == "no-history", "\(before)")
            let after = try await triage(store, "seen.example", at: 3000)
            #expect(after.class == "unseen" && after.verdict == "no-history", "no record held it at 3000: \(after)")
            #expect(after.reason.hasPrefix("no record of seen.example held as of"), "\(after.reason)")
            // Name servers alone say nothing of addresses: no NODATA; parking name servers make it parked.
            let ns = try await triage(store, "nsonly.example", at: 1500)
            #expect(ns.class == "unseen" && ns.verdict == "no-history", "\(ns)")
            let parkedNS = try await triage(store, "parkns.example", at: 1500)
            #expect(parkedNS.class == "parked" && parkedNS.verdict == "likely-false-positive", "\(parkedNS)")
        }
    }
}
