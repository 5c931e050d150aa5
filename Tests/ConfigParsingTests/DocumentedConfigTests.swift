import DNSWatchConfig
import DNSWatchModel
import Detection
import Foundation
import Testing
import TestSupport

/// What docs/config.md promises of the file: its example is a valid config, read from the doc itself at
/// test time so that the two cannot drift apart; `max_in_flight` and `qps` are read, and refused with
/// their key outside their ranges.
@Suite struct DocumentedConfigTests {
    /// The first ```toml block of docs/config.md.
    static func example() throws -> String {
        let doc = try String(contentsOf: DNSWatchBinary.packageRoot.appendingPathComponent("docs/config.md"), encoding: .utf8)
        let start = try #require(doc.range(of: "```toml\n"), "docs/config.md has no ```toml block")
        let end = try #require(doc.range(of: "\n```", range: start.upperBound..<doc.endIndex), "docs/config.md's ```toml block never ends")
        return String(doc[start.upperBound..<end.lowerBound])
    }

    /// The example as an operator would install it: every absolute path it names (the alerts file's
    /// directory, the alert command, the fingerprint file, the key file...) exists, under a scratch root
    /// that stands for `/`. Every key the example sets is read (none left at its default of "unset").
    @Test func theExampleConfigIsAValidFile() throws {
        let root = try TemporaryDirectory("dnswatch-config-example")
        let example = try Self.example()
        let paths = example.matches(of: /"(\/[^"]+)"/).map { String($0.output.1) }
        try #require(paths.count >= 5, "the example names its files by absolute paths: \(paths)")
        for path in paths {
            // A regular executable file at each: the alert command must be a program, the others readable files.
            let file = root.url.appendingPathComponent(String(path.dropFirst()))
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data().write(to: file)
            try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: file.path)
        }
        let text = example.replacing(/"\//) { _ in "\"\(root.path)/" }
        let c = try Config.parse(text, path: "config.md's example")

        #expect(!c.resolvers.isEmpty && !c.warningLists.isEmpty && !c.fingerprintFiles.isEmpty)
        #expect(c.timeout != nil && c.retries != nil && c.maxInFlight != nil && c.qps != nil)
        #expect(c.types != nil && c.asn != nil && c.batch != nil && c.tick != nil)
        #expect(c.intervals.count == ListKind.allCases.count, "\(c.intervals)")
        #expect(c.alertStdout != nil && c.alertFile != nil && c.webhook != nil && c.webhookTimeout != nil && c.alertCommand != nil)
        #expect(!c.ownedCIDRs.isEmpty && !c.ownedNameServers.isEmpty && !c.warningListActions.isEmpty)
        #expect(c.serveListen != nil && c.serveAPIKeys != nil && c.serveMaxConnections != nil && c.serveIdleTimeout != nil)
        #expect(c.alertFile == root.path + "/var/log/dnswatch/alerts.ndjson", "paths are read as written")
        #expect(c.systemResolvers != nil && c.confirmPause != nil)
        #expect(c.damping[.owned]?.suppress == 5000 && c.damping[.c2] == .defaults, "\(c.damping)")
    }

    /// `[damping]` sets every kind's figures, `[damping.KIND]` one kind's over it; figures that cannot damp
    /// are refused with the table's name.
    @Test func dampingFiguresPerKind() throws {
        let c = try Config.parse("[damping]\nhalf_life = \"2h\"\n[damping.expired]\nsuppress = 4000\n", path: "c.toml")
        #expect(c.damping[.c2]?.halfLife == 7200 && c.damping[.c2]?.suppress == 2500)
        #expect(c.damping[.expired]?.halfLife == 7200 && c.damping[.expired]?.suppress == 4000)
        #expect(configFailure("[damping]\nsuppress = 700\n") == "c.toml: damping: suppress must be more than reuse")
        #expect(configFailure("[damping.c2]\nhalf = 1\n")?.contains("damping.c2") == true)
        #expect(configFailure("[confirmation]\npause = \"2m\"\n")?.contains("confirmation.pause") == true)
        #expect(configFailure("[resolvers]\nsystem = \"no\"\n") == "c.toml: resolvers.system: expected true or false")
    }

    /// `[resolvers] max_in_flight` and `qps` are read as given (the CLI's `--max-in-flight`/`--qps`
    /// defaults), each within its documented range.
    @Test func maxInFlightAndQPSAreRead() throws {
        let c = try Config.parse("[resolvers]\nmax_in_flight = 7\nqps = 250\n", path: "c.toml")
        #expect(c.maxInFlight == 7)
        #expect(c.qps == 250)
        let bounds = try Config.parse("[resolvers]\nmax_in_flight = 65536\nqps = 1000000\n", path: "c.toml")
        #expect(bounds.maxInFlight == 65536 && bounds.qps == 1_000_000)
        let lows = try Config.parse("[resolvers]\nmax_in_flight = 1\nqps = 0\n", path: "c.toml")
        #expect(lows.maxInFlight == 1 && lows.qps == 0, "qps 0 is no cap")
        let unset = try Config.parse("[resolvers]\nretries = 1\n", path: "c.toml")
        #expect(unset.maxInFlight == nil && unset.qps == nil)
    }

    /// config.md: "a value outside them is refused with its range, never clamped", naming the key.
    @Test(arguments: [
        ("max_in_flight = 0", "c.toml: resolvers.max_in_flight: expected a whole number from 1 to 65536"),
        ("max_in_flight = 65537", "c.toml: resolvers.max_in_flight: expected a whole number from 1 to 65536"),
        ("max_in_flight = \"512\"", "c.toml: resolvers.max_in_flight: expected a whole number from 1 to 65536"),
        ("qps = -1", "c.toml: resolvers.qps: expected a whole number from 0 to 1000000"),
        ("qps = 1000001", "c.toml: resolvers.qps: expected a whole number from 0 to 1000000"),
        ("qps = 1.5", "c.toml: resolvers.qps: expected a whole number from 0 to 1000000"),
    ])
    func maxInFlightAndQPSOutOfRangeAreRefused(line: String, message: String) {
        #expect(configFailure("[resolvers]\n\(line)\n") == message)
    }
}
