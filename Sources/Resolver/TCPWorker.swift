import Dispatch
import Foundation
import Synchronization

/// The TCP exchanges of one session (questions whose UDP reply was truncated), one at a time on a thread
/// of their own, so that a slow TCP server never holds up the UDP loop. Results go back through the
/// session's mailbox. Started on the first truncation; rare in practice.
final class TCPWorker: Sendable {
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
        var jobs: [Job] = []
        var stopped = false
    }

    private let queue = Mutex(Queue())
    private let signal = DispatchSemaphore(value: 0)
    private let addresses: [SocketAddress]
    private let timeoutNanos: UInt64
    private let mailbox: Mailbox

    init(addresses: [SocketAddress], timeoutNanos: UInt64, mailbox: Mailbox) {
        self.addresses = addresses
        self.timeoutNanos = timeoutNanos
        self.mailbox = mailbox
        let thread = Thread { [self] in serve() }
        thread.name = "dnswatch-resolver-tcp"
        thread.stackSize = 1 << 20
        thread.start()
    }

    func submit(_ job: Job) {
        queue.withLock { $0.jobs.append(job) }
        signal.signal()
    }

    /// Ends the thread after the exchange under way (which a cancelled session cuts short).
    func stop() {
        queue.withLock { $0.stopped = true }
        signal.signal()
    }

    private func serve() {
        while true {
            signal.wait()
            let (stopped, next) = queue.withLock { queue in (queue.stopped, queue.jobs.isEmpty ? nil : queue.jobs.removeFirst()) }
            if stopped { return }
            guard let job = next else { continue }
            let outcome: Swift.Result<[UInt8], TCPExchange.Failure>
            do {
                outcome = .success(try TCPExchange.exchange(
                    job.wire, with: addresses[Int(job.server)], timeoutNanos: timeoutNanos, cancel: mailbox.cancel))
            } catch let failure as TCPExchange.Failure {
                outcome = .failure(failure)
            } catch {
                outcome = .failure(.network)
            }
            mailbox.state.withLock { $0.tcpResults.append(Result(job: job, outcome: outcome)) }
            mailbox.wake()
        }
    }
}
