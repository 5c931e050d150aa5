import DNSWatchModel
import Testing
@testable import Detection

let aws = Verdict(class: .shared, provider: "amazon-aws", reason: "t")
let cloudflare = Verdict(class: .shared, provider: "cloudflare", reason: "t")

/// The class `shared` (a `shared` MISP warning list: cloud, CDN, public resolvers) in state and detection.
@Suite struct SharedClassTests {
    @Test func stateIsSharedOnlyWhenEveryAddressIs() {
        #expect(view(a: [("3.5.140.2", aws)], ns: [("ns1.x.example", unknown)]).state == DomainState(class: .shared, provider: "amazon-aws"))
        #expect(view(a: [("3.5.140.2", aws), ("45.0.121.77", unknown)]).state.class == .unknown)
        // The NS side never makes a domain shared; dormant and parked come first.
        #expect(view(a: [("45.0.121.77", unknown)], ns: [("dns.google", aws)]).state.class == .unknown)
        #expect(view(ns: [("dns.google", aws)]).state.class == .nodata)
        #expect(view(a: [("3.5.140.2", aws)], ns: [("ns1.sedoparking.com", sedo)]).state.class == .parked)
        #expect(SpanClassifier.combine(status: .noerror, verdicts: [aws, aws]) == DomainState(class: .shared, provider: "amazon-aws"))
        #expect(SpanClassifier.combine(status: .noerror, verdicts: [aws, unknown]).class == .unknown)
    }

    @Test func transitions() throws {
        let onAWS = view(a: [("3.5.140.2", aws)], ns: [("ns1.x.example", unknown)])
        // parked → shared is an activation, critical for a C&C list.
        let t = try #require(TransitionDetector.detect(previous: parkedSedo, current: onAWS, everSeen: ["91.195.240.94"]))
        #expect(t.type == .activation && t.to.state.class == .shared)
        #expect(Severity.of(.activation, kind: .c2, to: .shared) == .critical)
        // Inside one shared list, a new address is history only.
        let moved = view(a: [("3.5.141.9", aws)], ns: [("ns1.x.example", unknown)])
        #expect(TransitionDetector.detect(previous: onAWS, current: moved, everSeen: ["3.5.140.2"]) == nil)
        // unknown ↔ shared with an address never seen before: new-ip.
        let u = view(a: [("45.0.121.77", unknown)], ns: [("ns1.x.example", unknown)])
        #expect(TransitionDetector.detect(previous: u, current: onAWS, everSeen: ["45.0.121.77"])?.type == .newIP)
        #expect(TransitionDetector.detect(previous: onAWS, current: u, everSeen: ["3.5.140.2"])?.type == .newIP)
        // Back to an address it had: a change of state, not new-ip.
        #expect(TransitionDetector.detect(previous: onAWS, current: u, everSeen: ["3.5.140.2", "45.0.121.77"])?.type == .changed)
        // One shared list to another with a new address: new-ip.
        let onCF = view(a: [("104.16.1.1", cloudflare)], ns: [("ns1.x.example", unknown)])
        #expect(TransitionDetector.detect(previous: onAWS, current: onCF, everSeen: ["3.5.140.2"])?.type == .newIP)
        // nxdomain → shared is a registration to a live host.
        #expect(TransitionDetector.detect(previous: nx, current: onAWS, everSeen: [])?.type == .registered)
        #expect(Severity.of(.registered, kind: .c2, to: .shared) == .critical)
        #expect(Severity.of(.registered, kind: .expired, to: .shared) == .critical)
        // shared → parked is parked.
        #expect(TransitionDetector.detect(previous: onAWS, current: parkedSedo, everSeen: ["3.5.140.2"])?.type == .parked)
    }
}
