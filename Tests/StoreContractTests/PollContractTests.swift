import Alerting
import DNSWatchModel
import Foundation
import Logging
import Poller
import Store
import Synchronization
import Testing
import TestSupport
import TestWorlds

/// One poll of `store` at `t` by the poller named `name`, of the due domains only if `due` (otherwise as
/// `poll` in StoreContract.swift).
@discardableResult
func poll(_ store: any ContractStore, _ engine: any QueryEngine, by name: String, at t: Int64, due: Bool = false,
          lease: Int64 = 600) async throws -> PollSummary {
    var o = PollOptions()
    o.asnLookups = false
    o.dueOnly = due
    o.jitter = 0
    o.poller = name
    o.lease = lease
    let poller = Poller(store: store, engine: engine, classifier: try embeddedClassifier.get(), options: o, logger: Logger(label: "contract"))
    return try await poller.poll(clock: { t })
}

/// What a poll asks of the store before and around its writes: due work (`countTargets`, `claimTargets`,
/// `clampDueTimes`), its run (`beginPoll`, `finishPoll`) and who polled (`pollers`).
@Suite struct PollContractTests {
    /// A claim hands out watched domains (an active membership on some list) in id order, after `afterID`,
    /// at most `limit`, each with its active memberships ordered by list name (by its bytes); paging by the
    /// last id walks every watched domain once.
    @Test(arguments: Backend.allCases)
    func claimsPageThroughTheWatchedDomainsWithTheirLists(backend: Backend) async throws {
        try await withStore(backend) { store in
            let names = ["d1.example", "d2.example", "d3.example", "d4.example", "d5.example"]
            try await watch(store, names, list: "b-list", kind: .c2, interval: 600)
            try await watch(store, ["d2.example"], list: "A-list", kind: .owned)
            try await watch(store, ["d2.example", "d5.example"], list: "a-list", kind: .expired, interval: 60)
            await #expect(try store.remove([try DomainName("d4.example")], list: nil, now: 2) == 1)
            await #expect(try store.remove([try DomainName("d3.example")], list: "b-list", now: 2) == 1)
            await #expect(try store.remove([try DomainName("d5.example")], list: "a-list", now: 2) == 1)
            await #expect(try store.countTargets(dueAt: nil) == 3, "d3 and d4 are on no list now")
            await #expect(try store.countTargets(dueAt: 1) == 3, "never polled: due")

            var claimed: [PollTarget] = []
            var afterID: Int64 = 0
            var sizes: [Int] = []
            while true {
                let claim = try await store.claimTargets(afterID: afterID, limit: 2, dueAt: nil, poller: "contract", lease: 600)
                sizes.append(claim.targets.count)
                guard let last = claim.targets.last else {
                    #expect(claim.lease == nil, "an empty claim holds nothing")
                    break
                }
                #expect((claim.lease != nil) == (backend == .postgresql), "a lease where domains are shared: \(String(describing: claim.lease))")
                afterID = last.domainID
                claimed += claim.targets
                if sizes.count > 3 { break }
            }
            #expect(sizes == [2, 1, 0])
            #expect(claimed.map(\.name) == ["d1.example", "d2.example", "d5.example"])
            #expect(claimed.map(\.domainID) == claimed.map(\.domainID).sorted() && Set(claimed.map(\.domainID)).count == 3)
            #expect(claimed.map(\.memberships) == [
                [Membership(list: "b-list", kind: .c2, interval: 600)],
                [Membership(list: "A-list", kind: .owned, interval: nil), Membership(list: "a-list", kind: .expired, interval: 60),
                 Membership(list: "b-list", kind: .c2, interval: 600)],
                [Membership(list: "b-list", kind: .c2, interval: 600)],
            ])
        }
    }

    /// With `dueAt`, a claim and a count take only domains never polled or whose next due time has come;
    /// a poll makes a domain due its shortest list interval later.
    @Test(arguments: Backend.allCases)
    func aClaimWithADueTimeTakesOnlyTheDomainsDueByThen(backend: Backend) async throws {
        try await withStore(backend) { store in
            try await watch(store, ["hourly.example", "minutely.example"], list: "slow", interval: 600)
            try await watch(store, ["minutely.example"], list: "fast", interval: 60)
            let dns = ScriptedDNS()
            dns.set("hourly.example", .a, ["192.0.2.1"])
            dns.set("minutely.example", .a, ["192.0.2.2"])
            try await poll(store, dns, at: 100)
            try await watch(store, ["new.example"], list: "slow", interval: 600, at: 150)
            await #expect(try store.countTargets(dueAt: 159) == 1, "only the domain never polled")
            await #expect(try store.countTargets(dueAt: 160) == 2)
            await #expect(try store.countTargets(dueAt: 700) == 3)
            let claim = try await store.claimTargets(afterID: 0, limit: 10, dueAt: 160, poller: "contract", lease: 600)
            #expect(claim.targets.map(\.name) == ["minutely.example", "new.example"])
            #expect(claim.targets.first?.memberships.map(\.list) == ["fast", "slow"])
        }
    }

    /// `clampDueTimes` brings a due time forward to the last poll plus the domain's interval now, when
    /// that got shorter (a list polled more often, or a shorter default for a list that sets none), and
    /// leaves every other due time as it is.
    @Test(arguments: Backend.allCases)
    func aShorterIntervalBringsTheDueTimeForwardAndNothingElse(backend: Backend) async throws {
        try await withStore(backend) { store in
            try await watch(store, ["joins.example", "stays.example"], list: "hourly", kind: .c2, interval: 3600)
            try await watch(store, ["kindless.example"], list: "expired", kind: .expired)
            let dns = ScriptedDNS()
            for name in ["joins.example", "stays.example", "kindless.example"] { dns.set(name, .a, ["192.0.2.3"]) }
            try await poll(store, dns, at: 100)
            await #expect(try store.countTargets(dueAt: 3699) == 0)
            await #expect(try store.countTargets(dueAt: 3700) == 3, "the default interval is an hour as well")

            try await watch(store, ["joins.example"], list: "often", kind: .c2, interval: 60, at: 150)
            await #expect(try store.countTargets(dueAt: 160) == 0, "not brought forward until clamped")
            try await store.clampDueTimes(defaults: PollInterval.Defaults())
            await #expect(try store.countTargets(dueAt: 159) == 0)
            await #expect(try store.countTargets(dueAt: 160) == 1, "last polled at 100, now every 60 s")
            await #expect(try store.countTargets(dueAt: 3699) == 1)

            try await store.clampDueTimes(defaults: PollInterval.Defaults(overrides: [.expired: 300]))
            await #expect(try store.countTargets(dueAt: 399) == 1)
            await #expect(try store.countTargets(dueAt: 400) == 2, "expired lists default to 300 s now")
            await #expect(try store.countTargets(dueAt: 3699) == 2, "stays.example's list sets its own hour")
            await #expect(try store.countTargets(dueAt: 3700) == 3)

            // A longer interval never pushes a due time back.
            try await store.clampDueTimes(defaults: PollInterval.Defaults(overrides: [.expired: 7200]))
            await #expect(try store.countTargets(dueAt: 400) == 2)
        }
    }

    /// `pollers` lists each poller that recorded a poll run, by name: when it was last seen (its runs'
    /// latest time, a finish or an unfinished run's start, on the poll's clock), the domains it polled in
    /// all and its last run; a poll that found nothing due records no run and lists no one; a run that was
    /// begun and never finished (its process killed) is its last run, unfinished, and is counted by the
    /// metrics only once finished.
    @Test(arguments: Backend.allCases)
    func pollersShowEachPollerWithItsDomainsAndLastRun(backend: Backend) async throws {
        try await withStore(backend) { store in
            try await watch(store, ["a.example", "b.example"])
            let dns = ScriptedDNS()
            dns.set("a.example", .a, ["192.0.2.1"])
            dns.fail("b.example", .ns, .servfail)
            await #expect(try store.pollers().isEmpty)
            let first = try await poll(store, dns, by: "alpha", at: 100)
            let second = try await poll(store, dns, by: "beta", at: 200)
            let third = try await poll(store, dns, by: "alpha", at: 300)
            #expect(first.pollID > 0 && first.pollID < second.pollID && second.pollID < third.pollID)
            var counts = PollCounts()
            counts.domains = 2
            counts.queries = 6
            counts.answers = 5
            counts.failures = 1
            counts.changes = 2
            var steady = counts
            steady.changes = 0
            let pollers = try await store.pollers()
            #expect(pollers.map(\.name) == ["alpha", "beta"])
            #expect(pollers.map(\.claimed) == [4, 2], "alpha polled both domains twice")
            #expect(pollers.map(\.lastSeen) == [300, 200], "the time of each one's last run, on the poll's clock")
            #expect(pollers.map(\.lastPoll) == [PollRun(id: third.pollID, started: 300, finished: 300, counts: steady),
                                                PollRun(id: second.pollID, started: 200, finished: 200, counts: steady)])

            let polled = try await store.metricsReading(afterPoll: 0, afterAlert: 0).polls
            #expect(polled.map(\.started) == [100, 200, 300])
            #expect(polled.map(\.finished) == [100, 200, 300])
            #expect(polled.map(\.queries) == [6, 6, 6] && polled.map(\.answers) == [5, 5, 5] && polled.map(\.failures) == [1, 1, 1])
            let cursor = try #require(polled.last?.id)

            let idle = try await poll(store, dns, by: "gamma", at: 350, due: true)
            #expect(idle.pollID == 0, "nothing due at 350")
            await #expect(try store.pollers().map(\.name) == ["alpha", "beta"], "a poller that found nothing due is not listed")
            await #expect(try store.pollers().map(\.lastSeen) == [300, 200], "nor is anyone seen again by it")

            let killed = try await store.beginPoll(at: 400, resolvers: "scripted", poller: "beta")
            #expect(killed > third.pollID)
            await #expect(try store.pollers().last?.lastPoll == PollRun(id: killed, started: 400, finished: nil, counts: PollCounts()))
            await #expect(try store.pollers().map(\.lastSeen) == [300, 400], "an unfinished run: seen when it started")
            await #expect(try store.metricsReading(afterPoll: cursor, afterAlert: 0).polls.isEmpty, "not finished: not counted")
            try await store.finishPoll(killed, at: 450)
            await #expect(try store.pollers().last?.lastPoll == PollRun(id: killed, started: 400, finished: 450, counts: PollCounts()))
            await #expect(try store.pollers().map(\.lastSeen) == [300, 450])
            let late = try await store.metricsReading(afterPoll: cursor, afterAlert: 0).polls
            #expect(late.map(\.started) == [400] && late.map(\.finished) == [450] && late.map(\.queries) == [0])
            await #expect(try store.pollers().map(\.claimed) == [4, 2], "a run claims nothing by itself")
        }
    }

    /// The addresses a domain ever held in dnswatch's own polls, read for a batch: an id asked twice is
    /// answered once (a caller's duplicate is no crash), a domain never polled has none.
    @Test(arguments: Backend.allCases)
    func addressesEverSeenAnswersEachDomainOnce(backend: Backend) async throws {
        try await withStore(backend) { store in
            try await watch(store, ["moved.example", "never.example"])
            let dns = ScriptedDNS()
            dns.set("moved.example", .a, ["192.0.2.1"])
            try await poll(store, dns, at: 100)
            dns.set("moved.example", .a, ["192.0.2.2"])
            try await poll(store, dns, at: 5000)
            let claim = try await store.claimTargets(afterID: 0, limit: 10, dueAt: nil, poller: "contract", lease: 600)
            let ids = Dictionary(uniqueKeysWithValues: claim.targets.map { ($0.name, $0.domainID) })
            let moved = try #require(ids["moved.example"]), never = try #require(ids["never.example"])
            let seen = try await store.addressesEverSeen(domainIDs: [moved, never, moved])
            #expect(seen == [moved: ["192.0.2.1", "192.0.2.2"], never: []])
        }
    }
}

extension PollContractTests {
    /// A domain's alerting memory (`domain_alerting`) is stored as a plan gives it and read back with the
    /// poll memory: here a domain that flips between two parking providers on every poll, held back by flap
    /// damping at its third change.
    @Test(arguments: Backend.allCases)
    func theAlertingMemoryOfAFlappingDomainIsKeptBetweenPolls(backend: Backend) async throws {
        try await withStore(backend) { store in
            let alerts = try await pollFlapping(store)
            #expect(alerts == [1, 1, 1, 0], "parked, parked, flapping, then held back")
            // (Claimed only now: on PostgreSQL a claim leases the domain away from the polls.)
            let claim = try await store.claimTargets(afterID: 0, limit: 10, dueAt: nil, poller: "contract", lease: 600)
            let id = try #require(claim.targets.first?.domainID)
            let memory = try #require(try await store.pollMemory(domainIDs: [id])[id]?.alerting)
            #expect(memory.suppressedSince == 400 && memory.penaltyTime == 500)
            #expect(memory.penalty > 3900 && memory.penalty < 4000, "four changes within seconds: about 4000 (\(memory.penalty))")
            #expect(memory.alertedViewJSON?.contains("sedoparking") == true, "the view last alerted: Sedo")
            #expect(memory.disagreementPolls == 0 && !memory.disagreementAlerted && memory.unconfirmedJSON == nil)
        }
    }
}

/// Watches flap.example and polls it 5 times (at 100, 200, ... 500), parked at Sedo, then at Bodis, Sedo,
/// Bodis, Sedo: the alerts of the last 4 polls (the first is the baseline).
func pollFlapping(_ store: any ContractStore) async throws -> [Int] {
    try await watch(store, ["flap.example"])
    let dns = ScriptedDNS()
    func park(_ provider: String) {
        dns.set("flap.example", .a, [provider == "Sedo" ? "91.195.240.94" : "199.59.243.220"])
        dns.set("flap.example", .ns, provider == "Sedo" ? ["ns1.sedoparking.com", "ns2.sedoparking.com"] : ["ns1.bodis.com", "ns2.bodis.com"])
    }
    park("Sedo")
    dns.set("flap.example", .aaaa, [])
    try await poll(store, dns, at: 100)
    var alerts: [Int] = []
    for (t, provider) in [(200, "Bodis"), (300, "Sedo"), (400, "Bodis"), (500, "Sedo")] {
        park(provider)
        alerts.append(try await poll(store, dns, at: Int64(t)).counts.alerts)
    }
    return alerts
}

/// An engine that answers as `script` does, but holds every answer until `release()`; `asked` turns true
/// when the first question arrives.
final class HeldDNS: QueryEngine {
    let script: ScriptedDNS
    private let state = Mutex<(asked: Bool, released: Bool)>((false, false))
    init(_ script: ScriptedDNS) { self.script = script }
    var resolverDescription: String { "held" }
    var asked: Bool { state.withLock { $0.asked } }
    func release() { state.withLock { $0.released = true } }

    func answers(for questions: [Question]) async throws -> [Resolution] {
        state.withLock { $0.asked = true }
        guard try await eventually(timeout: 120, every: 20, { self.state.withLock { $0.released } }) else {
            throw TestSupportError.process("HeldDNS: never released")
        }
        return try await script.answers(for: questions)
    }
}

/// PostgreSQL's own: several pollers share the domains through leases, and a batch commits only while its
/// lease holds.
@Suite struct PostgresPollContractTests {
    /// A poller whose lease ran out while its answers were outstanding, and whose domains another poller
    /// took over and polled, loses its batch (`LeaseLost`, caught by the poll): nothing of it is written,
    /// and the history is the other poller's.
    @Test func aBatchWhoseLeaseRanOutAndWasTakenOverWritesNothing() async throws {
        try await withStore(.postgresql) { store in
            let names = ["l1.example", "l2.example", "l3.example"]
            try await watch(store, names)
            let stale = ScriptedDNS(), fresh = ScriptedDNS()
            for name in names {
                stale.set(name, .a, ["192.0.2.66"])
                fresh.set(name, .a, ["192.0.2.1"])
            }
            let held = HeldDNS(stale)
            // A lease long enough that the slow poller surely claims and asks inside it on a loaded machine.
            let slow = Task { try await poll(store, held, by: "slow", at: 100, lease: 4) }
            let lost: PollSummary
            do {
                #expect(try await eventually { held.asked }, "the slow poller never asked")
                await #expect(try store.countTargets(dueAt: nil) == 0, "under a live lease the domains are nobody else's")
                // Once the lease ran out (the server's clock says when) the domains are free again.
                #expect(try await eventually(timeout: 60, every: 100) { try await store.countTargets(dueAt: nil) == 3 },
                        "the 4 s lease did not run out within 60 s")
                let taken = try await poll(store, fresh, by: "fast", at: 200)
                #expect(taken.counts.domains == 3 && taken.counts.changes == 3)
                held.release()
                lost = try await slow.value
            } catch {
                held.release()
                _ = await slow.result
                throw error
            }
            #expect(lost.counts == PollCounts(), "the lost batch is not counted: \(lost.counts)")
            for name in names {
                let a = try await store.spans(name, .a)
                #expect(a.map(\.rdata) == [["192.0.2.1"]] && a.map(\.timeFirst) == [200] && a.map(\.count) == [1], "\(name): \(a)")
            }
            await #expect(try store.countTargets(dueAt: 3799) == 0, "due an hour after the poll that kept its lease")
            let pollers = try await store.pollers()
            #expect(pollers.map(\.name) == ["fast", "slow"])
            #expect(pollers.map { $0.lastPoll?.counts.domains } == [3, 0])
        }
    }

    /// A live claim keeps its domains from every other claim and count, whoever asks.
    @Test func claimedDomainsAreNobodyElsesUntilTheLeaseEnds() async throws {
        try await withStore(.postgresql) { store in
            try await watch(store, ["c1.example", "c2.example", "c3.example"])
            let mine = try await store.claimTargets(afterID: 0, limit: 2, dueAt: nil, poller: "one", lease: 600)
            #expect(mine.targets.map(\.name) == ["c1.example", "c2.example"])
            await #expect(try store.countTargets(dueAt: nil) == 1)
            let theirs = try await store.claimTargets(afterID: 0, limit: 10, dueAt: nil, poller: "two", lease: 600)
            #expect(theirs.targets.map(\.name) == ["c3.example"])
            #expect(theirs.lease != nil && theirs.lease != mine.lease)
            let again = try await store.claimTargets(afterID: 0, limit: 10, dueAt: nil, poller: "one", lease: 600)
            #expect(again.targets.isEmpty, "not even to the same poller: a claim is a lease, not a name")
            await #expect(try store.pollers().isEmpty, "listed once they record a poll run")
            for name in ["two", "one"] { _ = try await store.beginPoll(at: 10, resolvers: "contract", poller: name) }
            await #expect(try store.pollers().map(\.claimed) == [2, 1], "the domains each claimed, run or not")
        }
    }
}
