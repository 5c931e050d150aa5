import DNSWatchApp
import DNSWatchConfig
public import ArgumentParser
import DNSWatchModel
import Detection
import Foundation
import Store
import Investigation
import Logging
import Watchlists

struct Watch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage the watched domains and their lists.",
        subcommands: [Import.self, Sync.self, Add.self, Remove.self, List.self]
    )
}

/// Reads watchlist files, refusing the whole set on an invalid line unless told to skip them.
func readWatchlists(_ paths: [String], skipInvalid: Bool) throws -> [ParsedWatchlist] {
    var parsed: [ParsedWatchlist] = []
    for path in paths {
        do {
            parsed.append(try WatchlistParser.parse(fileAt: path))
        } catch {
            throw CLIError.badInput("\(error)")
        }
    }
    let invalid = parsed.flatMap(\.invalid)
    if !invalid.isEmpty {
        for line in invalid.prefix(50) { warn(line.description) }
        if invalid.count > 50 { warn("… and \(invalid.count - 50) more invalid lines") }
        guard skipInvalid else {
            throw CLIError.badInput("\(invalid.count) invalid line\(invalid.count == 1 ? "" : "s"): nothing imported (use --skip-invalid to import the rest)")
        }
    }
    return parsed
}

/// A list name given with `--list` (a usage error when unusable) or taken from a file's name (bad input).
func checkedListName(_ name: String, file: String? = nil) throws -> String {
    do {
        try ListName.validate(name)
    } catch {
        if let file { throw CLIError.badInput("\(VisibleText.escape(file)): \(error.reason) (the list name is the file's name)") }
        throw CLIError.usage("--list: \(error.reason)")
    }
    return name
}

extension StoreOptions {
    /// Runs `body` with the store of a `watch` command that writes (`writing`, labelled `dnswatch.watch`).
    func withWatchlists<T: Sendable>(config: Config, _ body: (any WatchlistStore) async throws -> T) async throws -> T {
        try await writing(config: config, label: "dnswatch.watch") { try await body($0.watchlists) }
    }
}

func skippedSummary(_ files: [ParsedWatchlist]) -> (total: Int, detail: String) {
    let all = WatchlistParser.merge(files)
    let detail = all.skipped.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue)=\($0.value)" }.joined(separator: " ")
    return (all.skippedTotal, detail)
}

extension Watch {
    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add the domains of watchlist files to a list (default: the file name).",
            discussion: "Indicators that are not domains (addresses, CIDRs, URL paths) are skipped and counted; URLs and host:port contribute their host. An invalid line refuses the whole import (exit 65) unless --skip-invalid.")

        @OptionGroup var store: StoreOptions
        @OptionGroup var config: ConfigOptions
        @Argument(help: "Watchlist files.") var files: [String]
        @Option(help: "List name (default: each file's name without extension).") var list: String?
        @Option(help: "List kind: c2, owned or expired (default: the file header, else c2).") var kind: ListKind?
        @Flag(name: .customLong("skip-invalid"), help: "Skip invalid lines instead of refusing the import.") var skipInvalid = false

        func run() async throws {
            try await reporting {
                let parsed = try readWatchlists(files, skipInvalid: skipInvalid)
                let counts = try await store.withWatchlists(config: config.load()) { db in
                    let now = Int64(Date().timeIntervalSince1970)
                    var counts = ImportCounts()
                    // Files of the same list are merged, so duplicates across them are stored once.
                    var order: [String] = []
                    var byList: [String: [ParsedWatchlist]] = [:]
                    let given = try list.map { try checkedListName($0) }
                    for f in parsed {
                        let name = try given ?? checkedListName(f.name, file: f.path)
                        if byList[name] == nil { order.append(name) }
                        byList[name, default: []].append(f)
                    }
                    for name in order {
                        let merged = WatchlistParser.merge(byList[name] ?? [], name: name)
                        for c in merged.conflicts { warn("dnswatch: \(c)") }
                        let spec = ListSpec(name: name, kind: kind ?? merged.header.kind, interval: merged.header.interval,
                                            description: merged.header.description)
                        let c = try await db.addEntries(merged.entries.map { ListEntry(domain: $0.domain, note: $0.note) }, to: spec, now: now)
                        counts.added += c.added
                        counts.alreadyPresent += c.alreadyPresent
                    }
                    return counts
                }
                let skipped = skippedSummary(parsed)
                let invalid = parsed.reduce(0) { $0 + $1.invalid.count }
                var line = "added \(counts.added), already present \(counts.alreadyPresent), skipped \(skipped.total)"
                if !skipped.detail.isEmpty { line += " (\(skipped.detail))" }
                let duplicates = WatchlistParser.merge(parsed).duplicates
                if duplicates > 0 { line += ", duplicates \(duplicates)" }
                if invalid > 0 { line += ", invalid skipped \(invalid)" }
                print(line)
            }
        }
    }

    struct Sync: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make the stored lists equal to the *.txt files in a directory.",
            discussion: "Adds new domains, retires removed ones (their history is kept), updates kind and interval. Lists without a file are retired.")

        @OptionGroup var store: StoreOptions
        @OptionGroup var config: ConfigOptions
        @Argument(help: "Directory of watchlist files (*.txt).") var directory: String
        @Flag(name: .customLong("skip-invalid"), help: "Skip invalid lines instead of refusing the sync.") var skipInvalid = false
        @Flag(name: .customLong("allow-empty"), help: "Accept a directory without *.txt files, or a file without domains (retiring every list, or that list's domains).") var allowEmpty = false

        func run() async throws {
            try await reporting {
                var isDir: ObjCBool = false
                guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDir), isDir.boolValue else {
                    throw CLIError.usage("\(directory) is not a directory")
                }
                let files = try FileManager.default.contentsOfDirectory(atPath: directory)
                    .filter { $0.hasSuffix(".txt") }.sorted().map { directory + "/" + $0 }
                guard !files.isEmpty || allowEmpty else {
                    throw CLIError.usage("\(directory) has no *.txt watchlist files: syncing it would retire every list (pass --allow-empty to do that)")
                }
                let parsed = try readWatchlists(files, skipInvalid: skipInvalid)
                for f in parsed {
                    _ = try checkedListName(f.name, file: f.path)
                    guard !f.entries.isEmpty || allowEmpty else {
                        throw CLIError.badInput("\(f.path) has no domains: syncing it would retire every domain of list \(f.name) (pass --allow-empty to do that)")
                    }
                }
                let lists = parsed.map { f in
                    (ListSpec(name: f.name, kind: f.header.kind, interval: f.header.interval, description: f.header.description),
                     f.entries.map { ListEntry(domain: $0.domain, note: $0.note) })
                }
                let c = try await store.withWatchlists(config: config.load()) { try await $0.sync(lists, now: Int64(Date().timeIntervalSince1970)) }
                print("lists \(lists.count), added \(c.added), already present \(c.alreadyPresent), retired \(c.retired), skipped \(skippedSummary(parsed).total)")
            }
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add domains to a list.")
        @OptionGroup var store: StoreOptions
        @OptionGroup var config: ConfigOptions
        @Argument(help: "Domain names.") var domains: [String]
        @Option(help: "List name.") var list: String
        @Option(help: "List kind: c2, owned or expired (sets the list's kind; a new list defaults to c2).") var kind: ListKind?

        func run() async throws {
            try await reporting {
                let names = try domains.map(domainArgument)
                let c = try await store.withWatchlists(config: config.load()) {
                    try await $0.addEntries(names.map { ListEntry(domain: $0) }, to: ListSpec(name: checkedListName(list), kind: kind),
                                            now: Int64(Date().timeIntervalSince1970))
                }
                print("added \(c.added), already present \(c.alreadyPresent)")
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop watching domains (their history is kept).")
        @OptionGroup var store: StoreOptions
        @OptionGroup var config: ConfigOptions
        @Argument(help: "Domain names.") var domains: [String]
        @Option(help: "Only from this list (default: every list).") var list: String?

        func run() async throws {
            try await reporting {
                let names = try domains.map(domainArgument)
                do {
                    let n = try await store.withWatchlists(config: config.load()) {
                        try await $0.remove(names, list: list, now: Int64(Date().timeIntervalSince1970))
                    }
                    print("removed \(n)")
                    if n < names.count { warn("dnswatch: \(names.count - n) of the names were not watched\(list.map { " on \($0)" } ?? "")") }
                } catch let e as StoreError {
                    throw CLIError.usage(e.description)
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the watched domains, with each one's state, last poll, next due time and last alert.",
            discussion: """
                STATE is the domain's class (with the provider for parked, sinkhole and shared), or 'unpolled' while it \
                has none (never polled, or no poll of it got an answer). NEXT DUE is as the last poll set it ('-': \
                never polled, due at the next poll); LAST ALERT the domain's latest alert, of whichever list.
                """)
        @OptionGroup var store: StoreOptions
        @OptionGroup var config: ConfigOptions
        @Option(help: "Only this list.") var list: String?
        @Option(help: ArgumentHelp("Only domains in this state: \(StateFilter.names.joined(separator: ", ")).", valueName: "state"))
        var state: String?
        @Flag(help: """
            One JSON object a line: domain, list, kind, interval (seconds), added, state, class, provider, last_polled, \
            next_due (epoch seconds or null), last_alert ({id, time, type, severity} or null).
            """) var json = false

        func run() async throws {
            try await reporting {
                let wanted = try state.map { name in
                    guard let s = StateFilter(name: name) else {
                        throw CLIError.usage("--state: '\(VisibleText.escape(name))' is not one of \(StateFilter.names.joined(separator: ", "))")
                    }
                    return s
                }
                let rows = try await store.reading("dnswatch.watch", creators: "'watch import' or 'poll'") {
                    try await $0.history.watchedStates(WatchedFilter(list: list, state: wanted))
                }
                let defaults = PollInterval.Defaults(overrides: try config.load().intervals)
                for r in rows {
                    // A last alert of a type or severity this version does not know is refused, as `alerts` refuses it.
                    if let a = r.lastAlert { _ = try KnownAlert(id: a.id, type: a.type, severity: a.severity, rank: a.severityRank) }
                }
                if rows.isEmpty {
                    let on = list.map { " on \($0)" } ?? ""
                    warn("dnswatch: no watched domains\(on)\(state.map { " in state \($0)" } ?? "")")
                    return
                }
                if json {
                    for r in rows {
                        print(try JSONLine.encode(WatchedStateLine(r, defaults: defaults)))
                    }
                } else {
                    print(table(["DOMAIN", "LIST", "KIND", "INTERVAL", "ADDED", "STATE", "LAST POLLED", "NEXT DUE", "LAST ALERT", "NOTE"], rows.map { r in
                        let m = r.membership
                        return [m.domain, m.list, m.kind.rawValue, DurationParser.format(defaults.interval(listInterval: m.interval, kind: m.kind)),
                                isoTime(m.added), r.state?.description ?? StateFilter.unpolledName, r.lastPolled.map(isoTime) ?? "-",
                                r.nextDue.map(isoTime) ?? "-", r.lastAlert.map { "\(isoTime($0.time)) \($0.type)" } ?? "-", m.note ?? ""]
                    }))
                }
            }
        }
    }
}

/// One line of `watch list --json`: the membership's fields (`WatchedLine`, as `/api/v1/domains` writes
/// them), then the domain's `state` (the name `--state` takes), `class` (null while unpolled), `provider`,
/// `last_polled`, `next_due` and `last_alert`.
struct WatchedStateLine: Encodable {
    let membership: WatchedLine
    let row: WatchedState

    init(_ row: WatchedState, defaults: PollInterval.Defaults) {
        membership = WatchedLine(row.membership, defaults: defaults)
        self.row = row
    }

    struct LastAlert: Encodable {
        let id: Int64, time: Int64, type: String, severity: String
    }

    enum Keys: String, CodingKey {
        case state, `class`, provider, last_polled, next_due, last_alert
    }

    func encode(to encoder: any Encoder) throws {
        try membership.encode(to: encoder)
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(row.stateName, forKey: .state)
        try c.encode(row.state?.class.rawValue, forKey: .class)
        try c.encode(row.state?.provider, forKey: .provider)
        try c.encode(row.lastPolled, forKey: .last_polled)
        try c.encode(row.nextDue, forKey: .next_due)
        try c.encode(row.lastAlert.map { LastAlert(id: $0.id, time: $0.time, type: $0.type, severity: $0.severity) }, forKey: .last_alert)
    }
}

extension ListKind: ExpressibleByArgument {}
