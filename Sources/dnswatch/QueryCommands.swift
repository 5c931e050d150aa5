import DNSWatchApp
import DNSWatchConfig
public import ArgumentParser
import Classification
import DNSWatchModel
public import Detection
import Foundation
import Store
import Investigation
import Logging
import Poller
import Resolver
import Watchlists

struct History: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show what a domain resolved to, and when (oldest first).",
        discussion: "--json writes one object a span with passive-DNS Common Output Format names: rrname, rrtype, rdata, time_first, time_last, count, plus status, class, provider and source (null for dnswatch's own polls, else the source of an imported record).")

    @OptionGroup var store: StoreOptions
    @Argument(help: "Domain name.") var domain: String
    @Option(name: .customLong("type"), help: "Only this record type (A, AAAA, NS, CNAME).") var type: String?
    @Option(help: "Only spans seen at or after TIME (ISO 8601, or 90m / 36h / 7d ago).") var since: String?
    @Option(help: "Only spans seen at or before TIME.") var until: String?
    @Option(help: "Only the spans of one source: 'polled' (dnswatch's own polls) or the name of an imported source.") var source: String?
    @Flag(help: "One JSON object a span (NDJSON).") var json = false

    func validate() throws {
        do {
            _ = try type.map { try RRType.historyType($0) }
        } catch {
            throw ValidationError("--type: \(error)")
        }
    }

    func run() async throws {
        try await reporting {
            let name = try domainArgument(domain)
            let s = try epoch(since, flag: "--since"), u = try epoch(until, flag: "--until")
            let t: RRType?
            do { t = try type.map { try RRType.historyType($0) } } catch { throw CLIError.usage("--type: \(error)") }
            let filter = source.map(SourceFilter.init)
            let spans = try await store.reading("dnswatch.history") {
                try await $0.history.history(domain: name.value, type: t, since: s, until: u, source: filter)
            }
            guard !spans.isEmpty else {
                let windowed = s != nil || u != nil || type != nil || source != nil
                warn("dnswatch: no history for \(name.value)\(windowed ? " in that window, type or source" : "")")
                return
            }
            if json {
                for sp in spans { print(try JSONLine.encode(HistoryLine(sp))) }
            } else {
                print(table(["FIRST SEEN", "LAST SEEN", "COUNT", "TYPE", "ANSWER", "STATUS", "CLASS", "SOURCE"], spans.map { sp in
                    let cls = sp.class.map { c in sp.provider.map { "\(c.rawValue) (\($0))" } ?? c.rawValue } ?? "-"
                    return [isoTime(sp.timeFirst), isoTime(sp.timeLast), String(sp.count), sp.rrtype.rawValue,
                            sp.rdata.isEmpty ? "-" : sp.rdata.joined(separator: ", "), sp.status.rawValue, cls, SourceName.of(sp.source)]
                }))
            }
        }
    }
}

struct Alerts: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List raised alerts (oldest first).")

    @OptionGroup var store: StoreOptions
    @Option(help: "Only alerts raised at or after TIME (ISO 8601, or 90m / 36h / 7d ago).") var since: String?
    @Option(help: "Minimum severity: info, low, medium, high, critical.") var severity: Severity?
    @Flag(help: "One JSON object a line.") var json = false

    func run() async throws {
        try await reporting {
            // A stored value this version does not know is an error (exit 1), never shown as if it were fine.
            let from = try epoch(since, flag: "--since")
            let alerts = try await store.reading("dnswatch.alerts") { try await $0.history.knownAlerts(since: from, severity: severity) }
            if json {
                for a in alerts { print(a.payload) }
                return
            }
            if alerts.isEmpty {
                warn("dnswatch: no alerts")
            } else {
                print(table(["TIME", "SEVERITY", "TYPE", "DOMAIN", "LIST", "MESSAGE"], alerts.map { a in
                    [isoTime(a.time), a.severity, a.type, a.domain, a.list, a.message]
                }))
            }
        }
    }
}

extension Severity: ExpressibleByArgument {
    public init?(argument: String) {
        do { self = try Severity.named(argument) } catch { return nil }
    }
}

/// Origin ASN for addresses: the cache, and with --resolver a lookup of what is missing (saved to the cache).
struct ASNSource {
    let lookup: OriginLookup

    func asn(for addresses: [IPAddress]) async throws -> [String: Int] {
        try await lookup.lookUp(addresses.map(\.description), now: Int64(Date().timeIntervalSince1970)).entries.compactMapValues(\.asn)
    }
}

/// Flags of the investigation commands: the store, classification, and optional resolvers for missing ASNs.
struct LookupFlags: ParsableArguments {
    @OptionGroup var store: StoreOptions
    @OptionGroup var config: ConfigOptions
    @OptionGroup var fingerprints: FingerprintFlags
    @Option(name: .customLong("resolver"), help: "Look up missing origin ASNs through this resolver HOST[:PORT] (repeatable).")
    var resolvers: [String] = []

    /// Runs `body` with the investigator of the store `--db` names (never migrated by this reader; with
    /// `--resolver`, origin ASNs missing from the cache are looked up and saved to it).
    func withInvestigator<T: Sendable>(_ body: (Investigator) async throws -> T) async throws -> T {
        try await withStores { opened, classifier, source in
            try await body(Investigator(store: opened.reading, classifier: classifier, asns: { try await source.asn(for: $0) },
                                        resolvesASNs: !resolvers.isEmpty))
        }
    }

    /// Runs `body` with the opened store (its note, for a database not created yet, on stderr first), the
    /// classifier and the origin-ASN source.
    func withStores<T: Sendable>(_ body: (Investigating, Classifier, ASNSource) async throws -> T) async throws -> T {
        let config = try config.load()
        let database = try store.database()
        let resolver = try asnResolver(config)
        return try await database.investigating(logger: Logger(label: "dnswatch.investigation"), cache: !resolvers.isEmpty) { opened in
            if let note = opened.note { warn("dnswatch: \(note)") }
            let source = ASNSource(lookup: OriginLookup(store: opened.asnCache, engine: resolver))
            return try await body(opened, try fingerprints.classifier(config: config), source)
        }
    }

    /// The resolver of `--resolver` for origin-ASN lookups (none without it).
    private func asnResolver(_ config: Config) throws -> DNSResolver? {
        guard !resolvers.isEmpty else { return nil }
        let endpoints = try resolverEndpoints(resolvers)
        var o = ResolverOptions()
        if let t = config.timeout { o.timeout = t }
        return try DNSResolver(endpoints: endpoints, options: o)
    }
}

struct IP: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ip", abstract: "Domains that have resolved into an address or CIDR (watched ones, and imported records'), with when.")

    @OptionGroup var lookup: LookupFlags
    @Argument(help: "IP address or CIDR.") var address: String
    @Flag(help: "One JSON object a line.") var json = false

    func validate() throws {
        guard CIDR(address) != nil else { throw ValidationError("'\(address)' is not an IP address or CIDR") }
    }

    func run() async throws {
        try await reporting {
            guard let block = CIDR(address)?.unmapped else { throw CLIError.usage("'\(address)' is not an IP address or CIDR") }
            try await lookup.withInvestigator { investigator in try await show(block, investigator) }
        }
    }

    private func show(_ block: CIDR, _ investigator: Investigator) async throws {
        let lines = try await investigator.addresses(in: block)
        let single = block.prefixLength == block.network.bytes.count * 8 ? [block.network] : []
        if json {
            for l in lines { print(try JSONLine.encode(l)) }
        } else if lines.isEmpty {
            if let ip = single.first {
                let v = investigator.classifier.classify(address: ip, asn: try await investigator.asns([ip])[ip.description])
                warn("dnswatch: no watched domain has resolved into \(address) (\(v.class.rawValue)\(v.provider.map { ", \($0)" } ?? ""))")
            } else {
                warn("dnswatch: no watched domain has resolved into \(address)")
            }
        } else {
            print(table(["DOMAIN", "ADDRESS", "FIRST SEEN", "LAST SEEN", "NOW", "CLASS", "ASN", "LISTS", "SOURCE"], lines.map { l in
                [l.domain, l.address, isoTime(l.time_first), isoTime(l.time_last), l.current ? "yes" : "no",
                 l.provider.map { "\(l.class) (\($0))" } ?? l.class, l.asn.map { "AS\($0)" } ?? "-",
                 l.lists.isEmpty ? "-" : l.lists.joined(separator: ","), l.sources.joined(separator: ",")]
            }))
        }
    }
}

struct Classify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Classify IP addresses or name-server names with the fingerprints (offline; cached ASNs).")

    @OptionGroup var lookup: LookupFlags
    @Argument(help: "IP addresses or name-server names.") var values: [String]
    @Flag(help: "One JSON object a line.") var json = false

    struct Line: Encodable, Sendable {
        let value: String, `class`: String
        @NullEncoded var provider: String?
        /// The finer kind of match: parking | marketplace | placeholder, sinkhole | seizure, regdefault.
        @NullEncoded var subtype: String?
        let reason: String
        /// The warning lists that match the value (absent when none does).
        var warninglists: [WarningListHit]?
    }

    func run() async throws {
        try await reporting {
            let lines = try await lookup.withStores { _, classifier, asnSource in
                let ips = values.compactMap(IPAddress.init)
                let asns = try await asnSource.asn(for: ips)
                var lines: [Line] = []
                for v in values {
                    let verdict: Verdict
                    if let ip = IPAddress(v) {
                        verdict = classifier.classify(address: ip, asn: asns[ip.description])
                    } else {
                        // A name server, else a CNAME target (parking services' CNAME fingerprints).
                        verdict = classifier.classify(value: try domainArgument(v).value, asn: nil)
                    }
                    lines.append(Line(value: v, class: verdict.class.rawValue, provider: verdict.provider, subtype: verdict.subtype,
                                      reason: verdict.reason, warninglists: verdict.warninglists))
                }
                return lines
            }
            if json {
                for l in lines { print(try JSONLine.encode(l)) }
            } else {
                print(table(["VALUE", "CLASS", "PROVIDER", "REASON"], lines.map { l in
                    [l.value, l.subtype.map { "\(l.class) (\($0))" } ?? l.class, l.provider ?? "-", l.reason]
                }))
            }
        }
    }
}

struct TriageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "triage",
        abstract: "Is this IoC address (or prefix, or domain) just parking, and which of our domains are on it? Or every indicator of a feed (--file).",
        discussion: """
            With --file, every distinct value (address, prefix, domain; a URL or host:port gives its host) of the feeds, \
            read as watchlists are, gets one verdict, in the order of first appearance, with the indicator and line \
            it was first met on; a summary goes to stderr. An invalid line refuses the feed (exit 65) unless --skip-invalid.
            """)

    @OptionGroup var lookup: LookupFlags
    @Argument(help: "IP address, CIDR prefix or domain name (none with --file).") var query: String?
    @Option(name: .customLong("file"), parsing: .upToNextOption, help: "Triage every indicator of these feeds ('-': standard input).")
    var files: [String] = []
    @Flag(help: "JSON: query, class, provider, asn, fan_in, domains, verdict, reason (a feed: one object a line, with indicator and line).") var json = false
    @Flag(help: "With --file: CSV, a header row then indicator,line,query,class,provider,asn,fan_in,verdict,reason.") var csv = false
    @Option(help: "Judge as of TIME (the IoC hit's: ISO 8601, epoch seconds, or 90m / 36h / 7d ago), with the spans that held then.")
    var at: String?
    @Option(help: "List at most N domains per verdict (the fan-in still counts all).") var limit: Int?
    @Flag(name: .customLong("skip-invalid"), help: "With --file: skip invalid lines instead of refusing the feed.") var skipInvalid = false
    @Option(name: .customLong("batch"), help: ArgumentHelp("Values triaged per read of the database (--file).", visibility: .hidden))
    var batch = 500

    func validate() throws {
        if json && csv { throw ValidationError("--json and --csv exclude each other") }
        if files.isEmpty {
            guard query != nil else { throw ValidationError("give an IP address, prefix or domain, or --file FEED") }
            if csv { throw ValidationError("--csv needs --file") }
            if skipInvalid { throw ValidationError("--skip-invalid needs --file") }
        } else if query != nil {
            throw ValidationError("give either a value or --file, not both")
        }
        if let limit, limit < 0 { throw ValidationError("--limit: \(limit) is negative") }
        if !(1...10_000).contains(batch) { throw ValidationError("--batch: \(batch) is out of range (1 to 10000)") }
    }

    func run() async throws {
        try await reporting {
            let at = try epoch(self.at, flag: "--at")
            guard let query else { return try await triageFeeds(at: at) }
            let value: IndicatorValue
            switch FeedIndicator.classify(query) {
            case .value(let v): value = v
            case .skipped(let why): throw CLIError.usage("'\(query)' is not an address, prefix or domain name (\(why.rawValue))")
            case .invalid(let why): throw CLIError.usage("'\(query)' is not an address, prefix or domain name: \(why)")
            }
            let report = try await lookup.withInvestigator { try await $0.triage(value, at: at, limit: limit) }
            if json {
                print(try JSONLine.encode(TriageOutput(report)))
            } else {
                var cls = report.class.rawValue
                if let p = report.provider { cls += " (\(p))" }
                print("\(report.query): \(cls)\(report.asn.map { ", AS\($0)" } ?? ""), fan-in \(report.fanIn)")
                print("verdict: \(report.verdict.rawValue) — \(report.reason)")
                if !report.domains.isEmpty {
                    print(table(["DOMAIN", "LISTS", "ADDRESSES", "FIRST SEEN", "LAST SEEN", "NOW", "CLASS THEN", "SOURCES"], report.domains.map {
                        [$0.domain, $0.lists.isEmpty ? "-" : $0.lists.joined(separator: ",") + ($0.watched ? "" : " (removed)"),
                         $0.addresses.joined(separator: ","), isoTime($0.time_first), isoTime($0.time_last), $0.current ? "yes" : "no",
                         $0.class ?? "-", $0.sources.joined(separator: ",")]
                    }))
                }
            }
        }
    }

    /// `--file`: the feeds read in chunks, triaged a batch of distinct values at a time (one read of the
    /// database each), each batch written as soon as it is done.
    private func triageFeeds(at: Int64?) async throws {
        let started = Date()
        // Regular files are checked first, so that an invalid line refuses the feed before anything is written;
        // standard input is read once (an invalid line there stops the triage where it is).
        if !skipInvalid, !files.contains("-") {
            let check = FeedReader(paths: files, distinct: false)
            while try await offPool({ try check.next(10_000) }).count > 0 {}
            try refuseInvalid(check.tally)
        }
        try await lookup.withInvestigator { investigator in try await triageFeeds(investigator, at: at, started: started) }
    }

    /// The feeds' triage with the store open (`investigator`), the summary on stderr.
    private func triageFeeds(_ investigator: Investigator, at: Int64?, started: Date) async throws {
        // Without --skip-invalid the first invalid line ends the reading (standard input may be endless garbage).
        let reader = FeedReader(paths: files, stopAtInvalid: !skipInvalid)
        let several = files.count > 1
        var verdicts: [String: Int] = [:], classes: [String: Int] = [:]
        // Written straight to the file descriptor, a batch at a time (not through print's buffer).
        let stdout = FileHandle.standardOutput
        if csv { stdout.write(Data((FeedTriageLine.csvRecord(FeedTriageLine.csvHeader + (several ? ["file"] : [])) + "\n").utf8)) }
        if !json && !csv { stdout.write(Data((FeedTable.row(FeedTable.header) + "\n").utf8)) }
        while true {
            let entries = try await offPool { try reader.next(batch) }
            if !skipInvalid { try refuseInvalid(reader.tally) }
            if entries.isEmpty { break }
            let reports = try await investigator.triage(entries.map(\.value), at: at, limit: limit)
            var out = ""
            for (entry, report) in zip(entries, reports) {
                verdicts[report.verdict.rawValue, default: 0] += 1
                classes[report.class.rawValue, default: 0] += 1
                let line = FeedTriageLine(TriageOutput(report), indicator: entry.text, line: entry.line, file: several ? entry.path : nil)
                if json {
                    out += try JSONLine.encode(line)
                } else if csv {
                    // A spreadsheet shows a cell's invisible characters' effects (U+202E reverses the text): they are written visible.
                    out += FeedTriageLine.csvRecord(line.csvCells.map { VisibleText.escape($0) })
                } else {
                    out += FeedTable.row(FeedTable.cells(line))
                }
                out += "\n"
            }
            stdout.write(Data(out.utf8))
        }
        let t = reader.tally
        for line in t.invalid { warn(line.description) }
        if t.invalidCount > t.invalid.count { warn("… and \(t.invalidCount - t.invalid.count) more invalid lines") }
        func counts(_ d: [String: Int]) -> String {
            d.isEmpty ? "none" : d.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        }
        let skipped = t.skipped.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue) \($0.value)" }
        var summary = "dnswatch: triaged \(t.values) distinct values from \(t.indicators) indicators (\(t.duplicates) duplicates"
        summary += skipped.isEmpty ? ", skipped none" : ", skipped " + skipped.joined(separator: ", ")
        if t.invalidCount > 0 { summary += ", invalid skipped \(t.invalidCount)" }
        summary += String(format: ") in %.2f s", Date().timeIntervalSince(started))
        warn(summary)
        warn("verdicts: \(counts(verdicts))")
        warn("classes: \(counts(classes))")
    }

    private func refuseInvalid(_ tally: FeedTally) throws {
        guard tally.invalidCount > 0 else { return }
        for line in tally.invalid { warn(line.description) }
        if tally.invalidCount > tally.invalid.count { warn("… and \(tally.invalidCount - tally.invalid.count) more invalid lines") }
        let n = tally.invalidCount
        throw CLIError.badInput("\(n) invalid line\(n == 1 ? "" : "s"): triage refused (use --skip-invalid to triage the rest)")
    }
}

/// The readable table of `triage --file`, written a batch at a time: fixed column widths (a wider cell
/// pushes its row's later cells along), so rows written apart still line up.
enum FeedTable {
    static let header = ["LINE", "INDICATOR", "VALUE", "CLASS", "ASN", "FAN-IN", "VERDICT", "REASON"]
    static let widths = [6, 34, 24, 22, 9, 6, 21]

    static func cells(_ l: FeedTriageLine) -> [String] {
        let t = l.triage
        return [(l.file.map { "\($0):" } ?? "") + String(l.line), l.indicator, t.query, t.provider.map { "\(t.class) (\($0))" } ?? t.class,
                t.asn.map { "AS\($0)" } ?? "-", String(t.fan_in), t.verdict, t.reason]
    }

    static func row(_ cells: [String]) -> String {
        var out = ""
        for (i, raw) in cells.enumerated() {
            let c = VisibleText.escape(raw)
            if i > 0 { out += "  " }
            out += c
            if i < widths.count, c.count < widths[i] { out += String(repeating: " ", count: widths[i] - c.count) }
        }
        return out
    }
}

/// Runs a blocking call (a read of a file or of standard input) on a thread of its own, off the cooperative pool.
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result(catching: body)) }
    }
}

struct Providers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the loaded provider fingerprints and where they come from.")
    @OptionGroup var config: ConfigOptions
    @OptionGroup var fingerprints: FingerprintFlags
    @Flag(help: "One JSON object a line.") var json = false

    struct Line: Encodable {
        let provider: String, kind: String, value: String, category: String, source: String, origin: String
    }

    /// One loaded warning list (after the fingerprint lines).
    struct ListLine: Encodable {
        let warninglist: String, title: String, description: String, version: String, type: String
        let entries: Int, unusable: Int, applies: Bool, action: String, path: String
    }

    func run() async throws {
        try await reporting {
            let cfg = try config.load()
            let set = try fingerprints.load(config: cfg)
            let lists = try fingerprints.warningLists(config: cfg)
            let listLines = (lists?.lists.enumerated()).map { all in
                all.map { id, l in
                    ListLine(warninglist: l.name, title: l.title, description: l.description, version: l.version, type: l.type,
                             entries: l.entries, unusable: l.unusable, applies: l.applies,
                             action: lists?.action(ofList: id).rawValue ?? WarningListAction.annotate.rawValue, path: l.path)
                }
            } ?? []
            if json {
                // Entries are in the order of their origins (the shipped file, then the user's files).
                let originOf = set.origins.flatMap { Array(repeating: $0.origin, count: $0.count) }
                for (f, origin) in zip(set.entries, originOf) {
                    print(try JSONLine.encode(Line(provider: f.provider, kind: f.kind.rawValue, value: f.value, category: f.category.rawValue,
                                            source: f.source, origin: origin)))
                }
                for l in listLines { print(try JSONLine.encode(l)) }
            } else {
                for o in set.origins { print("# \(o.origin): \(o.count) entries") }
                print("# fingerprint version \(set.version)")
                print(table(["PROVIDER", "CATEGORY", "KIND", "VALUE", "SOURCE"], set.entries.map {
                    [$0.provider, $0.category.rawValue, $0.kind.rawValue, $0.value, $0.source]
                }))
                if !listLines.isEmpty {
                    print("")
                    print(table(["WARNING LIST", "ACTION", "TYPE", "ENTRIES", "VERSION", "DESCRIPTION"], listLines.map {
                        [$0.warninglist, $0.applies ? $0.action : "(not applicable)", $0.type, "\($0.entries)", $0.version, $0.description]
                    }))
                }
            }
        }
    }
}

struct Reclassify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Re-derive stored classes from the raw answers after the fingerprint data changed (no alerts).")
    @OptionGroup var store: StoreOptions
    @OptionGroup var config: ConfigOptions
    @OptionGroup var fingerprints: FingerprintFlags
    @Flag(help: "Wait for a poll on this database to end instead of exiting.") var wait = false

    func run() async throws {
        try await reporting {
            let cfg = try config.load()
            let classifier = try fingerprints.classifier(config: cfg)
            // SQLite: under the poll lock (a reclassification must not interleave with a poll's batches).
            let r = try await store.database().polling(logger: Logger(label: "dnswatch.reclassify"), fileMode: cfg.fileMode, wait: wait) { session in
                try await Reclassifier(store: session.reclassify, holding: session.lock, classifier: classifier).run()
            }
            print("spans \(r.spans), current spans reclassified \(r.changedSpans), domain states changed \(r.changedStates)")
        }
    }
}
