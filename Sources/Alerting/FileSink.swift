import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Appends each alert as one line to an NDJSON file.
///
/// The file is opened for every delivery with `O_APPEND` (created with mode 0644 if missing), so a
/// log rotation that moves the file away is picked up, and each line is written with a single
/// `write`, so concurrent writers (other sinks, other processes) never interleave lines. By default
/// the line is flushed to disk (`fsync`) before the delivery counts as done, because the outbox then
/// forgets the alert for this sink. The parent directory must exist: it is not created.
public struct FileSink: AlertSink {
    /// Absolute path of the file.
    public let path: String
    /// Whether each delivery waits for `fsync`.
    public let synchronize: Bool

    /// `"file:"` followed by the absolute path.
    public var key: String { "file:" + path }

    /// - Parameters:
    ///   - path: the file; a relative path is taken from the current directory.
    ///   - synchronize: flush each line to disk before reporting success (default `true`).
    public init(path: String, synchronize: Bool = true) throws(AlertSinkError) {
        guard !path.isEmpty, !path.contains("\0") else {
            throw AlertSinkError(sink: "file:", reason: .invalidConfiguration, message: "the alerts file path is empty")
        }
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        self.path = URL(fileURLWithPath: absolute).standardizedFileURL.path
        self.synchronize = synchronize
    }

    public func deliver(_ alertJSON: [UInt8]) async throws {
        try Task.checkCancellation()
        let line = try AlertLine.make(alertJSON, sink: key)
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw AlertSinkError(sink: key, reason: .io, message: "cannot open \(path): \(POSIXText.describe(errno))")
        }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        do {
            try handle.write(contentsOf: Data(line))
            if synchronize { try handle.synchronize() }
            try handle.close()
        } catch {
            throw AlertSinkError(sink: key, reason: .io, message: "cannot write to \(path): \(error.localizedDescription)")
        }
    }
}

/// Words for the `errno` values file and process operations usually meet.
enum POSIXText {
    static func describe(_ code: Int32) -> String {
        switch code {
        case ENOENT: "no such file or directory (the directory must exist)"
        case EACCES: "permission denied"
        case EPERM: "operation not permitted"
        case EISDIR: "is a directory"
        case ENOTDIR: "a component of the path is not a directory"
        case ENOSPC: "no space left on device"
        case EROFS: "read-only file system"
        case EMFILE, ENFILE: "too many open files"
        case ENAMETOOLONG: "file name too long"
        case ELOOP: "too many symbolic links"
        case EIO: "input/output error"
        case EDQUOT: "disk quota exceeded"
        default: "errno \(code)"
        }
    }
}
