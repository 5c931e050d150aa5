import DNSWatchApp
import DNSWatchConfig
import ArgumentParser
import Classification
import DNSWatchModel
import Detection
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
