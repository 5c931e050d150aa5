public import DNSWatchModel
public import Resolver

/// What the poller needs of a resolver: answers for a batch of questions, one per question, in order.
public protocol QueryEngine: Sendable {
    func answers(for questions: [Question]) async throws -> [Resolution]
    /// A short description of the resolvers, recorded with each poll run.
    var resolverDescription: String { get }
}

extension DNSResolver: QueryEngine {
    public func answers(for questions: [Question]) async throws -> [Resolution] {
        guard !questions.isEmpty else { return [] }
        return try await resolve(questions).resolutions
    }

    public var resolverDescription: String { endpoints.map(\.description).joined(separator: ",") }
}
