public import Foundation

/// What a child process printed, and how it ended.
public struct ChildResult: Sendable {
    public let code: Int32
    public let out: String
    public let err: String

    public init(code: Int32, out: String, err: String) {
        self.code = code
        self.out = out
        self.err = err
    }

    public var lines: [String] { out.split(separator: "\n").map(String.init) }
}

/// Runs programs to their end for tests: the environment of the test process without `DNSWATCH_CONFIG`
/// (a developer's config never leaks in), plus what the test sets; stdin empty; stdout and stderr read
/// together, so that neither pipe fills and blocks the child; killed (SIGTERM) after `timeout` seconds.
public enum ChildProcess {
    /// The process of both runners: the test's environment without `DNSWATCH_CONFIG`, plus `environment`.
    static func process(_ executable: URL, _ args: [String], environment: [String: String], in directory: URL?) -> Process {
        let p = Process()
        p.executableURL = executable
        p.arguments = args
        if let directory { p.currentDirectoryURL = directory }
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "DNSWATCH_CONFIG")
        for (k, v) in environment { env[k] = v }
        p.environment = env
        return p
    }


    public static func run(_ executable: URL, _ args: [String], environment: [String: String] = [:], in directory: URL? = nil,
                           timeout: Double? = nil) throws -> ChildResult {
        let p = process(executable, args, environment: environment, in: directory)
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let timer = DispatchWorkItem { if p.isRunning { p.terminate() } }
        if let timeout { DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: timer) }
        let errData = ErrorOutput()
        let reading = DispatchGroup()
        DispatchQueue.global().async(group: reading) { errData.set(err.fileHandleForReading.readDataToEndOfFile()) }
        let o = out.fileHandleForReading.readDataToEndOfFile()
        reading.wait()
        p.waitUntilExit()
        timer.cancel()
        return ChildResult(code: p.terminationStatus, out: String(decoding: o, as: UTF8.self), err: String(decoding: errData.get(), as: UTF8.self))
    }
}

extension ChildProcess {
    /// The same, without blocking a thread while the child runs (for long runs inside async tests): its
    /// stdout and stderr go to files, read when it has ended.
    public static func run(_ executable: URL, _ args: [String], environment: [String: String] = [:],
                           in directory: URL? = nil) async throws -> ChildResult {
        let p = process(executable, args, environment: environment, in: directory)
        let tag = UUID().uuidString
        let outURL = FileManager.default.temporaryDirectory.appendingPathComponent("dnswatch-child-\(tag).out")
        let errURL = FileManager.default.temporaryDirectory.appendingPathComponent("dnswatch-child-\(tag).err")
        defer {
            try? FileManager.default.removeItem(at: outURL)
            try? FileManager.default.removeItem(at: errURL)
        }
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        let code: Int32 = try await withCheckedThrowingContinuation { c in
            p.terminationHandler = { c.resume(returning: $0.terminationStatus) }
            do { try p.run() } catch { c.resume(throwing: error) }
        }
        try out.close()
        try err.close()
        return ChildResult(code: code, out: try String(contentsOf: outURL, encoding: .utf8), err: try String(contentsOf: errURL, encoding: .utf8))
    }
}

/// The stderr bytes, handed from the reading thread to the caller.
private final class ErrorOutput: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    func set(_ d: Data) { lock.withLock { data = d } }
    func get() -> Data { lock.withLock { data } }
}
