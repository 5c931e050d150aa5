import DNSWatchModel
import Testing
import Detection

/// `DomainView.derive`: the one rule that makes a domain's view (a poll's and triage's as of a time).
@Suite struct ViewDerivationTests {
    /// A verdict that says which type's classifier judged the value.
    static func judged(_ type: RRType, _ value: String) -> Verdict {
        switch type {
        case .ns: Verdict(class: .parked, provider: "Sedo", reason: "ns \(value)")
        case .cname: Verdict(class: .parked, provider: "Bodis", reason: "cname \(value)")
        default: Verdict(class: .unknown, reason: "\(type.rawValue) \(value)")
        }
    }

    @Test func valuesGoWhereTheirTypeSaysJudgedByTheirType() {
        let current: [RRType: (status: AnswerStatus, rdata: [String])] = [
            .a: (.noerror, ["192.0.2.2", "192.0.2.1"]), .aaaa: (.noerror, ["2001:db8::1"]),
            .ns: (.noerror, ["ns2.example", "ns1.example"]), .cname: (.noerror, ["b.example", "a.example"]),
        ]
        let v = DomainView.derive(current: { current[$0] }, verdict: Self.judged)
        #expect(v.statuses == ["A": .noerror, "AAAA": .noerror, "NS": .noerror, "CNAME": .noerror])
        #expect(v.addresses.map(\.value) == ["192.0.2.1", "192.0.2.2", "2001:db8::1"])
        #expect(v.addresses.map(\.verdict.reason) == ["A 192.0.2.1", "A 192.0.2.2", "AAAA 2001:db8::1"])
        #expect(v.nameServers.map(\.verdict.reason) == ["ns ns1.example", "ns ns2.example"])
        // CNAME targets keep the chain's order.
        #expect(v.cnameTargets.map(\.verdict.reason) == ["cname b.example", "cname a.example"])
        // The rule of state applies: every name server parking.
        #expect(v.state == DomainState(class: .parked, provider: "Sedo"))
    }

    @Test func onlyANoerrorAnswerGivesValuesAndTXTNeverCounts() {
        var asked: [String] = []
        let current: [RRType: (status: AnswerStatus, rdata: [String])] = [
            .a: (.nxdomain, ["192.0.2.9"]), .aaaa: (.nodata, []), .txt: (.noerror, ["v=spf1"]),
        ]
        let v = DomainView.derive(current: { current[$0] }, verdict: { t, value in
            asked.append("\(t.rawValue) \(value)")
            return Self.judged(t, value)
        })
        // No NS answer: no NS status; TXT is no part of a view.
        #expect(v.statuses == ["A": .nxdomain, "AAAA": .nodata])
        #expect(v.addresses.isEmpty && v.nameServers.isEmpty && v.cnameTargets.isEmpty)
        #expect(asked.isEmpty)
        #expect(v.state == DomainState(class: .nxdomain))
    }

    @Test func aFailedTypeKeepsItsLastKnownAnswer() {
        // The poll's use: this poll's answers, and for a type whose lookup failed, its head.
        let heads: [RRType: (status: AnswerStatus, rdata: [String])] = [
            .a: (.noerror, ["192.0.2.1"]), .aaaa: (.nodata, []), .ns: (.noerror, ["ns1.example"]),
        ]
        let answers: [RRType: (status: AnswerStatus, rdata: [String])] = [.a: (.noerror, ["192.0.2.7"]), .aaaa: (.nodata, [])]
        let before = DomainView.derive(current: { heads[$0] }, verdict: Self.judged)
        let after = DomainView.derive(current: { answers[$0] ?? heads[$0] }, verdict: Self.judged)
        #expect(before.addressSet == ["192.0.2.1"])
        #expect(after.addressSet == ["192.0.2.7"])
        #expect(after.nameServerSet == ["ns1.example"])
        #expect(after.status(.ns) == .noerror)
        #expect(after.state == before.state)
    }

    @Test func nothingCurrentIsAnEmptyView() {
        let v = DomainView.derive(current: { _ in nil }, verdict: Self.judged)
        #expect(v == DomainView(statuses: [:], addresses: [], nameServers: []))
        #expect(v.state == DomainState(class: .nodata))
    }
}
