public import DNSWatchModel

/// Resolves batches of questions through a list of recursive resolvers.
///
/// Each session (`withSession`, or one `resolve` call) runs one event loop on one dedicated thread: queries
/// are built and replies parsed with libldns, sent over several non-blocking UDP sockets on random source
/// ports with random IDs, many in flight at once, within a window and at a pace learnt per resolver; a
/// lost query is sent again when a retransmission timer set from that resolver's measured round trips
/// runs out (RFC 6298). A reply counts only if it comes from the address and port queried, carries an outstanding
/// ID and asks the same question; anything else is dropped and counted. Timeouts, SERVFAIL and REFUSED move
/// on to the next resolver while retries remain; truncated replies are asked again over TCP.
public final class DNSResolver: Sendable {
    public let endpoints: [ResolverEndpoint]
    public let options: ResolverOptions

    /// - Throws: `ResolverError.noEndpoints` when `endpoints` is empty.
    public init(endpoints: [ResolverEndpoint], options: ResolverOptions = ResolverOptions()) throws {
        guard !endpoints.isEmpty else { throw ResolverError.noEndpoints }
        self.endpoints = endpoints
        var options = options
        options.maxInFlight = max(1, options.maxInFlight)
        options.retries = max(0, options.retries)
        options.socketsPerFamily = max(1, options.socketsPerFamily)
        self.options = options
    }

    /// Resolves every question: exactly one `Resolution` per question, in the same order (a session of
    /// one group; see `withSession` to resolve several groups as one stream).
    ///
    /// - Throws: `CancellationError` if the calling task is cancelled (the engine stops promptly), or
    ///   `ResolverError.socket` if sockets cannot be set up.
    public func resolve(_ questions: [Question]) async throws -> ResolveReport {
        try Task.checkCancellation()
        if questions.isEmpty { return ResolveReport(resolutions: [], stats: ResolveStats()) }
        return try await withSession { try await $0.report(for: questions) }
    }

    /// Resolves one question.
    public func resolve(_ question: Question) async throws -> Resolution {
        let report = try await resolve([question])
        guard let first = report.resolutions.first else {
            return Resolution(question: question, outcome: .failure(.network), server: nil, attempts: 0)
        }
        return first
    }
}
