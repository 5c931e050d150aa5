public import DNSWatchModel
public import Foundation
import Alerting
public import Detection
public import Classification
import Resolver
import TOMLKit

/// The optional TOML config file (`--config PATH` / `$DNSWATCH_CONFIG`). Flags override it.
/// Unknown keys and bad values are errors that name the key. See docs/config.md.
public struct Config: Sendable {
    public init() {}
    public var resolvers: [String] = []
    /// `resolvers.system`: false refuses the fallback to /etc/resolv.conf when no resolver is given.
    public var systemResolvers: Bool?
    /// `[damping]` and `[damping.KIND]`: flap damping per kind of list (a kind not given: the defaults).
    public var damping: [ListKind: FlapDamping] = [:]
    /// `confirmation.pause`: with one resolver, the wait before asking again to confirm a change (seconds).
    public var confirmPause: Double?
    /// The longest `confirmation.pause`, in seconds.
    public static let confirmPauseRange: ClosedRange<Double> = 0...60
    public var timeout: Double?
    public var retries: Int?
    public var maxInFlight: Int?
    public var qps: Int?
    public var types: [RRType]?
    public var asn: Bool?
    public var batch: Int?
    public var intervals: [ListKind: Int] = [:]
    public var tick: Int?
    public var alertStdout: Bool?
    public var alertFile: String?
    public var webhook: String?
    public var webhookEnv: String?
    public var webhookTimeout: Double?
    /// `[alerts] command`: the program and its arguments, run without a shell.
    public var alertCommand: [String]?
    public var ownedCIDRs: [CIDR] = []
    public var ownedNameServers: [String] = []
    public var fingerprintFiles: [String] = []
    /// `warninglists = [...]`: MISP warning-list checkouts or list.json files.
    public var warningLists: [String] = []
    /// `[warninglist_actions]`: what a list does (parking, sinkhole, shared, annotate), over the shipped table.
    public var warningListActions: [String: WarningListAction] = [:]
    /// Mode of the files dnswatch creates: 0600 (default) or 0640 (a reader in the same group).
    public var fileMode: mode_t = FileModes.ownerOnly
    /// `[serve]`: where `serve` listens, the key file of `serve` and `daemon --listen`, their connection
    /// limits. Flags override each.
    public var serveListen: ListenAddress?
    public var serveAPIKeys: String?
    public var serveMaxConnections: Int?
    /// Seconds.
    public var serveIdleTimeout: Int?

    /// Connections `serve` holds at once.
    public static let serveMaxConnectionsRange: ClosedRange<Int> = 1...100_000
    /// How long `serve` keeps a connection without a request under way, in seconds.
    public static let serveIdleTimeoutRange: ClosedRange<Int> = 1...3600

    /// The file modes `file_mode` may name: owner only, or owner and group reading (`FileModes`).
    public static let fileModes: [mode_t] = FileModes.allowed

    /// Domains per poll batch.
    public static let batchRange: ClosedRange<Int> = 1...100_000
    /// How often the daemon looks for due domains, in seconds.
    public static let tickRange: ClosedRange<Int> = 1...86_400
    /// The longest one webhook delivery may take, in seconds.
    public static let webhookTimeoutRange: ClosedRange<Double> = 0.001...300

    public struct Failure: Error, CustomStringConvertible {
        /// The message; control characters of quoted input are made visible (`VisibleText`).
        public let description: String

        public init(description: String) {
            self.description = VisibleText.escape(description)
        }
    }

    public static func load(path: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Config {
        guard let path = path ?? environment["DNSWATCH_CONFIG"], !path.isEmpty else { return Config() }
        let text: String
        do {
            text = String(decoding: try RegularFile.read(path), as: UTF8.self)
        } catch {
            throw Failure(description: error.reason == "no such file" ? "the config file \(path) does not exist"
                          : "the config file \(path) cannot be read: \(error.reason)")
        }
        return try parse(text, path: path)
    }

    public static func parse(_ text: String, path: String) throws -> Config {
        if let (line, why) = TOMLPreCheck.problem(in: text) { throw Failure(description: "\(path):\(line): \(why)") }
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let e as TOMLParseError {
            throw Failure(description: "\(path):\(e.source.begin.line): \(e.description)")
        }
        let root = table
        let r = Reader(path: path)
        var c = Config()
        try r.section(root, "", allowed: ["resolvers", "poll", "intervals", "alerts", "owned", "fingerprints", "daemon", "file_mode",
                                          "warninglists", "warninglist_actions", "serve", "damping", "confirmation"])
        if let v = root["file_mode"] {
            let mode: mode_t? = v.string.flatMap { mode_t($0, radix: 8) } ?? v.int.map { mode_t(truncatingIfNeeded: $0) }
            guard let mode, Config.fileModes.contains(mode) else { throw r.bad("file_mode", "expected \"0600\" or \"0640\"") }
            c.fileMode = mode
        }
        if let s = try r.table(root, "resolvers") {
            try r.section(s, "resolvers", allowed: ["servers", "timeout", "retries", "max_in_flight", "qps", "system"])
            c.systemResolvers = try r.bool(s, "resolvers.system")
            if let servers = try r.strings(s, "resolvers.servers") {
                // An empty list never falls back to /etc/resolv.conf silently: leaving the key out does.
                guard !servers.isEmpty else {
                    throw r.bad("resolvers.servers", "empty: list at least one resolver, or remove the key to use /etc/resolv.conf")
                }
                for server in servers {
                    do { _ = try ResolverEndpoint(server) } catch { throw r.bad("resolvers.servers", error.description) }
                }
                c.resolvers = servers
            }
            c.timeout = try r.seconds(s, "resolvers.timeout", in: ResolverOptions.Limits.timeout)
            c.retries = try r.int(s, "resolvers.retries", in: ResolverOptions.Limits.retries)
            c.maxInFlight = try r.int(s, "resolvers.max_in_flight", in: ResolverOptions.Limits.maxInFlight)
            c.qps = try r.int(s, "resolvers.qps", in: ResolverOptions.Limits.qps)
        }
        if let s = try r.table(root, "poll") {
            try r.section(s, "poll", allowed: ["types", "asn", "batch"])
            if let names = try r.strings(s, "poll.types") {
                guard !names.isEmpty else { throw r.bad("poll.types", "empty: list at least one of A, AAAA, NS, or remove the key") }
                c.types = try names.map { n in
                    guard let t = RRType(name: n), t != .txt else { throw r.bad("poll.types", "unknown record type '\(n)'") }
                    return t
                }
            }
            c.asn = try r.bool(s, "poll.asn")
            c.batch = try r.int(s, "poll.batch", in: Config.batchRange)
        }
        if let s = try r.table(root, "intervals") {
            try r.section(s, "intervals", allowed: ListKind.allCases.map(\.rawValue))
            for k in ListKind.allCases {
                if let d = try r.duration(s, "intervals.\(k.rawValue)", in: 0...Int.max) {
                    if let why = PollInterval.problem(d) { throw r.bad("intervals.\(k.rawValue)", why) }
                    c.intervals[k] = d
                }
            }
        }
        if let s = try r.table(root, "damping") {
            let figures = ["penalty", "suppress", "reuse", "half_life", "max_suppress"]
            try r.section(s, "damping", allowed: figures + ListKind.allCases.map(\.rawValue))
            let all = try r.damping(s, "damping", over: .defaults)
            for k in ListKind.allCases {
                if let t = try r.table(s, k.rawValue) {
                    try r.section(t, "damping.\(k.rawValue)", allowed: figures)
                    c.damping[k] = try r.damping(t, "damping.\(k.rawValue)", over: all)
                } else {
                    c.damping[k] = all
                }
            }
        }
        if let s = try r.table(root, "confirmation") {
            try r.section(s, "confirmation", allowed: ["pause"])
            c.confirmPause = try r.seconds(s, "confirmation.pause", in: Config.confirmPauseRange)
        }
        if let s = try r.table(root, "daemon") {
            try r.section(s, "daemon", allowed: ["tick"])
            c.tick = try r.duration(s, "daemon.tick", in: Config.tickRange)
        }
        if let s = try r.table(root, "serve") {
            try r.section(s, "serve", allowed: ["listen", "api_keys", "max_connections", "idle_timeout"])
            if let text = try r.string(s, "serve.listen") {
                do { c.serveListen = try ListenAddress(text) } catch { throw r.bad("serve.listen", error.description) }
            }
            if let keys = try r.string(s, "serve.api_keys") {
                guard !keys.isEmpty else { throw r.bad("serve.api_keys", "empty: name a key file, or remove the key") }
                c.serveAPIKeys = keys
            }
            c.serveMaxConnections = try r.int(s, "serve.max_connections", in: Config.serveMaxConnectionsRange)
            c.serveIdleTimeout = try r.duration(s, "serve.idle_timeout", in: Config.serveIdleTimeoutRange)
        }
        if let s = try r.table(root, "alerts") {
            try r.section(s, "alerts", allowed: ["stdout", "file", "webhook", "webhook_env", "webhook_timeout", "command"])
            c.alertStdout = try r.bool(s, "alerts.stdout")
            c.alertFile = try r.string(s, "alerts.file")
            c.webhook = try r.string(s, "alerts.webhook")
            c.webhookEnv = try r.string(s, "alerts.webhook_env")
            if c.webhook != nil, c.webhookEnv != nil {
                throw r.bad("alerts.webhook_env", "give either alerts.webhook or alerts.webhook_env, not both")
            }
            if let name = c.webhookEnv, name.isEmpty || !name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) {
                throw r.bad("alerts.webhook_env", "'\(name)' is not an environment variable name (letters, digits and _)")
            }
            c.webhookTimeout = try r.seconds(s, "alerts.webhook_timeout", in: Config.webhookTimeoutRange)
            if s["command"]?.string != nil {
                throw r.bad("alerts.command", "expected an array of strings, the program and its arguments, such as [\"notify-soc\", \"--json\"]; a string is not split into words (commands run without a shell)")
            }
            c.alertCommand = try r.strings(s, "alerts.command")
            // Checked here so that a bad value names its key (flags are checked where they are used).
            if let url = c.webhook {
                guard let u = URL(string: url), u.scheme == "http" || u.scheme == "https", u.host != nil else {
                    throw r.bad("alerts.webhook", "\(WebhookSink.redacted(url)) is not an http(s) URL with a host")
                }
            }
            if let name = c.webhookEnv, name.isEmpty || name.contains("=") || name.contains("\0") {
                throw r.bad("alerts.webhook_env", "expected the name of an environment variable")
            }
            if let file = c.alertFile, let why = alertFileProblem(file) { throw r.bad("alerts.file", why) }
            if let command = c.alertCommand, let why = alertCommandProblem(command) { throw r.bad("alerts.command", why) }
        }
        if let s = try r.table(root, "owned") {
            try r.section(s, "owned", allowed: ["cidrs", "nameservers"])
            c.ownedCIDRs = try (r.strings(s, "owned.cidrs") ?? []).map { v in
                guard let cidr = CIDR(v) else { throw r.bad("owned.cidrs", "'\(v)' is not an address or CIDR") }
                return cidr
            }
            c.ownedNameServers = try r.strings(s, "owned.nameservers") ?? []
            if let bad = OwnedInfrastructure(nameServers: c.ownedNameServers).invalidNameServers.first {
                throw r.bad("owned.nameservers", "'\(bad.pattern)': \(bad.reason)")
            }
        }
        if let s = try r.table(root, "fingerprints") {
            try r.section(s, "fingerprints", allowed: ["files"])
            c.fingerprintFiles = try r.strings(s, "fingerprints.files") ?? []
            for file in c.fingerprintFiles where !FileManager.default.isReadableFile(atPath: file) {
                throw r.bad("fingerprints.files", "cannot read \(file)")
            }
        }
        c.warningLists = try r.strings(root, "warninglists") ?? []
        if let s = try r.table(root, "warninglist_actions") {
            for key in s.keys.sorted() {
                guard let text = try r.string(s, "warninglist_actions.\(key)"), let action = WarningListAction(rawValue: text) else {
                    throw r.bad("warninglist_actions.\(key)",
                                "expected one of " + WarningListAction.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))
                }
                c.warningListActions[key] = action
            }
        }
        return c
    }

    /// Typed access to the TOML document, with errors naming the key.
    private struct Reader {
        let path: String

        func bad(_ key: String, _ why: String) -> Failure { Failure(description: "\(path): \(key): \(why)") }

        func section(_ t: TOMLTable, _ name: String, allowed: [String]) throws {
            for key in t.keys.sorted() where !allowed.contains(key) {
                throw Failure(description: "\(path): unknown key '\(name.isEmpty ? key : name + "." + key)'")
            }
        }
        private func leaf(_ key: String) -> String { String(key.split(separator: ".").last ?? "") }
        func table(_ t: TOMLTable, _ key: String) throws -> TOMLTable? {
            guard let v = t[key] else { return nil }
            guard let d = v.table else { throw bad(key, "expected a table") }
            return d
        }
        func string(_ t: TOMLTable, _ key: String) throws -> String? {
            guard let v = t[leaf(key)] else { return nil }
            guard let s = v.string else { throw bad(key, "expected a string") }
            return s
        }
        func strings(_ t: TOMLTable, _ key: String) throws -> [String]? {
            guard let v = t[leaf(key)] else { return nil }
            guard let a = v.array else { throw bad(key, "expected an array of strings") }
            return try a.map { e in
                guard let s = e.string else { throw bad(key, "expected an array of strings") }
                return s
            }
        }
        func bool(_ t: TOMLTable, _ key: String) throws -> Bool? {
            guard let v = t[leaf(key)] else { return nil }
            guard let b = v.bool else { throw bad(key, "expected true or false") }
            return b
        }
        func int(_ t: TOMLTable, _ key: String, in range: ClosedRange<Int>) throws -> Int? {
            guard let v = t[leaf(key)] else { return nil }
            guard let n = v.int, range.contains(n) else {
                throw bad(key, "expected a whole number from \(range.lowerBound) to \(range.upperBound)")
            }
            return n
        }
        /// A timeout: seconds as a number (0.5), or a string "500ms", "2s", "1m", within `range`.
        func seconds(_ t: TOMLTable, _ key: String, in range: ClosedRange<Double>) throws -> Double? {
            guard let v = t[leaf(key)] else { return nil }
            var value: Double?
            if let d = v.double { value = d }
            else if let n = v.int { value = Double(n) }
            else if let s = v.string {
                do { value = try DurationParser.timeoutSeconds(s) } catch { throw bad(key, error.description) }
            }
            guard let value else { throw bad(key, "expected a duration such as 0.5, \"500ms\" or \"2s\"") }
            guard range.contains(value) else {
                throw bad(key, "\(value) s is out of range (\(range.lowerBound) s to \(range.upperBound) s)")
            }
            return value
        }

        /// The flap-damping figures of table `t` (named `name`) over `base`.
        func damping(_ t: TOMLTable, _ name: String, over base: FlapDamping) throws -> FlapDamping {
            var d = base
            let figure = 1...1_000_000
            if let v = try int(t, "\(name).penalty", in: figure) { d.penalty = Double(v) }
            if let v = try int(t, "\(name).suppress", in: figure) { d.suppress = Double(v) }
            if let v = try int(t, "\(name).reuse", in: figure) { d.reuse = Double(v) }
            if let v = try duration(t, "\(name).half_life", in: 60...30 * 86400) { d.halfLife = Int64(v) }
            if let v = try duration(t, "\(name).max_suppress", in: 60...30 * 86400) { d.maxSuppress = Int64(v) }
            if let why = d.problem { throw bad(name, why) }
            return d
        }

        /// A duration: a string such as "90s", "1h", or a number of seconds, within `range`.
        func duration(_ t: TOMLTable, _ key: String, in range: ClosedRange<Int>) throws -> Int? {
            guard let v = t[leaf(key)] else { return nil }
            var value: Int?
            if let n = v.int { value = n }
            else if let s = v.string {
                do { value = try DurationParser.seconds(s) } catch { throw bad(key, error.description) }
            }
            guard let value else { throw bad(key, "expected a duration such as \"30s\", \"1h\" or \"7d\"") }
            guard range.contains(value) else {
                throw bad(key, "out of range (\(DurationParser.format(range.lowerBound)) to \(DurationParser.format(range.upperBound)))")
            }
            return value
        }
    }
}

/// Why an alerts file cannot be used, or nil: its directory must exist, and the file, if it exists,
/// must be a regular file (not a FIFO, device or symbolic link).
public func alertFileProblem(_ path: String) -> String? {
    FileSink.problem(path: path)
}

/// Why an alert command cannot be run, or nil: it must not be empty and its program must exist.
public func alertCommandProblem(_ argv: [String]) -> String? {
    CommandSink.problem(argv: argv)
}
