import DNSWatchApp
import DNSWatchConfig
import ArgumentParser
import DNSWatchModel
import Foundation
import Store
import Investigation
import Logging
import Poller
import ServiceLifecycle
import Synchronization
import UnixSignals

/// What poll and daemon share: the store, resolvers, classification, sinks, and how to poll.
struct PollFlags: ParsableArguments {
    @OptionGroup var store: StoreOptions
    @OptionGroup var config: ConfigOptions
    @OptionGroup var resolver: ResolverFlags
    @OptionGroup var fingerprints: FingerprintFlags
    @OptionGroup var sinks: SinkFlags

    @Option(help: "Record types to ask, comma-separated (default A,AAAA,NS; CNAME is recorded from answer chains).")
    var types: String?

    @Flag(name: .customLong("no-asn"), help: "Do not look up the origin ASN of new addresses.")
    var noASN = false

    @Option(help: "This poller's name, recorded with its poll runs and shown by 'dnswatch pollers' (default: the host name).")
    var poller: String?

    @Option(help: "How long a claim on due domains lasts on PostgreSQL before another poller may take them (default 10m).")
    var lease: String?

    @Flag(help: "Print no summary and no progress (for cron, which then mails only alerts and errors).")
    var quiet = false

    func validate() throws {
        if let types { _ = try parseTypes(types) }
        if let poller, poller.trimmingCharacters(in: .whitespaces).isEmpty || poller.count > 200 {
            throw ValidationError("--poller: a name of 1 to 200 characters")
        }
        if let lease { _ = try leaseSeconds(lease) }
    }

    func leaseSeconds(_ text: String) throws -> Int64 {
        let seconds: Int
        do { seconds = try DurationParser.seconds(text) } catch { throw ValidationError("--lease: \(error)") }
        guard (1...86_400).contains(seconds) else { throw ValidationError("--lease: \(text) is out of range (1s to 1d)") }
        return Int64(seconds)
    }

    func parseTypes(_ text: String) throws -> [RRType] {
        let out = try text.split(separator: ",").map { part -> RRType in
            guard let t = RRType(name: part.trimmingCharacters(in: .whitespaces)), t != .txt else {
                throw ValidationError("--types: unknown record type '\(part)' (A, AAAA, NS, CNAME)")
            }
            return t
        }
        guard !out.isEmpty else { throw ValidationError("--types is empty") }
        // CNAME is not asked: it is recorded from the chains of address answers.
        let asked = out.filter { $0 != .cname }
        return asked.isEmpty ? [.a] : asked
    }

    /// A Poller of any store (`holding` stays alive with it: the SQLite poll lock).
    func makePoller(store: any PollStore, holding: (any Sendable)?, config: Config, dueOnly: Bool, logger: Logger,
                    progress: (@Sendable (PollProgress) -> Void)?) throws -> Poller {
        var o = PollOptions()
        if let poller { o.poller = poller }
        if let lease { o.lease = try leaseSeconds(lease) }
        o.dueOnly = dueOnly
        if let t = types { o.types = try parseTypes(t) } else if let t = config.types { o.types = t }
        o.asnLookups = !noASN && (config.asn ?? true)
        if let b = config.batch { o.batchSize = b }
        o.defaultIntervals = PollInterval.Defaults(overrides: config.intervals)
        o.damping = config.damping
        if let p = config.confirmPause { o.confirmPause = p }
        return Poller(store: store, holding: holding, engine: try resolver.makeResolver(config: config),
                      classifier: try fingerprints.classifier(config: config), sinks: try sinks.sinks(config: config),
                      options: o, logger: logger, progress: progress)
    }
}

struct Poll: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Resolve the watched domains once, record what changed, and raise alerts.",
        discussion: "Prints a one-line summary. Exit 69 when every query failed (resolver unavailable). A second poll on the same database exits with a message (or waits with --wait).")

    @OptionGroup var flags: PollFlags
    @Flag(help: "Only the domains that are due (for cron every few minutes).") var due = false
    @Flag(help: "Every watched domain (the default).") var all = false
    @Flag(help: "Wait for another poll on this database to end instead of exiting.") var wait = false
    @Flag(help: "Print the summary as JSON.") var json = false

    func validate() throws {
        if due && all { throw ValidationError("--due and --all exclude each other") }
    }

    func run() async throws {
        try await reporting { try await execute() }
    }

    private func execute() async throws {
        do {
            let config = try flags.config.load()
            let logger = Logger(label: "dnswatch.poll")
            let line = flags.quiet ? nil : ProgressLine.forStderr()
            var progress: (@Sendable (PollProgress) -> Void)? = nil
            if let line { progress = { line.update($0) } }
            let database = try flags.store.database()
            let poller: Poller, summary: PollSummary
            do {
                // SQLite: the poll lock, held by the poller; PostgreSQL: pollers share the database through leases.
                (poller, summary) = try await database.polling(logger: logger, fileMode: config.fileMode, wait: wait) { session in
                    let poller = try flags.makePoller(store: session.polls, holding: session.lock, config: config, dueOnly: due,
                                                      logger: logger, progress: progress)
                    return (poller, try await cancellingOnSignals { try await poller.poll() })
                }
            } catch {
                guard let lost = Database.lostConnection(error) else { throw error }
                line?.finish()
                throw CLIError(code: Exit.failure, description: "\(lost); the batches committed so far are kept")
            }
            line?.finish()
            if flags.quiet {
                // Nothing on success; a resolver that answered nothing is still an error below.
            } else if json {
                print(try JSONLine.encode(SummaryJSON(summary)))
            } else {
                print(summary.line)
            }
            if summary.resolverUnavailable {
                throw CLIError(code: Exit.unavailable, description: "resolver unavailable: none of \(summary.counts.queries) queries got an answer from \(poller.engine.resolverDescription)")
            }
        }
    }
}

struct SummaryJSON: Encodable {
    let poll: Int64, domains: Int, queries: Int, answers: Int, failures: Int, changes: Int, alerts: Int, seconds: Double
    /// The resolvers asked (`HOST:PORT`), in the order given.
    let resolvers: [String]
    init(_ s: PollSummary) {
        resolvers = s.resolvers
        poll = s.pollID
        domains = s.counts.domains
        queries = s.counts.queries
        answers = s.counts.answers
        failures = s.counts.failures
        changes = s.counts.changes
        alerts = s.counts.alerts
        seconds = (s.seconds * 1000).rounded() / 1000
    }
}

/// A live progress line on stderr when it is a terminal; nothing otherwise.
final class ProgressLine: Sendable {
    /// When the line was last drawn.
    private let last = Mutex(Date.distantPast)

    static func forStderr() -> ProgressLine? {
        isatty(STDERR_FILENO) == 1 ? ProgressLine() : nil
    }

    func update(_ p: PollProgress) {
        let due = last.withLock { last in
            guard Date().timeIntervalSince(last) > 0.2 || p.done == p.total else { return false }
            last = Date()
            return true
        }
        guard due else { return }
        let qps = p.elapsed > 0 ? Double(p.queries) / p.elapsed : 0
        let eta = p.done > 0 ? p.elapsed * Double(p.total - p.done) / Double(p.done) : 0
        warnInline(String(format: "\r%d/%d domains  %.0f queries/s  ETA %.0fs   ", p.done, p.total, qps, eta))
    }

    func finish() {
        warnInline("\r\u{1B}[K")
    }

    private func warnInline(_ s: String) {
        FileHandle.standardError.write(Data(s.utf8))
    }
}

struct Daemon: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Poll due domains on a schedule until SIGTERM or SIGINT (which end it cleanly, exit 0).",
        discussion: "With --listen it also serves the history over HTTP as 'dnswatch serve' does, over its own read-only connection.")

    @OptionGroup var flags: PollFlags
    @Option(help: "How often to look for due domains (e.g. 30s, 1m).") var tick: String?
    @OptionGroup var serving: ListenFlags

    func validate() throws {
        if serving.listen == nil, serving.apiKeys != nil { throw ValidationError("--api-keys needs --listen") }
    }

    func run() async throws {
        try await reporting {
            let config = try flags.config.load()
            let tickSeconds: Int
            if let tick {
                do { tickSeconds = try DurationParser.seconds(tick) } catch { throw CLIError.usage("--tick: \(error)") }
                guard Config.tickRange.contains(tickSeconds) else {
                    throw CLIError.usage("--tick: \(tick) is out of range (\(DurationParser.format(Config.tickRange.lowerBound)) to \(DurationParser.format(Config.tickRange.upperBound)))")
                }
            } else {
                tickSeconds = config.tick ?? 60
            }
            let logger = Logger(label: "dnswatch.daemon")
            // Serving: its usage errors (a listener beyond loopback without keys) before anything is opened.
            let listen = try serving.listen.map { _ in
                let address = try serving.address(config: config)
                return (address, try serving.policy(for: address, config: config))
            }
            let limits = try serving.limits(config: config)
            let quiet = flags.quiet
            func service(_ poller: Poller) -> PollService {
                PollService(poller: poller, tick: .seconds(tickSeconds), logger: logger) { summary in
                    guard !quiet else { return }
                    FileHandle.standardOutput.write(Data((summary.line + "\n").utf8))
                }
            }
            let database = try flags.store.database()
            try await database.polling(logger: logger, fileMode: config.fileMode, wait: false) { session in
                let poller = try flags.makePoller(store: session.polls, holding: session.lock, config: config, dueOnly: true, logger: logger,
                                                  progress: nil)
                var services: [any Service] = [service(poller)]
                if let (address, auth) = listen {
                    // SQLite: a read-only connection of its own; PostgreSQL: the poller's pool of connections.
                    let reader = try session.servingReader()
                    services.append(serving.service(address: address, auth: auth, limits: limits, store: reader,
                                                    classifier: try flags.fingerprints.classifier(config: config),
                                                    intervals: PollInterval.Defaults(overrides: config.intervals), damping: config.damping))
                }
                // The start line names where watched names will go.
                if !quiet {
                    warn("dnswatch: daemon started: due domains every \(DurationParser.format(tickSeconds)) through \(poller.engine.resolverNames.joined(separator: ", "))")
                }
                let group = ServiceGroup(configuration: .init(
                    services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
                try await group.run()
            }
        }
    }
}

/// Runs `body` (a poll), cancelling it on SIGINT or SIGTERM: what it committed stays, and an alert
/// command it is running is ended with its whole process group (that group is not the terminal's, so
/// Ctrl-C would not reach it otherwise). Exit 1 with a sentence naming the signal.
func cancellingOnSignals<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
    typealias Outcome = SignalRace<T>
    let signals = await UnixSignalsSequence(trapping: .sigint, .sigterm)
    let outcome = try await withThrowingTaskGroup(of: Outcome.self) { group in
        group.addTask { .done(try await body()) }
        group.addTask {
            for await signal in signals { return .interrupted(signal) }
            return .signalsEnded
        }
        defer { group.cancelAll() }
        while let next = try await group.next() {
            if case .signalsEnded = next { continue }
            return next
        }
        throw CancellationError()
    }
    switch outcome {
    case .done(let value): return value
    case .interrupted(let signal):
        throw CLIError(code: Exit.failure, description: "poll interrupted by \(signal); the batches written so far are kept")
    case .signalsEnded: throw CancellationError()
    }
}

/// Which of a poll and a signal came first.
enum SignalRace<T: Sendable>: Sendable { case done(T), interrupted(UnixSignal), signalsEnded }
