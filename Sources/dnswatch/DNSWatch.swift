import ArgumentParser

/// dnswatch: DNS-resolution history for security teams.
@main
struct DNSWatch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dnswatch",
        abstract: "Watch domains' DNS over time: history, parking/sinkhole classification, alerts and IoC triage.",
        discussion: "Queries go only to the configured recursive resolvers, and they reveal your interest in the watched domains to those resolvers.",
        version: "0.1.0",
        subcommands: [Watch.self, Poll.self, Daemon.self, History.self, Alerts.self, IP.self, TriageCommand.self,
                      Classify.self, Providers.self, Reclassify.self]
    )
}
