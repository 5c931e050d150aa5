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

/// The class a triage reports: the value's class (`DomainClass`: a fingerprint's, a list's, a domain's state),
/// or `unseen`, a domain no record shows resolving (none at all, or none that held at the time asked) and
/// that no fingerprint or warning list classifies. `unseen` is triage's own and never stored: it is not a
/// `DomainClass`, so no state, span or alert can hold it.
public enum TriageClass: Sendable, Hashable, CustomStringConvertible {
    case known(DomainClass)
    case unseen

    /// The name in `triage` output: the class's raw value, or `unseen`.
    public var rawValue: String {
        switch self {
        case .known(let c): c.rawValue
        case .unseen: "unseen"
        }
    }

    public var description: String { rawValue }
}

/// The answer to "is this IoC address just parking, and which of our domains are on it?"
public struct TriageReport: Sendable, Equatable {
    public enum Verdict: String, Sendable, Codable, CaseIterable {
        case likelyFalsePositive = "likely-false-positive"
        case suspicious
        case maliciousHistory = "malicious-history"
        /// A live host that nothing classifies.
        case unknown
        /// Nothing was ever seen of the value (as of the time asked) and nothing classifies it.
        case noHistory = "no-history"
    }

    public var query: String
    public var `class`: TriageClass
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

/// Triage rules (docs/triage.md, "Triage verdicts"), the first that applies:
/// 1. the queried domain is on a `c2` list (now or once) and was live (an address span of class unknown or
///    shared) → malicious-history;
/// 2. the queried domain is on a `c2` list and was never live → suspicious: a host that asks for a C&C name is
///    likely infected, even while the name is parked (never likely-false-positive);
/// 3. no polled or imported record (as of `--at`) and no fingerprint or list class → no-history (a domain's
///    class `unseen`);
/// 4. sinkhole → suspicious: a host talking to a sinkhole is likely infected; the C&C itself was taken down;
/// 5. parked → likely-false-positive: parking infrastructure shared by many domains; check where the page redirects;
/// 6. a `c2`-list domain of the fan-in resolved into it while not parked, sinkholed or dormant → malicious-history;
/// 7. shared (a `shared` warning list: cloud, CDN, public resolver), dormant (non-routable) or owned →
///    likely-false-positive;
/// 8. several of our domains share it, none of them C&C → suspicious (shared hosting: judge by the domain the host asked for);
/// 9. a domain no record held at the time asked (class `unseen`) → no-history;
/// 10. otherwise unknown (a live host that nothing classifies).
///
/// A domain's fan-in counts only the domains that shared an address with it that is not parked, sinkhole,
/// shared or dormant (classified now): the other customers of its parking provider are no evidence.
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

    /// Triage of a domain: its state, its own history, and our other domains that shared a live address it
    /// had. A domain without history gets class `unseen` and verdict `no-history` (unless a fingerprint or
    /// list classifies its name, or it is on a `c2` list).
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
            let verdict = classifier.classify(address: ip, asn: asn)
            return report(query: ip.description, subject: .address, class: .known(verdict.class), verdict: verdict, asn: asn, hits: hits,
                          seen: !hits.isEmpty, memberships: reads.memberships, at: at, limit: limit)
        case .block(let block):
            let hits = reads.sightings[block] ?? []
            let verdict = classifier.classify(block: block)
            return report(query: block.description, subject: .prefix, class: .known(verdict.class), verdict: verdict, asn: nil,
                          hits: hits, seen: !hits.isEmpty, memberships: reads.memberships, at: at, limit: limit)
        case .domain(let name):
            return domainReport(name, reads: reads, asnOf: asnOf, at: at, limit: limit)
        }
    }

    /// The classes of an address that are no evidence that two domains on it are related (a domain's fan-in
    /// skips them): parking, sinkholes, shared infrastructure and non-routable addresses.
    static let unrelating: Set<DomainClass> = [.parked, .sinkhole, .shared, .dormant]

    private func domainReport(_ name: DomainName, reads: TriageReads, asnOf: (String) -> Int?, at: Int64?, limit: Int?) -> TriageReport {
        let spans = reads.history[name.value] ?? []
        // Spans are oldest first: the last polled one of each type is the current one (at `at`: the latest first
        // seen by then). Imported records are never current; a domain dnswatch never polled (by `at`) is judged
        // by the imported answers that held then.
        let polled = Dictionary(grouping: spans.filter { $0.source == nil }, by: \.rrtype).compactMapValues { $0.last }
            .mapValues { (status: $0.status, rdata: $0.rdata) }
        let imported = spans.filter { $0.source != nil }
        let held = Triage.held(imported, at: at)
        var state: DomainState?, current: [RRType: (status: AnswerStatus, rdata: [String])] = polled, note = ""
        if at == nil, let stored = reads.states[name.value] {
            state = stored  // the state as the last poll derived it
        } else if !polled.isEmpty {
            state = derive(polled, asnOf: asnOf)
        } else if !held.isEmpty {
            current = held
            // Imported records are answers other sensors saw, never the lack of one: no address among them is no NODATA.
            let derived = derive(held, asnOf: asnOf)
            state = derived.class == .nodata ? nil : derived
            let sources = SourceName.sorted(Set(imported.map(\.source))).joined(separator: ", ")
            note = "; never polled: its class is from other sensors' records (\(sources))"
        }
        let currentAddresses = [current[.a], current[.aaaa]].compactMap { $0 }.filter { $0.status == .noerror }.flatMap(\.rdata)
        let everAddresses = Set(spans.filter { ($0.rrtype == .a || $0.rrtype == .aaaa) && $0.status == .noerror }.flatMap(\.rdata)).sorted()
        let related = everAddresses.filter { address in
            guard let ip = IPAddress(address) else { return false }
            return !Triage.unrelating.contains(classifier.classify(address: ip, asn: asnOf(address)).class)
        }
        let hits = related.flatMap { reads.sharing[$0] ?? [] }.filter { $0.domain != name.value }
        let own = everAddresses.flatMap { reads.sharing[$0] ?? [] }.filter { $0.domain == name.value }
        let cls: TriageClass
        var verdict: Verdict
        if let state {
            cls = .known(state.class)
            verdict = Verdict(class: state.class, provider: state.provider, reason: "")
        } else if spans.isEmpty, case let byName = classifier.classify(value: name.value, asn: nil), byName.class != .unknown {
            // Never seen, but its name is infrastructure a fingerprint or a warning list names (a parking name server...).
            cls = .known(byName.class)
            verdict = Verdict(class: byName.class, provider: byName.provider, reason: byName.reason)
            note = "; by its name: \(byName.reason)"
        } else {
            cls = .unseen
            verdict = Verdict(class: .unknown, reason: "")
        }
        if let lists = classifier.warningLists {
            let ids = lists.matches(name: name.value)
            verdict.warninglists = ids.isEmpty ? nil : lists.hits(ids)
        }
        var report = report(query: name.value, subject: .domain, class: cls, verdict: verdict, asn: currentAddresses.lazy.compactMap(asnOf).first,
                            hits: hits, own: own, seen: !spans.isEmpty, memberships: reads.memberships, at: at, limit: limit)
        report.reason += note
        return report
    }

    /// A domain's state from the answers current for it, classified now, by the rule a poll derives it with
    /// (`DomainView.derive`).
    private func derive(_ current: [RRType: (status: AnswerStatus, rdata: [String])], asnOf: (String) -> Int?) -> DomainState {
        DomainView.derive(current: { current[$0] }, verdict: { type, value in
            classifier.classify(type, value: value, asn: asnOf(value))
        }).state
    }

    /// The answers of imported records that held at `at` (first seen at or before it and last seen at or after
    /// it), per type, the values of every source together; without `at`, those that held when the type was
    /// last seen. A type none held then is absent.
    static func held(_ imported: [SpanRecord], at: Int64?) -> [RRType: (status: AnswerStatus, rdata: [String])] {
        var out: [RRType: (status: AnswerStatus, rdata: [String])] = [:]
        for (type, spans) in Dictionary(grouping: imported.filter { $0.status == .noerror }, by: \.rrtype) {
            guard let time = at ?? spans.map(\.timeLast).max() else { continue }
            let values = Set(spans.filter { $0.timeFirst <= time && time <= $0.timeLast }.flatMap(\.rdata))
            if !values.isEmpty { out[type] = (.noerror, values.sorted()) }
        }
        return out
    }

    /// What was queried, for the wording of a reason.
    enum Subject: String {
        case address, prefix, domain
    }

    /// - Parameters:
    ///   - own: for a domain query, the domain's own address history (not counted in the fan-in, but C&C
    ///     history of its own outranks its current parking).
    ///   - seen: whether any record (polled or imported, by `at`) holds the value: a sighting of the address or
    ///     prefix, a span of the domain.
    ///   THE verdict rule: every triage (one value, a feed, the server's) ends here.
    private func report(query: String, subject: Subject, class cls: TriageClass, verdict: Verdict, asn: Int?, hits: [AddressHit],
                        own: [AddressHit] = [], seen: Bool, memberships: [String: [WatchedDomain]], at: Int64?, limit: Int?) -> TriageReport {
        let ownC2 = Array(Set((memberships[query] ?? []).filter { $0.kind == .c2 }.map(\.list))).sorted()
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
        let when = at.map { " as of \(TimeSpecParser.iso($0))" } ?? ""
        let shared = fanIn == 1 ? "1 of our domains resolves into it" : "\(fanIn) of our domains share it"
        let c2Active = domains.filter {
            $0.kinds.contains(ListKind.c2.rawValue) && !["parked", "sinkhole", "dormant"].contains($0.class ?? "unknown")
        }
        let known: DomainClass? = if case .known(let c) = cls { c } else { nil }
        let now = known.map { "now \(DomainState(class: $0, provider: provider))" } ?? (seen ? "no record holds it\(when)" : "no record of it")
        let v: TriageReport.Verdict
        var reason: String
        switch known {
        case _ where !ownC2.isEmpty && !ownLive.isEmpty:
            v = .maliciousHistory
            let addrs = Array(Set(ownLive)).sorted().prefix(5).joined(separator: ", ")
            reason = "a C&C domain of ours, live on \(addrs) while not parked (\(now)); \(shared)"
        case _ where !ownC2.isEmpty:
            v = .suspicious
            reason = "a C&C name (list\(ownC2.count == 1 ? "" : "s") \(ownC2.joined(separator: ", "))), never live\(when) (\(now)): "
                + "a host that asks for it is likely infected, even while it is parked; \(shared)"
        case _ where !seen && (known == nil || known == .unknown):
            v = .noHistory
            switch subject {
            case .domain:
                reason = "no record of \(query)\(when): never polled nor imported, and no fingerprint or warning list classifies it; "
                    + "watch and poll it, or triage one of its addresses"
            case .address, .prefix:
                reason = "no record of \(query)\(when)\(asText): none of our domains and no imported record has resolved into it, "
                    + "and no fingerprint or warning list classifies it"
            }
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
            reason = subject == .domain
                ? "resolves only to non-routable addresses; an IoC match on it says nothing about a remote host"
                : "non-routable address (\(verdict.reason)); an IoC match on it says nothing about a remote host"
        case .owned:
            v = .likelyFalsePositive
            reason = subject == .domain && verdict.reason.isEmpty
                ? "your own infrastructure (every address owned); \(shared)" : "your own infrastructure (\(verdict.reason)); \(shared)"
        default:
            if fanIn > 1 {
                v = .suspicious
                reason = "unclassified\(asText), shared by \(fanIn) of our domains (shared hosting?); judge by the domain the host asked for"
            } else if known == nil {
                v = .noHistory
                reason = "no record of \(query) held\(when); \(shared)"
            } else {
                v = .unknown
                let what = known.map { $0 == .unknown ? "unclassified" : $0.rawValue } ?? "unclassified"
                reason = fanIn == 0
                    ? (subject == .domain ? "\(what)\(asText); no other domain of ours shared a live address with it"
                                          : "\(what)\(asText); none of our domains has resolved into it")
                    : "\(what)\(asText); \(shared)"
            }
        }
        if let hits = verdict.warninglists, !hits.isEmpty {
            reason += "; on warning list\(hits.count == 1 ? "" : "s") " + hits.map(\.name).joined(separator: ", ")
        }
        return TriageReport(query: query, class: cls, provider: provider, asn: asn, fanIn: fanIn,
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
