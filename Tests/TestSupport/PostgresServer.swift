public import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A throwaway PostgreSQL server on a free loopback port: a fresh cluster (`initdb`, superuser `dnswatch`,
/// trust authentication, UTF-8, locale C) in a temporary directory, run with the server's default
/// configuration except where it listens (127.0.0.1:`port`, and [::1]:`port` when this machine has IPv6
/// loopback; its Unix socket in the directory): the
/// benchmarks measure against it, so nothing is tuned. The binaries are Debian's (the newest
/// `/usr/lib/postgresql/*/bin`). initdb, pg_ctl and postgres refuse to run as root: as root every program
/// runs as the user `postgres` (or `nobody`) through runuser, and the directory belongs to that user.
///
/// `postgres` runs in the foreground as a child of this process, like `UnboundServer`'s unbound, not
/// daemonized by `pg_ctl start`: Foundation's Process on Linux sees a child end only when every holder of an
/// inherited socket has closed it, so waiting for `pg_ctl start` would last as long as the server; and a
/// daemon would be left to an init that may never reap it. Ready means what `pg_ctl -w` checks:
/// `postmaster.pid` says `ready`. `pg_ctl stop` stops it.
///
/// Starting one takes a second or two: tests share `PostgresServer.shared` and take a fresh database each
/// with `createDatabase(_:)`.
public final class PostgresServer: Sendable {
    /// The TCP port on 127.0.0.1.
    public let port: Int
    public let host = "127.0.0.1"
    /// Whether it listens on [::1]:`port` too (this machine has IPv6 loopback and the port was free there).
    public let listensOnIPv6: Bool
    /// The superuser (trust authentication: no password).
    public let user = "dnswatch"
    /// The database created at start.
    public let database: String
    /// The temporary directory holding the cluster (`data`), the server's log (`log`) and its Unix socket.
    public let directory: URL
    /// The directory of the PostgreSQL programs in use, e.g. `/usr/lib/postgresql/15/bin` (psql is there too).
    public let binDirectory: String
    /// Who runs the programs: nil for the current user, else a user for runuser.
    private let runAs: String?
    private let process: Process
    private let stopped = Mutex(false)

    /// "postgresql://dnswatch@127.0.0.1:PORT/DATABASE", for `database`.
    public var url: String { url(database: database) }

    /// The URL of another database of this server (a plain name: it is not percent-encoded).
    public func url(database: String) -> String { "postgresql://\(user)@\(host):\(port)/\(database)" }

    /// A step of starting or driving the server failed: what ran, its exit status (nil: it did not run) and
    /// the tail of its output (the server's log, for postgres).
    public struct Failure: Error, CustomStringConvertible {
        public let step: String
        public let status: Int32?
        public let output: String

        public init(step: String, status: Int32? = nil, output: String = "") {
            self.step = step
            self.status = status
            self.output = output
        }

        public var description: String {
            guard status != nil || !output.isEmpty else { return step }
            let tail = output.split(separator: "\n", omittingEmptySubsequences: false).suffix(25).joined(separator: "\n")
            return "PostgreSQL test server: \(step) failed" + (status.map { " (exit status \($0))" } ?? "") + ":\n" + tail
        }
    }

    /// Creates the cluster, starts the server (returns once it accepts connections) and creates `database`.
    public init(database: String = "dnswatch") throws {
        let bin = try PostgresServer.findBinaries()
        let runAs = geteuid() == 0 ? PostgresServer.unprivilegedUser() : nil
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("postgres-\(UUID().uuidString)")
        let data = directory.appendingPathComponent("data").path
        let log = directory.appendingPathComponent("log")
        var port = 0
        var server: Process?
        let ipv6: Bool
        do {
            let probe = try LoopbackSocket.bind(type: Int32(SOCK_STREAM.rawValue), ipv6: true)
            close(probe.fd)
            ipv6 = true
        } catch {
            ipv6 = false  // no IPv6 loopback here: 127.0.0.1 only
        }
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            if let runAs {
                guard let pw = getpwnam(runAs), chown(directory.path, pw.pointee.pw_uid, pw.pointee.pw_gid) == 0 else {
                    throw Failure(step: "chown \(directory.path) to \(runAs): \(String(cString: strerror(errno)))")
                }
            }
            try PostgresServer.run(bin + "/initdb", ["-D", data, "-U", user, "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"],
                                   as: runAs)
            // The port was free a moment ago; another process may take it before postgres binds: try another.
            for attempt in 1...3 where server == nil {
                port = Int(try LoopbackSocket.freePort(alsoIPv6: ipv6))
                server = try PostgresServer.startServer(bin: bin, data: data, port: port, ipv6: ipv6, directory: directory, log: log,
                                                        as: runAs, retryOnBindFailure: attempt < 3)
            }
            try PostgresServer.run(bin + "/createdb", ["-h", host, "-p", "\(port)", "-U", user, database], as: runAs)
        } catch {
            if let server {
                _ = try? PostgresServer.run(bin + "/pg_ctl", ["-D", data, "-m", "immediate", "stop", "-w"], as: runAs)
                server.waitUntilExit()
            }
            try? FileManager.default.removeItem(at: directory)
            throw error
        }
        self.port = port
        self.listensOnIPv6 = ipv6
        self.database = database
        self.directory = directory
        self.binDirectory = bin
        self.runAs = runAs
        self.process = server!
    }

    deinit { stop() }

    /// The server of this test process, started on first use and stopped when the process exits (`atexit`:
    /// `pg_ctl stop -m immediate`, then the directory is removed). A process killed by a signal leaves it
    /// running.
    public static let shared: Result<PostgresServer, any Error> = {
        let result = Result { try PostgresServer() }
        if case .success(let server) = result {
            let pgCtl = [server.binDirectory + "/pg_ctl", "-D", server.directory.appendingPathComponent("data").path,
                         "-m", "immediate", "stop", "-w"]
            let command = ((server.runAs.map { ["/usr/sbin/runuser", "-u", $0, "--"] } ?? []) + pgCtl).map(shellQuoted)
                .joined(separator: " ") + " >/dev/null 2>&1; rm -rf " + shellQuoted(server.directory.path)
            sharedStopCommand.withLock { $0 = command }
            atexit {
                // No Foundation Process at exit: one shell command, run to its end.
                if let command = sharedStopCommand.withLock({ $0 }) { _ = system(command) }
            }
        }
        return result
    }()

    /// Creates another database (owned by `user`), e.g. one per test.
    public func createDatabase(_ name: String) throws {
        try PostgresServer.run(binDirectory + "/createdb", ["-h", host, "-p", "\(port)", "-U", user, name],
                               as: runAs)
    }

    /// `pg_ctl stop -m fast` (disconnects clients, waits until the server is gone), then removes the
    /// directory; idempotent.
    public func stop() {
        let first = stopped.withLock { done in
            defer { done = true }
            return !done
        }
        guard first else { return }
        let data = directory.appendingPathComponent("data").path
        if process.isRunning {
            if (try? PostgresServer.run(binDirectory + "/pg_ctl", ["-D", data, "-m", "fast", "stop", "-w"], as: runAs)) == nil {
                process.terminate()
            }
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }

    /// The newest `/usr/lib/postgresql/VERSION/bin` that holds initdb, pg_ctl, postgres and createdb.
    static func findBinaries() throws -> String {
        let root = "/usr/lib/postgresql"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        let complete = versions.filter { v in
            ["initdb", "pg_ctl", "postgres", "createdb"].allSatisfy { access("\(root)/\(v)/bin/\($0)", X_OK) == 0 }
        }
        guard let newest = complete.max(by: { $0.compare($1, options: .numeric) == .orderedAscending }) else {
            throw Failure(step: "PostgreSQL server binaries not found: install Debian's package postgresql (make test does)")
        }
        return "\(root)/\(newest)/bin"
    }

    /// `postgres` (Debian's package creates it), else `nobody`.
    static func unprivilegedUser() -> String {
        getpwnam("postgres") != nil ? "postgres" : "nobody"
    }

    /// Runs `program args...` (see `process`) to its end; returns its output (stdout and stderr together),
    /// throws a Failure unless it exits 0.
    @discardableResult
    static func run(_ program: String, _ args: [String], as user: String?) throws -> String {
        let p = process(program, args, as: user)
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        let step = ([URL(fileURLWithPath: program).lastPathComponent] + args).joined(separator: " ")
        do {
            try p.run()
        } catch {
            throw Failure(step: step, output: "cannot run \(p.executableURL?.path ?? program): \(error)")
        }
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw Failure(step: step, status: p.terminationStatus, output: output) }
        return output
    }

    /// Starts `postgres -D DATA` on `port` (stdout and stderr to `log`) and waits until it is ready; nil when it
    /// could not bind the port and `retryOnBindFailure`.
    static func startServer(bin: String, data: String, port: Int, ipv6: Bool, directory: URL, log: URL, as user: String?,
                            retryOnBindFailure: Bool) throws -> Process? {
        // On ::1 too when there is IPv6 loopback. postgres only warns when one of its addresses cannot be bound:
        // that is a bind failure here too (below), so that `listensOnIPv6` holds.
        let listen = ipv6 ? "127.0.0.1,::1" : "127.0.0.1"
        let args = ["-D", data, "-p", "\(port)", "-c", "listen_addresses=\(listen)", "-c", "unix_socket_directories=\(directory.path)"]
        let step = "postgres " + args.joined(separator: " ")
        let p = process(bin + "/postgres", args, as: user)
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let logHandle = try FileHandle(forWritingTo: log)
        defer { try? logHandle.close() }
        p.standardOutput = logHandle
        p.standardError = logHandle
        do {
            try p.run()
        } catch {
            throw Failure(step: step, output: "cannot run \(p.executableURL?.path ?? "postgres"): \(error)")
        }
        let pidFile = data + "/postmaster.pid"
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            guard p.isRunning else {
                let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
                if retryOnBindFailure && text.contains("could not bind") { return nil }
                throw Failure(step: step, status: p.terminationStatus, output: text)
            }
            // Line 8 of postmaster.pid is the server's state (what pg_ctl -w waits for).
            let lines = ((try? String(contentsOfFile: pidFile, encoding: .utf8)) ?? "").split(separator: "\n")
            if lines.count >= 8, lines[7].trimmingCharacters(in: .whitespaces) == "ready" {
                let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
                guard ipv6, text.contains("could not bind IPv6") else { return p }
                _ = try? PostgresServer.run(bin + "/pg_ctl", ["-D", data, "-m", "immediate", "stop", "-w"], as: user)
                p.waitUntilExit()
                if retryOnBindFailure { return nil }
                throw Failure(step: step, output: "could not listen on [::1]:\(port)\n" + text)
            }
            usleep(20_000)
        }
        p.terminate()
        p.waitUntilExit()
        throw Failure(step: step, output: "not ready after 60 s\n" + ((try? String(contentsOf: log, encoding: .utf8)) ?? ""))
    }

    /// `program args...`, through `runuser -u USER --` when `user` is set, in `/`, stdin empty,
    /// without the test's PG* variables.
    static func process(_ program: String, _ args: [String], as user: String?) -> Process {
        let p = Process()
        if let user {
            p.executableURL = URL(fileURLWithPath: "/usr/sbin/runuser")
            p.arguments = ["-u", user, "--", program] + args
        } else {
            p.executableURL = URL(fileURLWithPath: program)
            p.arguments = args
        }
        // The user may not enter the test's working directory (initdb would warn), and the temporary directory
        // is gone after stop (Process would then report the program missing): run in /.
        p.currentDirectoryURL = URL(fileURLWithPath: "/")
        p.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PG") }
        p.standardInput = FileHandle.nullDevice
        return p
    }
}

/// The shell command that stops `PostgresServer.shared` at exit (atexit's C function captures nothing).
private let sharedStopCommand = Mutex<String?>(nil)

/// `s` in single quotes, for sh.
private func shellQuoted(_ s: String) -> String {
    "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
}
