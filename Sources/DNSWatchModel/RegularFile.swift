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
        let reader = try Reader(path: path)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(reader.size)
        while true {
            let chunk = try reader.read()
            if chunk.isEmpty { return bytes }
            bytes.append(contentsOf: chunk)
        }
    }

    /// A file read in chunks (a feed too big to hold): a regular file opened as `read` opens it, or
    /// standard input.
    public final class Reader {
        public let path: String
        let fd: Int32
        let owned: Bool
        /// The size the file had when it was opened (0 for standard input).
        public let size: Int

        public init(path: String) throws(RegularFileError) {
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
            (self.path, self.fd, self.owned, self.size) = (path, fd, true, max(0, Int(info.st_size)))
        }

        /// Standard input, named `name` in errors. It may be a pipe or a terminal: a read waits for data
        /// (call it off the cooperative pool).
        public init(standardInputNamed name: String) {
            (path, fd, owned, size) = (name, 0, false, 0)
        }

        /// A descriptor the caller keeps open (and closes), read from where it is; `name` names it in errors.
        public init(fileDescriptor: Int32, name: String) {
            (path, fd, owned, size) = (name, fileDescriptor, false, 0)
        }

        deinit { if owned { close(fd) } }

        /// The next bytes, at most `max`; empty at the end of the file.
        public func read(max: Int = 64 * 1024) throws(RegularFileError) -> [UInt8] {
            var chunk = [UInt8](repeating: 0, count: max)
            while true {
                let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
                if n >= 0 { return Array(chunk[0..<n]) }
                let code = errno
                if code == EAGAIN || code == EWOULDBLOCK {
                    // A non-blocking standard input: wait until it has data.
                    var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                    _ = poll(&p, 1, -1)
                } else if code != EINTR {
                    throw RegularFileError(path: path, reason: systemMessage(code))
                }
            }
        }
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
