#if canImport(Glibc)
import Glibc
#endif
import CLDNS
import DNSWatchModel

/// One DNS exchange over TCP (RFC 7766 two-byte length framing), bounded by a deadline.
enum TCPExchange {
    enum Failure: Error {
        case timeout
        case network
        case cancelled

        var kind: FailureKind { self == .timeout ? .timeout : .network }
    }

    /// Sends `query` to `address` and returns the reply message; polls in short slices so cancellation is prompt.
    static func exchange(_ query: [UInt8], with address: SocketAddress, timeoutNanos: UInt64, cancel: CancellationFlag) throws -> [UInt8] {
        let deadline = monotonicNanos() + timeoutNanos
        let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure.network }
        let owner = FileDescriptor(fd)
        let rc = address.withSockaddr { connect(owner.fd, $0, $1) }
        if rc != 0 && errno != EINPROGRESS { throw Failure.network }
        try wait(fd, for: Int16(POLLOUT), until: deadline, cancel: cancel)
        var soError: Int32 = 0
        var len = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &len) == 0, soError == 0 else { throw Failure.network }

        let framed = [UInt8(query.count >> 8), UInt8(query.count & 0xFF)] + query
        var written = 0
        while written < framed.count {
            let n = framed.withUnsafeBytes { write(fd, $0.baseAddress! + written, framed.count - written) }
            if n > 0 {
                written += n
            } else if n < 0 && (errno == EAGAIN || errno == EINTR) {
                try wait(fd, for: Int16(POLLOUT), until: deadline, cancel: cancel)
            } else {
                throw Failure.network
            }
        }
        let header = try read(fd, count: 2, until: deadline, cancel: cancel)
        let length = Int(header[0]) << 8 | Int(header[1])
        guard length >= 12 else { throw Failure.network }
        return try read(fd, count: length, until: deadline, cancel: cancel)
    }

    private static func read(_ fd: Int32, count: Int, until deadline: UInt64, cancel: CancellationFlag) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var got = 0
        while got < count {
            let n = out.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + got, count - got) }
            if n > 0 {
                got += n
            } else if n < 0 && (errno == EAGAIN || errno == EINTR) {
                try wait(fd, for: Int16(POLLIN), until: deadline, cancel: cancel)
            } else {
                throw Failure.network
            }
        }
        return out
    }

    private static func wait(_ fd: Int32, for events: Int16, until deadline: UInt64, cancel: CancellationFlag) throws {
        while true {
            if cancel.isCancelled { throw Failure.cancelled }
            let now = monotonicNanos()
            guard now < deadline else { throw Failure.timeout }
            let slice = Int32(min(50, (deadline - now + 999_999) / 1_000_000))
            var p = pollfd(fd: fd, events: events, revents: 0)
            let ready = poll(&p, 1, slice)
            if ready > 0 { return }
            if ready < 0 && errno != EINTR { throw Failure.network }
        }
    }
}
