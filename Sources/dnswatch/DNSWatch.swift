import ArgumentParser
import DNSWatchModel
import Foundation
import Logging

/// dnswatch: DNS-resolution history for security teams.
@main
struct DNSWatch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dnswatch",
        abstract: "Watch domains' DNS over time: history, parking/sinkhole classification, alerts and IoC triage.",
        discussion: "Queries go only to the configured recursive resolvers, and they reveal your interest in the watched domains to those resolvers.",
        version: "dnswatch \(BuildInfo.version) (\(BuildInfo.commit))",  // VERSION and the commit, from Plugins/BuildInfo
        subcommands: [Watch.self, Poll.self, Daemon.self, History.self, Alerts.self, IP.self, TriageCommand.self,
                      Classify.self, Explain.self, Providers.self, Reclassify.self, ImportCommand.self, ServeCommand.self, Pollers.self,
                      Migrate.self]
    )

    /// Logging is set up here only: messages go to stderr at `$DNSWATCH_LOG_LEVEL` (default warning).
    static func main() async {
        var level = Logger.Level.warning
        if let name = ProcessInfo.processInfo.environment["DNSWATCH_LOG_LEVEL"], !name.isEmpty {
            if let given = Logger.Level(rawValue: name.lowercased()) {
                level = given
            } else {
                let names = Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")
                FileHandle.standardError.write(Data("dnswatch: DNSWATCH_LOG_LEVEL '\(name)' is not one of \(names); using warning\n".utf8))
            }
        }
        let chosen = level
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = chosen
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
            // ArgumentParser's own messages quote the offending value: written with control
            // characters made visible, line by line (help and usage text keep their lines).
            let code = exitCode(for: error)
            let message = fullMessage(for: error)
            if code == .success {
                if !message.isEmpty { print(message) }
            } else if !message.isEmpty {
                let visible = message.split(separator: "\n", omittingEmptySubsequences: false).map(VisibleText.escape).joined(separator: "\n")
                FileHandle.standardError.write(Data((visible + "\n").utf8))
            }
            Foundation.exit(code.rawValue)
        }
    }
}
