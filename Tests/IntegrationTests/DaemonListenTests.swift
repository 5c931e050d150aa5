import DNSWatchModel
import Foundation
import SQLiteStore
import Store
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

extension OperationsTests {
    /// `dnswatch daemon --listen`: the server next to the poll service, over its own read-only connection to
    /// the same WAL database. Requests are answered while a poll writes, and SIGTERM ends both cleanly.
    @Suite struct DaemonListenTests {
        /// Whether `name` has been written by a poll (its status row has a last poll time).
        static func written(_ audit: Audit, _ name: String) throws -> Bool {
            try audit.scalar("""
                SELECT count(*) FROM domains d JOIN domain_status st ON st.domain_id = d.id
                WHERE d.name = '\(name)' AND st.last_polled IS NOT NULL
                """) == 1
        }

        @Test func requestsAreAnsweredWhileAPollWritesAndSIGTERMEndsBoth() async throws {
            let w = try BulkWorld()
            let names = BulkWorld.names(400)
            try await w.watch(names, list: "c2")
            let config = try w.file("dnswatch.toml", lines: ["[poll]", "batch = 50"])
            let port = try LoopbackSocket.freePort()
            // 1,200 queries at 200/s: the first poll writes for about 6 s, a batch of 50 at a time.
            let daemon = try Background(["daemon"] + w.pollArgs + ["--tick", "1s", "--config", config, "--qps", "200",
                                                                   "--listen", "127.0.0.1:\(port)"], workdir: w.workdir)
            let base = "http://127.0.0.1:\(port)"
            let up = try await eventually(timeout: 60, every: 50) { daemon.err.contains("serving http://127.0.0.1:\(port)") }
            try #require(up && daemon.isRunning, "the server did not start: \(daemon.err)")
            let audit = try Audit(w.dbPath)
            // Under way, with names[0] written. Batches are written in the order they complete (three are
            // resolved at once), so a count of domains written does not say which: wait for names[0] itself.
            let inPoll = try await eventually(timeout: 60) {
                guard let p = try audit.polls().last, p.finished == nil else { return false }
                return try Self.written(audit, names[0])
            }
            let polls = try audit.polls()
            try #require(inPoll, "no poll under way with \(names[0]) written: \(polls) \(daemon.err)")
            // While the poll writes: the lookups of what is already written. A round counts when its three
            // answers came back with the poll still unfinished: the server answers beside the writer rather
            // than after it.
            var during = 0, rounds = 0
            var slowest = 0.0
            while try audit.polls().last?.finished == nil {
                let ping = try await HTTP.get(base + "/dnsdb/v2/ping")
                #expect(ping.status == 200 && ping.body.contains(#""ping":"ok""#), "\(ping)")
                let rrset = try await HTTP.get(base + "/dnsdb/v2/lookup/rrset/name/\(names[0])/A")
                #expect(rrset.status == 200 && rrset.body.contains(#""rrname":"\#(names[0])."#), "\(rrset)")
                #expect(rrset.body.trimmingCharacters(in: .newlines).hasSuffix(#"{"cond":"succeeded"}"#), "\(rrset.body)")
                let domains = try await HTTP.get(base + "/api/v1/domains?limit=1000")
                #expect(domains.status == 200 && domains.body.components(separatedBy: #""domain":"#).count - 1 == names.count, "\(domains)")
                slowest = max(slowest, ping.seconds, rrset.seconds, domains.seconds)
                rounds += 1
                if try audit.polls().last?.finished == nil { during += 1 }
            }
            figure("daemon --listen: \(during) of \(rounds) rounds of 3 requests answered during a poll, the slowest \(String(format: "%.3f", slowest)) s")
            #expect(during >= 2, "\(during) rounds of requests answered while the poll was under way (of \(rounds))")
            // After the poll: what it wrote is served (the reader sees the new WAL frames).
            let last = names.last { !$0.contains("nx") } ?? names[0]
            let after = try await HTTP.get(base + "/dnsdb/v2/lookup/rrset/name/\(last)/A")
            #expect(after.status == 200 && after.body.contains(BulkWorld.liveA), "\(after)")
            daemon.signal(SIGTERM)
            let end = try await daemon.wait(timeout: 60)
            #expect(end?.status == 0 && end?.signalled == false, "exit \(String(describing: end)); \(daemon.err)")
            let gone = try await HTTP.get(base + "/dnsdb/v2/ping")
            #expect(gone.status == 0, "the server still answers after the daemon ended: \(gone)")
        }
    }
}

extension OperationsTests {
    /// Issue 19 row 2: with 1,100 idle connections and the usual 1,024 open files every later request timed
    /// out, and idle or half-sent connections stayed open for good. Now the server holds at most
    /// `--max-connections` (the rest wait in the kernel's queue), and closes a connection with no request
    /// under way after `--idle-timeout`: it keeps answering. Real sockets on loopback, the server run with an
    /// open-file limit of 64 and far more connections than that.
    @Suite struct ServeConnectionLimitTests {
        /// A non-blocking TCP connection to 127.0.0.1:`port`.
        static func connect(_ port: UInt16) throws -> Int32 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw TestSupportError.process("socket: \(String(cString: strerror(errno)))") }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = port.bigEndian
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            let r = withUnsafePointer(to: &addr) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard r == 0 || errno == EINPROGRESS else { throw TestSupportError.process("connect: \(String(cString: strerror(errno)))") }
            return fd
        }

        /// Whether the server closed the connection (end of file or reset); false while it is open and silent.
        static func closedByServer(_ fd: Int32) -> Bool {
            var byte: UInt8 = 0
            let n = recv(fd, &byte, 1, Int32(MSG_DONTWAIT))
            if n == 0 { return true }
            if n < 0 { return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINPROGRESS }
            return false  // a byte: an answer, not a close (never expected here)
        }

        @Test func idleAndHalfSentConnectionsAreClosedAndTheServerKeepsAnswering() async throws {
            let dir = try TemporaryDirectory("dnswatch-conns").url
            let port = try LoopbackSocket.freePort()
            // The server under an open-file limit of 64, holding at most 16 connections, idle ones for 1 s.
            let server = try ServeChild(["serve", "--db", dir.appendingPathComponent("db.sqlite").path, "--listen", "127.0.0.1:\(port)",
                                         "--max-connections", "16", "--idle-timeout", "1s"], in: dir, openFiles: 64)
            try await server.started(port)
            var err: String { server.err }
            // 100 idle connections and 20 that send half a request head and stop: beyond the open-file limit.
            var idle: [Int32] = []
            var half: [Int32] = []
            defer { for fd in idle + half { close(fd) } }
            for _ in 0..<100 { idle.append(try Self.connect(port)) }
            for _ in 0..<20 { half.append(try Self.connect(port)) }
            let partial = Array("GET /dnsdb/v2/ping HTTP/1.1\r\nHost: 127.0.0.1\r\n".utf8)
            let sentAll = try await eventually(timeout: 10, every: 10) {
                half.allSatisfy { fd in partial.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) == partial.count } }
            }
            #expect(sentAll, "the half requests could not be sent")
            // A new request is answered (curl gives up after 10 s; the idle ones are closed a second at a time).
            var answered = false
            for _ in 0..<6 where !answered {
                let ping = try await HTTP.get("http://127.0.0.1:\(port)/dnsdb/v2/ping", maxSeconds: 10)
                answered = ping.status == 200 && ping.body.contains(#""ping":"ok""#)
            }
            #expect(answered, "no answer while idle connections were open: \(err.suffix(2000))")
            // Every idle and half-sent connection is closed by the server.
            let allClosed = try await eventually(timeout: 90, every: 50) { (idle + half).allSatisfy(Self.closedByServer) }
            let open = (idle + half).filter { !Self.closedByServer($0) }.count
            #expect(allClosed, "\(open) of \(idle.count + half.count) connections still open")
            let after = try await HTTP.get("http://127.0.0.1:\(port)/dnsdb/v2/ping")
            #expect(after.status == 200, "\(after)")
            #expect(server.process.isRunning, "\(err.suffix(2000))")
            #expect(try await server.terminate() == 0, "\(err.suffix(2000))")
        }
    }
}

/// `dnswatch serve` run in the background (through `sh`, to set its open-file limit), stderr to a file.
final class ServeChild: @unchecked Sendable {
    let process = Process()
    let errPath: String

    /// `wrapper` runs the binary (e.g. in a mount namespace, or as another user).
    init(_ args: [String], in dir: URL, openFiles: Int = 1024, wrapper: [String] = []) throws {
        errPath = dir.appendingPathComponent("serve-err-\(UUID().uuidString.prefix(8)).txt").path
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "ulimit -n \(openFiles) && exec \"$@\"", "sh"] + wrapper + [DNSWatchBinary.url.path] + args
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "DNSWATCH_CONFIG")
        env.removeValue(forKey: "DNSWATCH_API_KEY")
        process.environment = env
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        try process.run()
    }

    var err: String { String(decoding: FileManager.default.contents(atPath: errPath) ?? Data(), as: UTF8.self) }

    /// Waits for "serving http://127.0.0.1:PORT" on stderr (a generous bound: a loaded machine is slow, not wrong).
    func started(_ port: UInt16, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let up = try await eventually(timeout: 60, every: 20) { err.contains("serving http://127.0.0.1:\(port)") || !process.isRunning }
        try #require(up && process.isRunning, "the server did not start: \(err)", sourceLocation: sourceLocation)
    }

    /// SIGTERM, then its exit status (nil if it did not end within 30 s).
    func terminate() async throws -> Int32? {
        kill(process.processIdentifier, SIGTERM)
        guard try await eventually(timeout: 30, every: 20, { !process.isRunning }) else { return nil }
        process.waitUntilExit()
        return process.terminationStatus
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}

extension OperationsTests {
    /// The config's `[serve]` section (listen, api_keys, limits), each key overridden by its flag; bad values
    /// name the key. operations.md's PostgreSQL example relies on it (it was "unknown key 'serve'", exit 65).
    @Suite struct ServeConfigSectionTests {
        @Test func listenAndKeysComeFromTheConfigAndFlagsOverrideThem() async throws {
            let cli = try CLI()
            let keys = try cli.file("api-keys", "alice k-alice-0123456789\n")
            chmod(keys, 0o600)
            let port = try LoopbackSocket.freePort(), other = try LoopbackSocket.freePort()
            let config = try cli.file("serve.toml", """
                [serve]
                listen = "127.0.0.1:\(port)"
                api_keys = "\(keys)"
                max_connections = 8
                idle_timeout = "5s"
                """)
            let fromConfig = try ServeChild(["serve", "--db", cli.db, "--config", config], in: cli.workdir)
            try await fromConfig.started(port)
            #expect(fromConfig.err.contains("(1 API key)"), "\(fromConfig.err)")
            let refused = try await HTTP.get("http://127.0.0.1:\(port)/dnsdb/v2/ping")
            #expect(refused.status == 401, "\(refused)")
            #expect(try await fromConfig.terminate() == 0)
            // --listen overrides the config's listen; the keys still come from it.
            let overridden = try ServeChild(["serve", "--db", cli.db, "--config", config, "--listen", "127.0.0.1:\(other)"], in: cli.workdir)
            try await overridden.started(other)
            #expect(overridden.err.contains("(1 API key)"), "\(overridden.err)")
            #expect(try await overridden.terminate() == 0)
        }

        @Test func badValuesNameTheirKey() throws {
            let cli = try CLI()
            let cases: [(toml: String, code: Int32, says: String)] = [
                ("[serve]\nlisten = \"localhost\"", 65, "serve.listen"),
                ("[serve]\nlisten = \"192.0.2.1:99999\"", 65, "serve.listen"),
                ("[serve]\nlisten = 8053", 65, "serve.listen"),
                ("[serve]\napi_keys = \"\"", 65, "serve.api_keys"),
                ("[serve]\nmax_connections = 0", 65, "serve.max_connections"),
                ("[serve]\nidle_timeout = \"2h\"", 65, "serve.idle_timeout"),
                ("[serve]\nport = 8053", 65, "serve.port"),
                // Beyond loopback without keys, from the config as from the flag: a usage error.
                ("[serve]\nlisten = \"0.0.0.0:8053\"", 64, "--api-keys"),
                ("[serve]\napi_keys = \"/nonexistent/keys\"", 64, "[serve] api_keys"),
            ]
            for c in cases {
                let config = try cli.file("c.toml", c.toml)
                let r = try cli.run(["serve", "--config", config])
                #expect(r.code == c.code && r.err.contains(c.says), "\(c.toml): exit \(r.code): \(r.err)")
            }
            let flag = try cli.run(["serve", "--idle-timeout", "0s"])
            #expect(flag.code == 64 && flag.err.contains("--idle-timeout"), "\(flag.err)")
            let many = try cli.run(["serve", "--max-connections", "0"])
            #expect(many.code == 64 && many.err.contains("--max-connections"), "\(many.err)")
        }
    }
}

extension OperationsTests {
    /// The systemd unit's case (`ProtectSystem=strict`, `ReadOnlyPaths=` the database's directory): serve in a
    /// directory it may only read. It failed between cron polls ("is not a dnswatch database: cannot open
    /// it"): SQLite deleted `-wal` and `-shm` when the last poll closed, and a reader that cannot create them
    /// cannot read a WAL database. Writers now keep them (persistent WAL), and when they are missing the
    /// message says so and what to grant. As root (tests and CI), the directory is made read-only for the
    /// server by a read-only bind mount in its own mount namespace (what `ReadOnlyPaths=` does), or, where
    /// namespaces are not allowed, by running it as `nobody`; otherwise by its mode.
    @Suite struct ServeReadOnlyDirectoryTests {
        /// How to run the server so that `dir` is read-only to it.
        static func readOnlyWrapper(_ dir: URL) throws -> [String] {
            guard getuid() == 0 else {
                chmod(dir.path, 0o555)
                return []
            }
            let probe = try ChildProcess.run(URL(fileURLWithPath: "/usr/bin/unshare"), ["--mount", "--propagation", "private", "true"])
            if probe.code == 0 {
                return ["/usr/bin/unshare", "--mount", "--propagation", "private", "/bin/sh", "-c",
                        "mount --bind \"$1\" \"$1\" && mount -o remount,bind,ro \"$1\" \"$1\" && shift && exec \"$@\"", "sh", dir.path]
            }
            return ["/usr/bin/setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
        }

        static func watched(_ store: SQLiteStore, _ names: [String]) async throws {
            _ = try await store.addEntries(try names.map { ListEntry(domain: try DomainName($0)) }, to: ListSpec(name: "feed", kind: .c2), now: 1)
        }

        /// A database in a directory of its own, written as a poll writes it and closed, as the poll's end
        /// closes its last connection.
        static func polledDatabase() async throws -> (dir: URL, db: String) {
            let dir = try TemporaryDirectory("dnswatch-ro").url
            chmod(dir.path, 0o755)
            let db = dir.appendingPathComponent("db.sqlite").path
            do {
                let store = try SQLiteStore(path: db)
                try await watched(store, ["first.example"])
            }
            return (dir, db)
        }

        @Test func servesADatabaseInADirectoryItMayOnlyRead() async throws {
            let (dir, db) = try await Self.polledDatabase()
            #expect(FileManager.default.fileExists(atPath: db + "-wal") && FileManager.default.fileExists(atPath: db + "-shm"),
                    "the -wal and -shm files were not kept")
            for file in [db, db + "-wal", db + "-shm"] { chmod(file, 0o644) }  // readable by `nobody` too
            let wrapper = try Self.readOnlyWrapper(dir)
            let port = try LoopbackSocket.freePort()
            let server = try ServeChild(["serve", "--db", db, "--listen", "127.0.0.1:\(port)"], in: FileManager.default.temporaryDirectory,
                                        wrapper: wrapper)
            try await server.started(port)
            let first = try await HTTP.get("http://127.0.0.1:\(port)/api/v1/domains")
            #expect(first.status == 200 && first.body.contains("first.example"), "\(first); \(server.err)")
            // A poll writes while serve reads the read-only -shm: what it commits is served.
            do {
                let store = try SQLiteStore(path: db)
                try await Self.watched(store, ["second.example"])
                let seen = try await HTTP.get("http://127.0.0.1:\(port)/api/v1/domains")
                #expect(seen.status == 200 && seen.body.contains("second.example"), "\(seen); \(server.err)")
            }
            #expect(try await server.terminate() == 0, "\(server.err)")
            #expect(!server.err.contains("error"), "\(server.err)")
        }

        @Test func missingWALFilesInAReadOnlyDirectoryAreSaidSo() async throws {
            let (dir, db) = try await Self.polledDatabase()
            // As an older dnswatch left it: the WAL folded back and both files deleted.
            try FileManager.default.removeItem(atPath: db + "-wal")
            try FileManager.default.removeItem(atPath: db + "-shm")
            chmod(db, 0o644)
            let server = try ServeChild(["serve", "--db", db, "--listen", "127.0.0.1:0"], in: FileManager.default.temporaryDirectory,
                                        wrapper: try Self.readOnlyWrapper(dir))
            let ended = try await eventually(timeout: 30, every: 20) { !server.process.isRunning }
            try #require(ended, "serve started: \(server.err)")
            #expect(server.process.terminationStatus == 1, "\(server.err)")
            #expect(server.err.contains("cannot read the database \(db): it is in WAL mode, its -wal and -shm files are missing"), "\(server.err)")
            #expect(server.err.contains("ReadWritePaths=\(dir.path)") && !server.err.contains("not a dnswatch database"), "\(server.err)")
        }
    }
}
