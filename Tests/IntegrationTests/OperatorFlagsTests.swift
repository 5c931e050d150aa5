import Foundation
import Testing
import TestSupport

/// Flags an operator reaches for from cron and scripts: `--quiet`, and durations wherever a flag takes time.
@Suite(.serialized) struct OperatorFlagsTests {
    /// cron mails whatever a job prints: `--quiet` prints no summary, so a poll that raised no alert is silent,
    /// while an alert still reaches stdout and a failed poll still says why on stderr with its exit code.
    @Test func quietPollPrintsOnlyAlertsAndErrors() async throws {
        let unbound = try UnboundServer(localZones: ["example. static"], localData: [
            "q.example. 300 IN A 45.33.20.10",
        ])
        let cli = try CLI()
        #expect(try cli.run(["watch", "add", "q.example", "--list", "c2"]).code == 0)
        let first = try cli.run(["poll", "--quiet", "--resolver", unbound.endpoint, "--no-asn"])
        #expect(first.code == 0, "\(first.err)")
        #expect(first.out.isEmpty, "no summary: \(first.out)")
        #expect(first.err.isEmpty, "\(first.err)")
        let loud = try cli.run(["poll", "--resolver", unbound.endpoint, "--no-asn"])
        #expect(loud.code == 0 && loud.out.contains("domains=1"), "without --quiet the summary is printed: \(loud.out)")

        // A new address while unknown: a new-ip alert, printed by the stdout sink even with --quiet.
        try unbound.removeLocalData(["q.example"])
        try unbound.addLocalData(["q.example. 300 IN A 45.33.20.11"])
        try unbound.flushCache()
        let alerted = try cli.run(["poll", "--quiet", "--resolver", unbound.endpoint, "--no-asn"])
        #expect(alerted.code == 0, "\(alerted.err)")
        let lines = try alerted.lines.map(CLI.json)
        #expect(lines.count == 1 && lines.first?["type"] as? String == "new-ip", "\(alerted.out)")

        let silent = try SilentUDPServer()
        let down = try cli.run(["poll", "--quiet", "--resolver", silent.endpoint, "--timeout", "200ms", "--retries", "0", "--no-asn"])
        #expect(down.code == 69 && down.out.isEmpty)
        #expect(down.err.contains("resolver unavailable"))
    }

    /// `--timeout` reads durations as the config's `resolvers.timeout` does: `2s`, `500ms`, `1.5`, `1m`.
    @Test func timeoutTakesDurationsLikeTheConfig() async throws {
        let cli = try CLI()
        let silent = try SilentUDPServer()
        #expect(try cli.run(["watch", "add", "t.example", "--list", "l"]).code == 0)
        for text in ["300ms", "0.3", "1s"] {
            let r = try cli.run(["poll", "--resolver", silent.endpoint, "--timeout", text, "--retries", "0", "--no-asn"])
            #expect(r.code == 69, "--timeout \(text): \(r.err)")
        }
        for (text, message) in [("2x", "'2x' is not a duration"), ("61s", "out of range"), ("0ms", "out of range"), ("ms", "is not a duration")] {
            let r = try cli.run(["poll", "--resolver", silent.endpoint, "--timeout", text, "--no-asn"])
            #expect(r.code == 64, "--timeout \(text)")
            #expect(r.err.contains("--timeout") && r.err.contains(message), "--timeout \(text): \(r.err)")
        }
        let config = try cli.file("c.toml", "[resolvers]\ntimeout = \"250ms\"\n")
        let viaConfig = try cli.run(["poll", "--config", config, "--resolver", silent.endpoint, "--retries", "0", "--no-asn"])
        #expect(viaConfig.code == 69, "\(viaConfig.err)")
    }
}
