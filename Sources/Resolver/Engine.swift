#if canImport(Glibc)
import Glibc
#endif
import DNSWatchModel
import Foundation

/// Per-question bookkeeping of the engine.
struct QuestionState {
    enum Phase { case pending, inFlight, tcp, done }
    var phase = Phase.pending
    var wire: [UInt8] = []
    /// The question name as rendered from its wire form (lower case, no trailing dot), for matching replies.
    var name = ""
    var type: UInt16
    var startServer: Int
    var server = -1
    var socket = -1
    var id: UInt16 = 0
    var attempts = 0
    var sequence: UInt32 = 0
    var lastFailure: FailureKind?
    var lastFailureServer: Int?
    var sawMalformed = false
}

/// The UDP event loop of one `resolve` call. Runs on its own thread. A struct so that the hot loop's state
/// needs no dynamic exclusivity checks or reference counting.
struct Engine {
    let questions: [Question]
    let endpoints: [ResolverEndpoint]
    let addresses: [SocketAddress]
    let options: ResolverOptions
    let cancel: CancellationFlag

    var states: [QuestionState]
    private var results: [Resolution?]
    private var sockets: [FileDescriptor] = []
    private var pollFDs: [pollfd] = []
    private var socketsByFamily: [Int32: [Int]] = [:]
    private var nextSocket = 0
    private var outstanding: [UInt32: Int32] = [:]
    private var pending: [Int32]
    private var pendingHead = 0
    private var retryQueue: [Int32] = []
    private var retryHead = 0
    private var timeoutQueue: [(question: Int32, sequence: UInt32, deadline: UInt64)] = []
    private var timeoutHead = 0
    var tcpQueue: [Int] = []
    private var inFlight = 0
    private var remaining: Int
    var ids = QueryIDSource()
    private var limiter: RateLimiter?
    let timeoutNanos: UInt64
    let maxAttempts: Int
    private let receiveBuffer: ReceiveBuffer
    private let builder: LDNSQueryBuilder
    private var source = sockaddr_storage()
    var stats = ResolveStats()

    init(questions: [Question], endpoints: [ResolverEndpoint], options: ResolverOptions, cancel: CancellationFlag) throws {
        self.questions = questions
        self.endpoints = endpoints
        self.addresses = endpoints.map(SocketAddress.init)
        self.options = options
        self.cancel = cancel
        let n = endpoints.count
        states = questions.indices.map { QuestionState(type: questions[$0].type.code, startServer: $0 % n) }
        results = Array(repeating: nil, count: questions.count)
        pending = questions.indices.map { Int32($0) }
        remaining = questions.count
        timeoutNanos = UInt64(max(0.001, options.timeout) * 1e9)
        maxAttempts = 1 + max(0, options.retries)
        if let qps = options.queriesPerSecondPerResolver, qps > 0 {
            limiter = RateLimiter(servers: n, perSecond: qps)
        }
        builder = try LDNSQueryBuilder(ednsBufferSize: options.ednsBufferSize)
        receiveBuffer = ReceiveBuffer()
        outstanding.reserveCapacity(max(16, min(options.maxInFlight, questions.count) * 2))
        let perFamily = max(1, min(options.socketsPerFamily, questions.count))
        for family in Set(addresses.map(\.family)).sorted() {
            for _ in 0..<perFamily {
                let socket = try UDPSocketFactory.make(family: family)
                socketsByFamily[family, default: []].append(sockets.count)
                sockets.append(socket)
                pollFDs.append(pollfd(fd: socket.fd, events: Int16(POLLIN), revents: 0))
            }
        }
    }

    /// Resolves every question; throws `CancellationError` when the flag is raised.
    mutating func run() throws -> ResolveReport {
        while remaining > tcpQueue.count {
            if cancel.isCancelled { throw CancellationError() }
            var now = monotonicNanos()
            expireTimeouts(now)
            let sendWait = sendSome(now)
            guard remaining > tcpQueue.count else { break }
            now = monotonicNanos()
            var waitNanos: UInt64 = 50_000_000
            if timeoutHead < timeoutQueue.count {
                let deadline = timeoutQueue[timeoutHead].deadline
                waitNanos = min(waitNanos, deadline > now ? deadline - now : 0)
            }
            if let sendWait { waitNanos = min(waitNanos, sendWait) }
            let waitMillis = Int32((waitNanos + 999_999) / 1_000_000)
            let ready = pollFDs.withUnsafeMutableBufferPointer { poll($0.baseAddress, nfds_t($0.count), waitMillis) }
            if ready > 0 {
                for i in pollFDs.indices where pollFDs[i].revents != 0 {
                    drain(socket: i)
                }
            }
        }
        if !tcpQueue.isEmpty { try runTCP() }
        let resolutions = results.enumerated().map { i, r in
            r ?? Resolution(question: questions[i], outcome: .failure(.network), server: nil, attempts: states[i].attempts)
        }
        return ResolveReport(resolutions: resolutions, stats: stats)
    }

    // MARK: sending

    /// Sends queued questions while the in-flight window allows; returns how long to wait for the rate limit.
    private mutating func sendSome(_ now: UInt64) -> UInt64? {
        while inFlight < options.maxInFlight {
            let fromRetry = retryHead < retryQueue.count
            guard fromRetry || pendingHead < pending.count else { break }
            let q = Int(fromRetry ? retryQueue[retryHead] : pending[pendingHead])
            if states[q].wire.isEmpty && !prepare(q) {
                if fromRetry { retryHead += 1 } else { pendingHead += 1 }
                continue
            }
            let server = (states[q].startServer + states[q].attempts) % endpoints.count
            if let wait = limiter?.take(server: server, now: now) ?? nil { return wait }
            switch transmit(q, server: server, now: now) {
            case .sent, .failed:
                if fromRetry { retryHead += 1 } else { pendingHead += 1 }
            case .wouldBlock:
                return 1_000_000
            }
        }
        if retryHead > 1024 && retryHead * 2 > retryQueue.count {
            retryQueue.removeFirst(retryHead)
            retryHead = 0
        }
        return nil
    }

    /// Builds the query packet of question `q` with ldns; an unusable name fails the question.
    private mutating func prepare(_ q: Int) -> Bool {
        do {
            let query = try builder.query(name: questions[q].name, type: states[q].type)
            states[q].wire = query.wire
            states[q].name = query.name
            return states[q].wire.count >= 12
        } catch {
            finish(q, .failure(.malformed), server: nil)
            return false
        }
    }

    private enum TransmitResult { case sent, failed, wouldBlock }

    private mutating func transmit(_ q: Int, server: Int, now: UInt64) -> TransmitResult {
        let address = addresses[server]
        guard let family = socketsByFamily[address.family] else { return .failed }
        let socket = family[nextSocket % family.count]
        nextSocket &+= 1
        var id = ids.nextID()
        var key = UInt32(socket) << 16 | UInt32(id)
        while outstanding[key] != nil {
            id = ids.nextID()
            key = UInt32(socket) << 16 | UInt32(id)
        }
        states[q].wire[0] = UInt8(id >> 8)
        states[q].wire[1] = UInt8(id & 0xFF)
        let fd = sockets[socket].fd
        let sent = states[q].wire.withUnsafeBytes { bytes in
            address.withSockaddr { sendto(fd, bytes.baseAddress, bytes.count, 0, $0, $1) }
        }
        if sent < 0 {
            let err = errno
            if err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS || err == EINTR { return .wouldBlock }
            states[q].attempts += 1
            states[q].lastFailure = .network
            states[q].lastFailureServer = nil
            retryOrFail(q)
            return .failed
        }
        states[q].attempts += 1
        stats.sent += 1
        if states[q].attempts > 1 { stats.retries += 1 }
        states[q].phase = .inFlight
        states[q].server = server
        states[q].socket = socket
        states[q].id = id
        states[q].sequence &+= 1
        outstanding[key] = Int32(q)
        inFlight += 1
        timeoutQueue.append((Int32(q), states[q].sequence, now + timeoutNanos))
        return .sent
    }

    // MARK: receiving

    private mutating func drain(socket: Int) {
        let fd = sockets[socket].fd
        let buffer = receiveBuffer.bytes
        for _ in 0..<256 {
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let n = withUnsafeMutablePointer(to: &source) { src in
                src.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    recvfrom(fd, buffer.baseAddress, buffer.count, 0, $0, &length)
                }
            }
            if n < 0 {
                if errno == EINTR { continue }
                return
            }
            handleDatagram(socket: socket, UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        }
    }

    private mutating func handleDatagram(socket: Int, _ bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= 12 else {
            stats.droppedUnknownID += 1
            return
        }
        let id = UInt16(bytes[0]) << 8 | UInt16(bytes[1])
        let key = UInt32(socket) << 16 | UInt32(id)
        guard let slot = outstanding[key] else {
            stats.droppedUnknownID += 1
            return
        }
        let q = Int(slot)
        let fromServer = withUnsafeBytes(of: &source) { addresses[states[q].server].matches($0.baseAddress!) }
        guard fromServer else {
            stats.droppedWrongSource += 1
            return
        }
        let reply: ParsedReply
        do {
            reply = try ParsedReply(wire: bytes)
        } catch {
            stats.malformedReplies += 1
            states[q].sawMalformed = true
            return
        }
        guard reply.asks(name: states[q].name, type: states[q].type) else {
            stats.droppedWrongQuestion += 1
            return
        }
        outstanding.removeValue(forKey: key)
        inFlight -= 1
        states[q].sequence &+= 1
        apply(ReplyInterpreter.verdict(reply, name: states[q].name, type: states[q].type), to: q, reply: reply)
    }

    private mutating func apply(_ verdict: ReplyVerdict, to q: Int, reply: ParsedReply) {
        let server = states[q].server
        switch verdict {
        case .answer(let answer):
            finish(q, .answer(answer), server: server)
        case .truncated:
            if options.tcpOnTruncation {
                states[q].phase = .tcp
                tcpQueue.append(q)
                stats.tcpFallbacks += 1
            } else {
                finish(q, .answer(ReplyInterpreter.answer(reply, name: states[q].name, type: states[q].type)), server: server)
            }
        case .retry(let kind):
            states[q].lastFailure = kind
            states[q].lastFailureServer = server
            retryOrFail(q)
        }
    }

    // MARK: timeouts, retries, results

    private mutating func expireTimeouts(_ now: UInt64) {
        while timeoutHead < timeoutQueue.count, timeoutQueue[timeoutHead].deadline <= now {
            let entry = timeoutQueue[timeoutHead]
            timeoutHead += 1
            let q = Int(entry.question)
            guard states[q].phase == .inFlight, states[q].sequence == entry.sequence else { continue }
            outstanding.removeValue(forKey: UInt32(states[q].socket) << 16 | UInt32(states[q].id))
            inFlight -= 1
            stats.timeouts += 1
            states[q].lastFailure = states[q].sawMalformed ? .malformed : .timeout
            states[q].lastFailureServer = states[q].sawMalformed ? states[q].server : nil
            states[q].sawMalformed = false
            retryOrFail(q)
        }
        if timeoutHead > 4096 && timeoutHead * 2 > timeoutQueue.count {
            timeoutQueue.removeFirst(timeoutHead)
            timeoutHead = 0
        }
    }

    private mutating func retryOrFail(_ q: Int) {
        if states[q].attempts < maxAttempts {
            states[q].phase = .pending
            retryQueue.append(Int32(q))
        } else {
            finish(q, .failure(states[q].lastFailure ?? .timeout), server: states[q].lastFailureServer)
        }
    }

    mutating func finish(_ q: Int, _ outcome: Outcome, server: Int?) {
        guard states[q].phase != .done else { return }
        states[q].phase = .done
        states[q].wire = []
        results[q] = Resolution(
            question: questions[q], outcome: outcome,
            server: server.map { endpoints[$0].description }, attempts: states[q].attempts)
        remaining -= 1
        if case .answer = outcome { stats.answered += 1 } else { stats.failed += 1 }
    }
}

/// The engine's datagram buffer (64 KiB, freed with the engine).
final class ReceiveBuffer {
    let bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: 65536, alignment: 8)
    deinit { bytes.deallocate() }
}
