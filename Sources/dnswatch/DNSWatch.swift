import ArgumentParser
import Foundation
import Logging

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

    /// Logging is set up here only: messages go to stderr at `$DNSWATCH_LOG_LEVEL` (default warning).
    static func main() async {
        let level = ProcessInfo.processInfo.environment["DNSWATCH_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
