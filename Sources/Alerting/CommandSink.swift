public import Foundation
import NIOPosix
import Subprocess
import Synchronization
import SystemPackage
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs a program for each alert, with the alert JSON on its standard input (swift-subprocess).
///
/// The program runs without a shell: `argv[0]` is looked up on `PATH` (unless it contains a `/`),
/// the other elements are passed as they are. It runs in a process group of its own. The delivery
/// succeeds when the program exits with status 0 within the timeout; otherwise the error carries the
/// start of its output (stdout and stderr together, up to `outputLimit` bytes). At the timeout, or
/// when the delivering task is cancelled, the whole process group gets SIGTERM, then SIGKILL after a
/// grace period (1 s), so nothing the program started outlives the delivery.
public struct CommandSink: AlertSink {
    public let argv: [String]
    public let timeout: Duration
    public let outputLimit: Int
    /// How long the process group has between SIGTERM and SIGKILL.
    public let gracePeriod: Duration

    /// `"command:"` followed by the arguments joined with spaces. Do not put secrets in arguments:
    /// pass them to the program through its environment or its own configuration.
    public var key: String { "command:" + argv.joined(separator: " ") }

    /// - Parameters:
    ///   - argv: the program and its arguments; must not be empty.
    ///   - timeout: the longest one run may take (default 30 s).
    ///   - outputLimit: how much of the program's output is kept for error messages (default 4 KiB).
    ///   - gracePeriod: between SIGTERM and SIGKILL when the program is stopped (default 1 s).
    public init(
        argv: [String], timeout: Duration = .seconds(30), outputLimit: Int = 4096, gracePeriod: Duration = .seconds(1)
    ) throws(AlertSinkError) {
        guard let program = argv.first, !program.isEmpty else {
            throw AlertSinkError(sink: "command", reason: .invalidConfiguration, message: "alert command: the command is empty")
        }
        guard !argv.contains(where: { $0.contains("\0") }) else {
            throw AlertSinkError(sink: "command", reason: .invalidConfiguration, message: "alert command: an argument contains NUL")
        }
        guard timeout > .zero else {
            throw AlertSinkError(sink: "command", reason: .invalidConfiguration, message: "alert command: the timeout must be positive")
        }
        self.argv = argv
        self.timeout = timeout
        self.outputLimit = max(0, outputLimit)
        self.gracePeriod = max(.zero, gracePeriod)
    }

    /// The path of the program `name`: itself when it contains a `/`, else the first executable
    /// regular file called `name` in the directories of `searchPath` (`PATH`; empty entries ignored).
    public static func resolveExecutable(
        _ name: String, searchPath: String? = ProcessInfo.processInfo.environment["PATH"]
    ) -> String? {
        let files = FileManager.default
        func isProgram(_ path: String) -> Bool {
            var isDirectory: ObjCBool = false
            return files.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
                && files.isExecutableFile(atPath: path)
        }
        if name.contains("/") { return isProgram(name) ? name : nil }
        let directories = (searchPath ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":")
        for directory in directories where !directory.isEmpty {
            let candidate = directory.hasSuffix("/") ? "\(directory)\(name)" : "\(directory)/\(name)"
            if isProgram(candidate) { return candidate }
        }
        return nil
    }

    /// Why `argv` cannot be run, or `nil`: it must not be empty and its program must exist.
    public static func problem(argv: [String]) -> String? {
        guard let program = argv.first, !program.isEmpty else { return "the command is empty" }
        guard resolveExecutable(program) != nil else {
            return "'\(program)' not found\(program.contains("/") ? "" : " on PATH") or not executable"
        }
        return nil
    }

    public func deliver(_ alertJSON: [UInt8]) async throws {
        try Task.checkCancellation()
        let program = argv[0]
        guard let executable = Self.resolveExecutable(program) else {
            let where_ = program.contains("/") ? "" : " on PATH"
            throw AlertSinkError(
                sink: key, reason: .commandNotFound, message: "alert command '\(program)' not found\(where_) or not executable")
        }
        let run = try await ChildRun.run(
            executable: executable, arguments: Array(argv.dropFirst()), input: alertJSON,
            timeout: timeout, gracePeriod: gracePeriod, outputLimit: outputLimit, key: key)
        let output = Self.describeOutput(run.output, truncated: run.truncated)
        switch run.end {
        case .exited(0):
            return
        case .exited(let status):
            throw AlertSinkError(
                sink: key, reason: .commandFailed(exitStatus: status), message: "'\(program)' exited with status \(status)\(output)")
        case .signalled(let signal):
            throw AlertSinkError(
                sink: key, reason: .commandKilled(signal: signal), message: "'\(program)' was killed by signal \(signal)\(output)")
        case .timedOut:
            throw AlertSinkError(
                sink: key, reason: .timeout, message: "'\(program)' did not finish within \(timeout.shortDescription)\(output)")
        }
    }

    private static func describeOutput(_ bytes: [UInt8], truncated: Bool) -> String {
        let text = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { return "" }
        // One line, and no control character of the program's output reaches a terminal or the outbox.
        let lines = text.replacingOccurrences(of: "\r", with: "").replacingOccurrences(of: "\n", with: " | ")
        let oneLine = String(String.UnicodeScalarView(lines.unicodeScalars.map {
            $0.properties.generalCategory == .control || $0.properties.generalCategory == .format ? " " : $0
        }))
        return "; output: " + oneLine + (truncated ? " …(truncated)" : "")
    }
}

/// One run of the command through swift-subprocess.
enum ChildRun {
    enum End: Equatable {
        case exited(Int32)
        case signalled(Int32)
        case timedOut
    }

    struct Outcome {
        var end: End
        var output: [UInt8]
        var truncated: Bool
    }

    /// What the body of the run learns while the child runs, read after it ended or was stopped.
    final class Capture: Sendable {
        struct State {
            var bytes: [UInt8] = []
            var truncated = false
            var processGroup: pid_t?
        }
        let limit: Int
        let state = Mutex(State())
        init(limit: Int) { self.limit = limit }

        func append(_ chunk: some Collection<UInt8>) {
            state.withLock { s in
                let room = limit - s.bytes.count
                if chunk.count > room { s.truncated = true }
                if room > 0 { s.bytes.append(contentsOf: chunk.prefix(room)) }
            }
        }
    }

    private struct TimedOut: Error {}

    static func run(
        executable: String, arguments: [String], input: [UInt8], timeout: Duration, gracePeriod: Duration,
        outputLimit: Int, key: String
    ) async throws -> Outcome {
        // The alert goes in through an unlinked temporary file rather than a pipe: the program may exit
        // without reading it, and writing to an abandoned pipe would raise SIGPIPE in this process.
        let inputFile = try await NIOThreadPool.singleton.runIfActive { try inputDescriptor(for: input, key: key) }

        let options = {
            var options = PlatformOptions()
            options.processGroupID = 0  // a group of its own, led by the child
            options.teardownSequence = [.gracefulShutDown(toProcessGroup: true, allowedDurationToNextStep: gracePeriod)]
            return options
        }()
        let capture = Capture(limit: outputLimit)

        let status: TerminationStatus
        do {
            status = try await withThrowingTaskGroup(of: TerminationStatus?.self) { group in
                group.addTask {
                    let result = try await Subprocess.run(
                        .path(FilePath(executable)), arguments: Arguments(arguments), platformOptions: options,
                        input: .fileDescriptor(inputFile, closeAfterSpawningProcess: true),
                        output: .sequence, error: .combinedWithOutput
                    ) { execution in
                        capture.state.withLock { $0.processGroup = execution.processIdentifier.value }
                        for try await chunk in execution.standardOutput {
                            chunk.withUnsafeBytes { capture.append($0) }
                        }
                    }
                    return result.terminationStatus
                }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    return nil
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let status = first else { throw TimedOut() }
                return status
            }
        } catch {
            // Stopped (timeout or cancellation): the teardown ended the leader; end what is left of its group.
            if let group = capture.state.withLock({ $0.processGroup }) { kill(-group, SIGKILL) }
            let (bytes, truncated) = capture.state.withLock { ($0.bytes, $0.truncated) }
            if Task.isCancelled { throw CancellationError() }
            if error is TimedOut { return Outcome(end: .timedOut, output: bytes, truncated: truncated) }
            if let error = error as? AlertSinkError { throw error }
            throw AlertSinkError(
                sink: key, reason: .commandNotFound, message: "cannot run '\(executable)': \(describe(error))")
        }
        // Cancelled while the teardown ran: the leader may have died of its SIGTERM and the run returned
        // normally. End what is left of the group (a child that ignores SIGTERM) all the same.
        if Task.isCancelled {
            if let group = capture.state.withLock({ $0.processGroup }) { kill(-group, SIGKILL) }
            throw CancellationError()
        }
        let (bytes, truncated) = capture.state.withLock { ($0.bytes, $0.truncated) }
        switch status {
        case .exited(let code): return Outcome(end: .exited(code), output: bytes, truncated: truncated)
        case .signaled(let signal): return Outcome(end: .signalled(signal), output: bytes, truncated: truncated)
        }
    }

    /// A read-only descriptor on an unlinked temporary file holding `input`. Blocking.
    private static func inputDescriptor(for input: [UInt8], key: String) throws(AlertSinkError) -> FileDescriptor {
        let directory = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        let path = FilePath(directory).appending("dnswatch-alert-\(UUID().uuidString).json")
        let fd: FileDescriptor
        do {
            fd = try FileDescriptor.open(
                path, .readWrite, options: [.create, .exclusiveCreate, .closeOnExec, .noFollow],
                permissions: [.ownerReadWrite])
        } catch {
            throw AlertSinkError(sink: key, reason: .io, message: "cannot create a temporary file for the alert: \(describe(error))")
        }
        do {
            guard unlink(path.string) == 0 else { throw Errno(rawValue: errno) }
            _ = try fd.writeAll(input)
            _ = try fd.seek(offset: 0, from: .start)
            return fd
        } catch {
            do { try fd.close() } catch { /* the write error is the one reported */ }
            throw AlertSinkError(sink: key, reason: .io, message: "cannot write the alert to a temporary file: \(describe(error))")
        }
    }

    private static func describe(_ error: any Error) -> String {
        if let errno = error as? Errno { return POSIXText.describe(errno) }
        return String(describing: error)
    }
}
