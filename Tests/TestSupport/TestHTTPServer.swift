public import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A tiny HTTP/1.1 server on 127.0.0.1 (free port), one connection at a time, for webhook tests.
/// It records every request and answers according to its behaviour; one request per connection.
public final class TestHTTPServer: @unchecked Sendable {
    public enum Behaviour: Sendable {
        /// `status` (e.g. 503) for the first `count` requests, then 200.
        case failFirst(Int, status: Int)
        /// Reads the request and never answers (the connection stays open until `stop()`).
        case neverAnswer
        /// Answers 302 with a Location on the same server.
        case redirect
    }

    public struct Request: Sendable {
        public var method: String
        public var path: String
        /// Header names in lower case.
        public var headers: [String: String]
        public var body: [UInt8]
    }

    public struct SetupError: Error, CustomStringConvertible {
        public var description: String
    }

    public let port: UInt16
    /// Whether it listens on [::1] rather than 127.0.0.1.
    public let ipv6: Bool
    private let behaviour: Behaviour
    private let listener: Int32
    private let lock = NSLock()
    private var requests: [Request] = []
    private var held: [Int32] = []
    private var stopping = false
    private let finished = DispatchSemaphore(value: 0)

    public init(_ behaviour: Behaviour, ipv6: Bool = false) throws {
        self.behaviour = behaviour
        self.ipv6 = ipv6
        let (fd, port) = ipv6 ? try Self.makeListener6() : try Self.makeListener()
        self.listener = fd
        self.port = port
        let thread = Thread { [self] in serve() }
        thread.start()
    }

    public var url: URL { URL(string: "\(base)/hooks/T0SECRET/B0SECRET/xoxSECRETTOKEN")! }

    /// `http://127.0.0.1:PORT` or `http://[::1]:PORT`.
    public var base: String { ipv6 ? "http://[::1]:\(port)" : "http://127.0.0.1:\(port)" }

    public var recorded: [Request] { lock.withLock { requests } }

    public func stop() {
        let alreadyStopping = lock.withLock { () -> Bool in
            defer { stopping = true }
            return stopping
        }
        guard !alreadyStopping else { return }
        finished.wait()
        for fd in lock.withLock({ held }) { close(fd) }
        close(listener)
    }

    deinit { stop() }

    /// A loopback port where nothing listens (bound, then closed).
    public static func closedPort() throws -> UInt16 {
        let (fd, port) = try makeListener()
        close(fd)
        return port
    }

    private static func makeListener6() throws -> (Int32, UInt16) {
        let (fd, port) = try LoopbackSocket.bind(type: Int32(SOCK_STREAM.rawValue), ipv6: true)
        guard listen(fd, 16) == 0 else {
            close(fd)
            throw SetupError(description: "listen on [::1] failed: errno \(errno)")
        }
        return (fd, port)
    }

    private static func makeListener() throws -> (Int32, UInt16) {
        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw SetupError(description: "socket() failed: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            close(fd)
            throw SetupError(description: "bind/listen failed: errno \(errno)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else {
            close(fd)
            throw SetupError(description: "getsockname failed: errno \(errno)")
        }
        return (fd, UInt16(bigEndian: address.sin_port))
    }

    private func serve() {
        defer { finished.signal() }
        while !lock.withLock({ stopping }) {
            var waiting = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&waiting, 1, 50) > 0 else { continue }
            let client = accept(listener, nil, nil)
            guard client >= 0 else { continue }
            var receiveTimeout = timeval(tv_sec: 5, tv_usec: 0)
            setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &receiveTimeout, socklen_t(MemoryLayout<timeval>.size))
            handle(client)
        }
    }

    private func handle(_ client: Int32) {
        guard let request = Self.readRequest(client) else {
            close(client)
            return
        }
        let count = lock.withLock { () -> Int in
            requests.append(request)
            return requests.count
        }
        switch behaviour {
        case .neverAnswer:
            lock.withLock { held.append(client) }
            return
        case .failFirst(let failures, let status):
            if count <= failures {
                respond(client, status: status, reason: "Service Unavailable", body: "try again later")
            } else {
                respond(client, status: 200, reason: "OK", body: "ok")
            }
        case .redirect:
            respond(client, status: 302, reason: "Found", body: "", extra: "Location: \(base)/elsewhere\r\n")
        }
        close(client)
    }

    private func respond(_ client: Int32, status: Int, reason: String, body: String, extra: String = "") {
        let text = "HTTP/1.1 \(status) \(reason)\r\nContent-Type: text/plain\r\nContent-Length: \(body.utf8.count)\r\n"
            + extra + "Connection: close\r\n\r\n" + body
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            sent += n
        }
    }

    private static func readRequest(_ client: Int32) -> Request? {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        func receive() -> Bool {
            let n = chunk.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { return false }
            buffer.append(contentsOf: chunk[..<n])
            return true
        }
        var headerEnd: Int?
        while headerEnd == nil {
            guard receive() else { return nil }
            headerEnd = buffer.indices.dropLast(3).first { Array(buffer[$0..<$0 + 4]) == separator }
        }
        guard let headerEnd else { return nil }
        let head = String(decoding: buffer[..<headerEnd], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let requestLine = lines.removeFirst().split(separator: " ")
        guard requestLine.count >= 2 else { return nil }
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        if headers["expect"]?.lowercased() == "100-continue" {
            let reply = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)
            _ = reply.withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        let bodyStart = headerEnd + 4
        while buffer.count - bodyStart < length {
            guard receive() else { return nil }
        }
        return Request(
            method: String(requestLine[0]), path: String(requestLine[1]), headers: headers,
            body: Array(buffer[bodyStart..<bodyStart + length]))
    }
}
