import Foundation
import Testing
import TestSupport

/// docs/config.md: "A path that does not exist, is a directory or cannot be read is said so in one sentence
/// (exit 65)", from `--config` and `$DNSWATCH_CONFIG` alike, before anything else is done (a command that
/// went on, such as a serve that serves, is killed after a minute and fails the test).
@Suite struct ConfigRefusalTests {
    /// Commands that read the config, each with what it would otherwise create or need.
    static func commands(_ dir: TemporaryDirectory) -> [[String]] {
        [
            ["watch", "add", "new.example", "--list", "feed", "--db", dir.path("db.sqlite")],
            ["serve", "--listen", "127.0.0.1:0", "--db", dir.path("db.sqlite")],
            ["providers"],
        ]
    }

    @Test func aMissingConfigIsBadInput() async throws {
        let dir = try TemporaryDirectory("dnswatch-config-missing")
        let missing = dir.path("nowhere/dnswatch.toml")
        for args in Self.commands(dir) {
            for (extra, environment) in [(["--config", missing], [:]), ([], ["DNSWATCH_CONFIG": missing])] {
                let r = try await ServeProcess.run(args + extra, in: dir, environment: environment)
                #expect(r.code == 65, "\(args) \(environment): \(r.err)")
                #expect(r.err == "dnswatch: the config file \(missing) does not exist\n", "\(args) \(environment)")
                #expect(r.out.isEmpty, "\(args)")
            }
        }
        #expect(!FileManager.default.fileExists(atPath: dir.path("db.sqlite")), "nothing was created")
    }

    @Test func aDirectoryOrUnreadableConfigIsBadInput() async throws {
        let dir = try TemporaryDirectory("dnswatch-config-unreadable")
        let directory = dir.path("conf.d")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let fifo = dir.path("fifo.toml")
        try #require(mkfifo(fifo, 0o600) == 0, "mkfifo \(fifo)")
        for path in [directory, fifo] {
            for args in Self.commands(dir) {
                let r = try await ServeProcess.run(args + ["--config", path], in: dir)
                #expect(r.code == 65, "\(args) \(path): \(r.err)")
                #expect(r.err.hasPrefix("dnswatch: the config file \(path) cannot be read: "), "\(args): \(r.err)")
                #expect(r.err.split(separator: "\n").count == 1, "one sentence: \(r.err)")
            }
        }
        #expect(!FileManager.default.fileExists(atPath: dir.path("db.sqlite")), "nothing was created")
    }
}
