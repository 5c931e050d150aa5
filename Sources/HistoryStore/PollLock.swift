#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive lock on a database's poll, held as an flock(2) on `<db>.lock`. The kernel releases it
/// when the process ends in any way (kill -9 included), so a crashed poll never leaves it stale.
public final class PollLock: Sendable {
    private let fd: Int32

    public enum Failure: Error, Sendable, CustomStringConvertible {
        case busy(String)
        case cannotOpen(String, Int32)
        public var description: String {
            switch self {
            case .busy(let path):
                "another dnswatch poll is running on this database (lock \(path) is held); try again later or pass --wait"
            case .cannotOpen(let path, let err): "cannot open the lock file \(path): \(String(cString: strerror(err)))"
            }
        }
    }

    /// Takes the lock; with `wait`, blocks until the other poll ends, else fails at once with `.busy`.
    public init(databasePath: String, wait: Bool) throws {
        let path = databasePath + ".lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Failure.cannotOpen(path, errno) }
        while flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) != 0 {
            if errno == EINTR { continue }
            close(fd)
            throw Failure.busy(path)
        }
        self.fd = fd
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
