public import DNSWatchModel
import Foundation

/// Set from the calling task's cancellation handler, read by the engine thread.
final class CancellationFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var cancelled = false

    func cancel() { lock.withLock { cancelled = true } }
    var isCancelled: Bool { lock.withLock { cancelled } }
}

/// Resolves batches of questions through a list of recursive resolvers.
///
/// Each `resolve` call runs one event loop on one dedicated thread: queries are built and replies parsed
/// with libldns, sent over several non-blocking UDP sockets on random source ports with random IDs, many in
/// flight at once. A reply counts only if it comes from the address and port queried, carries an outstanding
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

    /// Resolves every question: exactly one `Resolution` per question, in the same order.
    ///
    /// - Throws: `CancellationError` if the calling task is cancelled (the engine stops promptly), or
    ///   `ResolverError.socket` if sockets cannot be set up.
    public func resolve(_ questions: [Question]) async throws -> ResolveReport {
        try Task.checkCancellation()
        if questions.isEmpty { return ResolveReport(resolutions: [], stats: ResolveStats()) }
        let flag = CancellationFlag()
        let endpoints = self.endpoints
        let options = self.options
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<ResolveReport, any Error>) in
                let thread = Thread {
                    do {
                        var engine = try Engine(questions: questions, endpoints: endpoints, options: options, cancel: flag)
                        continuation.resume(returning: try engine.run())
                    } catch {
                        continuation.resume(throwing: error)
                    }
                }
                thread.name = "dnswatch-resolver"
                thread.stackSize = 1 << 20
                thread.start()
            }
        } onCancel: {
            flag.cancel()
        }
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
