import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import Alerting

@Suite("CommandSink")
struct CommandSinkTests {
    @Test("the alert JSON arrives on the command's stdin, byte for byte")
    func jsonOnStdin() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let out = dir.file("received.json")
        // argv given directly: sh is the program we run, not a shell we use to parse our own input.
        let sink = try CommandSink(argv: ["sh", "-c", "cat > '\(out)'"], timeout: .seconds(10))
        #expect(sink.key == "command:sh -c cat > '\(out)'")
        try await sink.deliver(alertJSON(42))
        #expect(Array(try Data(contentsOf: URL(fileURLWithPath: out))) == alertJSON(42))
    }

    @Test("a non-zero exit is a failure with the status and the command's output")
    func nonZeroExit() async throws {
        let sink = try CommandSink(argv: ["sh", "-c", "echo to-stdout; echo to-stderr >&2; exit 3"])
        let error = await #expect(throws: AlertSinkError.self) { try await sink.deliver(alertJSON(1)) }
        #expect(error?.reason == .commandFailed(exitStatus: 3))
        #expect(error?.message.contains("status 3") == true)
        #expect(error?.message.contains("to-stdout") == true)
        #expect(error?.message.contains("to-stderr") == true)
        #expect(error?.sink == sink.key)
    }

    @Test("the captured output is cut at the limit")
    func outputLimit() async throws {
        let sink = try CommandSink(
            argv: ["sh", "-c", "i=0; while [ $i -lt 2000 ]; do printf xxxxxxxxxx; i=$((i+1)); done; exit 1"],
            outputLimit: 100)
        let error = await #expect(throws: AlertSinkError.self) { try await sink.deliver(alertJSON(1)) }
        let message = error?.message ?? ""
        #expect(message.contains(String(repeating: "x", count: 100)))
        #expect(!message.contains(String(repeating: "x", count: 101)))
        #expect(message.contains("truncated"))
    }

    @Test("a command that outlives its timeout is stopped and reported")
    func timeout() async throws {
        let sink = try CommandSink(argv: ["sleep", "20"], timeout: .milliseconds(300))
        let start = ContinuousClock.now
        let error = await #expect(throws: AlertSinkError.self) { try await sink.deliver(alertJSON(1)) }
        #expect(error?.reason == .timeout)
        #expect(error?.message.contains("0.3s") == true)
        let elapsed = ContinuousClock.now - start
        #expect(elapsed >= .milliseconds(300))
        #expect(elapsed < .milliseconds(1200), "SIGTERM ends it, no need for the SIGKILL a second later")
    }

    #if os(Linux)
    @Test("the command runs with no signals blocked (the pool's threads block most of them)")
    func signalMaskIsEmpty() async throws {
        // grep reads its own status (no shell in between, which could change the mask).
        let sink = try CommandSink(argv: ["grep", "-q", "^SigBlk:[[:space:]]*0*$", "/proc/self/status"])
        try await sink.deliver(alertJSON(1))
    }
    #endif

    @Test("a command that ignores SIGTERM is killed after the grace second")
    func timeoutIgnoringTerm() async throws {
        let sink = try CommandSink(argv: ["sh", "-c", "trap '' TERM; sleep 20"], timeout: .milliseconds(200))
        #expect(sink.gracePeriod == .seconds(1))
        let start = ContinuousClock.now
        let error = await #expect(throws: AlertSinkError.self) { try await sink.deliver(alertJSON(1)) }
        #expect(error?.reason == .timeout)
        #expect(ContinuousClock.now - start < .seconds(4))
    }

    @Test("a command killed by a signal is reported as such")
    func killedBySignal() async throws {
        let sink = try CommandSink(argv: ["sh", "-c", "kill -KILL $$"])
        let error = await #expect(throws: AlertSinkError.self) { try await sink.deliver(alertJSON(1)) }
        #expect(error?.reason == .commandKilled(signal: 9))
    }

    @Test("a command that does not read its stdin still succeeds, even with a large alert")
    func ignoresStdin() async throws {
        let big = Array("{\"pad\":\"\(String(repeating: "p", count: 300_000))\"}".utf8)
        try await CommandSink(argv: ["true"]).deliver(big)
    }

    @Test("a program that is not on PATH is reported")
    func notFound() async throws {
        let sink = try CommandSink(argv: ["dnswatch-test-no-such-program"])
        let error = await #expect(throws: AlertSinkError.self) { try await sink.deliver(alertJSON(1)) }
        #expect(error?.reason == .commandNotFound)
        #expect(error?.message.contains("dnswatch-test-no-such-program") == true)
    }

    @Test("cancellation stops the command promptly")
    func cancellation() async throws {
        let sink = try CommandSink(argv: ["sleep", "20"], timeout: .seconds(60))
        let task = Task { try await sink.deliver(alertJSON(1)) }
        try await Task.sleep(for: .milliseconds(200))
        let start = ContinuousClock.now
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(ContinuousClock.now - start < .seconds(2))
    }

    @Test("executables are resolved on PATH, not through a shell")
    func resolve() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let tool = dir.file("notify")
        try "#!/bin/sh\nexit 0\n".write(toFile: tool, atomically: true, encoding: .utf8)
        #expect(CommandSink.resolveExecutable("notify", searchPath: "/nonexistent:\(dir.path)") == nil)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: tool)
        #expect(CommandSink.resolveExecutable("notify", searchPath: "/nonexistent::\(dir.path)") == tool)
        #expect(CommandSink.resolveExecutable("notify", searchPath: "/nonexistent") == nil)
        #expect(CommandSink.resolveExecutable(tool, searchPath: "") == tool)
        #expect(CommandSink.resolveExecutable(dir.path, searchPath: "") == nil, "a directory is not a program")
    }

    @Test("an empty argv is refused")
    func emptyArgv() {
        #expect(throws: AlertSinkError.self) { try CommandSink(argv: []) }
        #expect(throws: AlertSinkError.self) { try CommandSink(argv: [""]) }
    }
}

@Suite("CommandSink argv and process group")
struct CommandSinkArgvTests {
    @Test("each argument reaches the program as it is: no shell, no word splitting, no expansion")
    func argumentsAsGiven() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let out = dir.file("args.txt")
        let args = ["two words", "$HOME", "a'b\"c", "*", "", "; rm -rf x"]
        // printf prints each argument on its own line; sh is the program, given argv directly.
        let sink = try CommandSink(argv: ["sh", "-c", "printf '%s\\n' \"$@\" > \"$0\"", out] + args)
        try await sink.deliver(alertJSON(1))
        #expect(try dir.read("args.txt") == args.map { $0 + "\n" }.joined())
    }

    @Test("a command is checked before use: empty, or a program that does not exist")
    func problems() {
        #expect(CommandSink.problem(argv: []) != nil)
        #expect(CommandSink.problem(argv: ["dnswatch-test-no-such-program"])?.contains("not found") == true)
        #expect(CommandSink.problem(argv: ["sh", "-c", "true"]) == nil)
        #expect(CommandSink.problem(argv: ["notify-send 'DNS alert'"]) != nil, "a command line is not split")
    }

    /// The processes (not zombies) whose process group is `group`, from /proc.
    static func liveMembers(ofGroup group: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { return false }
            // After "(comm)": state ppid pgrp ...
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 2 && fields[0] != "Z" && Int32(fields[2]) == group
        }
    }

    #if os(Linux)
    @Test("cancelling the delivery ends the program's whole process group, grandchildren too")
    func cancellationEndsTheGroup() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let pidFile = dir.file("pid")
        // The program starts a grandchild that ignores SIGTERM, then waits; it writes its pid when ready.
        let sink = try CommandSink(
            argv: ["sh", "-c", "(trap '' TERM; exec sleep 30) & echo $$ > \"$0.tmp\"; mv \"$0.tmp\" \"$0\"; wait", pidFile],
            timeout: .seconds(60), gracePeriod: .milliseconds(300))
        let task = Task { try await sink.deliver(alertJSON(1)) }
        var leader: Int32?
        for _ in 0..<500 where leader == nil {
            try await Task.sleep(for: .milliseconds(10))
            leader = (try? dir.read("pid")).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }
        let group = try #require(leader, "the command did not start")
        #expect(getpgid(group) == group, "the program leads a process group of its own")
        #expect(Self.liveMembers(ofGroup: group).count >= 2, "the program and its grandchild")
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        var left = Self.liveMembers(ofGroup: group)
        for _ in 0..<100 where !left.isEmpty {
            try await Task.sleep(for: .milliseconds(20))
            left = Self.liveMembers(ofGroup: group)
        }
        #expect(left.isEmpty, "still running in the group: \(left)")
    }
    #endif
}
