import DNSWatchConfig
public import ArgumentParser
import Classification
import DNSWatchModel
public import Detection
import Foundation
import HistoryStore
import Investigation
import Poller
import Resolver

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
            let spans = try await store.openForReading().history(domain: name.value, type: t, since: s, until: u,
                                                                   source: source.map(SourceFilter.init))
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
            let alerts = try await store.openForReading().knownAlerts(since: try epoch(since, flag: "--since"), severity: severity)
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

    /// The store, the classifier and the origin-ASN source, as one `Investigator`.
    func investigator() throws -> Investigator {
        let (store, classifier, source) = try setup()
        return Investigator(store: store, classifier: classifier, asns: { try await source.asn(for: $0) })
    }

    func setup() throws -> (HistoryStore, Classifier, ASNSource) {
        let config = try config.load()
        let store = try store.openForReading(cache: !resolvers.isEmpty)
        var resolver: DNSResolver? = nil
        if !resolvers.isEmpty {
            let endpoints = try resolverEndpoints(resolvers)
            var o = ResolverOptions()
            if let t = config.timeout { o.timeout = t }
            resolver = try DNSResolver(endpoints: endpoints, options: o)
        }
        return (store, try fingerprints.classifier(config: config), ASNSource(lookup: OriginLookup(store: store, engine: resolver)))
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
            let investigator = try lookup.investigator()
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
}

struct Classify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Classify IP addresses or name-server names with the fingerprints (offline; cached ASNs).")

    @OptionGroup var lookup: LookupFlags
    @Argument(help: "IP addresses or name-server names.") var values: [String]
    @Flag(help: "One JSON object a line.") var json = false

    struct Line: Encodable {
        let value: String, `class`: String
        @NullEncoded var provider: String?
        /// The finer kind of match: parking | marketplace | placeholder, sinkhole | seizure, regdefault.
        @NullEncoded var subtype: String?
        let reason: String
    }

    func run() async throws {
        try await reporting {
            let (_, classifier, asnSource) = try lookup.setup()
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
                                  reason: verdict.reason))
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
        abstract: "Is this IoC address (or domain) just parking, and which of our domains are on it?")

    @OptionGroup var lookup: LookupFlags
    @Argument(help: "IP address or domain name.") var query: String
    @Flag(help: "JSON: query, class, provider, asn, fan_in, domains, verdict, reason.") var json = false

    func run() async throws {
        try await reporting {
            let value = IPAddress(query) != nil ? query : try domainArgument(query).value
            let report = try await lookup.investigator().triage(value)
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
}

struct Providers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the loaded provider fingerprints and where they come from.")
    @OptionGroup var config: ConfigOptions
    @OptionGroup var fingerprints: FingerprintFlags
    @Flag(help: "One JSON object a line.") var json = false

    struct Line: Encodable {
        let provider: String, kind: String, value: String, category: String, source: String, origin: String
    }

    func run() async throws {
        try await reporting {
            let set = try fingerprints.load(config: config.load())
            if json {
                // Entries are in the order of their origins (the shipped file, then the user's files).
                let originOf = set.origins.flatMap { Array(repeating: $0.origin, count: $0.count) }
                for (f, origin) in zip(set.entries, originOf) {
                    print(try JSONLine.encode(Line(provider: f.provider, kind: f.kind.rawValue, value: f.value, category: f.category.rawValue,
                                            source: f.source, origin: origin)))
                }
            } else {
                for o in set.origins { print("# \(o.origin): \(o.count) entries") }
                print("# fingerprint version \(set.version)")
                print(table(["PROVIDER", "CATEGORY", "KIND", "VALUE", "SOURCE"], set.entries.map {
                    [$0.provider, $0.category.rawValue, $0.kind.rawValue, $0.value, $0.source]
                }))
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
            let lock = try await store.lockPolls(config: cfg, wait: wait)
            let r = try await Reclassifier(lock: lock, classifier: fingerprints.classifier(config: cfg)).run()
            print("spans \(r.spans), current spans reclassified \(r.changedSpans), domain states changed \(r.changedStates)")
        }
    }
}
