import DNSWatchApp
import DNSWatchConfig
import ArgumentParser
import DNSWatchModel
import Foundation
import Store
import Poller

/// `dnswatch import`: history from elsewhere.
struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import other sensors' passive DNS into the history.",
        subcommands: [COF.self]
    )
}

extension ImportCommand {
    struct COF: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "cof",
            abstract: "Import passive DNS in the Common Output Format (NDJSON: dnsdbq -j, CIRCL pDNS, dnswatch history --json).",
            discussion: """
                Each A, AAAA, NS or CNAME record is stored as an observation of its source (--source, else the file's name; \
                'stdin' for -), merged per (name, type, rdata set, source): the earliest first sighting, the latest last one \
                and the largest count, so importing a file again never double-counts. Other types and non-NOERROR lines are \
                skipped and counted. Imported records never raise alerts and never change a watched domain's state; ip and \
                triage count them in the fan-in, and history shows them with their source. A bad line (not JSON, or without \
                rrname, rrtype, rdata or a pair of times; a duplicate key; a time outside 1970 to 9999; a line longer than 1 MiB) \
                refuses the whole import (exit 65) before the database is opened, unless --skip-invalid. Standard input is \
                read no further than its first bad line, and is copied aside to be checked (at most 4 GiB: save a larger \
                input to a file, or use --skip-invalid, which reads it once).
                """)

        @OptionGroup var store: StoreOptions
        @OptionGroup var config: ConfigOptions
        @OptionGroup var fingerprints: FingerprintFlags
        @Argument(help: "COF NDJSON files ('-': standard input).") var files: [String]
        @Option(help: "The source the records are stored under (default: each file's name; 'stdin' for -).") var source: String?
        @Flag(name: .customLong("skip-invalid"), help: "Skip bad lines instead of refusing the import.") var skipInvalid = false

        func validate() throws {
            if let source, let why = COFImport.checkSourceName(source) { throw ValidationError("--source: \(why)") }
        }

        func run() async throws {
            try await reporting {
                let inputs = try files.map { path in
                    let name = source ?? COFImport.defaultSource(forPath: path)
                    if let why = COFImport.checkSourceName(name) {
                        throw CLIError.usage("\(VisibleText.escape(path)): \(why) (the source is the file's name): give --source")
                    }
                    return COFImport.Input(path: path, source: name)
                }
                let cfg = try config.load()
                let classifier = try fingerprints.classifier(config: cfg)
                let now = Int64(Date().timeIntervalSince1970)
                // Every input opened and checked before the database is opened (or created): a refused
                // import leaves no file behind.
                let prepared: COFImport.Prepared
                do {
                    prepared = try await COFImport.prepare(inputs, skipInvalid: skipInvalid)
                } catch let bad as COFImport.BadLines {
                    for line in bad.lines { warn(line.description) }
                    if bad.total > bad.lines.count { warn("… and \(bad.total - bad.lines.count) more invalid lines") }
                    throw CLIError.badInput(bad.description)
                } catch let e as RegularFileError {
                    throw CLIError.badInput(e.description)
                } catch let e as COFImport.SpoolFull {
                    throw CLIError.badInput(e.description)
                }
                let summary: COFImport.Summary
                do {
                    summary = try await store.writing(config: cfg, label: "dnswatch.import") { db in
                        try await COFImport(store: db.imports, classifier: classifier).run(prepared, now: now)
                    }
                } catch let e as COFImport.Changed {
                    throw CLIError.badInput(e.description)
                } catch let e as RegularFileError {
                    throw CLIError.badInput(e.description)
                }
                for line in summary.invalid { warn(line.description) }
                if summary.invalidTotal > summary.invalid.count { warn("… and \(summary.invalidTotal - summary.invalid.count) more invalid lines") }
                let c = summary.counts
                let skipped = summary.skipped.values.reduce(0, +)
                var line = "read \(summary.read), imported \(c.imported), merged \(c.merged) (changed \(c.changed)), skipped \(skipped)"
                if skipped > 0 {
                    line += " (" + summary.skipped.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ") + ")"
                }
                if summary.invalidTotal > 0 { line += ", invalid skipped \(summary.invalidTotal)" }
                print(line)
            }
        }
    }
}
