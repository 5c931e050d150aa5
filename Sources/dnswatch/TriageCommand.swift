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
