#if canImport(Glibc)
import Glibc
#endif
import CLDNS
import DNSWatchModel

/// One DNS exchange over TCP (RFC 7766 two-byte length framing) on a non-blocking socket, bounded by a
/// deadline: connect, write the query, read the reply, each step taken when `poll(2)` says the socket is
/// ready (`TCPWorker` runs several at once on one thread).
struct TCPExchange {
    enum Failure: Error {
        case timeout
        case network
        case cancelled

        var kind: FailureKind { self == .timeout ? .timeout : .network }
    }

    /// Where an exchange stands after a step.
    enum Progress {
        /// Waiting for the socket (`events`).
        case waiting
        /// The reply message (without its length prefix).
        case done([UInt8])
        case failed(Failure)
    }

    let descriptor: FileDescriptor
    /// Monotonic nanoseconds after which the exchange has timed out.
    let deadline: UInt64
    private var connected = false
    private let framed: [UInt8]
    private var written = 0
    /// The length prefix, then the message.
    private var input: [UInt8] = []
    private var expected = 2
    private var haveLength = false

    /// Starts connecting to `address` (the connection completes in later steps).
    init(query: [UInt8], to address: SocketAddress, timeoutNanos: UInt64, now: UInt64) throws(Failure) {
        deadline = now + timeoutNanos
        framed = [UInt8(query.count >> 8), UInt8(query.count & 0xFF)] + query
        let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .network }
        descriptor = FileDescriptor(fd)
        let rc = address.withSockaddr { connect(fd, $0, $1) }
        if rc == 0 {
            connected = true
        } else if errno != EINPROGRESS {
            throw .network
        }
    }

    /// What to wait for: writable while connecting or writing, readable after.
    var events: Int16 { Int16(!connected || written < framed.count ? POLLOUT : POLLIN) }

    /// Goes as far as the socket allows without blocking (call when `poll` reported it ready).
    mutating func advance() -> Progress {
        let fd = descriptor.fd
        if !connected {
            var soError: Int32 = 0
            var len = socklen_t(MemoryLayout<Int32>.size)
            guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &len) == 0, soError == 0 else { return .failed(.network) }
            connected = true
        }
        while written < framed.count {
            let n = framed.withUnsafeBytes { send(fd, $0.baseAddress! + written, framed.count - written, Int32(MSG_NOSIGNAL)) }
            if n > 0 {
                written += n
            } else if n < 0 && errno == EINTR {
                continue
            } else if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                return .waiting
            } else {
                return .failed(.network)
            }
        }
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let want = min(buffer.count, expected - input.count)
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress!, want) }
            if n > 0 {
                input.append(contentsOf: buffer[0..<n])
            } else if n < 0 && errno == EINTR {
                continue
            } else if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                return .waiting
            } else {
                return .failed(.network)
            }
            guard input.count == expected else { continue }
            if haveLength { return .done(Array(input[2...])) }
            let length = Int(input[0]) << 8 | Int(input[1])
            guard length >= 12 else { return .failed(.network) }
            haveLength = true
            expected = 2 + length
        }
    }
}
