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
