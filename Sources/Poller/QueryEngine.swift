public import DNSWatchModel
public import Logging
public import Resolver

/// What the poller needs of a resolver: answers for a batch of questions, one per question, in order.
public protocol QueryEngine: Sendable {
    func answers(for questions: [Question]) async throws -> [Resolution]
    /// A short description of the resolvers, recorded with each poll run.
    var resolverDescription: String { get }
    /// Runs `body` with an engine that is one stream for the whole poll: the batches `body` gives it are in
    /// flight together. The default gives `body` this engine itself.
    func streaming<T: Sendable>(logger: Logger, _ body: (any QueryEngine) async throws -> T) async throws -> T
}

extension QueryEngine {
    public func streaming<T: Sendable>(logger: Logger, _ body: (any QueryEngine) async throws -> T) async throws -> T {
        try await body(self)
    }
}

extension DNSResolver: QueryEngine {
    public func answers(for questions: [Question]) async throws -> [Resolution] {
        guard !questions.isEmpty else { return [] }
        return try await resolve(questions).resolutions
    }

    public var resolverDescription: String { endpoints.map(\.description).joined(separator: ",") }

    /// One resolver session for the whole poll.
    public func streaming<T: Sendable>(logger: Logger, _ body: (any QueryEngine) async throws -> T) async throws -> T {
        let description = resolverDescription
        return try await withSession(logger: logger) { session in
            try await body(SessionEngine(session: session, resolverDescription: description))
        }
    }
}

/// A resolver session seen as a `QueryEngine`: each call is one group of the stream.
struct SessionEngine: QueryEngine {
    let session: ResolverSession
    let resolverDescription: String

    func answers(for questions: [Question]) async throws -> [Resolution] {
        try await session.answers(for: questions)
    }
}
