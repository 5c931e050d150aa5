public import DNSWatchModel
import Foundation

/// Classifies one address, name server or CNAME target against the fingerprints and the user's own
/// infrastructure. Pure and cheap: lookups are hash probes, not scans of the fingerprint list.
///
/// Precedence for an address: sinkhole/seizure (address, then origin ASN) > owned > dormant (special-purpose
/// ranges) > parking address (longest prefix) > parking origin ASN > unknown. A fingerprint match on an address
/// in a shared cloud range (``SharedCloud``) is weak: the verdict stays `unknown`, with `weakProvider` and
/// `subtype` naming the match, and the reason starting "weak ... match (shared cloud ...)"; whether it counts
/// is decided per domain from its name servers and CNAME (Detection).
///
/// For a name server: sinkhole/seizure > owned > parking (the most specific pattern among parking,
/// marketplace, placeholder and registrar-default; ties go to the later entry) > unknown. A registrar-default
/// match is `unknown` with `subtype` "regdefault" and the registrar as `provider`.
public struct Classifier: Sendable {
    public let fingerprints: FingerprintSet
    public let owned: OwnedInfrastructure
    /// MISP warning lists (`--warninglists`), if any were given.
    public let warningLists: WarningLists?
    /// Names what derived classes depend on (``version(fingerprints:owned:warningLists:)``): stored with every
    /// derived class, so a change is noticed and re-derived. Computed once: a reclassification asks per span.
    public let version: String

    private let ns: NameIndex
    private let cname: NameIndex
    private let ownedNS: NameIndex
    private let ownedPatterns: [NamePattern]
    private let addresses: RangeTable<Int>
    private let ownedRanges: RangeTable<CIDR>
    private let asns: [Int: [Int]]

    public init(fingerprints: FingerprintSet, owned: OwnedInfrastructure = .init(), warningLists: WarningLists? = nil) {
        self.fingerprints = fingerprints
        self.owned = owned
        self.warningLists = warningLists
        version = Classifier.version(fingerprints: fingerprints, owned: owned, warningLists: warningLists)
        var ns = NameIndex(), cname = NameIndex(), addresses = RangeTable<Int>(), asns: [Int: [Int]] = [:]
        for (id, (entry, value)) in zip(fingerprints.entries, fingerprints.compiled).enumerated() {
            switch value {
            case .name(let p): entry.kind == .cname ? cname.insert(p, id: id) : ns.insert(p, id: id)
            case .range(let c): addresses.insert(c, id)
            case .asn(let n): asns[n, default: []].append(id)
            }
        }
        var ownedNS = NameIndex(), patterns: [NamePattern] = []
        for text in owned.nameServers {
            if case .success(let p) = NamePattern.parse(text) {
                ownedNS.insert(p, id: patterns.count)
                patterns.append(p)
            }
        }
        var ownedRanges = RangeTable<CIDR>()
        for c in owned.cidrs { ownedRanges.insert(c, c) }
        (self.ns, self.cname, self.addresses, self.asns) = (ns, cname, addresses, asns)
        (self.ownedNS, self.ownedPatterns, self.ownedRanges) = (ownedNS, patterns, ownedRanges)
    }

    // MARK: addresses

    /// Classifies an address; `asn` is its origin AS if known (see ``OriginASN``).
    public func classify(address: IPAddress, asn: Int?) -> Verdict {
        if let v4 = Classifier.embeddedIPv4(address) {
            var v = classify(address: v4.address, asn: asn)
            v.reason = "\(address) is \(v4.kind) \(v4.address): " + v.reason
            return v
        }
        let listed = warningLists?.matches(address: address) ?? []
        return annotated(classifyUnannotated(address: address, asn: asn, listed: listed), listed: listed)
    }

    /// The precedence of one value: sinkhole > owned > dormant > parked > shared > unknown.
    private func classifyUnannotated(address: IPAddress, asn: Int?, listed: [Int]) -> Verdict {
        let matches = addresses.matches(address)
        let shared = sharedRange(address, listed: listed)
        var weak: Verdict?

        if let hit = best(matches, where: \.isTakedown) {
            let v = verdict(for: hit, subject: "\(address)")
            if let shared { weak = weaken(v, fingerprint: fingerprints.entries[hit], shared: shared) } else { return v }
        }
        if let asn, let id = asns[asn]?.last(where: { fingerprints.entries[$0].category.isTakedown }) {
            return verdict(for: id, subject: "origin AS\(asn)")
        }
        if let v = listVerdict(listed, .sinkhole, subject: "\(address)", shared: shared) {
            if shared == nil { return v }
            weak = weak ?? v
        }
        if let block = ownedRanges.matches(address).first?.payload {
            return Verdict(class: .owned, reason: "\(address) is in owned range \(block) (user configuration)")
        }
        if let block = SpecialPurpose.block(containing: address) {
            return Verdict(class: .dormant, reason: "\(address) is in \(block.cidr) (\(block.name), \(block.reference))")
        }
        if let hit = best(matches, where: \.isParked) {
            let v = verdict(for: hit, subject: "\(address)")
            if let shared {
                weak = weak ?? weaken(v, fingerprint: fingerprints.entries[hit], shared: shared)
            } else {
                return v
            }
        }
        if let asn, let id = asns[asn]?.last(where: { fingerprints.entries[$0].category.isParked }) {
            return verdict(for: id, subject: "origin AS\(asn)")
        }
        if let v = listVerdict(listed, .parking, subject: "\(address)", shared: shared,
                               provider: best(matches, where: \.isParked).map { fingerprints.entries[$0].provider }) {
            if shared == nil { return v }
            weak = weak ?? v
        }
        if let v = sharedListVerdict(listed, subject: "\(address)", weak: weak) { return v }
        return weak ?? Verdict(class: .unknown, reason: "no fingerprint matched \(address)" + (asn.map { " (AS\($0))" } ?? ""))
    }

    /// The shared range an address is in: the built-in cloud ranges (``SharedCloud``), or a `shared` warning list.
    private func sharedRange(_ address: IPAddress, listed: [Int]) -> SharedCloud.Range? {
        if let r = SharedCloud.range(containing: address) { return r }
        guard let lists = warningLists, let id = listed.first(where: { lists.action(ofList: $0) == .shared }) else { return nil }
        return SharedCloud.Range(cidr: CIDR(network: address, prefixLength: address.bytes.count * 8),
                                 operatorName: "warning list \(lists.lists[id].name)")
    }

    /// The verdict of a `sinkhole` or `parking` warning list that holds the value; inside a shared range it
    /// is weak, as a fingerprint there is (``weaken(_:fingerprint:shared:)``).
    private func listVerdict(_ listed: [Int], _ action: WarningListAction, subject: String, shared: SharedCloud.Range?,
                             provider: String? = nil) -> Verdict? {
        guard let lists = warningLists, let id = listed.first(where: { lists.action(ofList: $0) == action }) else { return nil }
        let info = lists.lists[id]
        let cls: DomainClass = action == .sinkhole ? .sinkhole : .parked
        let reason = "\(subject) is on warning list \(info.name) (\(info.description), version \(info.version))"
        let evidence = Self.evidence(list: info)
        guard let shared else {
            return Verdict(class: cls, provider: provider ?? info.name, reason: reason, subtype: "warninglist", evidence: evidence)
        }
        return Verdict(class: .unknown,
                       reason: "weak \(action == .sinkhole ? "sinkhole" : "parking") match (shared cloud \(shared.cidr), \(shared.operatorName)): "
                           + "\(reason); counts only if the name servers or a CNAME agree",
                       subtype: "warninglist", weakProvider: provider ?? info.name, evidence: evidence)
    }

    /// The longest-prefix match among entries of the wanted categories; for equal prefixes the later entry.
    private func best(_ matches: [(prefixLength: Int, payload: Int)], where wanted: (FingerprintCategory) -> Bool) -> Int? {
        var found: (len: Int, id: Int)?
        for m in matches where wanted(fingerprints.entries[m.payload].category) {
            if let f = found {
                if f.len > m.prefixLength { break }
                if m.payload > f.id { found = (m.prefixLength, m.payload) }
            } else {
                found = (m.prefixLength, m.payload)
            }
        }
        return found?.id
    }

    private func weaken(_ strong: Verdict, fingerprint fp: Fingerprint, shared: SharedCloud.Range) -> Verdict {
        let what = fp.category.isTakedown ? "sinkhole" : "parking"
        return Verdict(
            class: .unknown,
            reason: "weak \(what) match (shared cloud \(shared.cidr), \(shared.operatorName)): \(strong.reason); "
                + "counts only if the name servers or a CNAME agree",
            subtype: fp.category.rawValue,
            weakProvider: fp.provider,
            evidence: strong.evidence
        )
    }

    /// IPv4-mapped (::ffff:0:0/96) and NAT64 (64:ff9b::/96) addresses carry an IPv4 address.
    private static func embeddedIPv4(_ a: IPAddress) -> (address: IPAddress, kind: String)? {
        guard !a.isIPv4 else { return nil }
        let b = a.bytes
        if b[0..<10].allSatisfy({ $0 == 0 }), b[10] == 0xff, b[11] == 0xff, let v4 = IPAddress(bytes: Array(b[12...])) {
            return (v4, "IPv4-mapped")
        }
        if b[0..<12] == [0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0], let v4 = IPAddress(bytes: Array(b[12...])) {
            return (v4, "NAT64 (RFC 6052) for")
        }
        return nil
    }

    // MARK: names

    /// Classifies a name-server name (case-insensitive, trailing dot optional).
    public func classify(nameServer: String) -> Verdict {
        let name = normalizedName(nameServer)
        let listed = warningLists?.matches(name: name) ?? []
        return annotated(classifyUnannotated(nameServer: name, listed: listed), listed: listed)
    }

    private func classifyUnannotated(nameServer name: String, listed: [Int]) -> Verdict {
        let matches = ns.matches(name)
        if let id = bestName(matches, where: \.isTakedown) { return verdict(for: id, subject: name) }
        if let v = listVerdict(listed, .sinkhole, subject: name, shared: nil) { return v }
        if let m = ownedNS.matches(name).max(by: { $0.specificity < $1.specificity }) {
            return Verdict(class: .owned, reason: "\(name) matches owned name servers \(ownedPatterns[m.id].text) (user configuration)")
        }
        // The most specific of parking and registrar-default patterns; a parking list outranks a registrar default.
        let named = bestName(matches, where: { $0.isParked || $0 == .regdefault }).map { verdict(for: $0, subject: name) }
        if let named, named.class == .parked { return named }
        if let v = listVerdict(listed, .parking, subject: name, shared: nil) { return v }
        if let named { return named }
        return sharedListVerdict(listed, subject: name) ?? Verdict(class: .unknown, reason: "no fingerprint matched \(name)")
    }

    /// Classifies a CNAME target (case-insensitive, trailing dot optional).
    public func classify(cnameTarget: String) -> Verdict {
        let name = normalizedName(cnameTarget)
        let listed = warningLists?.matches(name: name) ?? []
        let matches = cname.matches(name)
        let v: Verdict
        if let id = bestName(matches, where: \.isTakedown) {
            v = verdict(for: id, subject: name)
        } else if let s = listVerdict(listed, .sinkhole, subject: name, shared: nil) {
            v = s
        } else if let id = bestName(matches, where: \.isParked) {
            v = verdict(for: id, subject: name)
        } else {
            v = listVerdict(listed, .parking, subject: name, shared: nil) ?? sharedListVerdict(listed, subject: name)
                ?? Verdict(class: .unknown, reason: "no fingerprint matched \(name)")
        }
        return annotated(v, listed: listed)
    }

    /// The verdict of a `shared` warning list that holds the value; a weak parking or sinkhole match there is
    /// kept in it (reason, subtype, weakProvider).
    private func sharedListVerdict(_ listed: [Int], subject: String, weak: Verdict? = nil) -> Verdict? {
        guard let lists = warningLists, let id = listed.first(where: { lists.action(ofList: $0) == .shared }) else { return nil }
        let info = lists.lists[id]
        var v = Verdict(class: .shared, provider: info.name,
                        reason: "\(subject) is on warning list \(info.name) (\(info.description), version \(info.version)): shared infrastructure",
                        evidence: Self.evidence(list: info))
        if let weak {
            v.reason += "; " + weak.reason
            v.subtype = weak.subtype
            v.weakProvider = weak.weakProvider
        }
        return v
    }

    /// The verdict with every matching list named, and the annotating ones in the reason.
    private func annotated(_ verdict: Verdict, listed: [Int]) -> Verdict {
        guard !listed.isEmpty, let lists = warningLists else { return verdict }
        var v = verdict
        v.warninglists = lists.hits(listed)
        let annotating = listed.filter { lists.action(ofList: $0) == .annotate }.map { lists.lists[$0].name }.sorted()
        if !annotating.isEmpty { v.reason += "; on warning list\(annotating.count == 1 ? "" : "s") \(annotating.joined(separator: ", "))" }
        return v
    }

    /// Whether the values of `type` are classified: A and AAAA (addresses), NS and CNAME (names); not TXT.
    public static func classifies(_ type: RRType) -> Bool {
        type != .txt
    }

    /// The verdict of one value of an answer of `type`: the one mapping of record types to rules, for a
    /// poll's spans and views and for triage's state at a time. `asn`: the origin ASN of an address.
    public func classify(_ type: RRType, value: String, asn: Int?) -> Verdict {
        switch type {
        case .a, .aaaa:
            IPAddress(value).map { classify(address: $0, asn: asn) } ?? Verdict(class: .unknown, reason: "not an address")
        case .ns: classify(nameServer: value)
        case .cname: classify(cnameTarget: value)
        case .txt: Verdict(class: .unknown, reason: "TXT is not classified")
        }
    }

    /// For `dnswatch classify`: an IP address is classified as an address; anything else as a name server,
    /// and, if no name-server fingerprint matched, as a CNAME target.
    public func classify(value: String, asn: Int?) -> Verdict {
        let text = value.trimmingCharacters(in: .whitespaces)
        if let address = IPAddress(text) { return classify(address: address, asn: asn) }
        let v = classify(nameServer: text)
        if v.class == .unknown, v.subtype == nil {
            let c = classify(cnameTarget: text)
            if c.class != .unknown { return c }
        }
        return v
    }

    private func bestName(_ matches: [(id: Int, specificity: Int)], where wanted: (FingerprintCategory) -> Bool) -> Int? {
        matches.filter { wanted(fingerprints.entries[$0.id].category) }
            .max { ($0.specificity, $0.id) < ($1.specificity, $1.id) }?.id
    }

    // MARK: verdicts

    private func verdict(for id: Int, subject: String) -> Verdict {
        let fp = fingerprints.entries[id]
        let matched = subject == fp.value ? fp.label : "\(subject) matches \(fp.label)"
        let evidence = Evidence(kind: .fingerprint, match: fp.label, source: fp.source)
        switch fp.category {
        case .regdefault:
            return Verdict(
                class: .unknown, provider: fp.provider,
                reason: "registrar default name servers of \(fp.provider) (\(fp.label), source \(fp.source)): not parking by themselves",
                subtype: fp.category.rawValue, evidence: evidence)
        default:
            return Verdict(class: fp.category.domainClass, provider: fp.provider,
                           reason: "\(matched): \(fp.attribution)", subtype: fp.category.rawValue, evidence: evidence)
        }
    }

    /// The evidence of a warning list's verdict.
    private static func evidence(list info: WarningListInfo) -> Evidence {
        Evidence(kind: .warninglist, match: info.name, source: "\(info.description), version \(info.version)")
    }
}

extension Classifier {
    /// What ``version`` names: the fingerprint data, the declared own infrastructure, and the warning lists
    /// that change a class (a new version of an annotating list re-derives nothing).
    static func version(fingerprints: FingerprintSet, owned: OwnedInfrastructure, warningLists: WarningLists?) -> String {
        var v = fingerprints.version
        if !owned.cidrs.isEmpty || !owned.nameServers.isEmpty {
            v += "+" + FingerprintSet.stableHash(owned.cidrs.map(\.description).sorted() + owned.nameServers.sorted())
        }
        if let lists = warningLists?.classVersion { v += "+wl" + lists }
        return v
    }
}

extension Classifier {
    /// Classifies an address block (an IoC feed's prefix) as a range: the class of the most telling range
    /// that covers it wholly (a sinkhole fingerprint, an owned range, a special-purpose block, a parking
    /// fingerprint, in the precedence of `classify(address:asn:)`), else `unknown`. A range that covers only
    /// part of the block says nothing about the rest of it. A parking or sinkhole match that overlaps a
    /// shared cloud range is weak, as for an address. A block of one address is that address (no origin
    /// ASN: a prefix has none of its own).
    public func classify(block: CIDR) -> Verdict {
        let block = block.unmapped
        guard block.prefixLength < block.network.bytes.count * 8 else { return classify(address: block.network, asn: nil) }
        let listed = warningLists?.matches(block: block) ?? []
        return annotated(classifyUnannotated(block: block, listed: listed), listed: listed)
    }

    private func classifyUnannotated(block: CIDR, listed: [Int]) -> Verdict {
        func covers(_ c: CIDR) -> Bool { c.prefixLength <= block.prefixLength && c.contains(block.network) }
        func overlaps(_ c: CIDR) -> Bool { c.contains(block.network) || block.contains(c.network) }
        let covering = addresses.matches(block.network).filter { $0.prefixLength <= block.prefixLength }
        let shared = SharedCloud.ranges.first { overlaps($0.cidr) } ?? listed.first { warningLists?.action(ofList: $0) == .shared }
            .map { SharedCloud.Range(cidr: block, operatorName: "warning list \(warningLists?.lists[$0].name ?? "")") }
        var weak: Verdict?
        if let hit = best(covering, where: \.isTakedown) {
            let v = verdict(for: hit, subject: "\(block)")
            if let shared { weak = weaken(v, fingerprint: fingerprints.entries[hit], shared: shared) } else { return v }
        }
        if let v = listVerdict(listed, .sinkhole, subject: "\(block)", shared: shared) {
            if shared == nil { return v }
            weak = weak ?? v
        }
        if let range = ownedRanges.matches(block.network).first(where: { covers($0.payload) })?.payload {
            return Verdict(class: .owned, reason: "\(block) is inside owned range \(range) (user configuration)")
        }
        if let sp = (SpecialPurpose.ipv4 + SpecialPurpose.ipv6).filter({ covers($0.cidr) }).max(by: { $0.cidr.prefixLength < $1.cidr.prefixLength }) {
            return Verdict(class: .dormant, reason: "\(block) is inside \(sp.cidr) (\(sp.name), \(sp.reference))")
        }
        if let hit = best(covering, where: \.isParked) {
            let v = verdict(for: hit, subject: "\(block)")
            if let shared {
                weak = weak ?? weaken(v, fingerprint: fingerprints.entries[hit], shared: shared)
            } else {
                return v
            }
        }
        if let v = listVerdict(listed, .parking, subject: "\(block)", shared: shared) {
            if shared == nil { return v }
            weak = weak ?? v
        }
        if let v = sharedListVerdict(listed, subject: "\(block)", weak: weak) { return v }
        return weak ?? Verdict(class: .unknown, reason: "no fingerprint, warning list or special-purpose range covers all of \(block)")
    }
}
