public import DNSWatchModel

/// The class of one answer (a span): what its values say together, without the rest of the domain.
public enum SpanClassifier {
    public static func combine(status: AnswerStatus, verdicts: [Verdict]) -> DomainState {
        switch status {
        case .nxdomain: return DomainState(class: .nxdomain)
        case .nodata: return DomainState(class: .nodata)
        case .noerror: break
        }
        if verdicts.isEmpty { return DomainState(class: .nodata) }
        if let s = verdicts.first(where: { $0.class == .sinkhole }) { return DomainState(class: .sinkhole, provider: s.provider) }
        for c in [DomainClass.parked, .owned, .dormant, .shared] where verdicts.allSatisfy({ $0.class == c }) {
            return DomainState(class: c, provider: verdicts[0].provider)
        }
        return DomainState(class: .unknown)
    }
}
