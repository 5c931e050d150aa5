#if canImport(Glibc)
import Glibc
#endif
import CLDNS
import DNSWatchModel

/// A resolver's socket address, precomputed for `sendto` and for matching reply sources.
struct SocketAddress: Sendable {
    private(set) var storage = sockaddr_storage()
    let length: socklen_t
    let family: Int32
    private let portBE: UInt16
    private let addressBytes: [UInt8]

    init(_ endpoint: ResolverEndpoint) {
        portBE = endpoint.port.bigEndian
        addressBytes = endpoint.address.bytes
        if endpoint.address.isIPv4 {
            family = AF_INET
            length = socklen_t(MemoryLayout<sockaddr_in>.size)
            var sin = sockaddr_in()
            sin.sin_family = sa_family_t(AF_INET)
            sin.sin_port = portBE
            withUnsafeMutableBytes(of: &sin.sin_addr) { $0.copyBytes(from: endpoint.address.bytes) }
            withUnsafeMutableBytes(of: &storage) { raw in
                withUnsafeBytes(of: sin) { raw.copyMemory(from: $0) }
            }
        } else {
            family = AF_INET6
            length = socklen_t(MemoryLayout<sockaddr_in6>.size)
            var sin6 = sockaddr_in6()
            sin6.sin6_family = sa_family_t(AF_INET6)
            sin6.sin6_port = portBE
            withUnsafeMutableBytes(of: &sin6.sin6_addr) { $0.copyBytes(from: endpoint.address.bytes) }
            withUnsafeMutableBytes(of: &storage) { raw in
                withUnsafeBytes(of: sin6) { raw.copyMemory(from: $0) }
            }
        }
    }

    func withSockaddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        withUnsafeBytes(of: storage) { raw in
            body(raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), length)
        }
    }

    /// Whether a datagram's source (as filled in by `recvfrom`) is this address and port.
    func matches(_ source: UnsafeRawPointer) -> Bool {
        let fam = Int32(source.load(as: sockaddr.self).sa_family)
        guard fam == family else { return false }
        if family == AF_INET {
            let sin = source.load(as: sockaddr_in.self)
            guard sin.sin_port == portBE else { return false }
            return withUnsafeBytes(of: sin.sin_addr) { $0.elementsEqual(addressBytes) }
        }
        let sin6 = source.load(as: sockaddr_in6.self)
        guard sin6.sin6_port == portBE else { return false }
        return withUnsafeBytes(of: sin6.sin6_addr) { $0.elementsEqual(addressBytes) }
    }
}

enum SocketError {
    static func text(_ call: String) -> String {
        "\(call): \(String(cString: strerror(errno)))"
    }
}

/// Owns a file descriptor.
final class FileDescriptor {
    let fd: Int32
    init(_ fd: Int32) { self.fd = fd }
    deinit { close(fd) }
}

enum UDPSocketFactory {
    /// A non-blocking UDP socket of `family`, bound to the wildcard address on a kernel-chosen (random) port.
    static func make(family: Int32, receiveBuffer: Int32 = 4 << 20) throws -> FileDescriptor {
        let fd = socket(family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ResolverError.socket(SocketError.text("socket")) }
        let owner = FileDescriptor(fd)
        var size = receiveBuffer
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        var sendSize: Int32 = 1 << 20
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sendSize, socklen_t(MemoryLayout<Int32>.size))
        let rc: Int32
        if family == AF_INET {
            var sin = sockaddr_in()
            sin.sin_family = sa_family_t(AF_INET)
            rc = withUnsafePointer(to: &sin) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        } else {
            var on: Int32 = 1
            _ = setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &on, socklen_t(MemoryLayout<Int32>.size))
            var sin6 = sockaddr_in6()
            sin6.sin6_family = sa_family_t(AF_INET6)
            rc = withUnsafePointer(to: &sin6) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        }
        guard rc == 0 else { throw ResolverError.socket(SocketError.text("bind")) }
        return owner
    }
}

/// Monotonic time in nanoseconds.
@inline(__always)
func monotonicNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

/// Unpredictable 16-bit query IDs from the kernel CSPRNG, fetched 1024 at a time.
struct QueryIDSource {
    private var pool = [UInt16](repeating: 0, count: 1024)
    private var next = 1024
    private var fallback = SystemRandomNumberGenerator()

    mutating func nextID() -> UInt16 {
        if next == pool.count {
            let filled = pool.withUnsafeMutableBytes { dnswatch_getrandom($0.baseAddress, $0.count) }
            if filled != pool.count * 2 {
                for i in pool.indices { pool[i] = UInt16.random(in: 0...UInt16.max, using: &fallback) }
            }
            next = 0
        }
        defer { next += 1 }
        return pool[next]
    }
}
