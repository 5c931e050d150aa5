public import DNSWatchModel

/// Tuning of a `DNSResolver`.
public struct ResolverOptions: Sendable, Hashable {
    /// The most one transmission may wait for its reply, in seconds: the ceiling of the retransmission
    /// timer, which is otherwise set from the round trips measured to each resolver.
    public var timeout: Double
    /// Further transmissions after the first (each to the next resolver in the list).
    public var retries: Int
    /// Most queries outstanding at once: the ceiling of every resolver's adaptive window.
    public var maxInFlight: Int
    /// Optional cap of queries sent per second to each resolver.
    public var queriesPerSecondPerResolver: Double?
    /// UDP payload size advertised in the EDNS0 OPT record (0: no OPT record).
    public var ednsBufferSize: UInt16
    /// Whether a truncated (TC) reply is retried over TCP (up to 8 exchanges at once). Without it a
    /// truncated reply is a failure (`truncated`): a partial answer is never taken.
    public var tcpOnTruncation: Bool
    /// UDP sockets in use at once (each on its own random source port) per address family; each is
    /// replaced by a new one on a fresh port after 64 queries or a second.
    public var socketsPerFamily: Int
    /// Constants of the per-resolver timers and window.
    public var tuning = PathTuning()

    public init(
        timeout: Double = 2,
        retries: Int = 2,
        maxInFlight: Int = 512,
        queriesPerSecondPerResolver: Double? = nil,
        ednsBufferSize: UInt16 = 1232,
        tcpOnTruncation: Bool = true,
        socketsPerFamily: Int = 8
    ) {
        self.timeout = timeout
        self.retries = retries
        self.maxInFlight = maxInFlight
        self.queriesPerSecondPerResolver = queriesPerSecondPerResolver
        self.ednsBufferSize = ednsBufferSize
        self.tcpOnTruncation = tcpOnTruncation
        self.socketsPerFamily = socketsPerFamily
    }
}

/// Counters of one `resolve` call.
public struct ResolveStats: Sendable, Hashable {
    /// Queries transmitted (UDP and TCP, first tries and retries).
    public var sent = 0
    /// Questions that ended with an answer (NOERROR, NXDOMAIN, NODATA).
    public var answered = 0
    /// Questions that ended with a failure.
    public var failed = 0
    /// Transmissions after the first one of a question.
    public var retries = 0
    /// Transmissions that got no reply in time.
    public var timeouts = 0
    /// Replies dropped because they came from another address or port than the server queried.
    public var droppedWrongSource = 0
    /// Replies dropped because their ID matched no outstanding query on the socket.
    public var droppedUnknownID = 0
    /// Replies dropped because their question section did not match the query.
    public var droppedWrongQuestion = 0
    /// Replies from the right source and ID that ldns could not parse.
    public var malformedReplies = 0
    /// Questions retried over TCP after a truncated reply.
    public var tcpFallbacks = 0
    /// Retransmissions whose earlier try was answered after all (the timer ran out too early).
    public var spuriousRetransmissions = 0
    /// UDP sockets opened, each on its own kernel-chosen source port (`socketsPerFamily` per address family
    /// at the start, then one each time a socket is retired).
    public var sourcePorts = 0
    /// Replies to a question that another try had already answered.
    public var lateReplies = 0
    /// The timers, window and health of each resolver, in endpoint order.
    public var paths: [ResolverPathStats] = []

    public init() {}

    /// All replies dropped as not belonging to an outstanding query.
    public var droppedReplies: Int { droppedWrongSource + droppedUnknownID + droppedWrongQuestion }
}

/// What one `resolve` call produced: one resolution per question, in question order.
public struct ResolveReport: Sendable {
    public var resolutions: [Resolution]
    public var stats: ResolveStats

    public init(resolutions: [Resolution], stats: ResolveStats) {
        self.resolutions = resolutions
        self.stats = stats
    }
}

extension ResolverOptions {
    /// The values a user may set, for flags and the config file alike (outside them a value is refused,
    /// never clamped or left to trap in arithmetic).
    public enum Limits {
        /// Seconds one try may wait.
        public static let timeout: ClosedRange<Double> = 0.001...60
        public static let retries: ClosedRange<Int> = 0...10
        public static let maxInFlight: ClosedRange<Int> = 1...65_536
        /// Queries per second per resolver; 0 is no cap.
        public static let qps: ClosedRange<Int> = 0...1_000_000
    }
}
