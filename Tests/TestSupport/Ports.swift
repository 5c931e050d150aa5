import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Errors of the test helpers.
public enum TestSupportError: Error, CustomStringConvertible {
    case socket(String)
    case process(String)
    case unboundControl(command: String, output: String)
    case notReady(String)

    public var description: String {
        switch self {
        case .socket(let s): "socket: \(s)"
        case .process(let s): "process: \(s)"
        case .unboundControl(let c, let o): "unbound-control \(c): \(o)"
        case .notReady(let s): "not ready: \(s)"
        }
    }
}

/// Loopback sockets for test servers.
public enum LoopbackSocket {
    /// A socket bound to 127.0.0.1:`port` or [::1]:`port` (0: the kernel picks a free one).
    /// Returns the fd and the bound port.
    public static func bind(type: Int32, port: UInt16 = 0, ipv6: Bool = false) throws -> (fd: Int32, port: UInt16) {
        ipv6 ? try bind6(type: type, port: port) : try bind4(type: type, port: port)
    }

    private static func bind6(type: Int32, port: UInt16) throws -> (fd: Int32, port: UInt16) {
        let fd = socket(AF_INET6, type | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TestSupportError.socket("socket: \(String(cString: strerror(errno)))") }
        var on: Int32 = 1
        if type == Int32(SOCK_STREAM.rawValue) {
            _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        }
        var sin6 = sockaddr_in6()
        sin6.sin6_family = sa_family_t(AF_INET6)
        sin6.sin6_port = port.bigEndian
        sin6.sin6_addr = in6addr_loopback
        let rc = withUnsafePointer(to: &sin6) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
        }
        guard rc == 0 else {
            let text = String(cString: strerror(errno))
            close(fd)
            throw TestSupportError.socket("bind [::1]:\(port): \(text)")
        }
        var bound = sockaddr_in6()
        var len = socklen_t(MemoryLayout<sockaddr_in6>.size)
        _ = withUnsafeMutablePointer(to: &bound) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        return (fd, UInt16(bigEndian: bound.sin6_port))
    }

    private static func bind4(type: Int32, port: UInt16) throws -> (fd: Int32, port: UInt16) {
        let fd = socket(AF_INET, type | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TestSupportError.socket("socket: \(String(cString: strerror(errno)))") }
        var on: Int32 = 1
        if type == Int32(SOCK_STREAM.rawValue) {
            _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        }
        var sin = sockaddr_in()
        sin.sin_family = sa_family_t(AF_INET)
        sin.sin_port = port.bigEndian
        sin.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let rc = withUnsafePointer(to: &sin) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            let text = String(cString: strerror(errno))
            close(fd)
            throw TestSupportError.socket("bind 127.0.0.1:\(port): \(text)")
        }
        var bound = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &bound) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        return (fd, UInt16(bigEndian: bound.sin_port))
    }

    /// A UDP socket and a listening TCP socket on the same free loopback port.
    public static func bindUDPAndTCP(ipv6: Bool = false) throws -> (udp: Int32, tcp: Int32, port: UInt16) {
        for _ in 0..<50 {
            let udp = try bind(type: Int32(SOCK_DGRAM.rawValue), ipv6: ipv6)
            if let tcp = try? bind(type: Int32(SOCK_STREAM.rawValue), port: udp.port, ipv6: ipv6) {
                guard listen(tcp.fd, 16) == 0 else {
                    close(udp.fd); close(tcp.fd)
                    continue
                }
                return (udp.fd, tcp.fd, udp.port)
            }
            close(udp.fd)
        }
        throw TestSupportError.socket("no loopback port free for both UDP and TCP")
    }

    /// A loopback port that was free for UDP and TCP a moment ago (closed again, for a child process to take);
    /// with `alsoIPv6` free on [::1] too.
    public static func freePort(alsoIPv6: Bool = false) throws -> UInt16 {
        for _ in 0..<50 {
            let pair = try bindUDPAndTCP()
            defer {
                close(pair.udp)
                close(pair.tcp)
            }
            guard alsoIPv6 else { return pair.port }
            guard let u6 = try? bind(type: Int32(SOCK_DGRAM.rawValue), port: pair.port, ipv6: true) else { continue }
            close(u6.fd)
            guard let t6 = try? bind(type: Int32(SOCK_STREAM.rawValue), port: pair.port, ipv6: true) else { continue }
            close(t6.fd)
            return pair.port
        }
        throw TestSupportError.socket("no loopback port free on 127.0.0.1 and ::1")
    }
}
