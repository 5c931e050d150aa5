#if canImport(Glibc)
import Glibc
#endif
import DequeModule
import Foundation
import Synchronization

/// The TCP exchanges of one session (questions whose UDP reply was truncated), on a thread of their own so
/// that a slow TCP server never holds up the UDP loop: up to `maxConcurrent` exchanges at once, each on a
/// non-blocking socket, all driven by one `poll(2)` loop; the rest wait in order. Results go back through
/// the session's mailbox. Started on the first truncation.
final class TCPWorker: Sendable {
    /// Most TCP exchanges under way at once.
    static let maxConcurrent = 8

    struct Job: Sendable {
        var question: Int32
        /// The question's token when the job was made: a result counts only if it still matches.
        var token: UInt32
        var server: Int32
        var id: UInt16
        var wire: [UInt8]
    }

    struct Result: Sendable {
        var job: Job
        var outcome: Swift.Result<[UInt8], TCPExchange.Failure>
    }

    private struct Queue: Sendable {
        var jobs = Deque<Job>()
        var stopped = false
    }

    private let queue = Mutex(Queue())
    private let wake: WakePipe
    private let addresses: [SocketAddress]
    private let timeoutNanos: UInt64
    private let mailbox: Mailbox

    /// - Throws: `ResolverError.socket` when its wake-up pipe cannot be made.
    init(addresses: [SocketAddress], timeoutNanos: UInt64, mailbox: Mailbox) throws {
        self.addresses = addresses
        self.timeoutNanos = timeoutNanos
        self.mailbox = mailbox
        wake = try WakePipe()
        let thread = Thread { [self] in serve() }
        thread.name = "dnswatch-resolver-tcp"
        thread.stackSize = 1 << 20
        thread.start()
    }

    func submit(_ job: Job) {
        queue.withLock { $0.jobs.append(job) }
        wake.wake()
    }

    /// Ends the thread; exchanges under way are dropped (their sockets closed).
    func stop() {
        queue.withLock { $0.stopped = true }
        wake.wake()
    }

    private func serve() {
        var active: [(job: Job, exchange: TCPExchange)] = []
        var fds: [pollfd] = []
        var results: [Result] = []
        while true {
            let (stopped, taken) = queue.withLock { queue -> (Bool, [Job]) in
                let n = min(queue.jobs.count, Self.maxConcurrent - active.count)
                defer { queue.jobs.removeFirst(n) }
                return (queue.stopped, Array(queue.jobs.prefix(n)))
            }
            if stopped || mailbox.cancel.isCancelled { return }
            var now = monotonicNanos()
            for job in taken {
                do {
                    active.append((job, try TCPExchange(query: job.wire, to: addresses[Int(job.server)], timeoutNanos: timeoutNanos, now: now)))
                } catch {
                    results.append(Result(job: job, outcome: .failure(error)))
                }
            }
            deliver(&results)
            fds.removeAll(keepingCapacity: true)
            fds.append(pollfd(fd: wake.readEnd, events: Int16(POLLIN), revents: 0))
            for entry in active { fds.append(pollfd(fd: entry.exchange.descriptor.fd, events: entry.exchange.events, revents: 0)) }
            var waitMillis: Int32 = -1
            if let deadline = active.map(\.exchange.deadline).min() {
                waitMillis = Int32(min(1_000, (deadline > now ? deadline - now : 0) / 1_000_000 + 1))
            }
            let ready = fds.withUnsafeMutableBufferPointer { poll($0.baseAddress, nfds_t($0.count), waitMillis) }
            if ready < 0 && errno != EINTR {
                // Not expected with valid descriptors: the exchanges under way fail rather than spin.
                for entry in active { results.append(Result(job: entry.job, outcome: .failure(.network))) }
                active.removeAll()
            }
            if ready > 0 && fds[0].revents != 0 { wake.drain() }
            now = monotonicNanos()
            // From the last, so that removing one leaves the positions of the others in `fds`.
            for i in active.indices.reversed() {
                var outcome: Swift.Result<[UInt8], TCPExchange.Failure>?
                if ready > 0 && fds[i + 1].revents != 0 {
                    switch active[i].exchange.advance() {
                    case .waiting: break
                    case .done(let reply): outcome = .success(reply)
                    case .failed(let failure): outcome = .failure(failure)
                    }
                }
                if outcome == nil && now >= active[i].exchange.deadline { outcome = .failure(.timeout) }
                if let outcome {
                    results.append(Result(job: active[i].job, outcome: outcome))
                    active.remove(at: i)
                }
            }
            deliver(&results)
        }
    }

    /// Hands finished exchanges to the engine and wakes it.
    private func deliver(_ results: inout [Result]) {
        guard !results.isEmpty else { return }
        let done = results
        results.removeAll(keepingCapacity: true)
        mailbox.state.withLock { $0.tcpResults.append(contentsOf: done) }
        mailbox.wake()
    }
}
