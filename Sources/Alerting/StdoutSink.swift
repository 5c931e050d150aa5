public import Foundation
import NIOPosix
import Synchronization

/// Writes each alert as one line of JSON to standard output (or to a given file handle or closure).
///
/// Lines are written whole: concurrent deliveries through any `StdoutSink` never interleave. The write
/// may block (a full pipe), so it runs on NIO's thread pool, not on the cooperative pool.
public struct StdoutSink: AlertSink {
    public let key: String
    private let output: @Sendable ([UInt8]) throws -> Void

    /// All writes of all stdout sinks go through this lock, so lines never interleave.
    private static let lock = Mutex(())

    /// A sink writing to the process's standard output, with key `"stdout"`.
    public init() {
        self.init(fileHandle: FileHandle.standardOutput)
    }

    /// A sink writing to `fileHandle` (for example a pipe in a test).
    public init(fileHandle: FileHandle, key: String = "stdout") {
        self.init(key: key) { line in try fileHandle.write(contentsOf: Data(line)) }
    }

    /// A sink handing each line (the alert followed by `\n`) to `output`, one call at a time.
    public init(key: String = "stdout", output: @escaping @Sendable ([UInt8]) throws -> Void) {
        self.key = key
        self.output = output
    }

    public func deliver(_ alertJSON: [UInt8]) async throws {
        try Task.checkCancellation()
        let line = try AlertLine.make(alertJSON, sink: key)
        let output = self.output, key = self.key
        try await NIOThreadPool.singleton.runIfActive {
            do {
                try Self.lock.withLock { _ in try output(line) }
            } catch {
                throw AlertSinkError(sink: key, reason: .io, message: "could not write the alert: \(error.localizedDescription)")
            }
        }
    }
}
