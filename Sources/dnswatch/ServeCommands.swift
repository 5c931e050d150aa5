import ArgumentParser
import Classification
import DNSWatchApp
import DNSWatchConfig
import DNSWatchModel
import Detection
import Foundation
import Glibc
import Store
import Logging
import Serve
import ServiceLifecycle
import UnixSignals

/// `--listen`, `--api-keys` and the connection limits: where the server listens, who may ask, how many
/// connections it holds (shared by `serve` and `daemon`). Each overrides the config's `[serve]` key.
struct ListenFlags: ParsableArguments {
    @Option(help: "Serve history over HTTP on HOST:PORT (IPv6 as [ADDRESS]:PORT; default for serve: [serve] listen, else 127.0.0.1:8053).")
    var listen: String?

    @Option(name: .customLong("api-keys"),
            help: "File of API keys, one a line (KEY or NAME KEY, # comments; keep it mode 0600). Else [serve] api_keys, else $DNSWATCH_API_KEY. Needed to listen beyond loopback.")
    var apiKeys: String?

    @Option(name: .customLong("max-connections"), help: "Connections served at once; more wait to be accepted (default: [serve] max_connections, else 512).")
    var maxConnections: Int?

    @Option(name: .customLong("idle-timeout"),
            help: "Close a connection without a request under way (idle, or a request sent only in part) after this long (e.g. 30s; default: [serve] idle_timeout, else 30s).")
    var idleTimeout: String?

    static let keyVariable = "DNSWATCH_API_KEY"

    func validate() throws {
        if let listen { do { _ = try ListenAddress(listen) } catch { throw ValidationError("--listen: \(error)") } }
        if let apiKeys, apiKeys.isEmpty { throw ValidationError("--api-keys is empty: name a key file, or leave it out") }
        if let maxConnections, !Config.serveMaxConnectionsRange.contains(maxConnections) {
            throw ValidationError("--max-connections: \(maxConnections) is out of range (\(Config.serveMaxConnectionsRange.lowerBound) to \(Config.serveMaxConnectionsRange.upperBound))")
        }
    }

    /// `--listen`, else the config's `[serve] listen`, else 127.0.0.1:8053.
    func address(config: Config) throws -> ListenAddress {
        guard let listen else { return config.serveListen ?? .default }
        do { return try ListenAddress(listen) } catch { throw CLIError.usage("--listen: \(error)") }
    }

    /// `--max-connections` and `--idle-timeout`, else the config's, else `ConnectionLimits.default`.
    func limits(config: Config) throws -> ConnectionLimits {
        var limits = ConnectionLimits.default
        if let n = maxConnections ?? config.serveMaxConnections { limits.maxConnections = n }
        if let idleTimeout {
            let seconds: Int
            do { seconds = try DurationParser.seconds(idleTimeout) } catch { throw CLIError.usage("--idle-timeout: \(error)") }
            guard Config.serveIdleTimeoutRange.contains(seconds) else {
                throw CLIError.usage("--idle-timeout: \(idleTimeout) is out of range (\(DurationParser.format(Config.serveIdleTimeoutRange.lowerBound)) to \(DurationParser.format(Config.serveIdleTimeoutRange.upperBound)))")
            }
            limits.idleTimeout = .seconds(seconds)
        } else if let seconds = config.serveIdleTimeout {
            limits.idleTimeout = .seconds(seconds)
        }
        return limits
    }

    /// The keys (`--api-keys`, else the config's `[serve] api_keys`, else `$DNSWATCH_API_KEY`, named `env`)
    /// and where `/metrics` is open; a listener beyond loopback without keys is a usage error.
    func policy(for address: ListenAddress, config: Config,
                environment: [String: String] = ProcessInfo.processInfo.environment) throws -> AuthPolicy {
        var keys: [APIKey] = []
        if let (file, named) = apiKeys.map({ ($0, "--api-keys") }) ?? config.serveAPIKeys.map({ ($0, "[serve] api_keys") }) {
            let text: String
            do {
                text = String(decoding: try RegularFile.read(file), as: UTF8.self)
            } catch {
                throw CLIError.usage("\(named): \(error)")
            }
            do {
                keys = try AuthPolicy.parseKeyFile(text)
            } catch {
                throw CLIError.usage("\(named) \(file): \(error)")
            }
            // (FileManager, not stat(2): the compiler has taken `stat` for a member of another module here.)
            let mode: Int
            do {
                mode = (try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? NSNumber)?.intValue ?? 0
            } catch {
                throw CLIError.usage("\(named) \(file): its mode cannot be read: \(error.localizedDescription)")
            }
            if mode & 0o077 != 0 {
                warn("dnswatch: warning: the key file \(file) can be read by others (mode \(String(mode & 0o777, radix: 8))); chmod 600 it")
            }
        } else if let key = environment[ListenFlags.keyVariable] {
            let trimmed = key.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !trimmed.isEmpty else { throw CLIError.usage("$\(ListenFlags.keyVariable) is empty: set it to a key, or unset it") }
            keys = [APIKey(name: "env", key: trimmed)]
        }
        if keys.isEmpty, !address.isLoopback {
            throw CLIError.usage("--listen \(address) is not a loopback address: give --api-keys FILE ([serve] api_keys in the config, or $\(ListenFlags.keyVariable)) so that only key holders can read the history")
        }
        return AuthPolicy(keys: keys, metricsOpen: address.isLoopback)
    }

    /// The server's Service over its own read-only connection to `path`.
    func service(address: ListenAddress, auth: AuthPolicy, limits: ConnectionLimits, store: any ServeReading, classifier: Classifier,
                 intervals: PollInterval.Defaults, damping: [ListKind: FlapDamping]) -> any Service {
        var logger = Logger(label: "dnswatch.serve")
        if ProcessInfo.processInfo.environment["DNSWATCH_LOG_LEVEL"] == nil { logger.logLevel = .info }
        let deps = ServeDependencies(store: store, classifier: classifier, intervals: intervals, damping: damping)
        let keys = auth.requiresKeys ? "\(auth.keys.count) API key\(auth.keys.count == 1 ? "" : "s")" : "no API keys (loopback only)"
        return DNSWatchServer.application(deps, listen: address, auth: auth, limits: limits, logger: logger) { port in
            let shown = address.host.contains(":") ? "[\(address.host)]:\(port)" : "\(address.host):\(port)"
            FileHandle.standardError.write(Data("dnswatch: serving http://\(shown) (\(keys))\n".utf8))
        }
    }
}

/// `dnswatch serve`: the history over HTTP, read-only, until SIGTERM or SIGINT.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the history over HTTP (DNSDB API v2, CIRCL pDNS, /api/v1, a web page, /metrics) until SIGTERM or SIGINT.",
        discussion: "Read-only: it never writes the database (one that needs migrating: run a writing command such as poll first). See docs/serve.md.")

    @OptionGroup var store: StoreOptions
    @OptionGroup var config: ConfigOptions
    @OptionGroup var listen: ListenFlags
    @OptionGroup var fingerprints: FingerprintFlags

    func run() async throws {
        try await reporting {
            let config = try config.load()
            let classifier = try fingerprints.classifier(config: config)
            let address = try listen.address(config: config)
            let auth = try listen.policy(for: address, config: config)  // usage errors before the database is opened
            let limits = try listen.limits(config: config)
            try await store.reading("dnswatch.serve") { reader in
                let service = listen.service(address: address, auth: auth, limits: limits, store: reader.history, classifier: classifier,
                                             intervals: PollInterval.Defaults(overrides: config.intervals), damping: config.damping)
                let group = ServiceGroup(configuration: .init(
                    services: [service], gracefulShutdownSignals: [.sigterm, .sigint], logger: Logger(label: "dnswatch.serve")))
                try await group.run()
            }
        }
    }
}
