import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport
@testable import Alerting

@Suite("CommandSink")
struct CommandSinkTests {
    @Test("the alert JSON arrives on the command's stdin, byte for byte")
    func jsonOnStdin() async throws {
        let dir = try TemporaryDirectory()
        let out = dir.path("received.json")
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

    @Test("a command that outlives its timeout is stopped and reported", .timeLimit(.minutes(1)))
    func timeout() async throws {
        // Without the timeout the delivery would succeed after 20 s; a hang is ended by the time limit.
        let sink = try CommandSink(argv: ["sleep", "20"], timeout: .milliseconds(300))
        let error = await #expect(throws: AlertSinkError.self) { try await sink.deliver(alertJSON(1)) }
        #expect(error?.reason == .timeout)
        #expect(error?.message.contains("0.3s") == true)
    }

    #if os(Linux)
    @Test("at the timeout the command's group gets SIGTERM first, so it can clean up", .timeLimit(.minutes(1)))
    func timeoutSendsTermFirst() async throws {
        let dir = try TemporaryDirectory("dnswatch-alerting")
        let marker = dir.path("term")
        // The shell notes the SIGTERM it gets and exits; its sleeping child is in the same group. The
        // timeout leaves the shell ample time to set its trap before it runs out.
        let sink = try CommandSink(
            argv: ["sh", "-c", "trap 'echo TERM > \"$0\"; exit 0' TERM; echo $$ > \"$0.pid\"; sleep 30 & wait", marker],
            timeout: .seconds(3))
        let error = await #expect(throws: AlertSinkError.self) { try await sink.deliver(alertJSON(1)) }
        #expect(error?.reason == .timeout)
        try #require(FileManager.default.fileExists(atPath: marker), "the group got no SIGTERM")
        #expect(try dir.read("term") == "TERM\n")
        let group = try #require(Int32(try dir.read("term.pid").trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(try await eventually { try CommandSinkArgvTests.liveMembers(ofGroup: group).isEmpty }, "nothing of the group outlives the delivery")
    }
    #endif

    #if os(Linux)
    @Test("the command runs with no signals blocked (the pool's threads block most of them)")
    func signalMaskIsEmpty() async throws {
        // grep reads its own status (no shell in between, which could change the mask).
        let sink = try CommandSink(argv: ["grep", "-q", "^SigBlk:[[:space:]]*0*$", "/proc/self/status"])
        try await sink.deliver(alertJSON(1))
    }
    #endif

    #if os(Linux)
    @Test("a command that ignores SIGTERM is killed after the grace period", .timeLimit(.minutes(1)))
    func timeoutIgnoringTerm() async throws {
        #expect(try CommandSink(argv: ["true"]).gracePeriod == .seconds(1), "the default grace period")
        let dir = try TemporaryDirectory("dnswatch-alerting")
        // The shell and its sleep (which inherits the ignored SIGTERM) would outlive the delivery by ten
        // minutes without the SIGKILL; the time limit ends that hang as a failure.
        let sink = try CommandSink(
            argv: ["sh", "-c", "trap '' TERM; echo $$ > \"$0\"; sleep 600", dir.path("pid")],
            timeout: .seconds(3), gracePeriod: .milliseconds(300))
        let error = await #expect(throws: AlertSinkError.self) { try await sink.deliver(alertJSON(1)) }
        #expect(error?.reason == .timeout)
        let group = try #require(Int32(try dir.read("pid").trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(try await eventually { try CommandSinkArgvTests.liveMembers(ofGroup: group).isEmpty }, "the group was killed")
    }
    #endif

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

    #if os(Linux)
    @Test("cancelling a running command stops it and throws CancellationError", .timeLimit(.minutes(1)))
    func cancellation() async throws {
        let dir = try TemporaryDirectory("dnswatch-alerting")
        let pidFile = dir.path("pid")
        // The command says it runs (its pid, written whole by a rename), then sleeps for ten minutes: only
        // the cancellation can end it before the time limit does.
        let sink = try CommandSink(
            argv: ["sh", "-c", "echo $$ > \"$0.tmp\"; mv \"$0.tmp\" \"$0\"; exec sleep 600", pidFile], timeout: .seconds(600))
        let task = Task { try await sink.deliver(alertJSON(1)) }
        try await waitUntil("the command wrote its pid") { FileManager.default.fileExists(atPath: pidFile) }
        let pid = try #require(Int32(try dir.read("pid").trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(try !CommandSinkArgvTests.liveMembers(ofGroup: pid).isEmpty, "the command runs when it is cancelled")
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(try await eventually { try CommandSinkArgvTests.liveMembers(ofGroup: pid).isEmpty }, "the command was stopped")
    }
    #endif

    @Test("executables are resolved on PATH, not through a shell")
    func resolve() async throws {
        let dir = try TemporaryDirectory()
        let tool = dir.path("notify")
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
        let out = dir.path("args.txt")
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
    static func liveMembers(ofGroup group: Int32) throws -> [Int32] {
        try FileManager.default.contentsOfDirectory(atPath: "/proc").compactMap(Int32.init).filter { pid in
            let stat: String
            do {
                stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
            } catch {
                return false  // the process ended between the listing and the read
            }
            guard let close = stat.lastIndex(of: ")") else { return false }
            // After "(comm)": state ppid pgrp ...
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 2 && fields[0] != "Z" && Int32(fields[2]) == group
        }
    }

    #if os(Linux)
    @Test("cancelling the delivery ends the program's whole process group, grandchildren too")
    func cancellationEndsTheGroup() async throws {
        let dir = try TemporaryDirectory()
        let pidFile = dir.path("pid")
        // The program starts a grandchild that ignores SIGTERM, then waits; it writes its pid when ready.
        let sink = try CommandSink(
            argv: ["sh", "-c", "(trap '' TERM; exec sleep 30) & echo $$ > \"$0.tmp\"; mv \"$0.tmp\" \"$0\"; wait", pidFile],
            timeout: .seconds(60), gracePeriod: .milliseconds(300))
        let task = Task { try await sink.deliver(alertJSON(1)) }
        try await waitUntil("the command wrote its pid") { FileManager.default.fileExists(atPath: pidFile) }
        let group = try #require(Int32(try dir.read("pid").trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(getpgid(group) == group, "the program leads a process group of its own")
        #expect(try Self.liveMembers(ofGroup: group).count >= 2, "the program and its grandchild")
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(try await eventually { try Self.liveMembers(ofGroup: group).isEmpty }, "the program or its grandchild still runs")
    }
    #endif
}
