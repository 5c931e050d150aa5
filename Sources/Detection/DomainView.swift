public import DNSWatchModel

/// What one poll (or the stored history) says about a domain: its answers and their classifications.
/// A failed lookup contributes the last known answer of that type, so failures never change a view.
public struct DomainView: Sendable, Equatable, Codable {
    /// Status per record type asked (A, AAAA, NS); absent: never answered.
    public var statuses: [String: AnswerStatus]
    /// A and AAAA addresses with their classification.
    public var addresses: [ClassifiedValue]
    public var nameServers: [ClassifiedValue]
    public var cnameTargets: [ClassifiedValue]
    /// The derived state.
    public var state: DomainState

    public init(statuses: [RRType: AnswerStatus], addresses: [ClassifiedValue], nameServers: [ClassifiedValue],
                cnameTargets: [ClassifiedValue] = []) {
        self.statuses = Dictionary(uniqueKeysWithValues: statuses.map { ($0.key.rawValue, $0.value) })
        self.addresses = addresses.sorted { $0.value < $1.value }
        self.nameServers = nameServers.sorted { $0.value < $1.value }
        self.cnameTargets = cnameTargets
        self.state = .init(class: .unknown)
        self.state = StateDeriver.derive(self)
    }

    public func status(_ t: RRType) -> AnswerStatus? { statuses[t.rawValue] }
    public var addressSet: Set<String> { Set(addresses.map(\.value)) }
    public var nameServerSet: Set<String> { Set(nameServers.map(\.value)) }
    public var isNXDomain: Bool {
        status(.a) == .nxdomain || status(.aaaa) == .nxdomain || (status(.a) == nil && status(.aaaa) == nil && status(.ns) == .nxdomain)
    }
}

extension DomainView {
    /// The record types a view is made of, in the order their values are taken (TXT never counts).
    public static let types: [RRType] = [.a, .aaaa, .ns, .cname]

    /// THE rule that makes a domain's view, for a poll and for triage as of a time (docs/detection.md):
    /// for each of A, AAAA, NS and CNAME the answer current for the domain gives that type's status and,
    /// when its status is NOERROR, its values, each classified. What is current is the caller's: for a poll,
    /// this poll's answer of the type, or, when that lookup failed, the last known one (the type's head); the
    /// view before the poll is the heads alone; triage `--at` passes the spans current at that time.
    ///
    /// - Parameters:
    ///   - current: the answer current for a type; nil: none (never answered).
    ///   - verdict: the verdict of one value of a type (an address for A and AAAA, a name server for NS,
    ///     a target for CNAME).
    public static func derive(current: (RRType) -> (status: AnswerStatus, rdata: [String])?,
                              verdict: (RRType, String) -> Verdict) -> DomainView {
        var statuses: [RRType: AnswerStatus] = [:]
        var addresses: [ClassifiedValue] = [], nameServers: [ClassifiedValue] = [], cnames: [ClassifiedValue] = []
        for t in types {
            guard let answer = current(t) else { continue }
            statuses[t] = answer.status
            guard answer.status == .noerror else { continue }
            let values = answer.rdata.map { ClassifiedValue(value: $0, verdict: verdict(t, $0)) }
            switch t {
            case .a, .aaaa: addresses += values
            case .ns: nameServers += values
            case .cname: cnames += values
            case .txt: break
            }
        }
        return DomainView(statuses: statuses, addresses: addresses, nameServers: nameServers, cnameTargets: cnames)
    }
}

/// A value (address, name server, CNAME target) and its verdict.
public struct ClassifiedValue: Sendable, Equatable, Codable {
    public var value: String
    public var verdict: Verdict
    public init(value: String, verdict: Verdict) {
        self.value = value
        self.verdict = verdict
    }
}

/// The contract's state rule, in order:
/// `nxdomain` if the name does not exist; else `sinkhole` if any name server or address is a sinkhole;
/// else `parked` if the NS set or a CNAME target is parking, or every address is parking; else `owned` if every
/// address is owned; else `dormant` if every address is dormant; else `shared` if every address is shared
/// (its provider: the first address's list); else `nodata` without addresses; else `unknown`.
public enum StateDeriver {
    public static func derive(_ v: DomainView) -> DomainState {
        if v.isNXDomain { return DomainState(class: .nxdomain) }
        let all = v.nameServers + v.addresses + v.cnameTargets
        if let s = all.first(where: { $0.verdict.class == .sinkhole }) {
            return DomainState(class: .sinkhole, provider: s.verdict.provider)
        }
        // The NS set is parking when its classified members all are (no NS records: the NS side does not count).
        if !v.nameServers.isEmpty, v.nameServers.allSatisfy({ $0.verdict.class == .parked }) {
            return DomainState(class: .parked, provider: v.nameServers[0].verdict.provider)
        }
        if let c = v.cnameTargets.first(where: { $0.verdict.class == .parked }) {
            return DomainState(class: .parked, provider: c.verdict.provider)
        }
        if !v.addresses.isEmpty {
            if v.addresses.allSatisfy({ $0.verdict.class == .parked }) {
                return DomainState(class: .parked, provider: v.addresses[0].verdict.provider)
            }
            if v.addresses.allSatisfy({ $0.verdict.class == .owned }) { return DomainState(class: .owned) }
            if v.addresses.allSatisfy({ $0.verdict.class == .dormant }) { return DomainState(class: .dormant) }
            // Shared infrastructure (a `shared` warning list) only from the addresses: the NS side never makes it.
            if v.addresses.allSatisfy({ $0.verdict.class == .shared }) {
                return DomainState(class: .shared, provider: v.addresses[0].verdict.provider)
            }
            return DomainState(class: .unknown)
        }
        return DomainState(class: .nodata)
    }
}
