#if canImport(Glibc)
import Glibc
#endif
import DNSWatchModel
import DequeModule
import HeapModule
import Logging
import Synchronization

/// Per-question bookkeeping of the engine. A question's index is reused once its group is answered and
/// no try of it can still be answered.
struct QuestionState {
    enum Phase: UInt8 {
        /// The index is unused.
        case free
        /// Waiting to be sent (first try, or a retry).
        case pending
        /// The latest try is out and its retransmission timer runs.
        case inFlight
        /// No try is left: waiting, until the last try's deadline, for any try's reply.
        case lastChance
        /// Asked again over TCP after a truncated reply.
        case tcp
        case done
    }

    var phase = Phase.free
    /// Length of the wire-format question name (the question section is the `nameCount + 4` bytes after the
    /// 12-byte header): what replies are matched against.
    var nameCount: Int32 = 0
    var wireCount: Int32 = 0
    var type: UInt16 = 0
    var attempts: Int32 = 0
    var tcpTries: Int32 = 0
    /// Resolver of the latest try (-1: none yet).
    var server: Int32 = -1
    /// Tries whose slot is still open (their reply would still be taken).
    var live: Int32 = 0
    /// Stamps timers and TCP jobs: only one carrying the current value counts.
    var token: UInt32 = 0
    /// The latest try is counted in its resolver's in-flight total.
    var counted = false
    /// Sequence number of the latest try at its resolver (`ResolverPath.transmitted()`).
    var sequence = 0
    var lastFailure: FailureKind?
    var lastFailureServer: Int32 = -1
    var sawMalformed = false
    /// The group it belongs to (-1 once the group is answered) and its position there.
    var group: Int32 = -1
    var position: Int32 = 0
}

/// A retransmission timer: when it runs out, the question's latest try counts as lost.
struct RetransmitTimer: Comparable {
    var deadline: UInt64
    var question: Int32
    var token: UInt32

    static func < (a: Self, b: Self) -> Bool { a.deadline < b.deadline }
}

/// The UDP event loop of one `ResolverSession`. Runs on its own thread until the session closes: groups of
/// questions come in through the mailbox and are sent as the resolvers' windows allow; each group's
/// resolutions go back as soon as the last of them is known. A struct so that the hot loop's state needs
/// no dynamic exclusivity checks or reference counting.
struct Engine {
    let endpoints: [ResolverEndpoint]
    let addresses: [SocketAddress]
    let options: ResolverOptions
    let mailbox: Mailbox
    let logger: Logger?
    var cancel: CancellationFlag { mailbox.cancel }

    /// Printed form of each endpoint, made once (a `Resolution` names its server).
    let serverNames: [String]
    var paths: [ResolverPath]
    // Questions, by index.
    private var questions: [Question?] = []
    var states: [QuestionState] = []
    private var freeIndices: [Int32] = []
    /// Each question's query message, at `index × stride` (IDs are written in place before each try).
    var arena: [UInt8] = []
    static let stride = 288
    private var scratch: [UInt8] = []
    // Groups.
    private struct Group {
        var continuation: CheckedContinuation<ResolveReport, any Error>
        var indices: [Int32]
        var remaining: Int
    }
    private var groups: [Group?] = []
    /// Each group's resolutions by position, apart from `groups` so that setting one never copies a group.
    private var groupResults: [[Resolution?]] = []
    private var freeGroups: [Int32] = []
    private var openGroups = 0
    // Queues.
    private var fresh = Deque<Int32>()
    private var retries = Deque<Int32>()
    private var timers = Heap<RetransmitTimer>()
    /// Open slots in sending order; each closes `timeout` after its try was sent.
    private var expiries = Deque<(key: Int32, sent: UInt64)>()
    // Sockets and slots.
    /// The UDP sockets by index (nil: closed, the index free for another). Each sends for one position of
    /// its family until it is retired (`rotate`); a retired one still takes replies to its open tries and is
    /// closed when none is left.
    private var ports: [UDPPort] = []
    /// The sockets themselves, by the same index (apart, so that the hot path touches no reference).
    private var descriptors: [FileDescriptor?] = []
    private var freePorts: [Int] = []
    /// Each position's current socket (an index into `ports`); a position is an ID space of 65,536 slots.
    private var positions: [Int] = []
    private var positionsByFamily: [Int32: [Int]] = [:]
    private var nextPosition = 0
    private var retiredPorts = 0
    /// A socket could not be opened to replace one (warned once).
    private var rotationFailed = false
    /// A socket was opened or retired: closed ones are reaped and `pollFDs` rebuilt before the next poll.
    private var portsChanged = false
    /// The sockets' descriptors, then the wake-up pipe's; `pollPorts[i]` is the socket of `pollFDs[i]`.
    private var pollFDs: [pollfd] = []
    private var pollPorts: [Int] = []
    /// Open tries by position and ID, `key = position << 16 | id`: the question + 1 (0: free), the socket it
    /// went out on, when it was sent, to which resolver, and which try of the question it was.
    private var slotQuestion: [Int32]
    private var slotPort: [UInt16]
    private var slotSent: [UInt64]
    private var slotServer: [UInt16]
    private var slotAttempt: [UInt8]
    /// Tries counted in flight, all resolvers together.
    private var inFlight = 0
    private var nextFresh = 0
    var ids = QueryIDSource()
    private var limiter: RateLimiter?
    let timeoutNanos: UInt64
    let maxAttempts: Int32
    private let builder: LDNSQueryBuilder
    private let received: DatagramVectors
    private let outgoing: DatagramVectors
    /// Each endpoint's socket address, at a stable address for `sendmmsg`.
    private let destinations: Destinations
    /// The tries being collected for `sendmmsg`: question, resolver, and whether it was a retry.
    private var batch: [(question: Int32, server: Int32, retry: Bool)] = []
    let records = AnswerRecords()
    var stats = ResolveStats()
    private var tcp: TCPWorker?
    static let batchSize = 64
    /// Fewest messages per `sendmmsg` when a batch is spread over the sockets.
    static let minChunk = 8
    /// A socket is retired for one on a fresh kernel-chosen port once it has sent this many queries, or
    /// lived `socketLifetime` nanoseconds and sent one: a poll's queries come from many source ports.
    static let queriesPerSocket = 64
    static let socketLifetime: UInt64 = 1_000_000_000
    /// Most retired sockets still open (waiting for replies to their tries); beyond it a position keeps its
    /// socket until one closes, so that file descriptors stay bounded.
    static let maxRetiredPorts = 64

    /// One UDP socket of the engine.
    private struct UDPPort {
        var fd: Int32
        var position: Int
        var opened: UInt64
        /// Queries sent on it.
        var sends = 0
        /// Its tries whose slot is still open.
        var open = 0
        var retired = false
        /// Closed: the index is free.
        var closed = false
    }

    init(endpoints: [ResolverEndpoint], options: ResolverOptions, mailbox: Mailbox, logger: Logger?) throws {
        self.endpoints = endpoints
        self.addresses = endpoints.map(SocketAddress.init)
        self.options = options
        self.mailbox = mailbox
        self.logger = logger
        timeoutNanos = UInt64(max(0.001, options.timeout) * 1e9)
        maxAttempts = Int32(1 + max(0, options.retries))
        paths = endpoints.map { _ in ResolverPath(tuning: options.tuning, ceiling: options.timeout, maxWindow: options.maxInFlight) }
        if let qps = options.queriesPerSecondPerResolver, qps > 0 {
            limiter = RateLimiter(servers: endpoints.count, perSecond: qps)
        }
        builder = try LDNSQueryBuilder(ednsBufferSize: options.ednsBufferSize)
        serverNames = endpoints.map(\.description)
        received = DatagramVectors(capacity: Self.batchSize, receiving: true)
        outgoing = DatagramVectors(capacity: Self.batchSize, receiving: false)
        destinations = Destinations(addresses)
        batch.reserveCapacity(Self.batchSize)
        let now = monotonicNanos()
        for family in Set(addresses.map(\.family)).sorted() {
            for _ in 0..<max(1, options.socketsPerFamily) {
                let position = positions.count
                positionsByFamily[family, default: []].append(position)
                positions.append(ports.count)
                let descriptor = try UDPSocketFactory.make(family: family)
                descriptors.append(descriptor)
                ports.append(UDPPort(fd: descriptor.fd, position: position, opened: now))
            }
        }
        let slots = positions.count << 16
        slotQuestion = [Int32](repeating: 0, count: slots)
        slotPort = [UInt16](repeating: 0, count: slots)
        slotSent = [UInt64](repeating: 0, count: slots)
        slotServer = [UInt16](repeating: 0, count: slots)
        slotAttempt = [UInt8](repeating: 0, count: slots)
        stats.sourcePorts = positions.count
        rebuildPollSet()
    }

    // MARK: the loop

    /// Serves the mailbox until the session closes (every group answered) or is cancelled; then fails what
    /// is left and lets the waiters go.
    mutating func run() {
        while !cancel.isCancelled {
            if intake() { break }
            var now = monotonicNanos()
            fireTimers(now)
            closeExpiredSlots(now)
            let sendWait = sendDue() ? sendSome(now) : nil
            now = monotonicNanos()
            var waitNanos: UInt64 = 50_000_000
            if let timer = timers.min { waitNanos = min(waitNanos, timer.deadline > now ? timer.deadline - now : 0) }
            if let open = expiries.first {
                let deadline = open.sent + timeoutNanos
                waitNanos = min(waitNanos, deadline > now ? deadline - now : 0)
            }
            if let sendWait { waitNanos = min(waitNanos, sendWait) }
            if portsChanged { rebuildPollSet() }
            let waitMillis = Int32((waitNanos + 999_999) / 1_000_000)
            let ready = pollFDs.withUnsafeMutableBufferPointer { poll($0.baseAddress, nfds_t($0.count), waitMillis) }
            if ready > 0 {
                for i in 0..<pollPorts.count where pollFDs[i].revents != 0 {
                    drain(port: pollPorts[i])
                }
                if pollFDs[pollPorts.count].revents != 0 { mailbox.drainWake() }
            }
        }
        tcp?.stop()
        // Cancelled, or closed: open groups (only when cancelled) and later submissions fail alike.
        let error = CancellationError()
        for i in groups.indices {
            if let group = groups[i] { group.continuation.resume(throwing: error) }
            groups[i] = nil
        }
        let finalStats = currentStats()
        let (waiting, waiters) = mailbox.state.withLock { state in
            state.ended = error
            state.stats = finalStats
            defer {
                state.submissions = []
                state.exitWaiters = []
            }
            return (state.submissions, state.exitWaiters)
        }
        for submission in waiting { submission.continuation.resume(throwing: error) }
        for waiter in waiters { waiter.resume() }
    }

    /// Takes new groups and TCP results from the mailbox. Returns true when the session is over (closing,
    /// nothing open).
    private mutating func intake() -> Bool {
        let (submissions, tcpResults, closing) = mailbox.state.withLock { state in
            defer {
                state.submissions = []
                state.tcpResults = []
            }
            return (state.submissions, state.tcpResults, state.closing)
        }
        for submission in submissions { admit(submission) }
        for result in tcpResults { handleTCP(result) }
        return closing && openGroups == 0
    }

    /// Gives a group's questions indices and query messages, and queues them.
    private mutating func admit(_ submission: Mailbox.Submission) {
        let g: Int32
        if let reused = freeGroups.popLast() {
            g = reused
        } else {
            g = Int32(groups.count)
            groups.append(nil)
            groupResults.append([])
        }
        let count = submission.questions.count
        groupResults[Int(g)] = Array(repeating: nil, count: count)
        openGroups += 1
        // Indices beyond the free ones are added at once.
        let added = max(0, count - freeIndices.count)
        if added > 0 {
            states.append(contentsOf: repeatElement(QuestionState(), count: added))
            questions.append(contentsOf: repeatElement(nil, count: added))
            arena.append(contentsOf: repeatElement(0, count: added * Self.stride))
            freeIndices.append(contentsOf: (states.count - added..<states.count).reversed().map(Int32.init))
        }
        var indices: [Int32] = []
        indices.reserveCapacity(count)
        for (position, question) in submission.questions.enumerated() {
            guard let q = freeIndices.popLast() else { break }  // not reached: enough were added above
            indices.append(q)
            states[Int(q)] = QuestionState(phase: .pending, type: question.type.code, group: g, position: Int32(position))
            questions[Int(q)] = question
        }
        groups[Int(g)] = Group(continuation: submission.continuation, indices: indices, remaining: count)
        for q in indices where prepare(Int(q)) { fresh.append(q) }
    }

    /// Builds the query message of question `q` with ldns into its place in the arena; an unusable name
    /// fails the question.
    private mutating func prepare(_ q: Int) -> Bool {
        scratch.removeAll(keepingCapacity: true)
        guard let question = questions[q] else { return false }
        do {
            let nameCount = try builder.append(name: question.name, type: states[q].type, to: &scratch)
            guard scratch.count <= Self.stride else { throw LDNSError(message: "query too long") }
            let start = q * Self.stride
            arena.replaceSubrange(start..<(start + scratch.count), with: scratch)
            states[q].wireCount = Int32(scratch.count)
            states[q].nameCount = Int32(nameCount)
            return true
        } catch {
            finish(q, .failure(.malformed), server: -1)
            return false
        }
    }

    /// The query message of question `q`, as it is in the arena.
    func queryWire(_ q: Int) -> [UInt8] {
        let start = q * Self.stride
        return Array(arena[start..<(start + Int(states[q].wireCount))])
    }

    // MARK: choosing a resolver

    /// Whether resolver `s` takes a query now (its window, pacing and `--qps`); a wait when pacing or the
    /// rate cap say when.
    private mutating func room(_ s: Int, now: UInt64) -> (Bool, UInt64?) {
        let (allowed, wait) = paths[s].room(now: now)
        guard allowed else { return (false, wait) }
        if let delay = limiter?.peek(server: s, now: now) ?? nil { return (false, delay) }
        return (true, nil)
    }

    /// The resolver after `s` in the list that is not set aside (`s` itself if it is the only one left).
    private func nextServer(after s: Int32) -> Int32 {
        let n = endpoints.count
        guard s >= 0 else { return 0 }
        for k in 1...n {
            let c = (Int(s) + k) % n
            if !paths[c].setAside { return Int32(c) }
        }
        return Int32((Int(s) + 1) % n)
    }

    /// For a first try: the next resolver in turn that has room, of `family` when one is set.
    private mutating func freshServer(family: Int32, now: UInt64, wait: inout UInt64?) -> Int32? {
        let n = endpoints.count
        for k in 0..<n {
            let s = (nextFresh + k) % n
            // One resolver at least is never set aside (`noteFailure`).
            if paths[s].setAside { continue }
            let (ok, delay) = room(s, now: now)
            if ok {
                // Its turn, but the batch is of another family: it starts the next batch.
                if family >= 0 && addresses[s].family != family { return nil }
                nextFresh = (s + 1) % n
                return Int32(s)
            }
            if let delay { wait = min(wait ?? delay, delay) }
        }
        return nil
    }

    // MARK: sending

    /// Whether to send now: something is queued and the windows have room for a few queries (waiting for a
    /// few free places rather than sending one query per reply makes fewer, fuller `sendmmsg` calls), or
    /// for all that is queued, or nothing is in flight.
    private func sendDue() -> Bool {
        let queued = fresh.count + retries.count
        guard queued > 0, inFlight < options.maxInFlight else { return false }
        if inFlight == 0 { return true }
        var room = 0, window = 0.0
        for path in paths where !path.setAside {
            room += path.freeWindow
            window += path.window
        }
        room = min(room, options.maxInFlight - inFlight)
        return room >= min(queued, max(1, min(32, Int(window / 8))))
    }

    /// Sends queued tries while the windows allow, up to `batchSize` per `sendmmsg`; retries go first. Returns
    /// how long to wait for pacing, the rate cap or full sockets.
    private mutating func sendSome(_ now: UInt64) -> UInt64? {
        var wait: UInt64?
        while inFlight < options.maxInFlight {
            var family: Int32 = -1
            let room = min(Self.batchSize, options.maxInFlight - inFlight)
            batch.removeAll(keepingCapacity: true)
            while batch.count < room, let q = retries.first {
                guard states[Int(q)].phase == .pending else {
                    retries.removeFirst()
                    continue
                }
                let s = nextServer(after: states[Int(q)].server)
                if family >= 0 && addresses[Int(s)].family != family { break }
                let (ok, delay) = self.room(Int(s), now: now)
                guard ok else {
                    if let delay { wait = min(wait ?? delay, delay) }
                    break
                }
                retries.removeFirst()
                reserve(q, s)
                family = addresses[Int(s)].family
                batch.append((q, s, true))
            }
            while batch.count < room, let q = fresh.first {
                guard states[Int(q)].phase == .pending else {
                    fresh.removeFirst()
                    continue
                }
                guard let s = freshServer(family: family, now: now, wait: &wait) else { break }
                fresh.removeFirst()
                reserve(q, s)
                family = addresses[Int(s)].family
                batch.append((q, s, false))
            }
            if batch.isEmpty { break }
            if let delay = transmitBatch(family: family, now: now) {
                wait = min(wait ?? delay, delay)
                break
            }
        }
        return wait
    }

    /// Counts a try to `s` as in flight before it is sent (so that one `sendmmsg` batch respects the window).
    private mutating func reserve(_ q: Int32, _ s: Int32) {
        paths[Int(s)].sent()
        limiter?.consume(server: Int(s))
        inFlight += 1
    }

    /// Takes back a reservation whose try did not go out, and queues the question again at the front.
    private mutating func unreserve(_ entry: (question: Int32, server: Int32, retry: Bool)) {
        paths[Int(entry.server)].inFlight -= 1
        inFlight -= 1
        if entry.retry { retries.prepend(entry.question) } else { fresh.prepend(entry.question) }
    }

    /// Sends `batch` (tries whose resolvers are all of `family`) with `sendmmsg`, spread over the family's
    /// positions in turn (at least `minChunk` messages a call); what did not go out is queued again at the
    /// front. Returns a wait when a socket is full.
    private mutating func transmitBatch(family: Int32, now: UInt64) -> UInt64? {
        guard let familyPositions = positionsByFamily[family] else { return nil }
        let chunk = max(Self.minChunk, (batch.count + familyPositions.count - 1) / familyPositions.count)
        var first = 0
        while first < batch.count {
            let position = familyPositions[nextPosition % familyPositions.count]
            nextPosition &+= 1
            rotateIfDue(position, family: family, now: now)
            let end = min(batch.count, first + chunk)
            let (sent, wait) = transmit(first..<end, position: position, now: now)
            if sent < end {
                for i in (sent..<batch.count).reversed() { unreserve(batch[i]) }
                return wait
            }
            first = end
        }
        return nil
    }

    /// Sends `batch[range]` on the current socket of `position` with one `sendmmsg`. Returns the index in
    /// `batch` of the first entry still to send (`range.upperBound` when all went out or failed for good)
    /// and a wait when the socket is full.
    private mutating func transmit(_ range: Range<Int>, position: Int, now: UInt64) -> (Int, UInt64?) {
        let base = position << 16
        let port = positions[position]
        var keys: [Int32] = []
        keys.reserveCapacity(range.count)
        for i in range {
            let q = Int(batch[i].question)
            var id = ids.nextID()
            while slotQuestion[base | Int(id)] != 0 { id = ids.nextID() }
            let key = base | Int(id)
            slotQuestion[key] = batch[i].question + 1
            keys.append(Int32(key))
            let start = q * Self.stride
            arena[start] = UInt8(id >> 8)
            arena[start + 1] = UInt8(id & 0xFF)
        }
        let fd = ports[port].fd
        let sent = arena.withUnsafeBytes { bytes -> Int in
            guard let origin = bytes.baseAddress else { return 0 }
            for i in range {
                let q = Int(batch[i].question)
                let server = Int(batch[i].server)
                outgoing.setMessage(
                    i - range.lowerBound, bytes: origin + q * Self.stride, count: Int(states[q].wireCount),
                    to: destinations.pointer + server, length: addresses[server].length)
            }
            return outgoing.send(fd: fd, count: range.count)
        }
        let err = sent < 0 ? errno : 0
        ports[port].sends += max(0, sent)
        ports[port].open += max(0, sent)
        for i in range.lowerBound..<(range.lowerBound + max(0, sent)) {
            let q = Int(batch[i].question)
            let s = Int(batch[i].server)
            let key = Int(keys[i - range.lowerBound])
            let retry = Int(states[q].attempts)
            states[q].attempts += 1
            stats.sent += 1
            if retry > 0 { stats.retries += 1 }
            states[q].phase = .inFlight
            states[q].server = Int32(s)
            states[q].live += 1
            states[q].counted = true
            states[q].sequence = paths[s].transmitted()
            states[q].token &+= 1
            slotSent[key] = now
            slotPort[key] = UInt16(port)
            slotServer[key] = UInt16(s)
            slotAttempt[key] = UInt8(min(255, retry))
            let rto = min(timeoutNanos, UInt64(paths[s].rto(retry: retry) * 1e9))
            timers.insert(RetransmitTimer(deadline: now + rto, question: Int32(q), token: states[q].token))
            expiries.append((Int32(key), now))
        }
        var next = range.lowerBound + max(0, sent)
        var wait: UInt64?
        if sent < 0 {
            if err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS || err == EINTR {
                wait = 1_000_000
            } else {
                // The first message failed for good: that try counts (a retry goes to the next resolver).
                let q = Int(batch[next].question)
                slotQuestion[Int(keys[0])] = 0
                paths[Int(batch[next].server)].inFlight -= 1
                inFlight -= 1
                states[q].attempts += 1
                states[q].server = batch[next].server
                states[q].lastFailure = .network
                states[q].lastFailureServer = -1
                retryOrFail(q)
                next += 1
            }
        }
        for i in next..<range.upperBound {
            slotQuestion[Int(keys[i - range.lowerBound])] = 0
        }
        return (next, wait)
    }

    // MARK: sockets

    /// Retires the current socket of `position` for a new one on a fresh kernel-chosen port when it has sent
    /// `queriesPerSocket` queries, or lived `socketLifetime` and sent one, while fewer than
    /// `maxRetiredPorts` retired sockets are open. Should no socket open, the position keeps its own.
    private mutating func rotateIfDue(_ position: Int, family: Int32, now: UInt64) {
        let current = positions[position]
        let port = ports[current]
        guard retiredPorts < Self.maxRetiredPorts,
              port.sends >= Self.queriesPerSocket || (port.sends > 0 && now &- port.opened >= Self.socketLifetime) else { return }
        let descriptor: FileDescriptor
        do {
            descriptor = try UDPSocketFactory.make(family: family)
        } catch {
            ports[current].sends = 0
            if !rotationFailed {
                rotationFailed = true
                logger?.warning("cannot open another UDP socket: the sockets open stay in use longer", metadata: ["error": "\(error)"])
            }
            return
        }
        let fresh = UDPPort(fd: descriptor.fd, position: position, opened: now)
        let index: Int
        if let free = freePorts.popLast() {
            index = free
            ports[index] = fresh
            descriptors[index] = descriptor
        } else {
            index = ports.count
            ports.append(fresh)
            descriptors.append(descriptor)
        }
        positions[position] = index
        ports[current].retired = true
        retiredPorts += 1
        stats.sourcePorts += 1
        portsChanged = true
    }

    /// Closes the slot `key` of a try that went out: the question no longer takes a reply there, and its
    /// socket, when retired and with no other try open, is closed before the next poll.
    private mutating func closeSlot(_ key: Int) {
        slotQuestion[key] = 0
        let port = Int(slotPort[key])
        ports[port].open -= 1
        if ports[port].retired && ports[port].open == 0 { portsChanged = true }
    }

    /// Closes the retired sockets with no try open and rebuilds the poll set.
    private mutating func rebuildPollSet() {
        portsChanged = false
        pollFDs.removeAll(keepingCapacity: true)
        pollPorts.removeAll(keepingCapacity: true)
        for i in ports.indices where !ports[i].closed {
            let port = ports[i]
            if port.retired && port.open == 0 {
                ports[i].closed = true
                descriptors[i] = nil
                freePorts.append(i)
                retiredPorts -= 1
                continue
            }
            pollFDs.append(pollfd(fd: port.fd, events: Int16(POLLIN), revents: 0))
            pollPorts.append(i)
        }
        pollFDs.append(pollfd(fd: mailbox.wakeRead, events: Int16(POLLIN), revents: 0))
    }

    // MARK: receiving

    /// Reads what socket `port` has queued, `batchSize` datagrams per `recvmmsg`, until it is empty.
    private mutating func drain(port: Int) {
        let fd = ports[port].fd
        for _ in 0..<64 {
            let n = received.receive(fd: fd)
            if n < 0 {
                if errno == EINTR { continue }
                return
            }
            let now = monotonicNanos()
            for i in 0..<n {
                handleDatagram(port: port, received.datagram(i), from: received.source(i), now: now)
            }
            if n < received.capacity { return }
        }
    }

    private mutating func handleDatagram(port: Int, _ bytes: UnsafeRawBufferPointer, from source: UnsafeRawPointer, now: UInt64) {
        let position = ports[port].position
        guard bytes.count >= 12 else {
            stats.droppedUnknownID += 1
            return
        }
        let key = position << 16 | (Int(bytes[0]) << 8 | Int(bytes[1]))
        let slot = slotQuestion[key]
        guard slot > 0, Int(slotPort[key]) == port else {
            stats.droppedUnknownID += 1
            return
        }
        let q = Int(slot - 1)
        let server = Int(slotServer[key])
        guard addresses[server].matches(source) else {
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
        let start = q * Self.stride + 12
        let nameCount = Int(states[q].nameCount)
        let type = states[q].type
        let records = self.records
        let outcome: Result<ReplyVerdict, LDNSError>? = arena.withUnsafeBytes { all in
            let question = UnsafeRawBufferPointer(rebasing: all[start..<(start + nameCount + 4)])
            guard layout.asks(question, in: bytes) else { return nil }
            let name = UnsafeRawBufferPointer(rebasing: question[0..<nameCount])
            return Result { () throws(LDNSError) -> ReplyVerdict in
                try ReplyInterpreter.verdict(bytes, layout, name: name, type: type, records: records)
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
        // The try is answered: its slot closes, and its round trip is a sample of this resolver's path.
        closeSlot(key)
        states[q].live -= 1
        paths[server].sample(Double(now &- slotSent[key]) / 1e9)
        let latest = Int32(slotAttempt[key]) == states[q].attempts - 1 && states[q].server == Int32(server)
        if !latest {
            // An earlier try was answered after a retransmission had gone: that retransmission was premature.
            stats.spuriousRetransmissions += 1
            paths[server].lossTakenBack()
        }
        if latest {
            // The window grows with a reply to a try it still counts.
            releaseLatest(q, .answered)
        }
        guard states[q].phase != .done else {
            stats.lateReplies += 1
            releaseIfUnused(q)
            return
        }
        apply(verdict, to: q, server: server, latest: latest)
    }

    private mutating func apply(_ verdict: ReplyVerdict, to q: Int, server: Int, latest: Bool) {
        switch verdict {
        case .answer(let answer):
            paths[server].answered()
            finish(q, .answer(answer), server: Int32(server))
        case .truncated:
            paths[server].answered()
            guard states[q].phase != .tcp else { return }
            // A truncated answer is never taken: without TCP it is a failure, unless another try (already
            // queued, or a later one still out) answers.
            guard options.tcpOnTruncation else {
                states[q].lastFailure = .truncated
                states[q].lastFailureServer = Int32(server)
                if states[q].phase == .pending || (states[q].phase == .inFlight && !latest) { return }
                finish(q, .failure(.truncated), server: Int32(server))
                return
            }
            releaseLatest(q)
            states[q].phase = .tcp
            states[q].server = Int32(server)
            stats.tcpFallbacks += 1
            sendTCP(q)
        case .retry(let kind):
            noteFailure(server)
            guard states[q].phase != .tcp else { return }
            states[q].lastFailure = kind
            states[q].lastFailureServer = Int32(server)
            // Already queued for its next try, or a later try may still be answered: nothing more to do.
            if states[q].phase == .pending || (states[q].phase == .inFlight && !latest) { return }
            releaseLatest(q)
            retryOrFail(q, waitForLate: false)
        }
    }

    /// Stops counting the latest try in flight and voids its timer; `outcome` is how the try ended, for
    /// its resolver's window.
    private mutating func releaseLatest(_ q: Int, _ outcome: ResolverPath.TryOutcome = .neither) {
        states[q].token &+= 1
        if states[q].counted {
            states[q].counted = false
            paths[Int(states[q].server)].inFlight -= 1
            paths[Int(states[q].server)].closed(states[q].sequence, outcome)
            inFlight -= 1
        }
    }

    // MARK: timers, retries, results

    /// Retransmission timers that ran out: the latest try counts as lost; the question is queued for its
    /// next try, or waits for the last deadline when none is left.
    private mutating func fireTimers(_ now: UInt64) {
        while let timer = timers.min, timer.deadline <= now {
            timers.removeMin()
            let q = Int(timer.question)
            guard states[q].token == timer.token, states[q].phase == .inFlight else { continue }
            let s = Int(states[q].server)
            releaseLatest(q, .lost)
            stats.timeouts += 1
            noteFailure(s)
            states[q].lastFailure = states[q].sawMalformed ? .malformed : .timeout
            states[q].lastFailureServer = states[q].sawMalformed ? Int32(s) : -1
            states[q].sawMalformed = false
            retryOrFail(q, waitForLate: true)
        }
    }

    /// Closes the slots of tries sent `timeout` ago: their replies are no longer taken.
    private mutating func closeExpiredSlots(_ now: UInt64) {
        while let open = expiries.first, open.sent + timeoutNanos <= now {
            expiries.removeFirst()
            let key = Int(open.key)
            guard slotQuestion[key] != 0, slotSent[key] == open.sent else { continue }
            let q = Int(slotQuestion[key] - 1)
            closeSlot(key)
            states[q].live -= 1
            if states[q].phase == .lastChance && states[q].live == 0 {
                finish(q, .failure(states[q].lastFailure ?? .timeout), server: states[q].lastFailureServer)
            } else {
                releaseIfUnused(q)
            }
        }
    }

    /// Queues question `q` for its next try; with none left, fails it, after a lost try (`waitForLate`) only
    /// once no try can be answered any more.
    private mutating func retryOrFail(_ q: Int, waitForLate: Bool = false) {
        if states[q].attempts < maxAttempts {
            states[q].phase = .pending
            retries.append(Int32(q))
        } else if waitForLate && states[q].live > 0 {
            states[q].phase = .lastChance
        } else {
            finish(q, .failure(states[q].lastFailure ?? .timeout), server: states[q].lastFailureServer)
        }
    }

    mutating func finish(_ q: Int, _ outcome: Outcome, server: Int32) {
        guard states[q].phase != .done, states[q].phase != .free, let question = questions[q] else { return }
        releaseLatest(q)
        states[q].phase = .done
        if case .answer = outcome { stats.answered += 1 } else { stats.failed += 1 }
        let g = Int(states[q].group)
        guard g >= 0, groups[g] != nil else { return }
        groupResults[g][Int(states[q].position)] = Resolution(
            question: question, outcome: outcome, server: server >= 0 ? serverNames[Int(server)] : nil,
            attempts: Int(states[q].attempts))
        groups[g]?.remaining -= 1
        if groups[g]?.remaining == 0 { complete(g) }
    }

    /// Hands a group's resolutions back and frees the indices of its questions that no try can reach.
    private mutating func complete(_ g: Int) {
        guard let group = groups[g].take() else { return }
        let results = groupResults[g]
        groupResults[g] = []
        freeGroups.append(Int32(g))
        openGroups -= 1
        for q in group.indices {
            states[Int(q)].group = -1
            releaseIfUnused(Int(q))
        }
        // Every position was set when `remaining` reached 0.
        let resolutions = results.compactMap(\.self)
        let snapshot = currentStats()
        mailbox.state.withLock { $0.stats = snapshot }
        group.continuation.resume(returning: ResolveReport(resolutions: resolutions, stats: snapshot))
    }

    /// Frees index `q` once its group is answered and none of its tries is open.
    private mutating func releaseIfUnused(_ q: Int) {
        guard states[q].phase == .done, states[q].group < 0, states[q].live == 0 else { return }
        states[q].phase = .free
        questions[q] = nil
        freeIndices.append(Int32(q))
    }

    /// A failure from resolver `s`; sets it aside when it has failed everything, unless it is the last one
    /// in use (then its failures are the answers there are).
    private mutating func noteFailure(_ s: Int) {
        guard paths[s].failed() else { return }
        if paths.allSatisfy(\.setAside) {
            paths[s].reinstate()
            return
        }
        logger?.warning("resolver set aside for the rest of this poll: it answered nothing and failed every query",
                        metadata: ["resolver": "\(serverNames[s])", "failures": "\(paths[s].failures)"])
    }

    func currentStats() -> ResolveStats {
        var snapshot = stats
        snapshot.paths = paths.enumerated().map { i, path in
            var p = path.stats
            p.server = serverNames[i]
            return p
        }
        return snapshot
    }

    // MARK: TCP

    /// Asks question `q` over TCP (on the session's TCP thread) at resolver `states[q].server`.
    private mutating func sendTCP(_ q: Int) {
        if tcp == nil {
            do {
                tcp = try TCPWorker(addresses: addresses, timeoutNanos: timeoutNanos, mailbox: mailbox)
            } catch {
                logger?.warning("cannot start the TCP fallback", metadata: ["error": "\(error)"])
                finish(q, .failure(.network), server: -1)
                return
            }
        }
        states[q].tcpTries += 1
        states[q].attempts += 1
        states[q].token &+= 1
        stats.sent += 1
        stats.retries += 1
        var wire = queryWire(q)
        let id = ids.nextID()
        wire[0] = UInt8(id >> 8)
        wire[1] = UInt8(id & 0xFF)
        tcp?.submit(TCPWorker.Job(question: Int32(q), token: states[q].token, server: states[q].server, id: id, wire: wire))
    }

    /// What the TCP thread got for a question: an answer ends it, anything else moves to the next resolver
    /// while TCP tries remain.
    private mutating func handleTCP(_ result: TCPWorker.Result) {
        let q = Int(result.job.question)
        guard states[q].phase == .tcp, states[q].token == result.job.token else { return }
        let server = Int(result.job.server)
        let nameCount = Int(states[q].nameCount)
        let question = Array(result.job.wire[12..<(12 + nameCount + 4)])
        switch result.outcome {
        case .failure(let failure):
            if case .timeout = failure { stats.timeouts += 1 }
            states[q].lastFailure = failure.kind
            states[q].lastFailureServer = -1
        case .success(let bytes):
            do {
                let reply = try ParsedReply(wire: bytes)
                if reply.id == result.job.id, reply.asks(question: question) {
                    let type = states[q].type, records = self.records
                    let verdict = try reply.bytes.withUnsafeBytes { b in
                        try question.withUnsafeBytes { qb in
                            let name = UnsafeRawBufferPointer(rebasing: qb[0..<nameCount])
                            return try ReplyInterpreter.verdict(b, reply.layout, name: name, type: type, records: records)
                        }
                    }
                    switch verdict {
                    case .answer(let answer):
                        finish(q, .answer(answer), server: Int32(server))
                        return
                    case .truncated:
                        // Truncated over TCP too: never taken as the answer; the next resolver is asked.
                        states[q].lastFailure = .truncated
                        states[q].lastFailureServer = Int32(server)
                    case .retry(let kind):
                        states[q].lastFailure = kind
                        states[q].lastFailureServer = Int32(server)
                    }
                } else {
                    stats.droppedWrongQuestion += 1
                    states[q].lastFailure = .malformed
                    states[q].lastFailureServer = Int32(server)
                }
            } catch {
                stats.malformedReplies += 1
                states[q].lastFailure = .malformed
                states[q].lastFailureServer = Int32(server)
            }
        }
        guard states[q].tcpTries < maxAttempts else {
            finish(q, .failure(states[q].lastFailure ?? .timeout), server: states[q].lastFailureServer)
            return
        }
        states[q].server = Int32((server + 1) % endpoints.count)
        sendTCP(q)
    }
}
