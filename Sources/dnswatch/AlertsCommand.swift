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
    static let configuration = CommandConfiguration(
        abstract: "List raised alerts (newest first).",
        discussion: "Every filter given must hold; --limit keeps the newest N of those that do.")

    @OptionGroup var store: StoreOptions
    @Option(help: "Only alerts raised at or after TIME (ISO 8601, or 90m / 36h / 7d ago).") var since: String?
    @Option(help: "Minimum severity: info, low, medium, high, critical.") var severity: Severity?
    @Option(help: "Only the alerts of this domain.") var domain: String?
    @Option(help: "Only the alerts raised for this list (the alert's list).") var list: String?
    @Option(help: ArgumentHelp("Only alerts of these types (repeatable, or a comma list: --type activation,new-ip).",
                               valueName: "type")) var type: [String] = []
    @Option(help: "At most N alerts, the newest.") var limit: Int?
    @Flag(help: "One JSON object a line.") var json = false

    func run() async throws {
        try await reporting {
            let filter = try AlertFilter(since: epoch(since, flag: "--since"), minRank: severity?.rank ?? 0,
                                         domain: domain.map { try domainArgument($0).value }, list: list,
                                         types: alertTypes(type).map(\.rawValue), limit: checkedLimit(limit))
            let alerts = try await store.reading("dnswatch.alerts") { try await $0.history.knownAlerts(filter) }
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

/// The alert types of `--type` values, each a type or a comma list of them; an unknown one is a usage error.
func alertTypes(_ values: [String]) throws -> [AlertType] {
    var out: [AlertType] = []
    for name in values.flatMap({ $0.split(separator: ",", omittingEmptySubsequences: false) }) {
        let n = name.trimmingCharacters(in: .whitespaces).lowercased()
        guard let t = AlertType(rawValue: n) else {
            throw CLIError.usage("--type: '\(VisibleText.escape(String(name)))' is not one of \(AlertType.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if !out.contains(t) { out.append(t) }
    }
    return out
}

/// `--limit N`: a whole number of at least 1.
func checkedLimit(_ limit: Int?) throws -> Int? {
    if let limit, limit < 1 { throw CLIError.usage("--limit: \(limit) is not a number of alerts (at least 1)") }
    return limit
}

extension FindingReading {
    /// The alerts `filter` finds, newest first, each checked to be of a type and severity this version knows
    /// (``UnknownAlertError`` otherwise, as `knownAlerts(since:severity:)` checks them).
    func knownAlerts(_ filter: AlertFilter) async throws -> [StoredAlert] {
        let alerts = try await alerts(filter)
        for a in alerts { _ = try KnownAlert(id: a.id, type: a.type, severity: a.severity, rank: a.severityRank) }
        return alerts
    }
}

extension Severity: ExpressibleByArgument {
    public init?(argument: String) {
        do { self = try Severity.named(argument) } catch { return nil }
    }
}
