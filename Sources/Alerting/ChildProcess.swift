import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs one program without a shell: given bytes on stdin, stdout and stderr captured together up to
/// a limit, a deadline after which it is stopped (SIGTERM, then SIGKILL a second later).
enum ChildProcess {
    enum Termination: Equatable {
        case exited(Int32)
        case signalled(Int32)
        case timedOut
    }

    struct Result {
        var termination: Termination
        /// The first `outputLimit` bytes of stdout and stderr, interleaved as written.
        var output: [UInt8]
        var outputTruncated: Bool
    }

    /// Throws `CancellationError` (after killing the child) when the task is cancelled, or the error
    /// of `Process.run()` when the program cannot be started.
    static func run(
        executable: String, arguments: [String], input: [UInt8], timeout: Duration, outputLimit: Int
    ) async throws -> Result {
        let stdin = try inputHandle(for: input)
        defer { try? stdin.close() }
        let pipe = Pipe()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardInput = stdin
        process.standardOutput = pipe
        process.standardError = pipe
        let exit = ExitBox()
        process.terminationHandler = { child in
            exit.set(child.terminationReason == .uncaughtSignal
                ? .signalled(child.terminationStatus) : .exited(child.terminationStatus))
        }
        try await launch(process)
        let output = OutputCollector(limit: outputLimit)
        output.drain(pipe.fileHandleForReading)

        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        var termination: Termination
        do {
            if let status = try await exit.wait(until: deadline) {
                termination = status
            } else {
                termination = .timedOut
                process.terminate()
                if try await exit.wait(until: clock.now.advanced(by: .seconds(1))) == nil {
                    kill(process.processIdentifier, SIGKILL)
                }
            }
        } catch {
            kill(process.processIdentifier, SIGKILL)
            throw error
        }
        // A grandchild may keep the pipe open; wait a moment for the rest of the output, not for it.
        _ = try await output.waitForEnd(until: clock.now.advanced(by: .milliseconds(500)))
        let (bytes, truncated) = output.snapshot()
        return Result(termination: termination, output: bytes, outputTruncated: truncated)
    }

    /// Starts `process` from a fresh thread whose signal mask is empty.
    ///
    /// The child inherits the signal mask of the thread that starts it, and the threads of Swift's
    /// cooperative pool and of Dispatch block most signals: started from there, the program would run
    /// with SIGTERM, SIGINT, SIGHUP... blocked, would ignore our SIGTERM at the timeout, and so would
    /// anything it starts itself.
    private static func launch(_ process: Process) async throws {
        let box = UncheckedBox(process)
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let thread = Thread {
                var nothing = sigset_t()
                sigemptyset(&nothing)
                pthread_sigmask(SIG_SETMASK, &nothing, nil)
                do {
                    try box.value.run()
                    continuation.resume()
                } catch {
                    continuation.resume(throwing: error)
                }
            }
            thread.start()
        }
    }

    /// A read-only handle on an unlinked temporary file holding `input`. A file rather than a pipe:
    /// the child may exit without reading it, and writing to an abandoned pipe would raise SIGPIPE.
    private static func inputHandle(for input: [UInt8]) throws -> FileHandle {
        let path = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("dnswatch-alert-\(UUID().uuidString).json").path
        guard FileManager.default.createFile(atPath: path, contents: Data(input), attributes: [.posixPermissions: 0o600])
        else {
            throw AlertSinkError(sink: "command", reason: .io, message: "cannot create a temporary file for the alert")
        }
        defer { try? FileManager.default.removeItem(atPath: path) }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw AlertSinkError(sink: "command", reason: .io, message: "cannot read back the temporary alert file")
        }
        return handle
    }
}

/// Hands a `Process` to the launching thread; it is used there only while the caller waits.
private final class UncheckedBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// How the child ended, set once from `Process.terminationHandler`.
private final class ExitBox: @unchecked Sendable {
    private let lock = NSLock()
    private var value: ChildProcess.Termination?

    func set(_ termination: ChildProcess.Termination) {
        lock.withLock { value = termination }
    }

    var current: ChildProcess.Termination? { lock.withLock { value } }

    /// The termination, or `nil` at the deadline. Polls: the few milliseconds this costs do not
    /// matter for alerts, and it keeps cancellation trivially correct.
    func wait(until deadline: ContinuousClock.Instant) async throws -> ChildProcess.Termination? {
        while true {
            if let value = current { return value }
            if ContinuousClock.now >= deadline { return nil }
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}

/// Reads a pipe to its end on a background thread, keeping the first `limit` bytes.
private final class OutputCollector: @unchecked Sendable {
    private let lock = NSLock()
    private let limit: Int
    private var bytes: [UInt8] = []
    private var truncated = false
    private var ended = false

    init(limit: Int) { self.limit = max(0, limit) }

    /// Reads on a thread of its own: blocking reads on Dispatch's threads would starve Dispatch, which
    /// `Process` needs to report terminations (and, on Linux, Swift concurrency runs on).
    func drain(_ handle: FileHandle) {
        let thread = Thread {
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                self.lock.withLock {
                    let room = self.limit - self.bytes.count
                    if chunk.count > room { self.truncated = true }
                    if room > 0 { self.bytes.append(contentsOf: chunk.prefix(room)) }
                }
            }
            self.lock.withLock { self.ended = true }
            try? handle.close()
        }
        thread.start()
    }

    func waitForEnd(until deadline: ContinuousClock.Instant) async throws -> Bool {
        while true {
            if lock.withLock({ ended }) { return true }
            if ContinuousClock.now >= deadline { return false }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    func snapshot() -> ([UInt8], Bool) { lock.withLock { (bytes, truncated) } }
}
