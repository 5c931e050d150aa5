import DNSWatchModel
import Detection
import Foundation

/// One side of an alert, as the contract's alert JSON writes it.
struct AlertSide: Encodable {
    var status: String
    var `class`: String
    @NullEncoded var provider: String?
    var rdata: [String]
    var ns: [String]

    init(view: DomainView, rrtype: RRType) {
        let nx = view.isNXDomain
        status = nx ? AnswerStatus.nxdomain.rawValue : (view.status(rrtype) ?? .nodata).rawValue
        `class` = view.state.class.rawValue
        provider = view.state.provider
        switch rrtype {
        case .ns: rdata = view.nameServers.map(\.value)
        case .cname: rdata = view.cnameTargets.map(\.value)
        case .aaaa: rdata = view.addresses.map(\.value).filter { $0.contains(":") }
        default: rdata = view.addresses.map(\.value).filter { !$0.contains(":") }
        }
        ns = view.nameServers.map(\.value)
    }

}

/// The alert JSON: `{"id","time","domain","list","kind","type","severity","rrtype","from","to","message", ...}`.
struct AlertPayload: Encodable {
    var id: Int64
    var time: Int64
    var domain: String
    var list: String
    var kind: String
    var type: String
    var severity: String
    var rrtype: String
    var from: AlertSide
    var to: AlertSide
    var message: String
    var details: [String]
    var new_addresses: [String]
    /// The resolvers (`HOST:PORT`) that gave or confirmed the answers behind the alert.
    var resolvers: [String]
    /// For the transition an alert about alerting stands for (`flapping`, `disagreement`): its own type.
    var transition: String?
    /// For `disagreement`: what each look said.
    var observations: [ResolverObservation]?

    /// The alert of transition `t`, of `type` (the transition's own unless said); `note` ends the message.
    static func make(id: Int64, time: Int64, domain: String, membership: (list: String, kind: ListKind),
                     severity: Severity, transition t: Transition, type: AlertType? = nil, note: String? = nil,
                     resolvers: [String] = [], observations: [ResolverObservation]? = nil) -> AlertPayload {
        let type = type ?? t.type
        let from = AlertSide(view: t.from, rrtype: t.rrtype), to = AlertSide(view: t.to, rrtype: t.rrtype)
        let state = t.from.state == t.to.state ? "still \(t.to.state)" : "\(t.from.state) → \(t.to.state)"
        let others = t.details.filter { !$0.hasPrefix("state ") }
        let head = type == t.type ? "\(domain): \(type.rawValue): \(state)" : "\(domain): \(type.rawValue) (\(t.type.rawValue)): \(state)"
        let message = ([head] + others + (note.map { [$0] } ?? [])).joined(separator: "; ")
        return AlertPayload(id: id, time: time, domain: domain, list: membership.list, kind: membership.kind.rawValue,
                            type: type.rawValue, severity: severity.rawValue, rrtype: t.rrtype.rawValue,
                            from: from, to: to, message: message, details: t.details, new_addresses: t.newAddresses,
                            resolvers: resolvers, transition: type == t.type ? nil : t.type.rawValue, observations: observations)
    }

    func json() throws -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try enc.encode(self), as: UTF8.self)
    }
}
