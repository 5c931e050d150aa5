#if canImport(Glibc)
import Glibc
#endif
public import DNSWatchModel
import Foundation
public import Logging
import Synchronization

/// Set from the calling task's cancellation handler, read by the engine and TCP threads.
final class CancellationFlag: Sendable {
    private let flag = Atomic<Bool>(false)

    func cancel() { flag.store(true, ordering: .releasing) }
    var isCancelled: Bool { flag.load(ordering: .acquiring) }
}

/// What the async side and the engine thread hand each other. Everything crosses under one mutex; the
/// engine sleeps in `poll(2)` and is woken through a pipe.
final class Mailbox: Sendable {
    struct Submission: Sendable {
        var questions: [Question]
        var continuation: CheckedContinuation<ResolveReport, any Error>
    }

    struct State: Sendable {
        var submissions: [Submission] = []
        var tcpResults: [TCPWorker.Result] = []
        /// No more submissions will come: the engine ends once every open group is answered.
        var closing = false
        /// The engine has ended: submissions fail with this error at once.
        var ended: (any Error)?
        var exitWaiters: [CheckedContinuation<Void, Never>] = []
        var stats = ResolveStats()
    }

    let state = Mutex(State())
    let cancel = CancellationFlag()
    private let pipe: WakePipe

    init() throws {
        pipe = try WakePipe()
    }

    /// Read end of the wake-up pipe (in the engine's poll set).
    var wakeRead: Int32 { pipe.readEnd }

    /// Wakes the engine (a full pipe already will).
    func wake() { pipe.wake() }

    /// Empties the pipe after a wake-up.
    func drainWake() { pipe.drain() }
}

/// A non-blocking pipe that wakes a thread sleeping in `poll(2)` on its read end.
final class WakePipe: Sendable {
    let readEnd: Int32
    private let writeEnd: Int32

    init() throws {
        var fds: [Int32] = [-1, -1]
        guard Glibc.pipe(&fds) == 0 else { throw ResolverError.socket(SocketError.text("pipe")) }
        readEnd = fds[0]
        writeEnd = fds[1]
        for fd in fds {
            guard fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == 0, fcntl(fd, F_SETFD, FD_CLOEXEC) == 0 else {
                close(fds[0])
                close(fds[1])
                throw ResolverError.socket(SocketError.text("pipe"))
            }
        }
    }

    deinit {
        close(readEnd)
        close(writeEnd)
    }

    /// Wakes the reader (a full pipe already will).
    func wake() {
        var byte: UInt8 = 1
        _ = write(writeEnd, &byte, 1)
    }

    /// Empties the pipe after a wake-up.
    func drain() {
        var buffer = [UInt8](repeating: 0, count: 64)
        while read(readEnd, &buffer, buffer.count) > 0 {}
    }
}

/// One resolver stream for a whole poll: a single engine thread, fed continuously. Each `answers(for:)`
/// call is a group of questions that joins those already in flight; it returns as soon as all of its own
/// questions are answered or have failed, however slow the others are. The timers and windows that the
/// engine learns of each resolver last for the session.
public final class ResolverSession: Sendable {
    let mailbox: Mailbox
    public let endpoints: [ResolverEndpoint]

    init(mailbox: Mailbox, endpoints: [ResolverEndpoint]) {
        self.mailbox = mailbox
        self.endpoints = endpoints
    }

    /// Resolves a group of questions: exactly one resolution per question, in the same order.
    ///
    /// - Throws: `CancellationError` when the calling task or the session is cancelled.
    public func report(for questions: [Question]) async throws -> ResolveReport {
        try Task.checkCancellation()
        guard !questions.isEmpty else { return ResolveReport(resolutions: [], stats: stats) }
        let mailbox = self.mailbox
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<ResolveReport, any Error>) in
                let refused: (any Error)? = mailbox.state.withLock { state in
                    if let ended = state.ended { return ended }
                    if state.closing { return CancellationError() }
                    state.submissions.append(Mailbox.Submission(questions: questions, continuation: continuation))
                    return nil
                }
                if let refused { continuation.resume(throwing: refused) } else { mailbox.wake() }
            }
        } onCancel: {
            self.cancel()
        }
    }

    /// Resolves a group of questions (see `report(for:)`).
    public func answers(for questions: [Question]) async throws -> [Resolution] {
        try await report(for: questions).resolutions
    }

    /// The counters and per-resolver state so far (updated as groups complete and when the session ends).
    public var stats: ResolveStats { mailbox.state.withLock { $0.stats } }

    /// Stops the engine at once; open groups fail with `CancellationError`.
    public func cancel() {
        mailbox.cancel.cancel()
        mailbox.wake()
    }

    /// Lets the engine end once its open groups are done, and waits for it.
    func close() async {
        let mailbox = self.mailbox
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ended = mailbox.state.withLock { state in
                state.closing = true
                if state.ended != nil { return true }
                state.exitWaiters.append(continuation)
                return false
            }
            if ended { continuation.resume() } else { mailbox.wake() }
        }
    }
}

extension DNSResolver {
    /// Runs `body` with one session: one engine thread for everything `body` asks, so that questions given
    /// in several groups are in flight together and the timers learnt from the first replies serve the
    /// rest. The session ends when `body` returns (after its groups are answered) or throws (at once).
    ///
    /// - Throws: what `body` throws; `ResolverError.socket` if sockets cannot be set up; `CancellationError`.
    public func withSession<T: Sendable>(logger: Logger? = nil, _ body: (ResolverSession) async throws -> T) async throws -> T {
        try Task.checkCancellation()
        let mailbox = try Mailbox()
        let endpoints = self.endpoints, options = self.options
        // The thread builds the engine (sockets, ldns) and says whether that worked before serving.
        try await withCheckedThrowingContinuation { (started: CheckedContinuation<Void, any Error>) in
            let thread = Thread {
                var engine: Engine
                do {
                    engine = try Engine(endpoints: endpoints, options: options, mailbox: mailbox, logger: logger)
                } catch {
                    mailbox.state.withLock { $0.ended = error }
                    started.resume(throwing: error)
                    return
                }
                started.resume()
                engine.run()
            }
            thread.name = "dnswatch-resolver"
            thread.stackSize = 1 << 20
            thread.start()
        }
        let session = ResolverSession(mailbox: mailbox, endpoints: endpoints)
        do {
            let result = try await withTaskCancellationHandler {
                try await body(session)
            } onCancel: {
                session.cancel()
            }
            await session.close()
            return result
        } catch {
            session.cancel()
            await session.close()
            throw error
        }
    }
}
