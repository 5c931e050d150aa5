import Foundation

/// Runs a program for each alert, with the alert JSON on its standard input.
///
/// The program runs without a shell: `argv[0]` is looked up on `PATH` (unless it contains a `/`),
/// the other elements are passed as they are. The delivery succeeds when the program exits with
/// status 0 within the timeout; otherwise the error carries the start of its output (stdout and
/// stderr together, up to `outputLimit` bytes). A program still running at the timeout gets SIGTERM,
/// then SIGKILL a second later.
public struct CommandSink: AlertSink {
    public let argv: [String]
    public let timeout: Duration
    public let outputLimit: Int

    /// `"command:"` followed by the arguments joined with spaces. Do not put secrets in arguments:
    /// pass them to the program through its environment or its own configuration.
    public var key: String { "command:" + argv.joined(separator: " ") }

    /// - Parameters:
    ///   - argv: the program and its arguments; must not be empty.
    ///   - timeout: the longest one run may take (default 30 s).
    ///   - outputLimit: how much of the program's output is kept for error messages (default 4 KiB).
    public init(argv: [String], timeout: Duration = .seconds(30), outputLimit: Int = 4096) throws(AlertSinkError) {
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
    }

    /// A sink for a command line written as text, split by ``parse(commandLine:)``.
    public init(commandLine: String, timeout: Duration = .seconds(30), outputLimit: Int = 4096) throws(AlertSinkError) {
        try self.init(argv: Self.parse(commandLine: commandLine), timeout: timeout, outputLimit: outputLimit)
    }

    /// Splits a command line into arguments with shell-like quoting but no shell: blanks separate,
    /// `'...'` is literal, `"..."` allows `\"`, `\\`, `\$` and `` \` ``, a backslash outside quotes
    /// escapes the next character. Nothing is expanded; an unquoted `| & ; < > ( )`, or a `$` or
    /// backtick outside single quotes, is refused (write `sh -c '...'` to get a shell).
    public static func parse(commandLine: String) throws(AlertSinkError) -> [String] {
        try CommandLineSplitter.split(commandLine)
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

    public func deliver(_ alertJSON: [UInt8]) async throws {
        try Task.checkCancellation()
        let program = argv[0]
        guard let executable = Self.resolveExecutable(program) else {
            let where_ = program.contains("/") ? "" : " on PATH"
            throw AlertSinkError(
                sink: key, reason: .commandNotFound, message: "alert command '\(program)' not found\(where_) or not executable")
        }
        let result: ChildProcess.Result
        do {
            result = try await ChildProcess.run(
                executable: executable, arguments: Array(argv.dropFirst()), input: alertJSON,
                timeout: timeout, outputLimit: outputLimit)
        } catch let error as CancellationError {
            throw error
        } catch let error as AlertSinkError {
            throw AlertSinkError(sink: key, reason: error.reason, message: error.message)
        } catch {
            throw AlertSinkError(
                sink: key, reason: .commandNotFound, message: "cannot start '\(executable)': \(error.localizedDescription)")
        }
        let output = Self.describeOutput(result)
        switch result.termination {
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

    private static func describeOutput(_ result: ChildProcess.Result) -> String {
        let text = String(decoding: result.output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { return "" }
        let oneLine = text.replacingOccurrences(of: "\r", with: "").replacingOccurrences(of: "\n", with: " | ")
        return "; output: " + oneLine + (result.outputTruncated ? " …(truncated)" : "")
    }
}
