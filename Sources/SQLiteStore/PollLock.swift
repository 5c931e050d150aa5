import DNSWatchModel
import Store
public import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive lock on a database's polls, held as an flock(2) on `<real path of the db>.lock`. The
/// kernel releases it when the process ends in any way (kill -9 included), so a crashed poll never
/// leaves it stale. The lock is taken on the database's resolved path, so two spellings of one file
/// (a symbolic link, `./x` and `x`) share one lock.
///
/// Writers that must not run beside a poll (`Poller`, `Reclassifier`) take a `PollLock` rather than a
/// store: holding the lock is what gives them the store.
public final class PollLock: Sendable {
    public let store: SQLiteStore
    /// The lock file.
    public let path: String
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

    /// Takes the lock of `store`'s database; with `wait`, blocks until the other poll ends, else fails at
    /// once with `.busy`. Blocking: call it before the poll starts, not from a task that others wait on.
    public init(store: SQLiteStore, wait: Bool, fileMode: mode_t = SQLiteStore.defaultFileMode) throws {
        let path = Self.lockPath(forDatabase: store.path)
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, fileMode)
        guard fd >= 0 else { throw Failure.cannotOpen(path, errno) }
        while flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) != 0 {
            if errno == EINTR { continue }
            close(fd)
            throw Failure.busy(path)
        }
        self.store = store
        self.path = path
        self.fd = fd
    }

    /// How often `acquire` with `wait` tries the lock again while another poll holds it.
    public static let retryInterval: Duration = .milliseconds(100)

    /// Takes the lock from async code: with `wait`, tried again every `retryInterval` (a non-blocking
    /// flock each time: no thread blocks, and a cancelled task stops waiting) until the other poll ends.
    public static func acquire(store: SQLiteStore, wait: Bool, fileMode: mode_t = SQLiteStore.defaultFileMode) async throws -> PollLock {
        while true {
            do {
                return try PollLock(store: store, wait: false, fileMode: fileMode)
            } catch Failure.busy where wait {
                try await Task.sleep(for: retryInterval)
            }
        }
    }

    /// `<database>.lock`, the database's path resolved (links followed, `.` and `..` removed) so that
    /// every spelling of one file names one lock.
    public static func lockPath(forDatabase database: String) -> String {
        if let real = realPath(database) { return real + ".lock" }
        let dir = PathText.directory(of: database)
        let base = PathText.name(of: database)
        if let realDir = realPath(dir.isEmpty ? "." : dir) { return realDir + "/" + base + ".lock" }
        return database + ".lock"
    }

    private static func realPath(_ path: String) -> String? {
        guard let p = realpath(path, nil) else { return nil }
        defer { free(p) }
        return String(cString: p)
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
