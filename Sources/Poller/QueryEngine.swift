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
    /// The questions asked again to confirm a change, each resolver on its own: one list of resolutions per
    /// resolver (in the order of `questions`), all at once; with one resolver, of it again after `pause`
    /// seconds. The default (an engine of one resolver): after the pause, `answers(for:)`.
    func lookAgain(_ questions: [Question], pause: Double) async throws -> [[Resolution]]
}

extension QueryEngine {
    /// Each resolver (`HOST:PORT`), from `resolverDescription`.
    public var resolverNames: [String] { resolverDescription.split(separator: ",").map(String.init) }

    public func lookAgain(_ questions: [Question], pause: Double) async throws -> [[Resolution]] {
        if pause > 0 { try await Task.sleep(for: .seconds(pause)) }
        return [try await answers(for: questions)]
    }

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

    /// With several resolvers, every question goes to each resolver, each in a session of its own (so that
    /// one resolver's answers make one view), all at once.
    public func lookAgain(_ questions: [Question], pause: Double) async throws -> [[Resolution]] {
        guard endpoints.count > 1 else {
            if pause > 0 { try await Task.sleep(for: .seconds(pause)) }
            return [try await answers(for: questions)]
        }
        let options = self.options, endpoints = self.endpoints
        return try await withThrowingTaskGroup(of: (Int, [Resolution]).self) { group in
            for k in endpoints.indices {
                group.addTask { (k, try await DNSResolver(endpoints: [endpoints[k]], options: options).answers(for: questions)) }
            }
            var out = [[Resolution]](repeating: [], count: endpoints.count)
            for try await (k, resolutions) in group {
                guard resolutions.count == questions.count else { throw MissingResolution() }
                out[k] = resolutions
            }
            return out
        }
    }

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

/// A resolver session returned fewer resolutions than questions (a bug, never planned around).
struct MissingResolution: Error, CustomStringConvertible {
    var description: String { "a confirmation question got no resolution" }
}
