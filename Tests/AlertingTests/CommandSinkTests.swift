import Foundation
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

@Suite("CommandSink.parse(commandLine:)")
struct CommandLineParseTests {
    @Test(
        "quoting",
        arguments: [
            ("notify-send 'DNS alert' --urgency=critical", ["notify-send", "DNS alert", "--urgency=critical"]),
            ("  a   b\tc  ", ["a", "b", "c"]),
            (#"logger -t dnswatch "a \"quoted\" \\ word""#, ["logger", "-t", "dnswatch", #"a "quoted" \ word"#]),
            (#"a"b c"d"#, ["ab cd"]),
            ("a '' b", ["a", "", "b"]),
            (#"a\ b c"#, ["a b", "c"]),
            (#"'it'\''s'"#, ["it's"]),
            ("'$HOME | x > y'", ["$HOME | x > y"]),
            (#"a\|b \$x"#, ["a|b", "$x"]),
            (#""\$HOME""#, ["$HOME"]),
            (#""a\nb""#, [#"a\nb"#]),
            ("/usr/local/bin/hook --json", ["/usr/local/bin/hook", "--json"]),
            ("sh -c 'cat >> /tmp/x'", ["sh", "-c", "cat >> /tmp/x"]),
        ])
    func splits(_ line: String, _ expected: [String]) throws {
        #expect(try CommandSink.parse(commandLine: line) == expected)
    }

    @Test(
        "refused",
        arguments: [
            "", "   ", "a 'b", #"a "b"#, #"a \"#, "a | b", "a > f", "a; b", "a && b", "echo $HOME", "echo `id`",
            #""$HOME""#, "(a)",
        ])
    func refuses(_ line: String) {
        let error = #expect(throws: AlertSinkError.self) { try CommandSink.parse(commandLine: line) }
        #expect(error?.reason == .invalidConfiguration)
    }

    @Test("the sink built from a command line runs it")
    func commandLineSink() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let sink = try CommandSink(commandLine: "sh -c 'cat > \"$0\"' '\(dir.file("out.json"))'")
        #expect(sink.argv == ["sh", "-c", "cat > \"$0\"", dir.file("out.json")])
        try await sink.deliver(alertJSON(3))
        #expect(Array(try Data(contentsOf: URL(fileURLWithPath: dir.file("out.json")))) == alertJSON(3))
    }
}
