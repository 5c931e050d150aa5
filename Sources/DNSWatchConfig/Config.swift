import DNSWatchModel
import Foundation
import Alerting
import Classification
import Resolver
import TOMLKit

/// The optional TOML config file (`--config PATH` / `$DNSWATCH_CONFIG`). Flags override it.
/// Unknown keys and bad values are errors that name the key. See docs/config.md.
public struct Config: Sendable {
    public init() {}
    public var resolvers: [String] = []
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
    public var alertCommand: String?
    public var ownedCIDRs: [CIDR] = []
    public var ownedNameServers: [String] = []
    public var fingerprintFiles: [String] = []

    public struct Failure: Error, CustomStringConvertible {
        /// The message; control characters of quoted input are made visible (`VisibleText`).
        public let description: String

        public init(description: String) {
            self.description = VisibleText.escape(description)
        }
    }

    public static func load(path: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Config {
        guard let path = path ?? environment["DNSWATCH_CONFIG"], !path.isEmpty else { return Config() }
        guard FileManager.default.fileExists(atPath: path) else {
            throw Failure(description: "the config file \(path) does not exist")
        }
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw Failure(description: "cannot read the config file \(path): \(error.localizedDescription)")
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
        try r.section(root, "", allowed: ["resolvers", "poll", "intervals", "alerts", "owned", "fingerprints", "daemon"])
        if let s = try r.table(root, "resolvers") {
            try r.section(s, "resolvers", allowed: ["servers", "timeout", "retries", "max_in_flight", "qps"])
            c.resolvers = try r.strings(s, "resolvers.servers") ?? []
            for server in c.resolvers where (try? ResolverEndpoint(server)) == nil {
                throw r.bad("resolvers.servers", "'\(server)' is not a resolver address (HOST[:PORT] with HOST an IP address)")
            }
            c.timeout = try r.seconds(s, "resolvers.timeout")
            c.retries = try r.int(s, "resolvers.retries", min: 0)
            c.maxInFlight = try r.int(s, "resolvers.max_in_flight", min: 1)
            c.qps = try r.int(s, "resolvers.qps", min: 0)
        }
        if let s = try r.table(root, "poll") {
            try r.section(s, "poll", allowed: ["types", "asn", "batch"])
            if let names = try r.strings(s, "poll.types") {
                c.types = try names.map { n in
                    guard let t = RRType(name: n), t != .txt else { throw r.bad("poll.types", "unknown record type '\(n)'") }
                    return t
                }
            }
            c.asn = try r.bool(s, "poll.asn")
            c.batch = try r.int(s, "poll.batch", min: 1)
        }
        if let s = try r.table(root, "intervals") {
            try r.section(s, "intervals", allowed: ListKind.allCases.map(\.rawValue))
            for k in ListKind.allCases {
                if let d = try r.duration(s, "intervals.\(k.rawValue)") {
                    if let why = PollInterval.problem(d) { throw r.bad("intervals.\(k.rawValue)", why) }
                    c.intervals[k] = d
                }
            }
        }
        if let s = try r.table(root, "daemon") {
            try r.section(s, "daemon", allowed: ["tick"])
            c.tick = try r.duration(s, "daemon.tick")
        }
        if let s = try r.table(root, "alerts") {
            try r.section(s, "alerts", allowed: ["stdout", "file", "webhook", "webhook_env", "webhook_timeout", "command"])
            c.alertStdout = try r.bool(s, "alerts.stdout")
            c.alertFile = try r.string(s, "alerts.file")
            c.webhook = try r.string(s, "alerts.webhook")
            c.webhookEnv = try r.string(s, "alerts.webhook_env")
            c.webhookTimeout = try r.seconds(s, "alerts.webhook_timeout")
            c.alertCommand = try r.string(s, "alerts.command")
            // Checked here so that a bad value names its key (flags are checked where they are used).
            if let url = c.webhook {
                guard let u = URL(string: url), u.scheme == "http" || u.scheme == "https", u.host != nil else {
                    throw r.bad("alerts.webhook", "not an http(s) URL")
                }
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
        func int(_ t: TOMLTable, _ key: String, min: Int) throws -> Int? {
            guard let v = t[leaf(key)] else { return nil }
            guard let n = v.int, n >= min else { throw bad(key, "expected a whole number ≥ \(min)") }
            return n
        }
        /// A timeout: seconds as a number (0.5), or a string "500ms", "2s", "1m".
        func seconds(_ t: TOMLTable, _ key: String) throws -> Double? {
            guard let v = t[leaf(key)] else { return nil }
            if let d = v.double, d > 0, d <= Double(DurationParser.maximum) { return d }  // not inf nor nan
            if let n = v.int, n > 0, n <= DurationParser.maximum { return Double(n) }
            if let s = v.string {
                if s.hasSuffix("ms"), let ms = Double(s.dropLast(2)), ms > 0, ms <= Double(DurationParser.maximum) { return ms / 1000 }
                if let d = try? DurationParser.seconds(s), d > 0 { return Double(d) }
            }
            throw bad(key, "expected a duration such as 0.5, \"500ms\" or \"2s\"")
        }

        /// A duration: a string such as "90s", "1h", or a number of seconds.
        func duration(_ t: TOMLTable, _ key: String) throws -> Int? {
            guard let v = t[leaf(key)] else { return nil }
            if let n = v.int, n > 0, n <= DurationParser.maximum { return n }
            if let s = v.string, let d = try? DurationParser.seconds(s), d > 0 { return d }
            throw bad(key, "expected a duration such as \"30s\", \"1h\" or \"7d\"")
        }
    }
}

/// Why an alerts file cannot be used, or nil: its directory must exist.
public func alertFileProblem(_ path: String) -> String? {
    let dir = PathText.directory(of: path)
    var isDir: ObjCBool = false
    guard dir.isEmpty || (FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) && isDir.boolValue) else {
        return "the directory \(dir) does not exist"
    }
    return nil
}

/// Why an alert command cannot be run, or nil: it must parse (no shell) and its program must exist.
public func alertCommandProblem(_ command: String) -> String? {
    let argv: [String]
    do {
        argv = try CommandSink.parse(commandLine: command)
    } catch {
        return error.message
    }
    guard let program = argv.first else { return "empty command" }
    guard CommandSink.resolveExecutable(program) != nil else {
        return "'\(program)' not found\(program.contains("/") ? "" : " on PATH") or not executable"
    }
    return nil
}
