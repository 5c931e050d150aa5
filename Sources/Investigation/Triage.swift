public import Classification
public import DNSWatchModel
public import HistoryStore

/// A domain of ours seen on the address (or sharing the queried domain's addresses).
public struct TriageDomain: Sendable, Equatable, Encodable {
    public var domain: String
    /// Lists the domain is or was on (a removed C&C domain is still C&C history).
    public var lists: [String]
    public var kinds: [String]
    /// Still watched on some list.
    public var watched: Bool
    /// The addresses in question this domain resolved to.
    public var addresses: [String]
    public var time_first: Int64
    public var time_last: Int64
    /// Resolves there now.
    public var current: Bool
    /// How the domain's answer was classified while it resolved there: the most telling class
    /// ("unknown" beats "parked": the domain was once on a real host there).
    @NullEncoded public var `class`: String?
    /// Who saw it there: `polled` (dnswatch's own polls) and the sources of imported records.
    public var sources: [String] = []
}

/// The answer to "is this IoC address just parking, and which of our domains are on it?"
public struct TriageReport: Sendable, Equatable {
    public enum Verdict: String, Sendable, Codable {
        case likelyFalsePositive = "likely-false-positive"
        case suspicious
        case maliciousHistory = "malicious-history"
        case unknown
    }

    public var query: String
    public var `class`: DomainClass
    public var provider: String?
    public var asn: Int?
    /// How many domains (other than the queried one) resolved into it: watched ones, and those of imported records.
    public var fanIn: Int
    public var domains: [TriageDomain]
    public var verdict: Verdict
    public var reason: String
}

/// Triage rules (docs/triage.md):
/// 1. sinkhole → suspicious: a host talking to a sinkhole is likely infected; the C&C itself was taken down.
/// 2. parked → likely-false-positive: parking infrastructure shared by many domains; check where the page redirects.
/// 3. a `c2`-list domain resolved into it while not parked, sinkholed or dormant → malicious-history.
/// 4. dormant (non-routable) or owned → likely-false-positive.
/// 5. several of our domains share it, none of them C&C → suspicious (shared hosting: judge by the domain the host asked for).
/// 6. otherwise unknown.
public struct Triage: Sendable {
    let store: HistoryStore
    let classifier: Classifier

    public init(store: HistoryStore, classifier: Classifier) {
        self.store = store
        self.classifier = classifier
    }

    /// Triage of an address.
    public func address(_ ip: IPAddress, asn: Int?) async throws -> TriageReport {
        let verdict = classifier.classify(address: ip, asn: asn)
        let hits = try await store.domains(resolvingInto: CIDR(network: ip, prefixLength: ip.bytes.count * 8))
        return try await report(query: ip.description, verdict: verdict, asn: asn, hits: hits)
    }

    /// Triage of a domain: its current state, its own history, and our other domains that shared any
    /// address it ever had. A domain without history gets class and verdict `unknown`.
    public func domain(_ name: DomainName, asnOf: (String) -> Int?) async throws -> TriageReport {
        let spans = try await store.history(domain: name.value)
        guard !spans.isEmpty else {
            return TriageReport(query: name.value, class: .unknown, provider: nil, asn: nil, fanIn: 0, domains: [],
                                verdict: .unknown, reason: "no history for \(name.value): watch and poll it, or triage one of its addresses")
        }
        // The current answers are dnswatch's own (imported records are never current); the addresses it
        // ever had include what other sensors saw.
        let current = Dictionary(grouping: spans.filter { $0.source == nil }, by: \.rrtype).compactMapValues { $0.last }
        let currentAddresses = [current[.a], current[.aaaa]].compactMap { $0 }.filter { $0.status == .noerror }.flatMap(\.rdata)
        let everAddresses = Set(spans.filter { ($0.rrtype == .a || $0.rrtype == .aaaa) && $0.status == .noerror }.flatMap(\.rdata))
        var hits: [AddressHit] = []
        for a in everAddresses.sorted() {
            guard let ip = IPAddress(a) else { continue }
            hits += try await store.domains(resolvingInto: CIDR(network: ip, prefixLength: ip.bytes.count * 8))
        }
        // The domain's state as the last poll derived it (none yet: its view was never complete).
        let state = try await store.state(of: name.value) ?? DomainState(class: .unknown)
        let verdict = Verdict(class: state.class, provider: state.provider, reason: "")
        let own = hits.filter { $0.domain == name.value }
        return try await report(query: name.value, verdict: verdict, asn: currentAddresses.lazy.compactMap(asnOf).first,
                          hits: hits.filter { $0.domain != name.value }, own: own)
    }

    /// - Parameter own: for a domain query, the domain's own address history (not counted in the fan-in,
    ///   but C&C history of its own outranks its current parking).
    private func report(query: String, verdict: Verdict, asn: Int?, hits: [AddressHit], own: [AddressHit] = []) async throws -> TriageReport {
        let memberships = try await store.memberships(of: Array(Set(hits.map(\.domain) + [query])))
        let ownKinds = Set((memberships[query] ?? []).map(\.kind))
        let ownLive = own.filter { $0.spanClass == .unknown }.map(\.address)
        var byDomain: [String: TriageDomain] = [:]
        var sources: [String: Set<String?>] = [:]
        for h in hits {
            sources[h.domain, default: []].insert(h.source)
            let m = memberships[h.domain] ?? []
            var d = byDomain[h.domain] ?? TriageDomain(
                domain: h.domain, lists: Array(Set(m.map(\.list))).sorted(), kinds: Array(Set(m.map(\.kind.rawValue))).sorted(),
                watched: m.contains { $0.retired == nil }, addresses: [], time_first: h.timeFirst, time_last: h.timeLast,
                current: false, class: nil)
            if !d.addresses.contains(h.address) { d.addresses = (d.addresses + [h.address]).sorted() }
            d.time_first = min(d.time_first, h.timeFirst)
            d.time_last = max(d.time_last, h.timeLast)
            d.current = d.current || h.current
            d.class = Triage.moreTelling(d.class, h.spanClass?.rawValue)
            byDomain[h.domain] = d
        }
        for (name, seen) in sources { byDomain[name]?.sources = SourceName.sorted(seen) }
        let domains = byDomain.values.sorted { ($0.current ? 0 : 1, $0.domain) < ($1.current ? 0 : 1, $1.domain) }
        let fanIn = domains.count
        let provider = verdict.provider
        let asText = asn.map { " (AS\($0))" } ?? ""
        let shared = fanIn == 1 ? "1 of our domains resolves into it" : "\(fanIn) of our domains share it"
        let c2Active = domains.filter {
            $0.kinds.contains(ListKind.c2.rawValue) && !["parked", "sinkhole", "dormant"].contains($0.class ?? "unknown")
        }
        let v: TriageReport.Verdict
        let reason: String
        switch verdict.class {
        case _ where ownKinds.contains(.c2) && !ownLive.isEmpty:
            v = .maliciousHistory
            let addrs = Array(Set(ownLive)).sorted().prefix(5).joined(separator: ", ")
            reason = "a C&C domain of ours, live on \(addrs) while not parked (now \(DomainState(class: verdict.class, provider: provider))); \(shared)"
        case .sinkhole:
            v = .suspicious
            reason = "sinkhole of \(provider ?? "a takedown operator")\(asText); \(shared); the C&C was taken down, but a host that talks to it is likely infected — investigate the host"
        case .parked:
            v = .likelyFalsePositive
            reason = "parking infrastructure of \(provider ?? "a parking service")\(asText); \(shared); an IoC match on this address alone is likely a false positive — check where the page redirects"
        case _ where !c2Active.isEmpty:
            v = .maliciousHistory
            let names = c2Active.prefix(5).map(\.domain).joined(separator: ", ")
            reason = "C&C domain\(c2Active.count == 1 ? "" : "s") \(names) resolved into it while not parked\(asText); \(shared)"
        case .dormant:
            v = .likelyFalsePositive
            reason = "non-routable address (\(verdict.reason)); an IoC match on it says nothing about a remote host"
        case .owned:
            v = .likelyFalsePositive
            reason = "your own infrastructure (\(verdict.reason)); \(shared)"
        default:
            if fanIn > 1 {
                v = .suspicious
                reason = "unclassified\(asText), shared by \(fanIn) of our domains (shared hosting?); judge by the domain the host asked for"
            } else {
                v = .unknown
                reason = fanIn == 0 ? "unclassified\(asText); none of our domains has resolved into it" : "unclassified\(asText); \(shared)"
            }
        }
        return TriageReport(query: query, class: verdict.class, provider: provider, asn: asn, fanIn: fanIn,
                            domains: domains, verdict: v, reason: reason)
    }

    /// Of two span classes, the one that says more about the address: a real host beats parking or quiet.
    static func moreTelling(_ a: String?, _ b: String?) -> String? {
        let rank = ["unknown": 4, "owned": 3, "sinkhole": 2, "parked": 1, "dormant": 0]
        guard let a else { return b }
        guard let b else { return a }
        return (rank[b] ?? 0) > (rank[a] ?? 0) ? b : a
    }
}
