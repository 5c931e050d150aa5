import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A loopback UDP port that receives queries and never answers (for timeout tests).
public final class SilentUDPServer: @unchecked Sendable {
    public let port: UInt16
    private let fd: Int32

    private let ipv6: Bool

    /// Binds 127.0.0.1 (or ::1 with `ipv6`) on a free port.
    public init(ipv6: Bool = false) throws {
        (fd, port) = try LoopbackSocket.bind(type: Int32(SOCK_DGRAM.rawValue), ipv6: ipv6)
        self.ipv6 = ipv6
    }

    /// "127.0.0.1:PORT" or "[::1]:PORT".
    public var endpoint: String { ipv6 ? "[::1]:\(port)" : "127.0.0.1:\(port)" }

    deinit { close(fd) }
}

/// One query as a scripted server received it.
public struct ScriptedRequest: Sendable {
    public enum Transport: Sendable { case udp, tcp }
    public var bytes: [UInt8]
    public var transport: Transport
    /// 0-based count of requests received before this one (UDP and TCP together).
    public var index: Int
    /// The client's source port (0 over TCP).
    public var sourcePort: UInt16 = 0
}

/// A datagram for a scripted server to send back.
public struct ScriptedReply: Sendable {
    public var bytes: [UInt8]
    /// Send it from a second socket (another source port) instead of the one the query came to.
    public var fromOtherPort: Bool

    public init(_ bytes: [UInt8], fromOtherPort: Bool = false) {
        self.bytes = bytes
        self.fromOtherPort = fromOtherPort
    }
}

/// A loopback DNS server (UDP, and TCP on the same port) that answers each query with the replies a closure
/// returns, in order. Over TCP only the first reply is sent, framed; one connection at a time, or, with
/// `tcpDelay`, each connection on a thread of its own that holds its reply back that many seconds (it
/// counts the connections waiting for their reply at once). Stops when stopped or released.
public final class ScriptedUDPServer: @unchecked Sendable {
    public let port: UInt16
    private let ipv6: Bool
    private let core: ScriptedServerCore

    /// Starts serving at once on a free port of 127.0.0.1 (or ::1 with `ipv6`).
    public init(ipv6: Bool = false, tcpDelay: Double? = nil, respond: @escaping @Sendable (ScriptedRequest) -> [ScriptedReply]) throws {
        core = try ScriptedServerCore(ipv6: ipv6, tcpDelay: tcpDelay)
        port = core.port
        self.ipv6 = ipv6
        let core = self.core
        let thread = Thread { core.serve(respond) }
        thread.name = "scripted-dns-\(port)"
        thread.start()
    }

    /// Answers each UDP or TCP query with the datagrams `respond` returns for its bytes.
    public convenience init(ipv6: Bool = false, respond: @escaping @Sendable (_ query: [UInt8]) -> [[UInt8]]) throws {
        try self.init(ipv6: ipv6, respond: { (request: ScriptedRequest) in respond(request.bytes).map { ScriptedReply($0) } })
    }

    /// "127.0.0.1:PORT" or "[::1]:PORT".
    public var endpoint: String { ipv6 ? "[::1]:\(port)" : "127.0.0.1:\(port)" }

    /// Queries received so far (UDP and TCP).
    public var requestCount: Int { core.requestCount }
    /// Queries received over TCP so far.
    public var tcpRequestCount: Int { core.tcpRequestCount }
    /// Most TCP connections waiting for their reply at once, from accept until the reply is sent (counted
    /// with `tcpDelay` only: otherwise 1 at most by design). A client starts a connection beyond its bound
    /// only once a reply came, so the count is not inflated by connections closing late.
    public var peakTCPConnections: Int { core.peakTCPConnections }

    /// Stops the server thread and closes its sockets; idempotent.
    public func stop() { core.stop() }

    deinit { core.stop() }
}

/// The sockets and serving loop of a `ScriptedUDPServer` (owned by its thread and the wrapper).
final class ScriptedServerCore: @unchecked Sendable {
    let port: UInt16
    private let udp: Int32
    private let tcp: Int32
    private let other: Int32
    private let lock = NSLock()
    private var stopped = false
    private var requests = 0
    private var tcpRequests = 0
    private var openConnections = 0
    private var peakConnections = 0
    private let tcpDelay: Double?
    private let done = DispatchSemaphore(value: 0)

    init(ipv6: Bool, tcpDelay: Double? = nil) throws {
        self.tcpDelay = tcpDelay
        let pair = try LoopbackSocket.bindUDPAndTCP(ipv6: ipv6)
        udp = pair.udp
        tcp = pair.tcp
        port = pair.port
        other = try LoopbackSocket.bind(type: Int32(SOCK_DGRAM.rawValue), ipv6: ipv6).fd
        // Room for a whole burst of queries: a test server must not lose datagrams on its own.
        var size: Int32 = 8 << 20
        if setsockopt(udp, SOL_SOCKET, SO_RCVBUFFORCE, &size, socklen_t(MemoryLayout<Int32>.size)) != 0 {
            _ = setsockopt(udp, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
    }

    var requestCount: Int { lock.withLock { requests } }
    var tcpRequestCount: Int { lock.withLock { tcpRequests } }
    var peakTCPConnections: Int { lock.withLock { peakConnections } }

    func stop() {
        let first = lock.withLock {
            defer { stopped = true }
            return !stopped
        }
        guard first else { return }
        done.wait()
        close(udp)
        close(tcp)
        close(other)
    }

    private var isStopped: Bool { lock.withLock { stopped } }

    private func nextIndex(tcp: Bool) -> Int {
        lock.withLock {
            defer {
                requests += 1
                if tcp { tcpRequests += 1 }
            }
            return requests
        }
    }

    func serve(_ respond: @escaping @Sendable (ScriptedRequest) -> [ScriptedReply]) {
        defer { done.signal() }
        var buffer = [UInt8](repeating: 0, count: 65536)
        var fds = [pollfd(fd: udp, events: Int16(POLLIN), revents: 0), pollfd(fd: tcp, events: Int16(POLLIN), revents: 0)]
        while !isStopped {
            guard poll(&fds, 2, 20) > 0 else { continue }
            if fds[0].revents != 0 {
                var source = sockaddr_storage()
                var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
                let n = withUnsafeMutablePointer(to: &source) { src in
                    src.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(udp, &buffer, buffer.count, 0, $0, &length) }
                }
                if n > 0 {
                    // sin_port and sin6_port sit at the same offset.
                    let sourcePort = withUnsafeBytes(of: source) { UInt16(bigEndian: $0.load(fromByteOffset: 2, as: UInt16.self)) }
                    let request = ScriptedRequest(
                        bytes: Array(buffer[0..<n]), transport: .udp, index: nextIndex(tcp: false), sourcePort: sourcePort)
                    for reply in respond(request) {
                        let fd = reply.fromOtherPort ? other : udp
                        _ = withUnsafePointer(to: &source) { src in
                            src.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                                sendto(fd, reply.bytes, reply.bytes.count, 0, $0, length)
                            }
                        }
                    }
                }
            }
            if fds[1].revents != 0 {
                let client = accept(tcp, nil, nil)
                if client >= 0, let delay = tcpDelay {
                    lock.withLock {
                        openConnections += 1
                        peakConnections = max(peakConnections, openConnections)
                    }
                    let thread = Thread { [self] in
                        serveTCP(client, respond, delay: delay) { lock.withLock { openConnections -= 1 } }
                        close(client)
                    }
                    thread.start()
                } else if client >= 0 {
                    serveTCP(client, respond)
                    close(client)
                }
            }
        }
    }

    /// Reads one framed query and sends the first reply; `replying` runs once, just before the reply goes
    /// out or when there is none.
    private func serveTCP(_ client: Int32, _ respond: @Sendable (ScriptedRequest) -> [ScriptedReply], delay: Double = 0,
                          replying: () -> Void = {}) {
        var reported = false
        func report() {
            if !reported { replying() }
            reported = true
        }
        defer { report() }
        var tv = timeval(tv_sec: 2, tv_usec: 0)
        _ = setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        guard let header = readFully(client, 2) else { return }
        let length = Int(header[0]) << 8 | Int(header[1])
        guard let query = readFully(client, length) else { return }
        let request = ScriptedRequest(bytes: query, transport: .tcp, index: nextIndex(tcp: true))
        guard let reply = respond(request).first?.bytes else { return }
        if delay > 0 { Thread.sleep(forTimeInterval: delay) }
        let framed = [UInt8(reply.count >> 8), UInt8(reply.count & 0xFF)] + reply
        report()
        _ = framed.withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    private func readFully(_ fd: Int32, _ count: Int) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: count)
        var got = 0
        while got < count {
            let n = out.withUnsafeMutableBytes { read(fd, $0.baseAddress! + got, count - got) }
            guard n > 0 else { return nil }
            got += n
        }
        return out
    }
}

/// A loopback UDP DNS server that answers each query after a delay of the closure's choosing (nil: never),
/// while it keeps receiving: a resolver far away, or a slow one. It counts the queries outstanding (received,
/// not yet answered), their peak, and the peak before its first reply went out (a client's opening burst).
public final class DelayedUDPServer: @unchecked Sendable {
    public let port: UInt16
    private let fd: Int32
    private let lock = NSLock()
    private var stopped = false
    private var requests = 0
    private var outstanding = 0
    private var peak = 0
    private var openingPeak = 0
    private var replied = false
    private var releaseRequested = false
    private let done = DispatchSemaphore(value: 0)

    /// `respond` gets the query and its 0-based index; it returns the reply and the seconds to hold it back
    /// (a long hold and `releaseHeld()` make a reply wait for a condition instead of for the clock).
    public init(respond: @escaping @Sendable (_ query: [UInt8], _ index: Int) -> (reply: [UInt8], delay: Double)?) throws {
        (fd, port) = try LoopbackSocket.bind(type: Int32(SOCK_DGRAM.rawValue), ipv6: false)
        var size: Int32 = 8 << 20
        if setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, socklen_t(MemoryLayout<Int32>.size)) != 0 {
            _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        let thread = Thread { [self] in serve(respond) }
        thread.name = "delayed-dns-\(port)"
        thread.start()
    }

    public var endpoint: String { "127.0.0.1:\(port)" }
    public var requestCount: Int { lock.withLock { requests } }
    /// Most queries outstanding at once.
    public var peakOutstanding: Int { lock.withLock { peak } }
    /// Most queries outstanding before the first reply was sent.
    public var peakBeforeFirstReply: Int { lock.withLock { openingPeak } }

    /// Sends every reply held so far now, whatever its delay.
    public func releaseHeld() { lock.withLock { releaseRequested = true } }

    public func stop() {
        let first = lock.withLock {
            defer { stopped = true }
            return !stopped
        }
        guard first else { return }
        done.wait()
        close(fd)
    }

    deinit { stop() }

    private struct Held {
        var due: Double
        var reply: [UInt8]
        var to: sockaddr_storage
        var length: socklen_t
    }

    private func serve(_ respond: @Sendable ([UInt8], Int) -> (reply: [UInt8], delay: Double)?) {
        defer { done.signal() }
        var held: [Held] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0)]
        while !lock.withLock({ stopped }) {
            let now = Date().timeIntervalSinceReferenceDate
            let next = held.map(\.due).min()
            let wait = next.map { max(0, min(20, Int32((($0 - now) * 1000).rounded(.up)))) } ?? 20
            if poll(&fds, 1, wait) > 0 {
                while true {
                    var source = sockaddr_storage()
                    var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
                    let n = withUnsafeMutablePointer(to: &source) { src in
                        src.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                            recvfrom(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT), $0, &length)
                        }
                    }
                    guard n > 0 else { break }
                    let index = lock.withLock {
                        defer { requests += 1 }
                        return requests
                    }
                    guard let (reply, delay) = respond(Array(buffer[0..<n]), index) else { continue }
                    held.append(Held(due: Date().timeIntervalSinceReferenceDate + delay, reply: reply, to: source, length: length))
                    lock.withLock {
                        outstanding += 1
                        peak = max(peak, outstanding)
                        if !replied { openingPeak = max(openingPeak, outstanding) }
                    }
                }
            }
            let time = Date().timeIntervalSinceReferenceDate
            if lock.withLock({ defer { releaseRequested = false }; return releaseRequested }) {
                for i in held.indices { held[i].due = time }
            }
            var kept: [Held] = []
            for var h in held {
                guard h.due <= time else {
                    kept.append(h)
                    continue
                }
                _ = h.reply.withUnsafeBytes { bytes in
                    withUnsafePointer(to: &h.to) { to in
                        to.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, bytes.baseAddress, bytes.count, 0, $0, h.length) }
                    }
                }
                lock.withLock {
                    outstanding -= 1
                    replied = true
                }
            }
            held = kept
        }
    }
}
