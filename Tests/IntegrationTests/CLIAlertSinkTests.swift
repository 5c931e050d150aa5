import Foundation
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// How `poll` and `daemon` build their alert sinks from flags, the config and the environment.
@Suite(.serialized) struct CLIAlertSinkTests {
    /// Poll arguments that never reach a resolver: every case here fails while the sinks are built.
    static let pollArgs = ["poll", "--resolver", "127.0.0.1:9", "--no-asn", "--timeout", "0.2", "--retries", "0"]

    /// Runs `dnswatch` on the CLI's database, killing it after `timeout` seconds (a daemon that starts,
    /// or a poll blocked on a FIFO, would otherwise never end).
    static func run(_ cli: CLI, _ args: [String], environment: [String: String] = [:], timeout: Double = 20) async throws
        -> CLI.Result
    {
        let p = try Background(args + ["--db", cli.db], workdir: cli.workdir, environment: environment)
        let end = try await p.wait(timeout: timeout)
        return CLI.Result(code: end?.status ?? -1, out: p.out, err: p.err + (end == nil ? "\n(killed after \(timeout) s)" : ""))
    }

    @Test func webhookEnvNamingAnUnsetVariableIsRefused() async throws {
        let cli = try CLI()
        #expect(try cli.run(["watch", "add", "a.example", "--list", "l"]).code == 0)
        let config = try cli.file("hook.toml", "[alerts]\nwebhook_env = \"MY_HOOK\"\n")
        for environment in [[:], ["MY_HOOK": ""], ["MY_HOOK": "  "]] {
            for command in [Self.pollArgs, ["daemon", "--resolver", "127.0.0.1:9", "--no-asn"]] {
                let r = try await Self.run(cli, command + ["--config", config], environment: environment, timeout: 10)
                #expect(r.code == 64, "\(command[0]) with \(environment): \(r.err)")
                #expect(r.err.contains("MY_HOOK") && r.err.contains("alerts.webhook_env"), "\(r.err)")
            }
        }
    }

    @Test func aBadWebhookURLIsReportedWithoutItsSecrets() throws {
        let cli = try CLI()
        let secret = "htps://user:pw@hooks.example/T0/SECRET"
        let fromEnvironment = try cli.run(Self.pollArgs, environment: ["DNSWATCH_WEBHOOK_URL": secret])
        let fromFlag = try cli.run(Self.pollArgs + ["--webhook", secret])
        let config = try cli.file("w.toml", "[alerts]\nwebhook = \"\(secret)\"\n")
        let fromConfig = try cli.run(Self.pollArgs + ["--config", config])
        let fromNamedVariable = try cli.run(
            Self.pollArgs + ["--config", try cli.file("e.toml", "[alerts]\nwebhook_env = \"SOC_HOOK\"\n")],
            environment: ["SOC_HOOK": secret])
        for (r, code) in [(fromEnvironment, 64), (fromFlag, 64), (fromConfig, 65), (fromNamedVariable, 64)] {
            #expect(r.code == Int32(code), "\(r.err)")
            #expect(r.err.contains("htps://hooks.example"), "scheme and host are shown: \(r.err)")
            for part in ["pw", "user:", "T0", "SECRET"] {
                #expect(!r.err.contains(part), "'\(part)' leaked: \(r.err)")
            }
        }
    }

    @Test func anAlertsFileThatIsNotARegularFileIsRefusedAtStart() async throws {
        let cli = try CLI()
        let fifo = cli.workdir.appendingPathComponent("alerts.fifo").path
        try #require(mkfifo(fifo, 0o600) == 0)
        let flag = try await Self.run(cli, Self.pollArgs + ["--alerts-file", fifo], timeout: 20)
        #expect(flag.code == 64 && flag.err.contains(fifo) && flag.err.contains("FIFO"), "\(flag.err)")
        let config = try cli.file("f.toml", "[alerts]\nfile = \"\(fifo)\"\n")
        let fromConfig = try await Self.run(cli, Self.pollArgs + ["--config", config], timeout: 20)
        #expect(fromConfig.code == 65 && fromConfig.err.contains("alerts.file") && fromConfig.err.contains("FIFO"), "\(fromConfig.err)")
    }

    @Test func theConfigCommandIsAnArrayOfStrings() throws {
        let cli = try CLI()
        let text = try cli.file("c.toml", "[alerts]\ncommand = \"sh -c 'cat >> /dev/null'\"\n")
        let r = try cli.run(["watch", "list", "--config", text])
        #expect(r.code == 65 && r.err.contains("alerts.command") && r.err.contains("array"), "\(r.err)")
        let notStrings = try cli.file("n.toml", "[alerts]\ncommand = [\"sh\", 1]\n")
        let n = try cli.run(["watch", "list", "--config", notStrings])
        #expect(n.code == 65 && n.err.contains("alerts.command"), "\(n.err)")
        #expect(try cli.run(Self.pollArgs + ["--alert-arg", "x"]).code == 64, "--alert-arg needs --alert-command")
        let unsplit = try cli.run(Self.pollArgs + ["--alert-command", "sh -c true"])
        #expect(unsplit.code == 64 && unsplit.err.contains("'sh -c true' not found"), "a command line is not split: \(unsplit.err)")
    }

    /// A full disk, made real with a file-size limit (RLIMIT_FSIZE, `ulimit -f`, SIGXFSZ ignored so that the
    /// write fails with EFBIG): the alert's line is written in part, then the write fails. The part is cut
    /// off again, so the file stays valid NDJSON, and the alert, still queued, is written whole by the next
    /// poll. (Without the cut, the next poll appended the whole line after the partial one.)
    @Test func aShortWriteToTheAlertsFileIsCutBackAndTheAlertWrittenWholeLater() throws {
        let unbound = try UnboundServer(localZones: ["example. static"], localData: CLIDetectionTests.parked)
        let cli = try CLI()
        let alerts = cli.workdir.appendingPathComponent("alerts.ndjson").path
        // 8 MiB less 10 bytes of valid NDJSON: the limit below leaves room for 10 bytes of the alert's line
        // (and for the SQLite database, far smaller).
        let limit = 16384 * 512
        let padding = "{\"pad\":\"" + String(repeating: "x", count: 999 - 10) + "\"}\n"
        let prefix = String(repeating: padding, count: limit / 1000) + "{\"p\":\"" + String(repeating: "y", count: limit % 1000 - 10 - 9) + "\"}\n"
        try #require(prefix.utf8.count == limit - 10)
        try prefix.write(toFile: alerts, atomically: false, encoding: .utf8)
        #expect(try cli.run(["watch", "add", "c2.example", "--list", "ursnif", "--kind", "c2"]).code == 0)
        let args = ["poll", "--resolver", unbound.endpoint, "--no-asn", "--no-stdout-alerts", "--alerts-file", alerts]
        #expect(try cli.run(args).code == 0)
        try unbound.removeLocalData(["c2.example"])
        try unbound.addLocalData(["c2.example. 300 IN A 45.0.121.77"])
        // /bin/sh's `ulimit -f` counts 512-byte blocks (POSIX).
        let limited = try cli.run(
            ["-c", "trap '' XFSZ; ulimit -f \(limit / 512) && exec \"$@\"", "sh", DNSWatchBinary.url.path] + args,
            binary: URL(fileURLWithPath: "/bin/sh"))
        #expect(limited.code == 0 && limited.out.contains("alerts=1"), "\(limited.err)")
        #expect(limited.err.contains("file too large") && limited.err.contains("the alert stays queued"), "\(limited.err)")
        #expect(try String(contentsOfFile: alerts, encoding: .utf8) == prefix, "the 10 bytes written were removed")
        let again = try cli.run(args)
        #expect(again.code == 0, "\(again.err)")
        let text = try String(contentsOfFile: alerts, encoding: .utf8)
        #expect(text.hasPrefix(prefix) && text.hasSuffix("\n"))
        let added = text.utf8.dropFirst(prefix.utf8.count).split(separator: UInt8(ascii: "\n")).map { String(decoding: $0, as: UTF8.self) }
        #expect(added.count == 1, "one line: \(added)")
        #expect(try added.map { try CLI.json($0)["type"] as? String } == ["activation"], "\(added)")
    }

    /// The alerts file follows the one rule of the files dnswatch creates: the config's `file_mode`.
    @Test func theAlertsFileIsCreatedWithTheConfigsFileMode() throws {
        let unbound = try UnboundServer(localZones: ["example. static"], localData: CLIDetectionTests.parked)
        let cli = try CLI()
        let alerts = cli.workdir.appendingPathComponent("alerts.ndjson").path
        let config = try cli.file("m.toml", "file_mode = \"0640\"\n")
        #expect(try cli.run(["watch", "add", "c2.example", "--list", "ursnif", "--kind", "c2", "--config", config]).code == 0)
        let args = ["poll", "--resolver", unbound.endpoint, "--no-asn", "--no-stdout-alerts", "--alerts-file", alerts, "--config", config]
        #expect(try cli.run(args).code == 0)
        try unbound.removeLocalData(["c2.example"])
        try unbound.addLocalData(["c2.example. 300 IN A 45.0.121.77"])
        let r = try cli.run(args)
        #expect(r.code == 0 && r.out.contains("alerts=1"), "\(r.err)")
        let mode = try #require(try FileManager.default.attributesOfItem(atPath: alerts)[.posixPermissions] as? NSNumber)
        #expect(mode.intValue == 0o640, "mode \(String(mode.intValue, radix: 8))")
        let db = try #require(try FileManager.default.attributesOfItem(atPath: cli.db)[.posixPermissions] as? NSNumber)
        #expect(db.intValue == 0o640, "the database follows the same rule")
    }

    /// `--alert-command PROG --alert-arg ...`: the arguments reach the program as given; a failed first
    /// delivery is retried by the next poll with the same payload and the same `delivery_id`.
    @Test func alertCommandWithArgsAndARedeliveryWithTheSameDeliveryID() throws {
        let unbound = try UnboundServer(localZones: ["example. static"], localData: CLIDetectionTests.parked)
        let cli = try CLI()
        let received = cli.workdir.appendingPathComponent("received.ndjson").path
        let gate = cli.workdir.appendingPathComponent("fail-once").path
        // Appends the alert it got, then fails while the gate file exists (and removes it).
        let script = "cat >> \"$1\"; printf '\\n' >> \"$1\"; if [ -e \"$2\" ]; then rm \"$2\"; echo refusing; exit 3; fi"
        #expect(FileManager.default.createFile(atPath: gate, contents: nil))
        #expect(try cli.run(["watch", "add", "c2.example", "--list", "ursnif", "--kind", "c2"]).code == 0)
        let args = ["poll", "--resolver", unbound.endpoint, "--no-asn", "--no-stdout-alerts",
                    "--alert-command", "sh", "--alert-arg", "-c", "--alert-arg", script,
                    "--alert-arg", "notify", "--alert-arg", received, "--alert-arg", gate]
        #expect(try cli.run(args).code == 0)
        try unbound.removeLocalData(["c2.example"])
        try unbound.addLocalData(["c2.example. 300 IN A 45.0.121.77"])
        let failing = try cli.run(args)
        #expect(failing.code == 0 && failing.out.contains("alerts=1"), "\(failing.err)")
        #expect(failing.err.contains("status 3") && failing.err.contains("refusing"), "\(failing.err)")
        let again = try cli.run(args)
        #expect(again.code == 0, "\(again.err)")
        #expect(try cli.run(args).code == 0)
        let payloads = try String(contentsOfFile: received, encoding: .utf8).split(separator: "\n").map { try CLI.json(String($0)) }
        #expect(payloads.count == 2, "one failed try, one delivery, nothing after")
        let ids = payloads.compactMap { $0["delivery_id"] as? String }
        #expect(ids.count == 2 && ids[0] == ids[1], "\(ids)")
        #expect(payloads.allSatisfy { $0["type"] as? String == "activation" })
        let stored = try cli.run(["alerts", "--json"]).lines.map(CLI.json)
        #expect(stored.count == 1 && ids.first?.hasPrefix("\(stored[0]["id"] as? Int ?? -1)-") == true)
    }
}
