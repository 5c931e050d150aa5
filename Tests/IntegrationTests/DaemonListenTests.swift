import Foundation
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

extension OperationsTests {
    /// `dnswatch daemon --listen`: the server next to the poll service, over its own read-only connection to
    /// the same WAL database. Requests are answered while a poll writes, and SIGTERM ends both cleanly.
    @Suite struct DaemonListenTests {
        /// `curl` a URL: status, body and seconds taken (`-m` bounds it).
        static func get(_ url: String) async throws -> (status: Int, body: String, seconds: Double) {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
            p.arguments = ["-s", "-m", "10", "-o", "-", "-w", "\n%{http_code} %{time_total}", url]
            let out = Pipe()
            p.standardOutput = out
            p.standardError = FileHandle.nullDevice
            guard FileManager.default.isExecutableFile(atPath: "/usr/bin/curl") else {
                throw TestSupportError.process("/usr/bin/curl is missing: run scripts/install-deps")
            }
            try p.run()
            let data = await Task.detached { out.fileHandleForReading.readDataToEndOfFile() }.value
            p.waitUntilExit()
            let text = String(decoding: data, as: UTF8.self)
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            let tail = lines.last.map { $0.split(separator: " ") } ?? []
            return (Int(tail.first ?? "") ?? 0, lines.dropLast().joined(separator: "\n"), Double(tail.last ?? "") ?? -1)
        }

        @Test func requestsAreAnsweredWhileAPollWritesAndSIGTERMEndsBoth() async throws {
            let w = try BulkWorld()
            let names = BulkWorld.names(400)
            try await w.watch(names, list: "c2")
            let config = try w.file("dnswatch.toml", lines: ["[poll]", "batch = 50"])
            let port = try LoopbackSocket.freePort()
            // 1,200 queries at 300/s: the first poll writes for about 4 s, a batch of 50 at a time.
            let daemon = try Background(["daemon"] + w.pollArgs + ["--tick", "1s", "--config", config, "--qps", "300",
                                                                   "--listen", "127.0.0.1:\(port)"], workdir: w.workdir)
            let base = "http://127.0.0.1:\(port)"
            let up = try await eventually(timeout: 20, every: 50) { daemon.err.contains("serving http://127.0.0.1:\(port)") }
            try #require(up && daemon.isRunning, "the server did not start: \(daemon.err)")
            let audit = try Audit(w.dbPath)
            let inPoll = try await eventually(timeout: 20) {
                guard let p = try audit.polls().last else { return false }
                return p.domains >= 50 && p.finished == nil
            }
            try #require(inPoll, "no poll under way: \(daemon.err)")
            // While the poll writes: the lookups of what is already written, each answered promptly.
            var answered = 0
            var slowest = 0.0
            while try audit.polls().last?.finished == nil {
                let ping = try await Self.get(base + "/dnsdb/v2/ping")
                #expect(ping.status == 200 && ping.body.contains(#""ping":"ok""#), "\(ping)")
                let rrset = try await Self.get(base + "/dnsdb/v2/lookup/rrset/name/\(names[0])/A")
                #expect(rrset.status == 200 && rrset.body.contains(#""rrname":"\#(names[0])."#), "\(rrset)")
                #expect(rrset.body.trimmingCharacters(in: .newlines).hasSuffix(#"{"cond":"succeeded"}"#), "\(rrset.body)")
                let domains = try await Self.get(base + "/api/v1/domains?limit=1000")
                #expect(domains.status == 200 && domains.body.components(separatedBy: #""domain":"#).count - 1 == names.count)
                slowest = max(slowest, ping.seconds, rrset.seconds, domains.seconds)
                answered += 1
            }
            figure("daemon --listen: \(answered) rounds of 3 requests during a poll, the slowest \(String(format: "%.3f", slowest)) s")
            #expect(answered >= 2, "the poll ended before requests could be made during it")
            #expect(slowest < 2, "a request waited \(slowest) s during a poll")
            // After the poll: what it wrote is served (the reader sees the new WAL frames).
            let last = names.last { !$0.contains("nx") } ?? names[0]
            let after = try await Self.get(base + "/dnsdb/v2/lookup/rrset/name/\(last)/A")
            #expect(after.body.contains(BulkWorld.liveA), "\(after.body)")
            daemon.signal(SIGTERM)
            let end = try await daemon.wait(timeout: 30)
            #expect(end?.status == 0 && end?.signalled == false, "exit \(String(describing: end)); \(daemon.err)")
            let gone = try await Self.get(base + "/dnsdb/v2/ping")
            #expect(gone.status == 0, "the server still answers after the daemon ended")
        }
    }
}
