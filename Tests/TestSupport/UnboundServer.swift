public import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A real Unbound on a free loopback port, serving only local zones: everything outside them is REFUSED and
/// Unbound never sends a query anywhere (no recursion: `.` is a refuse zone and every upstream address is
/// blocked). Runtime changes go through unbound-control on another free loopback port. Unbound's caches keep
/// nothing (`cache-max-ttl: 0`), so runtime changes show at once.
///
/// Note: a CNAME in local data is answered alone (Unbound does not chase it inside local zones); tests that need
/// a full chain can serve a zone file with `auth-zone` through `extraConfig` plus a `transparent` local zone.
public final class UnboundServer: @unchecked Sendable {
    /// The DNS port (UDP and TCP) on 127.0.0.1.
    public let port: UInt16
    /// The remote-control port on 127.0.0.1.
    public let controlPort: UInt16
    /// The temporary directory holding the config, pid file and log.
    public let directory: URL
    public let configPath: String
    private let process: Process
    private let lock = NSLock()
    private var stopped = false

    public static let unboundPath = "/usr/sbin/unbound"
    public static let controlPath = "/usr/sbin/unbound-control"

    /// Writes a config and starts `unbound -d`; returns once it answers unbound-control status.
    ///
    /// - Parameters:
    ///   - localZones: `local-zone` values, e.g. `"example. static"` (the name may be quoted or not).
    ///   - localData: RR lines, e.g. `"a.example. 300 IN A 192.0.2.1"`.
    ///   - extraConfig: more lines for the `server:` clause.
    ///   - listenIPv6: also listen on [::1] (same port).
    public init(localZones: [String], localData: [String], extraConfig: String = "", listenIPv6: Bool = false) throws {
        port = try LoopbackSocket.freePort(alsoIPv6: listenIPv6)
        var control = try LoopbackSocket.freePort()
        while control == port { control = try LoopbackSocket.freePort() }
        controlPort = control
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("unbound-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        configPath = directory.appendingPathComponent("unbound.conf").path
        let config = UnboundServer.config(
            port: port, controlPort: controlPort, directory: directory.path,
            localZones: localZones, localData: localData, extraConfig: extraConfig, listenIPv6: listenIPv6)
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)

        process = Process()
        process.executableURL = URL(fileURLWithPath: UnboundServer.unboundPath)
        process.arguments = ["-d", "-c", configPath]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        let log = directory.appendingPathComponent("stderr.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: log)
        do {
            try process.run()
        } catch {
            throw TestSupportError.process("cannot start unbound: \(error)")
        }
        try waitUntilReady(log: log)
    }

    deinit { stop() }

    /// "127.0.0.1:PORT".
    public var endpoint: String { "127.0.0.1:\(port)" }
    /// "[::1]:PORT" (only served with `listenIPv6`).
    public var endpointIPv6: String { "[::1]:\(port)" }

    /// Adds RRs at runtime (`local_datas`); visible to the next query.
    public func addLocalData(_ rrs: [String]) throws {
        guard !rrs.isEmpty else { return }
        try control(["local_datas"], input: rrs.joined(separator: "\n") + "\n")
    }

    /// Removes all local data of each name (`local_data_remove`).
    public func removeLocalData(_ names: [String]) throws {
        for name in names { try control(["local_data_remove", name]) }
    }

    /// Adds a local zone, e.g. `addLocalZone("example.", type: "static")`.
    public func addLocalZone(_ name: String, type: String) throws {
        try control(["local_zone", name, type])
    }

    /// Removes a local zone.
    public func removeLocalZone(_ name: String) throws {
        try control(["local_zone_remove", name])
    }

    /// Drops everything from Unbound's message and RRset caches.
    public func flushCache() throws {
        try control(["flush_zone", "."])
    }

    /// Runs `unbound-control -c CONF args...` and returns its output; throws unless it exits 0.
    @discardableResult
    public func control(_ args: [String], input: String? = nil) throws -> String {
        let (status, output) = try UnboundServer.run(UnboundServer.controlPath, ["-c", configPath] + args, input: input)
        guard status == 0, !output.lowercased().hasPrefix("error") else {
            throw TestSupportError.unboundControl(command: args.joined(separator: " "), output: output)
        }
        return output
    }

    /// SIGTERM and wait; idempotent.
    public func stop() {
        let first = lock.withLock {
            defer { stopped = true }
            return !stopped
        }
        guard first else { return }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }

    private func waitUntilReady(log: URL) throws {
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            guard process.isRunning else {
                let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
                throw TestSupportError.process("unbound exited: \(text)")
            }
            if let (status, _) = try? UnboundServer.run(UnboundServer.controlPath, ["-c", configPath, "status"]), status == 0 {
                return
            }
            usleep(50_000)
        }
        stop()
        throw TestSupportError.notReady("unbound on port \(port) did not come up")
    }

    static func config(
        port: UInt16, controlPort: UInt16, directory: String,
        localZones: [String], localData: [String], extraConfig: String, listenIPv6: Bool
    ) -> String {
        var lines = [
            "server:",
            "  interface: 127.0.0.1",
        ]
        if listenIPv6 { lines.append("  interface: ::1") }
        lines += [
            "  port: \(port)",
            "  do-ip6: \(listenIPv6 ? "yes" : "no")",
            "  do-daemonize: no",
            "  chroot: \"\"",
            "  username: \"\"",
            "  directory: \"\(directory)\"",
            "  pidfile: \"\(directory)/unbound.pid\"",
            "  use-syslog: no",
            "  logfile: \"\"",
            "  verbosity: 0",
            "  num-threads: 1",
            "  module-config: \"iterator\"",
            "  access-control: 127.0.0.0/8 allow",
            // Nothing may leave the machine: no upstream address is ever queried, and names outside the
            // test zones are refused locally.
            "  do-not-query-localhost: yes",
            "  do-not-query-address: 0.0.0.0/0",
            "  do-not-query-address: ::/0",
            "  local-zone: \".\" refuse",
            "  prefetch: no",
            "  cache-max-ttl: 0",
            "  cache-max-negative-ttl: 0",
            "  msg-cache-size: 1m",
            "  rrset-cache-size: 1m",
            "  so-rcvbuf: 4m",
            "  so-sndbuf: 4m",
        ]
        for zone in localZones {
            let parts = zone.split(separator: " ", maxSplits: 1)
            let name = parts[0].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            let type = parts.count > 1 ? String(parts[1]) : "static"
            lines.append("  local-zone: \"\(name)\" \(type)")
        }
        for rr in localData {
            // Unbound's config strings cannot escape quotes: TXT data in double quotes needs single quotes around.
            lines.append(rr.contains("\"") ? "  local-data: '\(rr)'" : "  local-data: \"\(rr)\"")
        }
        if !extraConfig.isEmpty {
            lines += extraConfig.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }
        }
        lines += [
            "remote-control:",
            "  control-enable: yes",
            "  control-interface: 127.0.0.1",
            "  control-port: \(controlPort)",
            "  control-use-cert: no",
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    /// Runs a program to completion; returns its exit status and combined output.
    static func run(_ path: String, _ args: [String], input: String? = nil) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        let inPipe = Pipe()
        p.standardInput = input == nil ? FileHandle.nullDevice : inPipe
        try p.run()
        if let input {
            inPipe.fileHandleForWriting.write(Data(input.utf8))
            try? inPipe.fileHandleForWriting.close()
        }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
