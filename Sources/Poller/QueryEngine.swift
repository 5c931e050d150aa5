import DNSWatchModel
import Resolver

/// What the poller needs of a resolver: answers for a batch of questions, one per question, in order.
public protocol QueryEngine: Sendable {
    func resolve(_ questions: [Question]) async throws -> [Resolution]
    /// A short description of the resolvers, recorded with each poll run.
    var resolverDescription: String { get }
}

extension DNSResolver: QueryEngine {
    public func resolve(_ questions: [Question]) async throws -> [Resolution] {
        try await resolve(questions).resolutions
    }
}
