public import DNSWatchModel

/// Alert types: those of a transition, in the contract's order of precedence (the first that applies
/// names the alert), then the two that say how far alerts can be trusted (`flapping`: flap damping holds
/// the domain's alerts back; `disagreement`: resolvers have disagreed on a change for several polls).
public enum AlertType: String, Sendable, Codable, CaseIterable {
    case sinkholed
    case registered
    case unresolved
    case parked
    case dormant
    case moved
    case activation
    case newIP = "new-ip"
    case nsChange = "ns-change"
    case changed
    case flapping
    case disagreement
}

/// A change worth an alert, with both sides.
public struct Transition: Sendable, Equatable {
    public var type: AlertType
    public var from: DomainView
    public var to: DomainView
    /// Addresses the domain never had before.
    public var newAddresses: [String]
    public var nsChanged: Bool
    public var addressesChanged: Bool
    /// The record type the alert is about (NS for a name-server change, A/AAAA for addresses).
    public var rrtype: RRType

    /// Every other change, for the alert's message ("NS set changed", "new address ...").
    public var details: [String] {
        var d: [String] = []
        if from.state != to.state { d.append("state \(from.state) → \(to.state)") }
        if !newAddresses.isEmpty { d.append("new address \(newAddresses.joined(separator: ", "))") }
        if nsChanged {
            d.append("NS set \(from.nameServers.map(\.value).joined(separator: ",").nilIfEmpty ?? "none") → \(to.nameServers.map(\.value).joined(separator: ",").nilIfEmpty ?? "none")")
        }
        return d
    }
}

/// Decides whether a new view is a transition, and of which type.
public enum TransitionDetector {
    /// - previous: the stored view; nil for the first observation (the baseline: never an alert).
    /// - everSeen: every address the domain had before this poll.
    public static func detect(previous: DomainView?, current: DomainView, everSeen: Set<String>) -> Transition? {
        guard let previous else { return nil }
        let from = previous.state, to = current.state
        let newAddresses = current.addressSet.subtracting(everSeen).sorted()
        let nsChanged = previous.nameServerSet != current.nameServerSet
            && !(previous.nameServers.isEmpty && previous.status(.ns) == nil)
        let addressesChanged = previous.addressSet != current.addressSet
        let rrtype: RRType = {
            if nsChanged && !addressesChanged { return .ns }
            let prevA = Set(previous.addresses.filter { IPAddress($0.value)?.isIPv4 == true }.map(\.value))
            let curA = Set(current.addresses.filter { IPAddress($0.value)?.isIPv4 == true }.map(\.value))
            if prevA == curA && addressesChanged { return .aaaa }
            if !addressesChanged && !previous.cnameTargets.map(\.value).elementsEqual(current.cnameTargets.map(\.value)) { return .cname }
            return .a
        }()
        let type: AlertType
        if from != to && from.class.isLiveHost && to.class.isLiveHost && !newAddresses.isEmpty {
            // unknown ↔ shared, or from one shared list to another, with an address never seen before.
            type = .newIP
        } else if from != to {
            type = stateChangeType(from: from.class, to: to.class)
        } else if to.class == .unknown && !newAddresses.isEmpty {
            // (inside one shared list, as inside one parking provider, a new address is history only)
            type = .newIP
        } else if nsChanged {
            type = .nsChange
        } else {
            return nil  // same state; address moves inside a provider or inside dormant are history only
        }
        return Transition(type: type, from: previous, to: current, newAddresses: newAddresses,
                          nsChanged: nsChanged, addressesChanged: addressesChanged,
                          rrtype: type == .nsChange ? .ns : rrtype)
    }

    /// The contract's ordered table for a change of state.
    public static func stateChangeType(from: DomainClass, to: DomainClass) -> AlertType {
        if to == .sinkhole { return .sinkholed }
        if from == .nxdomain { return .registered }
        if to == .nxdomain { return .unresolved }
        if to == .parked { return .parked }
        if to == .dormant || to == .nodata { return .dormant }
        if from == .owned { return .moved }
        if [.parked, .sinkhole, .dormant, .nodata].contains(from) && to.isLiveHost { return .activation }
        return .changed
    }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}
