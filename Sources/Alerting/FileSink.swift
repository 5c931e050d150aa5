public import DNSWatchModel
public import Foundation
import NIOPosix
import SystemPackage
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Appends each alert as one line to an NDJSON file.
///
/// The file is opened for every delivery with `O_APPEND`, so a log rotation that moves the file away is
/// picked up, and each line is written with a single `write`, so concurrent writers (other sinks, other
/// processes) never interleave lines. The open also has `O_NONBLOCK` and `O_NOFOLLOW`, and the opened
/// file must be a regular file: a FIFO or device swapped in for the file can never block the poll, and a
/// symbolic link is not followed. A file created by the sink has the mode of every file dnswatch creates
/// (`FileModes`: 0600, or the config's `file_mode`) whatever the umask (an existing file's mode is left
/// alone). By default the line is flushed to disk (`fsync`) before the delivery counts as done, because
/// the outbox then forgets the alert for this sink. A delivery that fails after writing part of its line
/// (a full disk, a file-size limit, a failed `fsync`) cuts the file back to where the line began, so the
/// file stays valid NDJSON and the alert, still queued, is written whole by the next delivery. The parent
/// directory must exist: it is not created. The blocking file calls run on NIO's thread pool, never on
/// the cooperative pool.
public struct FileSink: AlertSink {
    /// Absolute path of the file.
    public let path: String
    /// Whether each delivery waits for `fsync`.
    public let synchronize: Bool
    /// The mode of the file when the sink creates it.
    public let fileMode: mode_t

    /// `"file:"` followed by the absolute path.
    public var key: String { "file:" + path }

    /// - Parameters:
    ///   - path: the file; a relative path is taken from the current directory.
    ///   - synchronize: flush each line to disk before reporting success (default `true`).
    ///   - fileMode: the mode of the file if the sink creates it (`FileModes`; the config's `file_mode`).
    public init(path: String, synchronize: Bool = true, fileMode: mode_t = FileModes.ownerOnly) throws(AlertSinkError) {
        guard !path.isEmpty, !path.contains("\0") else {
            throw AlertSinkError(sink: "file:", reason: .invalidConfiguration, message: "the alerts file path is empty")
        }
        self.path = Self.absolute(path)
        self.synchronize = synchronize
        guard FileModes.allowed.contains(fileMode) else {
            throw AlertSinkError(
                sink: "file:", reason: .invalidConfiguration, message: "file mode \(String(fileMode, radix: 8)) is not 0600 or 0640")
        }
        self.fileMode = fileMode
    }

    private static func absolute(_ path: String) -> String {
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        return URL(fileURLWithPath: absolute).standardizedFileURL.path
    }

    /// Why `path` cannot be used as an alerts file, or `nil`: its directory must exist, and the file,
    /// if it exists, must be a regular file (not a FIFO, device, directory or symbolic link).
    public static func problem(path: String) -> String? {
        guard !path.isEmpty, !path.contains("\0") else { return "the path is empty" }
        let file = FilePath(absolute(path))
        let directory = file.removingLastComponent()
        do {
            let info = try directory.stat()
            guard info.type == .directory else { return "\(directory) is not a directory" }
        } catch {
            return "the directory \(directory) does not exist or cannot be read (\(describe(error)))"
        }
        let info: Stat
        do {
            info = try file.stat(followTargetSymlink: false)
        } catch Errno.noSuchFileOrDirectory {
            return nil
        } catch {
            return "cannot check \(path): \(describe(error))"
        }
        if info.type == .regular { return nil }
        return "\(path) is \(describe(info.type)), not a regular file"
    }

    private static func describe(_ type: FileType) -> String {
        switch type {
        case .fifo: "a FIFO (named pipe)"
        case .symbolicLink: "a symbolic link (give the path of the file itself)"
        case .directory: "a directory"
        case .characterSpecial, .blockSpecial: "a device"
        case .socket: "a socket"
        default: "a special file"
        }
    }

    public func deliver(_ alertJSON: [UInt8]) async throws {
        try Task.checkCancellation()
        let line = try AlertLine.make(alertJSON, sink: key)
        let path = self.path, key = self.key, synchronize = self.synchronize, mode = self.fileMode
        try await NIOThreadPool.singleton.runIfActive {
            try Self.append(line, to: path, key: key, synchronize: synchronize, mode: mode)
        }
    }

    /// Opens (creating it with `mode` if needed), checks, appends, optionally syncs, closes. Blocking.
    private static func append(_ line: [UInt8], to path: String, key: String, synchronize: Bool, mode: mode_t) throws(AlertSinkError) {
        let fd = try open(path, key: key, mode: mode)
        var written = 0
        do {
            let info = try fd.stat()
            guard info.type == .regular else {
                throw AlertSinkError(
                    sink: key, reason: .io, message: "\(path) is \(describe(info.type)), not a regular file; nothing written")
            }
            try line.withUnsafeBytes { bytes in
                while written < bytes.count {
                    let n = try fd.write(UnsafeRawBufferPointer(rebasing: bytes[written...]), retryOnInterrupt: true)
                    guard n > 0 else { throw Errno.noSpace }
                    written += n
                }
            }
            if synchronize {
                guard fsync(fd.rawValue) == 0 else { throw Errno(rawValue: errno) }
            }
        } catch let error as AlertSinkError {
            closeQuietly(fd, key: key)
            throw error
        } catch {
            let cut = written > 0 ? cutBack(fd, written: written, path: path) : ""
            closeQuietly(fd, key: key)
            throw AlertSinkError(sink: key, reason: .io, message: "cannot write to \(path): \(describe(error))\(cut)")
        }
        do {
            try fd.close()
        } catch {
            // close() may report a deferred write error (NFS): the line may not be there.
            throw AlertSinkError(sink: key, reason: .io, message: "cannot write to \(path): \(describe(error))")
        }
    }

    /// Removes the `written` bytes of a delivery that failed from the end of the file (a full disk or a
    /// file-size limit leaves part of the line; a failed `fsync` all of it), so that the file stays valid
    /// NDJSON and the next delivery of the still-queued alert writes it whole. With `O_APPEND` the offset
    /// after the write is where the line ended; the file is cut only if nothing was appended after it
    /// (another writer's line is never removed). Returns what to add to the error message.
    private static func cutBack(_ fd: FileDescriptor, written: Int, path: String) -> String {
        let end = lseek(fd.rawValue, 0, SEEK_CUR)
        var info = stat()
        guard end >= Int64(written), fstat(fd.rawValue, &info) == 0 else {
            return "; \(written) bytes of the line may be left at the end of the file"
        }
        guard Int64(info.st_size) == Int64(end) else {
            return "; \(written) bytes of the line are left in the file (another writer appended after them)"
        }
        guard ftruncate(fd.rawValue, off_t(end) - off_t(written)) == 0 else {
            return "; \(written) bytes of the line are left at the end of the file (cannot cut them: \(describe(Errno(rawValue: errno))))"
        }
        return "; the \(written) bytes written were removed, the alert stays queued"
    }

    /// Closes after an error that is already being reported; a second error would add nothing.
    private static func closeQuietly(_ fd: FileDescriptor, key: String) {
        do { try fd.close() } catch { /* the first error is the one reported */ }
    }

    private static func open(_ path: String, key: String, mode: mode_t) throws(AlertSinkError) -> FileDescriptor {
        let filePath = FilePath(path)
        let base: FileDescriptor.OpenOptions = [.append, .nonBlocking, .noFollow, .closeOnExec]
        while true {
            do {
                return try FileDescriptor.open(filePath, .writeOnly, options: base, retryOnInterrupt: true)
            } catch Errno.noSuchFileOrDirectory {
                // Create it; another process may do so first (EEXIST), then open again.
            } catch {
                throw openError(path, key: key, error)
            }
            do {
                let fd = try FileDescriptor.open(
                    filePath, .writeOnly, options: base.union([.create, .exclusiveCreate]),
                    permissions: FilePermissions(rawValue: mode), retryOnInterrupt: true)
                // The umask may have removed bits: the file has `mode`, whatever the umask.
                guard fchmod(fd.rawValue, mode) == 0 else {
                    let error = Errno(rawValue: errno)
                    closeQuietly(fd, key: key)
                    throw openError(path, key: key, error)
                }
                return fd
            } catch Errno.fileExists {
                continue
            } catch let error as AlertSinkError {
                throw error
            } catch {
                throw openError(path, key: key, error)
            }
        }
    }

    private static func openError(_ path: String, key: String, _ error: any Error) -> AlertSinkError {
        var text = describe(error)
        if let errno = error as? Errno {
            switch errno {
            case .tooManySymbolicLinkLevels: text = "it is a symbolic link, which is not followed (give the path of the file itself)"
            case .noSuchAddressOrDevice: text = "it is a FIFO with no reader, or a device; it must be a regular file"
            default: break
            }
        }
        return AlertSinkError(sink: key, reason: .io, message: "cannot open \(path): \(text)")
    }

    static func describe(_ error: any Error) -> String {
        guard let errno = error as? Errno else { return String(describing: error) }
        return POSIXText.describe(errno)
    }
}

/// Words for the `errno` values file operations usually meet.
enum POSIXText {
    static func describe(_ code: Errno) -> String {
        switch code {
        case .noSuchFileOrDirectory: "no such file or directory (the directory must exist)"
        case .permissionDenied: "permission denied"
        case .notPermitted: "operation not permitted"
        case .isDirectory: "is a directory"
        case .notDirectory: "a component of the path is not a directory"
        case .noSpace: "no space left on device"
        case .readOnlyFileSystem: "read-only file system"
        case .tooManyOpenFiles, .tooManyOpenFilesInSystem: "too many open files"
        case .fileNameTooLong: "file name too long"
        case .tooManySymbolicLinkLevels: "too many symbolic links"
        case .ioError: "input/output error"
        case .diskQuotaExceeded: "disk quota exceeded"
        case .fileTooLarge: "file too large (over the file-size limit)"
        case .wouldBlock: "the write would block (not a regular file?)"
        default: "\(code) (errno \(code.rawValue))"
        }
    }
}
