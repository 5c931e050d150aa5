#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a file could not be read: a plain phrase (`no such file`, `Permission denied`,
/// `not a regular file (a FIFO)`), never Foundation's error domains.
public struct RegularFileError: Error, Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var reason: String
    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }
    /// `PATH: cannot read: reason`, control characters made visible.
    public var description: String { "\(VisibleText.escape(path)): cannot read: \(VisibleText.escape(reason))" }
}

/// Reading a file the user named (a watchlist, the config, a fingerprint file) without ever blocking on
/// a FIFO or a device: `stat` first, `open` with `O_NONBLOCK`, `fstat` of what was opened (the path may
/// have been swapped in between), then the bytes.
public enum RegularFile {
    public static func read(_ path: String) throws(RegularFileError) -> [UInt8] {
        func failure(_ code: Int32) -> RegularFileError {
            RegularFileError(path: path, reason: code == ENOENT ? "no such file" : systemMessage(code))
        }
        let fd = try openForReading(path)
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw failure(errno) }

        var bytes: [UInt8] = []
        bytes.reserveCapacity(max(0, Int(info.st_size)))
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n > 0 {
                bytes.append(contentsOf: chunk[0..<n])
            } else if n == 0 {
                return bytes
            } else if errno != EINTR {
                throw failure(errno)
            }
        }
    }

    /// Opens a regular file (or a symbolic link to one) for reading, checked before and after the open;
    /// the caller closes the descriptor.
    public static func openForReading(_ path: String) throws(RegularFileError) -> Int32 {
        func failure(_ code: Int32) -> RegularFileError {
            RegularFileError(path: path, reason: code == ENOENT ? "no such file" : systemMessage(code))
        }
        var info = stat()
        guard stat(path, &info) == 0 else { throw failure(errno) }
        if let kind = nonRegularKind(info.st_mode) { throw RegularFileError(path: path, reason: "not a regular file (\(kind))") }
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw failure(errno) }
        guard fstat(fd, &info) == 0 else {
            let code = errno
            close(fd)
            throw failure(code)
        }
        if let kind = nonRegularKind(info.st_mode) {
            close(fd)
            throw RegularFileError(path: path, reason: "not a regular file (\(kind))")
        }
        return fd
    }

    /// What a file of mode `mode` is when it is not a regular file (`a FIFO`), or nil for a regular file.
    static func nonRegularKind(_ mode: mode_t) -> String? {
        switch mode & mode_t(S_IFMT) {
        case mode_t(S_IFREG): nil
        case mode_t(S_IFDIR): "a directory"
        case mode_t(S_IFIFO): "a FIFO"
        case mode_t(S_IFCHR): "a character device"
        case mode_t(S_IFBLK): "a block device"
        case mode_t(S_IFSOCK): "a socket"
        default: "an unknown kind of file"
        }
    }

    /// `strerror`'s sentence for an errno value (`Permission denied`).
    static func systemMessage(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "error \(code)" }
        return String(cString: text)
    }
}
