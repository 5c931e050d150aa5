#if canImport(Glibc)
import Glibc
#endif
import DNSWatchModel
import Foundation

/// Per-question bookkeeping of the engine.
struct QuestionState {
    enum Phase { case pending, inFlight, tcp, done }
    var phase = Phase.pending
    /// Where the query message is in the engine's query arena (-1: not built yet).
    var wireStart: Int32 = -1
    var wireCount: Int32 = 0
    /// Length of the wire-format question name (the question section is the `nameCount + 4` bytes after the
    /// 12-byte header): what replies are matched against.
    var nameCount: Int32 = 0
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
    /// Printed form of each endpoint, made once (a `Resolution` names its server).
    private let serverNames: [String]
    private var sockets: [FileDescriptor] = []
    private var pollFDs: [pollfd] = []
    private var socketsByFamily: [Int32: [Int]] = [:]
    private var nextSocket = 0
    /// Outstanding queries by socket and ID: `slots[socket << 16 | id]` is the question + 1, 0 when free.
    private var slots: [Int32]
    /// Every query message, built once (IDs are written in place before each transmission).
    var arena: [UInt8] = []
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
    private let builder: LDNSQueryBuilder
    private let received: DatagramVectors
    private let outgoing: DatagramVectors
    /// Each endpoint's socket address, at a stable address for `sendmmsg`.
    private let destinations: Destinations
    /// The queries being collected for `sendmmsg`: question, server, which queue it came from and where.
    private var batch: [(question: Int32, server: Int32, fromRetry: Bool, position: Int32)] = []
    let records = AnswerRecords()
    var stats = ResolveStats()
    static let batchSize = 64
    /// Fewest messages per `sendmmsg` when a batch is spread over the sockets.
    static let minChunk = 8
    /// Free in-flight places worth a `sendSome` while replies are still due.
    private let sendThreshold: Int

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
        sendThreshold = max(1, min(32, options.maxInFlight / 8))
        if let qps = options.queriesPerSecondPerResolver, qps > 0 {
            limiter = RateLimiter(servers: n, perSecond: qps)
        }
        builder = try LDNSQueryBuilder(ednsBufferSize: options.ednsBufferSize)
        serverNames = endpoints.map(\.description)
        received = DatagramVectors(capacity: Self.batchSize, receiving: true)
        outgoing = DatagramVectors(capacity: Self.batchSize, receiving: false)
        destinations = Destinations(addresses)
        batch.reserveCapacity(Self.batchSize)
        arena.reserveCapacity(min(questions.count, 1 << 16) * 48)
        let perFamily = max(1, min(options.socketsPerFamily, questions.count))
        for family in Set(addresses.map(\.family)).sorted() {
            for _ in 0..<perFamily {
                let socket = try UDPSocketFactory.make(family: family)
                socketsByFamily[family, default: []].append(sockets.count)
                sockets.append(socket)
                pollFDs.append(pollfd(fd: socket.fd, events: Int16(POLLIN), revents: 0))
            }
        }
        slots = [Int32](repeating: 0, count: sockets.count << 16)
    }

    /// Resolves every question; throws `CancellationError` when the flag is raised.
    mutating func run() throws -> ResolveReport {
        while remaining > tcpQueue.count {
            if cancel.isCancelled { throw CancellationError() }
            var now = monotonicNanos()
            expireTimeouts(now)
            // Wait for a few free places rather than sending one query per reply (fewer, fuller sendmmsg calls).
            let queued = retryQueue.count - retryHead + pending.count - pendingHead
            let room = options.maxInFlight - inFlight
            let sendWait = room >= sendThreshold || room >= queued || inFlight == 0 ? sendSome(now) : nil
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
        var resolutions: [Resolution] = []
        resolutions.reserveCapacity(results.count)
        for i in results.indices {
            // Moved out, not copied.
            resolutions.append(results[i].take()
                ?? Resolution(question: questions[i], outcome: .failure(.network), server: nil, attempts: states[i].attempts))
        }
        return ResolveReport(resolutions: resolutions, stats: stats)
    }

    // MARK: sending

    /// Sends queued questions while the in-flight window allows, up to `batchSize` per `sendmmsg` on one
    /// socket (the sockets of a family take turns batch by batch); returns how long to wait for the rate limit
    /// or for the sockets to take more.
    private mutating func sendSome(_ now: UInt64) -> UInt64? {
        var wait: UInt64?
        while wait == nil && inFlight < options.maxInFlight {
            var family: Int32 = -1
            let room = min(Self.batchSize, options.maxInFlight - inFlight)
            batch.removeAll(keepingCapacity: true)
            while batch.count < room {
                let fromRetry = retryHead < retryQueue.count
                guard fromRetry || pendingHead < pending.count else { break }
                let position = fromRetry ? retryHead : pendingHead
                let q = Int(fromRetry ? retryQueue[retryHead] : pending[pendingHead])
                if fromRetry { retryHead += 1 } else { pendingHead += 1 }
                // A question whose name ldns refused is done; it may be met again after a batch was put back.
                if states[q].phase == .done || (states[q].wireStart < 0 && !prepare(q)) { continue }
                let server = (states[q].startServer + states[q].attempts) % endpoints.count
                let serverFamily = addresses[server].family
                if family >= 0 && serverFamily != family {
                    if fromRetry { retryHead -= 1 } else { pendingHead -= 1 }
                    break
                }
                if let delay = limiter?.peek(server: server, now: now) ?? nil {
                    if fromRetry { retryHead -= 1 } else { pendingHead -= 1 }
                    wait = delay
                    break
                }
                limiter?.consume(server: server)
                family = serverFamily
                batch.append((Int32(q), Int32(server), fromRetry, Int32(position)))
            }
            if batch.isEmpty { break }
            if let delay = transmitBatch(family: family, now: now) { wait = wait.map { min($0, delay) } ?? delay }
        }
        if retryHead > 1024 && retryHead * 2 > retryQueue.count {
            retryQueue.removeFirst(retryHead)
            retryHead = 0
        }
        return wait
    }

    /// Builds the query message of question `q` with ldns into the arena; an unusable name fails the question.
    private mutating func prepare(_ q: Int) -> Bool {
        let start = arena.count
        do {
            let nameCount = try builder.append(name: questions[q].name, type: states[q].type, to: &arena)
            states[q].wireStart = Int32(start)
            states[q].wireCount = Int32(arena.count - start)
            states[q].nameCount = Int32(nameCount)
            return true
        } catch {
            arena.removeSubrange(start...)
            finish(q, .failure(.malformed), server: nil)
            return false
        }
    }

    /// The query message of question `q` (built), as it is in the arena.
    func queryWire(_ q: Int) -> [UInt8] {
        let start = Int(states[q].wireStart)
        return Array(arena[start..<(start + Int(states[q].wireCount))])
    }

    /// Sends `batch` (questions whose servers are all of `family`) with `sendmmsg`, spread over the family's
    /// sockets in turn (at least `minChunk` messages a call, so a burst still uses every socket); what did not
    /// go out is put back at the head of its queue. Returns a wait when a socket is full.
    private mutating func transmitBatch(family: Int32, now: UInt64) -> UInt64? {
        guard let familySockets = socketsByFamily[family] else {
            for entry in batch {
                let q = Int(entry.question)
                states[q].attempts += 1
                states[q].lastFailure = .network
                states[q].lastFailureServer = nil
                retryOrFail(q)
            }
            return nil
        }
        let chunk = max(Self.minChunk, (batch.count + familySockets.count - 1) / familySockets.count)
        var first = 0
        while first < batch.count {
            let socket = familySockets[nextSocket % familySockets.count]
            nextSocket &+= 1
            let end = min(batch.count, first + chunk)
            let (sent, wait) = transmit(first..<end, socket: socket, now: now)
            if sent < end {
                // Put the rest back: each queue's head returns to its first entry not sent (questions done in
                // between, refused by ldns, are skipped when met again).
                for i in sent..<batch.count {
                    let position = Int(batch[i].position)
                    if batch[i].fromRetry { retryHead = min(retryHead, position) } else { pendingHead = min(pendingHead, position) }
                }
                return wait
            }
            first = end
        }
        return nil
    }

    /// Sends `batch[range]` on `socket` with one `sendmmsg`. Returns the index in `batch` of the first entry
    /// still to send (`range.upperBound` when all went out or failed for good) and a wait when the socket is full.
    private mutating func transmit(_ range: Range<Int>, socket: Int, now: UInt64) -> (Int, UInt64?) {
        let base = socket << 16
        for i in range {
            let q = Int(batch[i].question)
            var id = ids.nextID()
            while slots[base | Int(id)] != 0 { id = ids.nextID() }
            slots[base | Int(id)] = batch[i].question + 1
            states[q].id = id
            let start = Int(states[q].wireStart)
            arena[start] = UInt8(id >> 8)
            arena[start + 1] = UInt8(id & 0xFF)
        }
        let fd = sockets[socket].fd
        let sent = arena.withUnsafeBytes { bytes -> Int in
            for i in range {
                let q = Int(batch[i].question)
                let server = Int(batch[i].server)
                outgoing.setMessage(
                    i - range.lowerBound, bytes: bytes.baseAddress! + Int(states[q].wireStart), count: Int(states[q].wireCount),
                    to: destinations.pointer + server, length: addresses[server].length)
            }
            return outgoing.send(fd: fd, count: range.count)
        }
        let err = sent < 0 ? errno : 0
        for i in range.lowerBound..<(range.lowerBound + max(0, sent)) {
            let q = Int(batch[i].question)
            states[q].attempts += 1
            stats.sent += 1
            if states[q].attempts > 1 { stats.retries += 1 }
            states[q].phase = .inFlight
            states[q].server = Int(batch[i].server)
            states[q].socket = socket
            states[q].sequence &+= 1
            inFlight += 1
            timeoutQueue.append((Int32(q), states[q].sequence, now + timeoutNanos))
        }
        var next = range.lowerBound + max(0, sent)
        var wait: UInt64?
        if sent < 0 {
            if err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS || err == EINTR {
                wait = 1_000_000
            } else {
                // The first message failed for good: that attempt counts (a retry goes to the next resolver).
                let q = Int(batch[next].question)
                slots[base | Int(states[q].id)] = 0
                states[q].attempts += 1
                states[q].lastFailure = .network
                states[q].lastFailureServer = nil
                retryOrFail(q)
                next += 1
            }
        }
        for i in next..<range.upperBound {
            slots[base | Int(states[Int(batch[i].question)].id)] = 0
        }
        return (next, wait)
    }

    // MARK: receiving

    /// Reads what socket `socket` has queued, `batchSize` datagrams per `recvmmsg`, until it is empty.
    private mutating func drain(socket: Int) {
        let fd = sockets[socket].fd
        for _ in 0..<64 {
            let n = received.receive(fd: fd)
            if n < 0 {
                if errno == EINTR { continue }
                return
            }
            for i in 0..<n {
                handleDatagram(socket: socket, received.datagram(i), from: received.source(i))
            }
            if n < received.capacity { return }
        }
    }

    private mutating func handleDatagram(socket: Int, _ bytes: UnsafeRawBufferPointer, from source: UnsafeRawPointer) {
        guard bytes.count >= 12 else {
            stats.droppedUnknownID += 1
            return
        }
        let key = socket << 16 | (Int(bytes[0]) << 8 | Int(bytes[1]))
        let slot = slots[key]
        guard slot > 0 else {
            stats.droppedUnknownID += 1
            return
        }
        let q = Int(slot - 1)
        guard addresses[states[q].server].matches(source) else {
            stats.droppedWrongSource += 1
            return
        }
        let layout: ReplyLayout
        do {
            layout = try ReplyLayout(bytes)
        } catch {
            stats.malformedReplies += 1
            states[q].sawMalformed = true
            return
        }
        let start = Int(states[q].wireStart) + 12
        let nameCount = Int(states[q].nameCount)
        let type = states[q].type
        let outcome: Result<ReplyVerdict, LDNSError>? = arena.withUnsafeBytes { all in
            let question = UnsafeRawBufferPointer(rebasing: all[start..<(start + nameCount + 4)])
            guard layout.asks(question, in: bytes) else { return nil }
            let name = UnsafeRawBufferPointer(rebasing: question[0..<nameCount])
            return Result { () throws(LDNSError) -> ReplyVerdict in
                let verdict = try ReplyInterpreter.verdict(bytes, layout, name: name, type: type, records: records)
                if verdict == .truncated && !options.tcpOnTruncation {
                    return .answer(try ReplyInterpreter.answer(bytes, layout, name: name, type: type, records: records))
                }
                return verdict
            }
        }
        guard let outcome else {
            stats.droppedWrongQuestion += 1
            return
        }
        guard case .success(let verdict) = outcome else {
            stats.malformedReplies += 1
            states[q].sawMalformed = true
            return
        }
        slots[key] = 0
        inFlight -= 1
        states[q].sequence &+= 1
        apply(verdict, to: q)
    }

    private mutating func apply(_ verdict: ReplyVerdict, to q: Int) {
        let server = states[q].server
        switch verdict {
        case .answer(let answer):
            finish(q, .answer(answer), server: server)
        case .truncated:
            states[q].phase = .tcp
            tcpQueue.append(q)
            stats.tcpFallbacks += 1
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
            slots[states[q].socket << 16 | Int(states[q].id)] = 0
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
        results[q] = Resolution(
            question: questions[q], outcome: outcome, server: server.map { serverNames[$0] }, attempts: states[q].attempts)
        remaining -= 1
        if case .answer = outcome { stats.answered += 1 } else { stats.failed += 1 }
    }
}
