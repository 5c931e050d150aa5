import AsyncAlgorithms
public import Logging
public import ServiceLifecycle
import Store

/// The daemon: polls due domains every tick until graceful shutdown (SIGTERM/SIGINT via ServiceGroup).
/// A poll under way when shutdown is asked completes and commits; no new poll starts after it.
public struct PollService: Service {
    let poller: Poller
    let tick: Duration
    let logger: Logger
    let report: @Sendable (PollSummary) -> Void

    public init(poller: Poller, tick: Duration, logger: Logger, report: @escaping @Sendable (PollSummary) -> Void) {
        self.poller = poller
        self.tick = tick
        self.logger = logger
        self.report = report
    }

    public func run() async throws {
        logger.info("daemon started", metadata: ["tick": "\(tick)", "resolvers": "\(poller.engine.resolverDescription)"])
        try await pollOnce()
        for await _ in AsyncTimerSequence(interval: tick, clock: .continuous).cancelOnGracefulShutdown() {
            if Task.isShuttingDownGracefully { break }
            try await pollOnce()
        }
        logger.info("daemon stopped")
    }

    private func pollOnce() async throws {
        do {
            let summary = try await poller.poll()
            if summary.counts.domains > 0 { report(summary) }
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            // One failed poll (e.g. the resolver is down) must not end the daemon.
            logger.error("poll failed", metadata: ["error": "\(error)"])
        }
    }
}
