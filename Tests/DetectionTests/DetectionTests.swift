import DNSWatchModel
import Testing
@testable import Detection

let sedo = Verdict(class: .parked, provider: "Sedo", reason: "t")
let bodis = Verdict(class: .parked, provider: "Bodis", reason: "t")
let sink = Verdict(class: .sinkhole, provider: "Shadowserver", reason: "t")
let unknown = Verdict(class: .unknown, reason: "t")
let dormant = Verdict(class: .dormant, reason: "t")
let owned = Verdict(class: .owned, reason: "t")

func view(a: [(String, Verdict)] = [], aaaa: [(String, Verdict)] = [], ns: [(String, Verdict)] = [],
          status: AnswerStatus = .noerror, aaaaStatus: AnswerStatus? = nil) -> DomainView {
    DomainView(
        statuses: [.a: a.isEmpty && status == .noerror ? .nodata : status, .aaaa: aaaaStatus ?? (aaaa.isEmpty ? (status == .nxdomain ? .nxdomain : .nodata) : .noerror),
                   .ns: ns.isEmpty ? (status == .nxdomain ? .nxdomain : .nodata) : .noerror],
        addresses: (a + aaaa).map { ClassifiedValue(value: $0.0, verdict: $0.1) },
        nameServers: ns.map { ClassifiedValue(value: $0.0, verdict: $0.1) })
}

let nx = view(status: .nxdomain)
let parkedSedo = view(a: [("91.195.240.94", sedo)], ns: [("ns1.sedoparking.com", sedo), ("ns2.sedoparking.com", sedo)])
let live = view(a: [("45.0.121.77", unknown)], ns: [("ns1.host.example", unknown)])

@Suite struct StateTests {
    @Test func contractStateRules() {
        #expect(nx.state == DomainState(class: .nxdomain))
        #expect(parkedSedo.state == DomainState(class: .parked, provider: "Sedo"))
        // sinkhole wins over parking
        #expect(view(a: [("1.2.3.4", sink)], ns: [("ns1.sedoparking.com", sedo)]).state == DomainState(class: .sinkhole, provider: "Shadowserver"))
        // parking NS makes it parked whatever the address
        #expect(view(a: [("45.0.121.77", unknown)], ns: [("ns1.sedoparking.com", sedo)]).state.class == .parked)
        // every address parking, NS unknown
        #expect(view(a: [("91.195.240.94", sedo)], ns: [("ns1.x.example", unknown)]).state.class == .parked)
        // one address of two is parking: unknown
        #expect(view(a: [("91.195.240.94", sedo), ("45.0.121.77", unknown)]).state.class == .unknown)
        #expect(view(a: [("10.0.0.1", dormant), ("127.0.0.1", dormant)]).state.class == .dormant)
        #expect(view(a: [("198.51.100.1", owned)]).state.class == .owned)
        #expect(view(ns: [("ns1.x.example", unknown)]).state.class == .nodata)
        // NODATA in AAAA is ignored when A has addresses
        #expect(view(a: [("45.0.121.77", unknown)]).state.class == .unknown)
    }

    @Test func cnameToParkingIsParked() {
        let v = DomainView(statuses: [.a: .noerror], addresses: [ClassifiedValue(value: "45.0.121.77", verdict: unknown)],
                           nameServers: [], cnameTargets: [ClassifiedValue(value: "x.parkingcrew.net", verdict: bodis)])
        #expect(v.state == DomainState(class: .parked, provider: "Bodis"))
    }
}

@Suite struct TransitionTests {
    func type(_ from: DomainView?, _ to: DomainView, everSeen: Set<String> = []) -> AlertType? {
        TransitionDetector.detect(previous: from, current: to, everSeen: everSeen)?.type
    }

    @Test func baselineIsSilent() {
        #expect(type(nil, parkedSedo) == nil)
        #expect(type(nil, nx) == nil)
    }

    @Test func everyAlertType() {
        #expect(type(live, view(a: [("1.2.3.4", sink)])) == .sinkholed)
        #expect(type(nx, live) == .registered)
        #expect(type(nx, parkedSedo) == .registered)
        #expect(type(live, nx) == .unresolved)
        #expect(type(live, parkedSedo) == .parked)
        #expect(type(parkedSedo, view(a: [("91.195.240.94", bodis)], ns: [("ns1.bodis.com", bodis)])) == .parked)
        #expect(type(live, view(a: [("127.0.0.1", dormant)], ns: [("ns1.host.example", unknown)])) == .dormant)
        #expect(type(live, view(ns: [("ns1.host.example", unknown)])) == .dormant)
        let ownedView = view(a: [("198.51.100.1", owned)], ns: [("ns1.corp.example", unknown)])
        #expect(type(ownedView, live) == .moved)
        #expect(type(parkedSedo, live) == .activation)
        #expect(type(view(a: [("127.0.0.1", dormant)]), live) == .activation)
        let moved = view(a: [("45.0.121.99", unknown)], ns: [("ns1.host.example", unknown)])
        #expect(type(live, moved, everSeen: ["45.0.121.77"]) == .newIP)
        let nsMoved = view(a: [("45.0.121.77", unknown)], ns: [("ns9.other.example", unknown)])
        #expect(type(live, nsMoved, everSeen: ["45.0.121.77"]) == .nsChange)
        #expect(type(live, ownedView) == .changed)
    }

    @Test func movesInsideAProviderOrDormantAreNoTransition() {
        let otherSedo = view(a: [("91.195.241.7", sedo)], ns: [("ns1.sedoparking.com", sedo), ("ns2.sedoparking.com", sedo)])
        #expect(type(parkedSedo, otherSedo) == nil)
        #expect(type(view(a: [("127.0.0.1", dormant)]), view(a: [("10.0.0.1", dormant)])) == nil)
        // an address seen before is not new-ip
        let back = view(a: [("45.0.121.77", unknown)], ns: [("ns1.host.example", unknown)])
        #expect(type(view(a: [("45.0.121.99", unknown)], ns: [("ns1.host.example", unknown)]), back, everSeen: ["45.0.121.77"]) == nil)
    }

    @Test func transitionCarriesDetails() async throws {
        let to = view(a: [("45.0.121.77", unknown)], ns: [("ns1.bulletproof.example", unknown)])
        let t = try #require(TransitionDetector.detect(previous: parkedSedo, current: to, everSeen: ["91.195.240.94"]))
        #expect(t.type == .activation)
        #expect(t.newAddresses == ["45.0.121.77"])
        #expect(t.nsChanged)
        #expect(t.rrtype == .a)
        #expect(t.details.contains { $0.hasPrefix("NS set") })
    }
}

@Suite struct SeverityTests {
    @Test func contractMinimums() {
        #expect(Severity.of(.activation, kind: .c2, to: .unknown) == .critical)
        #expect(Severity.of(.registered, kind: .c2, to: .unknown) == .critical)
        #expect(Severity.of(.newIP, kind: .c2, to: .unknown) == .high)
        #expect(Severity.of(.moved, kind: .owned, to: .unknown) == .critical)
        for t in [AlertType.parked, .sinkholed, .unresolved, .nsChange] {
            #expect(Severity.of(t, kind: .owned, to: .parked) >= .high)
        }
        for to in DomainClass.allCases {
            #expect(Severity.of(.registered, kind: .expired, to: to) >= .high)
        }
        #expect(Severity.of(.activation, kind: .expired, to: .unknown) >= .high)
    }
}
