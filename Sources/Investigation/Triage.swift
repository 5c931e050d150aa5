public import Classification
import Detection
import Foundation
public import DNSWatchModel
public import Store

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
    /// The warning lists that match the queried value (whatever they do).
    public var warninglists: [WarningListHit]?
}

/// Triage rules (docs/triage.md):
/// 1. sinkhole → suspicious: a host talking to a sinkhole is likely infected; the C&C itself was taken down.
/// 2. parked → likely-false-positive: parking infrastructure shared by many domains; check where the page redirects.
/// 3. a `c2`-list domain resolved into it while not parked, sinkholed or dormant → malicious-history.
/// 4. shared (a `shared` warning list: cloud, CDN, public resolver), dormant (non-routable) or owned →
///    likely-false-positive.
/// 5. several of our domains share it, none of them C&C → suspicious (shared hosting: judge by the domain the host asked for).
/// 6. otherwise unknown.
public struct Triage: Sendable {
    let store: any InvestigationReading
    let classifier: Classifier

    public init(store: any InvestigationReading, classifier: Classifier) {
        self.store = store
        self.classifier = classifier
    }

    /// Triage of an address.
    public func address(_ ip: IPAddress, asn: Int?, at: Int64? = nil, limit: Int? = nil) async throws -> TriageReport {
        let value = IndicatorValue.normalised(ip)
        let reads = try await Triage.reads(store, [value], at: at)
        return report(value, reads: reads, asnOf: { _ in asn }, at: at, limit: limit)
    }

    /// Triage of a domain: its current state, its own history, and our other domains that shared any
    /// address it ever had. A domain without history gets class and verdict `unknown`.
    public func domain(_ name: DomainName, asnOf: (String) -> Int?, at: Int64? = nil, limit: Int? = nil) async throws -> TriageReport {
        let reads = try await Triage.reads(store, [.domain(name)], at: at)
        return report(.domain(name), reads: reads, asnOf: asnOf, at: at, limit: limit)
    }

    /// What the triage of `values` reads: one read transaction for all of them.
    public static func reads(_ store: any InvestigationReading, _ values: [IndicatorValue], at: Int64?) async throws -> TriageReads {
        var blocks: [CIDR] = [], domains: [String] = []
        for v in values {
            switch v {
            case .address(let ip): blocks.append(CIDR(network: ip, prefixLength: ip.bytes.count * 8))
            case .block(let b): blocks.append(b)
            case .domain(let d): domains.append(d.value)
            }
        }
        return try await store.triageReads(blocks: blocks, domains: domains, at: at, now: Int64(Date().timeIntervalSince1970))
    }

    /// The addresses whose origin ASN a triage of `values` uses: the queried addresses and the addresses
    /// the queried domains had.
    public static func asnAddresses(_ values: [IndicatorValue], reads: TriageReads) -> [String] {
        var out: [String] = []
        for v in values {
            switch v {
            case .address(let ip): out.append(ip.description)
            case .block: break
            case .domain(let d):
                out += (reads.history[d.value] ?? []).filter { ($0.rrtype == .a || $0.rrtype == .aaaa) && $0.status == .noerror }.flatMap(\.rdata)
            }
        }
        return out
    }

    /// The triage of one value from what `reads` holds (read for it with the same `at`).
    ///
    /// - Parameters:
    ///   - at: judge as of this time (docs/triage.md): a domain's state is derived from its spans current
    ///     then; nil: now, a domain's state as the last poll stored it.
    ///   - limit: list at most this many domains (the fan-in and the verdict count all).
    public func report(_ value: IndicatorValue, reads: TriageReads, asnOf: (String) -> Int?, at: Int64?, limit: Int?) -> TriageReport {
        switch value {
        case .address(let ip):
            let hits = reads.sightings[CIDR(network: ip, prefixLength: ip.bytes.count * 8)] ?? []
            let asn = asnOf(ip.description)
            return report(query: ip.description, verdict: classifier.classify(address: ip, asn: asn), asn: asn, hits: hits,
                          memberships: reads.memberships, limit: limit)
        case .block(let block):
            return report(query: block.description, verdict: classifier.classify(block: block), asn: nil,
                          hits: reads.sightings[block] ?? [], memberships: reads.memberships, limit: limit)
        case .domain(let name):
            return domainReport(name, reads: reads, asnOf: asnOf, at: at, limit: limit)
        }
    }

    private func domainReport(_ name: DomainName, reads: TriageReads, asnOf: (String) -> Int?, at: Int64?, limit: Int?) -> TriageReport {
        let spans = reads.history[name.value] ?? []
        guard !spans.isEmpty else {
            let when = at.map { " as of \(TimeSpecParser.iso($0))" } ?? ""
            return TriageReport(query: name.value, class: .unknown, provider: nil, asn: nil, fanIn: 0, domains: [],
                                verdict: .unknown, reason: "no history for \(name.value)\(when): watch and poll it, or triage one of its addresses")
        }
        // Spans are oldest first: the last of each type is the current one (at `at`: the latest first seen by then).
        // The current answers are dnswatch's own (imported records are never current); the addresses it
        // ever had include what other sensors saw.
        let current = Dictionary(grouping: spans.filter { $0.source == nil }, by: \.rrtype).compactMapValues { $0.last }
        let currentAddresses = [current[.a], current[.aaaa]].compactMap { $0 }.filter { $0.status == .noerror }.flatMap(\.rdata)
        let everAddresses = Set(spans.filter { ($0.rrtype == .a || $0.rrtype == .aaaa) && $0.status == .noerror }.flatMap(\.rdata))
        let hits = everAddresses.sorted().flatMap { reads.sharing[$0] ?? [] }
        let state: DomainState
        if let at {
            state = stateAt(current: current, asnOf: asnOf, at: at)
        } else {
            // The domain's state as the last poll derived it (none yet: its view was never complete).
            state = reads.states[name.value] ?? DomainState(class: .unknown)
        }
        var verdict = Verdict(class: state.class, provider: state.provider, reason: "")
        if let lists = classifier.warningLists {
            let ids = lists.matches(name: name.value)
            verdict.warninglists = ids.isEmpty ? nil : lists.hits(ids)
        }
        let own = hits.filter { $0.domain == name.value }
        return report(query: name.value, verdict: verdict, asn: currentAddresses.lazy.compactMap(asnOf).first,
                      hits: hits.filter { $0.domain != name.value }, own: own, memberships: reads.memberships, limit: limit)
    }

    /// A domain's state from its spans current at a time, classified now, by the rule a poll derives it with
    /// (`DomainView.derive`).
    private func stateAt(current: [RRType: SpanRecord], asnOf: (String) -> Int?, at: Int64) -> DomainState {
        DomainView.derive(current: { current[$0].map { ($0.status, $0.rdata) } }, verdict: { type, value in
            classifier.classify(type, value: value, asn: asnOf(value))
        }).state
    }

    /// - Parameter own: for a domain query, the domain's own address history (not counted in the fan-in,
    ///   but C&C history of its own outranks its current parking).
    ///   THE verdict rule: every triage (one value, a feed, the server's) ends here.
    private func report(query: String, verdict: Verdict, asn: Int?, hits: [AddressHit], own: [AddressHit] = [],
                        memberships: [String: [WatchedDomain]], limit: Int?) -> TriageReport {
        let ownKinds = Set((memberships[query] ?? []).map(\.kind))
        let ownLive = own.filter { $0.spanClass?.isLiveHost == true }.map(\.address)
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
        var reason: String
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
        case .shared:
            v = .likelyFalsePositive
            reason = "shared infrastructure: \(provider ?? "a shared warning list")\(asText); many unrelated domains use it; \(shared); "
                + "an IoC match on this address alone is likely a false positive — judge by the domain the host asked for"
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
        if let hits = verdict.warninglists, !hits.isEmpty {
            reason += "; on warning list\(hits.count == 1 ? "" : "s") " + hits.map(\.name).joined(separator: ", ")
        }
        return TriageReport(query: query, class: verdict.class, provider: provider, asn: asn, fanIn: fanIn,
                            domains: limit.map { Array(domains.prefix(max(0, $0))) } ?? domains, verdict: v, reason: reason,
                            warninglists: verdict.warninglists)
    }

    /// Of two span classes, the one that says more about the address: a real host beats parking or quiet.
    static func moreTelling(_ a: String?, _ b: String?) -> String? {
        let rank = ["unknown": 5, "shared": 4, "owned": 3, "sinkhole": 2, "parked": 1, "dormant": 0]
        guard let a else { return b }
        guard let b else { return a }
        return (rank[b] ?? 0) > (rank[a] ?? 0) ? b : a
    }
}
