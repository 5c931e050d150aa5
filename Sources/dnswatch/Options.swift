import DNSWatchApp
import DNSWatchConfig
import Alerting
import ArgumentParser
import Classification
import DNSWatchModel
import Foundation
import Store
import Logging
import Resolver
import Watchlists

/// Exit codes of the contract.
enum Exit {
    static let failure = ExitCode(1)
    static let usage = ExitCode(64)
    static let badInput = ExitCode(65)
    static let unavailable = ExitCode(69)
}

/// An error with the exit code it maps to and a sentence for stderr.
struct CLIError: Error, CustomStringConvertible {
    let code: ExitCode
    let description: String
    static func usage(_ s: String) -> CLIError { CLIError(code: Exit.usage, description: s) }
    static func badInput(_ s: String) -> CLIError { CLIError(code: Exit.badInput, description: s) }
}

/// Writes to stderr (the only place the CLI reports problems).
/// Whatever a message quotes (a domain argument, a path, a flag's value) has its control characters
/// made visible: a hostile name cannot move the cursor or recolour the terminal.
func warn(_ message: String) {
    FileHandle.standardError.write(Data((VisibleText.escape(message) + "\n").utf8))
}

/// Runs a command body, turning errors into one clear sentence on stderr and the contract's exit code.
func reporting(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let e as ExitCode {
        throw e
    } catch let e as CLIError {
        warn("dnswatch: \(e.description)")
        throw e.code
    } catch let e as AppFailure {
        warn("dnswatch: \(e.description)")
        switch e.kind {
        case .usage: throw Exit.usage
        case .failure: throw Exit.failure
        }
    } catch is CancellationError {
        throw Exit.failure
    } catch {
        warn("dnswatch: \(error)")
        throw Exit.failure
    }
}

/// `--db PATH` (else $DNSWATCH_DB, else the XDG data directory): which database, opened by DNSWatchApp.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: "The history database (default: $DNSWATCH_DB, else $XDG_DATA_HOME/dnswatch/dnswatch.sqlite).")
    var db: String?

    func validate() throws {
        if let db, db.isEmpty { throw ValidationError("--db is empty: name a database file, or leave it out for the default") }
        if let db, let warning = Database.argvWarning(flag: db) { warn("dnswatch: \(warning)") }
    }

    /// `--db`, else `$DNSWATCH_DB`, else the default file; an empty one is a usage error, never the default.
    func database() throws -> Database {
        try Database(flag: db)
    }

    /// Runs `body` with the history of a command that only reads (`Database.reading`), the note of a
    /// database not created yet on stderr first.
    func reading<T: Sendable>(_ label: String, creators: String = "'poll' or 'migrate'",
                              _ body: (Reader) async throws -> T) async throws -> T {
        try await database().reading(logger: Logger(label: label), creators: creators) { reader in
            if let note = reader.note { warn("dnswatch: \(note)") }
            return try await body(reader)
        }
    }

    /// Runs `body` with the store of a command that writes lists or imported history (`watch`, `import
    /// cof`): created with the config's `file_mode` and migrated on first use.
    func writing<T: Sendable>(config: Config, label: String, _ body: (Writer) async throws -> T) async throws -> T {
        try await database().writing(logger: Logger(label: label), fileMode: config.fileMode, body)
    }
}

/// `--config PATH` (else $DNSWATCH_CONFIG).
struct ConfigOptions: ParsableArguments {
    @Option(name: .long, help: "TOML config file (default: $DNSWATCH_CONFIG).")
    var config: String?

    func validate() throws {
        if let config, config.isEmpty { throw ValidationError("--config is empty: name a config file, or leave it out") }
    }

    func load() throws -> Config {
        if config == nil, ProcessInfo.processInfo.environment["DNSWATCH_CONFIG"] == "" {
            throw CLIError.usage("$DNSWATCH_CONFIG is empty: name a config file, or unset it")
        }
        do {
            return try Config.load(path: config)
        } catch let e as Config.Failure {
            throw CLIError.badInput(e.description)
        }
    }
}

/// Which resolvers to ask, and how.
struct ResolverFlags: ParsableArguments {
    @Option(name: .customLong("resolver"), help: "Recursive resolver HOST[:PORT] (repeatable; default: /etc/resolv.conf).")
    var resolvers: [String] = []

    @Option(help: "The longest one try waits for its reply: 2s, 500ms, or seconds (1.5); retransmission timers adapt below it to each resolver's round trips.")
    var timeout: String?

    @Option(help: "Retries per query (each moves to the next resolver).")
    var retries: Int?

    @Option(name: .customLong("max-in-flight"), help: "The most queries in flight at once (each resolver's window adapts below it).")
    var maxInFlight: Int?

    @Option(help: "Queries per second per resolver (0: no cap).")
    var qps: Int?

    @Flag(name: .customLong("no-system-resolvers"),
          help: "Refuse to fall back to /etc/resolv.conf when no resolver is given (exit 64): watched names go only to resolvers chosen for them.")
    var noSystemResolvers = false

    func validate() throws {
        typealias L = ResolverOptions.Limits
        _ = try timeoutSeconds()
        if let r = retries, !L.retries.contains(r) {
            throw ValidationError("--retries: \(r) is out of range (\(L.retries.lowerBound) to \(L.retries.upperBound))")
        }
        if let m = maxInFlight, !L.maxInFlight.contains(m) {
            throw ValidationError("--max-in-flight: \(m) is out of range (\(L.maxInFlight.lowerBound) to \(L.maxInFlight.upperBound))")
        }
        if let q = qps, !L.qps.contains(q) {
            throw ValidationError("--qps: \(q) is out of range (\(L.qps.lowerBound) to \(L.qps.upperBound); 0 is no cap)")
        }
        for r in resolvers {
            do { _ = try ResolverEndpoint(r) } catch { throw ValidationError("--resolver: \(error.description)") }
        }
    }

    var given: Bool { !resolvers.isEmpty }

    /// `--timeout` in seconds, or nil when not given; read by the same rule as the config's timeouts.
    func timeoutSeconds() throws -> Double? {
        guard let timeout else { return nil }
        typealias L = ResolverOptions.Limits
        let t: Double
        do { t = try DurationParser.timeoutSeconds(timeout) } catch { throw ValidationError("--timeout: \(error)") }
        guard L.timeout.contains(t) else {
            throw ValidationError("--timeout: \(timeout) is out of range (\(L.timeout.lowerBound) s to \(L.timeout.upperBound) s)")
        }
        return t
    }

    func makeResolver(config: Config) throws -> DNSResolver {
        let texts = resolvers.isEmpty ? config.resolvers : resolvers
        let endpoints: [ResolverEndpoint]
        if texts.isEmpty {
            guard !noSystemResolvers, config.systemResolvers != false else {
                let why = noSystemResolvers ? "--no-system-resolvers" : "resolvers.system = false"
                throw CLIError.usage("no resolver given (--resolver, or [resolvers] servers in the config), and the fallback to /etc/resolv.conf is refused (\(why))")
            }
            endpoints = try ResolverEndpoint.systemResolvers()
            // Watched names are often malicious: say where they go when nobody chose it.
            let names = endpoints.map(\.description).joined(separator: ", ")
            warn("dnswatch: no resolver given: asking /etc/resolv.conf's \(names) (--no-system-resolvers refuses this)")
        } else {
            endpoints = try resolverEndpoints(texts)
        }
        guard !endpoints.isEmpty else {
            throw CLIError(code: Exit.unavailable, description: "no resolvers: none given with --resolver, in the config, or in /etc/resolv.conf")
        }
        var o = ResolverOptions()
        if let t = try timeoutSeconds() ?? config.timeout { o.timeout = t }
        if let r = retries ?? config.retries { o.retries = r }
        if let m = maxInFlight ?? config.maxInFlight { o.maxInFlight = m }
        if let q = qps ?? config.qps { o.queriesPerSecondPerResolver = q > 0 ? Double(q) : nil }
        return try DNSResolver(endpoints: endpoints, options: o)
    }
}

/// `HOST[:PORT]` texts as resolver endpoints; a bad one is a usage error.
func resolverEndpoints(_ texts: [String]) throws -> [ResolverEndpoint] {
    try texts.map { t in
        do { return try ResolverEndpoint(t) } catch { throw CLIError.usage("--resolver: \(error)") }
    }
}

/// Provider fingerprints: the shipped set plus the user's files.
struct FingerprintFlags: ParsableArguments {
    @Option(name: .customLong("fingerprints"), help: "Extra fingerprint file (TSV, as the shipped one; repeatable).")
    var files: [String] = []

    func load(config: Config) throws -> FingerprintSet {
        var set = try FingerprintSet.embedded()
        for path in config.fingerprintFiles + files {
            let text: String
            do {
                text = String(decoding: try RegularFile.read(path), as: UTF8.self)
            } catch {
                throw CLIError.badInput("fingerprint file \(error)")
            }
            do {
                set = set.merging(try FingerprintSet(tsv: text, origin: path))
            } catch {
                throw CLIError.badInput("\(error)")
            }
        }
        return set
    }

    @Option(name: .customLong("warninglists"),
            help: "A MISP warning-lists checkout (lists/*/list.json) or a list.json file (repeatable; config warninglists).")
    var warningListPaths: [String] = []

    func classifier(config: Config) throws -> Classifier {
        Classifier(fingerprints: try load(config: config),
                   owned: OwnedInfrastructure(cidrs: config.ownedCIDRs, nameServers: config.ownedNameServers),
                   warningLists: try warningLists(config: config))
    }

    /// The warning lists of the config and the flags, through the index cache (`$XDG_CACHE_HOME/dnswatch`);
    /// nil when none is given.
    func warningLists(config: Config) throws -> WarningLists? {
        let paths = config.warningLists + warningListPaths
        guard !paths.isEmpty else { return nil }
        do {
            let actions = try WarningListActions.embedded().merging(config.warningListActions)
            let lists = try WarningLists.load(paths: paths, actions: actions, cacheDirectory: WarningLists.defaultCacheDirectory())
            switch lists.origin {
            case .built(let path):
                warn("dnswatch: compiled \(lists.lists.count) warning lists into \(path) (reused while the lists are unchanged)")
            case .memoryOnly(let reason):
                warn("dnswatch: warning lists compiled for this run only (\(reason))")
            case .reused:
                break
            }
            for w in lists.warnings { warn("dnswatch: \(w)") }
            return lists
        } catch let e as WarningListError {
            throw CLIError.badInput("warning list \(e)")
        }
    }
}

/// Where alerts go (besides the database): flags override the config file.
struct SinkFlags: ParsableArguments {
    @Option(name: .customLong("alerts-file"), help: "Append alerts as NDJSON to this file (a regular file; created 0600).")
    var alertsFile: String?

    @Option(help: "POST each alert as JSON to this URL (or set $DNSWATCH_WEBHOOK_URL to keep a token out of argv).")
    var webhook: String?

    @Option(name: .customLong("alert-command"), help: "Run this program (no shell) with each alert's JSON on stdin.")
    var alertCommand: String?

    @Option(name: .customLong("alert-arg"), parsing: .unconditionalSingleValue,
            help: "An argument for --alert-command (repeatable, passed as it is, even one starting with '-').")
    var alertArgs: [String] = []

    @Flag(name: .customLong("no-stdout-alerts"), help: "Do not print alerts on stdout.")
    var noStdout = false

    func validate() throws {
        if !alertArgs.isEmpty && alertCommand == nil {
            throw ValidationError("--alert-arg needs --alert-command")
        }
    }

    func sinks(config: Config, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> [any AlertSink] {
        var out: [any AlertSink] = []
        if !noStdout && (config.alertStdout ?? true) { out.append(StdoutSink()) }
        if let f = alertsFile ?? config.alertFile {
            if let why = alertFileProblem(f) { throw CLIError.usage("--alerts-file: \(why)") }
            out.append(try FileSink(path: f, fileMode: config.fileMode))
        }
        if let (url, origin) = try webhookURL(config: config, environment: environment) {
            let timeout = Duration.milliseconds(Int((config.webhookTimeout ?? 10) * 1000))
            do {
                out.append(try WebhookSink(urlString: url, timeout: timeout))
            } catch {
                // The sink's message shows the URL as scheme://host[:port] only.
                throw CLIError.usage("\(origin): \(error.message)")
            }
        }
        if let argv = alertCommand.map({ [$0] + alertArgs }) ?? config.alertCommand {
            let origin = alertCommand != nil ? "--alert-command" : "alerts.command"
            if let why = alertCommandProblem(argv) { throw CLIError.usage("\(origin): \(why)") }
            do {
                out.append(try CommandSink(argv: argv))
            } catch {
                throw CLIError.usage("\(origin): \(error.message)")
            }
        }
        return out
    }

    /// The webhook URL to use and where it came from, or nil for none: `--webhook`, else the config's
    /// `webhook`, else the variable named by its `webhook_env` (which must then be set), else
    /// `$DNSWATCH_WEBHOOK_URL`.
    private func webhookURL(config: Config, environment: [String: String]) throws -> (String, String)? {
        if let webhook {
            guard !webhook.isEmpty else { throw CLIError.usage("--webhook is empty: give a URL, or leave it out") }
            return (webhook, "--webhook")
        }
        if let url = config.webhook { return url.isEmpty ? nil : (url, "alerts.webhook") }
        if let name = config.webhookEnv {
            guard let url = environment[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !url.isEmpty else {
                throw CLIError.usage(
                    "the config's alerts.webhook_env names the environment variable \(name), which is unset or empty; set \(name) to the webhook URL, or remove alerts.webhook_env")
            }
            return (url, "$\(name) (alerts.webhook_env)")
        }
        if let url = environment[WebhookSink.environmentVariable], !url.isEmpty {
            return (url, "$\(WebhookSink.environmentVariable)")
        }
        return nil
    }
}

/// Parses `--since`/`--until` style times.
func epoch(_ text: String?, flag: String) throws -> Int64? {
    guard let text else { return nil }
    do {
        return try TimeSpecParser.epoch(text)
    } catch {
        throw CLIError.usage("\(flag): \(error.description)")
    }
}

/// A domain name given on the command line, read by the watchlist rules (normalised; a URL gives its
/// host); an address or anything that is not a domain name is a usage error.
func domainArgument(_ text: String) throws -> DomainName {
    switch Indicator.classify(text) {
    case .domain(let name): return name
    case .skipped(let why): throw CLIError.usage("'\(text)' is not a domain name (\(why.rawValue))")
    case .invalid(let why): throw CLIError.usage("'\(text)' is not a domain name: \(why)")
    }
}

/// A plain text table, columns padded to their widest cell (widths in characters; the last column is
/// not padded). Built in one pass into one string: Foundation's `padding(toLength:)` made 100,000 rows
/// take seconds.
func table(_ header: [String], _ rows: [[String]]) -> String {
    var widths = header.map(\.count)
    var counts = [[Int]]()
    counts.reserveCapacity(rows.count)
    // Cells hold stored text (notes, list names, fingerprint files): control characters made visible.
    // One pass: a printable ASCII cell (nearly all) is kept and measured by its bytes.
    var rows = rows
    for (r, row) in rows.enumerated() {
        var line = [Int]()
        line.reserveCapacity(row.count)
        for (i, cell) in row.enumerated() {
            let printable = cell.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F })
            let c = printable ? cell : VisibleText.escape(cell)
            if !printable { rows[r][i] = c }
            let n = printable ? c.utf8.count : c.count
            line.append(n)
            if i < widths.count { widths[i] = max(widths[i], n) }
        }
        counts.append(line)
    }
    var out = ""
    out.reserveCapacity((rows.count + 1) * (widths.reduce(0, +) + 2 * widths.count + 1))
    func append(_ cells: [String], _ lengths: [Int]) {
        for (i, c) in cells.enumerated() {
            if i > 0 { out += "  " }
            out += c
            if i < cells.count - 1, i < widths.count, lengths[i] < widths[i] {
                out += String(repeating: " ", count: widths[i] - lengths[i])
            }
        }
    }
    append(header, header.map(\.count))
    for (r, lengths) in zip(rows, counts) {
        out += "\n"
        append(r, lengths)
    }
    return out
}

func isoTime(_ t: Int64) -> String { TimeSpecParser.iso(t) }
