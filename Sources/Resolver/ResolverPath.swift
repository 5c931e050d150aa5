/// How the engine paces one resolver: the constants of its timers and window. One value for every
/// resolver of a session; the defaults are what a poll uses (tests may set others).
public struct PathTuning: Sendable, Hashable {
    /// Retransmission timeout before the first round trip is measured (RFC 6298 says 1 s).
    public var initialRTO: Double = 1
    /// Shortest retransmission timeout, whatever the round trips (a recursive resolver's cache miss takes
    /// tens of milliseconds more than a hit).
    public var minimumRTO: Double = 0.03
    /// Window a resolver starts with: no opening burst of the whole `maxInFlight`.
    public var initialWindow: Double = 32
    /// Smallest window after losses.
    public var minimumWindow: Double = 4
    /// Loss above this share of a measurement epoch (beyond the path's background loss) shrinks the window.
    public var congestionLoss: Double = 0.05
    /// Fewest outcomes (answers and losses) an epoch counts before it is judged: one lost query of
    /// sixteen on a 1%-loss path is chance, not congestion.
    public var epochOutcomes = 128
    /// The window is multiplied by this on congestion.
    public var decrease: Double = 0.7
    /// Queries a resolver may get at once beyond its paced rate.
    public var pacingBurst: Double = 16
    /// Consecutive failures (SERVFAIL, REFUSED, timeouts) with no answer in the whole poll that set a
    /// resolver aside.
    public var setAsideAfter = 32

    public init() {}
}

/// What the engine knows of one resolver during a session: round-trip estimate and retransmission
/// timeout (RFC 6298), congestion window, pacing and health. A value type driven by the engine's loop;
/// all times are monotonic nanoseconds.
struct ResolverPath {
    let tuning: PathTuning
    /// The most one try may wait (`--timeout`): the ceiling of every timer.
    let ceiling: Double
    /// The most queries in flight to this resolver (`--max-in-flight`).
    let maxWindow: Double

    // Round trips, in seconds.
    private(set) var srtt: Double = 0
    private(set) var rttvar: Double = 0
    private(set) var samples = 0
    // Window.
    private(set) var window: Double
    private var slowStart = true
    private var epochAnswers = 0
    private var epochLosses = 0
    /// Loss share of the epochs judged not congested (EWMA): the path's background loss.
    private(set) var backgroundLoss: Double = 0
    /// Epochs judged uncongested so far.
    private var epochsJudged = 0
    private(set) var smallestWindow: Double
    private(set) var largestWindow: Double
    private(set) var decreases = 0
    var inFlight = 0
    // Pacing: a token bucket refilled at `2 × window / srtt` in slow start, `1.25 × window / srtt` after.
    private var pacer: TokenBucket
    // Health.
    private(set) var answers = 0
    private(set) var failures = 0
    private var consecutiveFailures = 0
    private(set) var setAside = false

    init(tuning: PathTuning, ceiling: Double, maxWindow: Int) {
        self.tuning = tuning
        self.ceiling = ceiling
        self.maxWindow = Double(max(1, maxWindow))
        window = min(tuning.initialWindow, self.maxWindow)
        smallestWindow = window
        largestWindow = window
        pacer = TokenBucket(burst: tuning.pacingBurst, tokens: tuning.pacingBurst, now: 0)
        baseRTO = tuning.initialRTO
    }

    // MARK: timers

    /// The retransmission timeout of a try that is the `retry`-th retransmission (0: the first try), in
    /// seconds: `SRTT + max(4·RTTVAR, SRTT/2)`, at least `minimumRTO`, doubled per retry, at most `ceiling`.
    func rto(retry: Int = 0) -> Double {
        retry == 0 ? min(ceiling, baseRTO) : min(ceiling, baseRTO * Double(1 << min(retry, 20)))
    }

    /// The first try's timeout before the ceiling, set with each sample.
    private var baseRTO: Double

    /// Takes a measured round trip (seconds). Every transmission has its own ID and socket, so a reply
    /// names the try it answers and each sample is unambiguous (Karn's problem does not arise).
    mutating func sample(_ rtt: Double) {
        if samples == 0 {
            srtt = rtt
            rttvar = rtt / 2
        } else {
            rttvar = 0.75 * rttvar + 0.25 * abs(srtt - rtt)
            srtt = 0.875 * srtt + 0.125 * rtt
        }
        samples += 1
        // RFC 6298 uses max(G, 4·RTTVAR); SRTT/2 keeps a steady slow resolver (300 ms, little variance)
        // from being retransmitted to at the first jitter.
        baseRTO = max(tuning.minimumRTO, srtt + max(4 * rttvar, srtt / 2, 0.001))
    }

    // MARK: window and pacing

    /// Whether another query may go to this resolver now; else nil and, in `wait`, the nanoseconds until
    /// pacing allows one (nil when only an answer frees room).
    mutating func room(now: UInt64) -> (allowed: Bool, wait: UInt64?) {
        guard freeWindow > 0 || inFlight == 0 else { return (false, nil) }
        guard samples > 0 else { return (true, nil) }
        let rate = (slowStart ? 2 : 1.25) * window / max(srtt, 1e-6)
        if let wait = pacer.wait(now: now, rate: rate) { return (false, wait) }
        return (true, nil)
    }

    /// Queries the window still admits.
    var freeWindow: Int { max(0, Int(window) - inFlight) }

    /// A query went out.
    mutating func sent() {
        inFlight += 1
        if samples > 0 { pacer.consume() }
    }

    /// A reply came to a try still counted in flight: the window grows (by one per reply in slow start,
    /// by one per window of replies after).
    mutating func replied() {
        if slowStart {
            window = min(maxWindow, window + 1)
        } else {
            window = min(maxWindow, window + 1 / max(1, window))
        }
        largestWindow = max(largestWindow, window)
        epochAnswers += 1
        judgeEpoch()
    }

    /// A try's timer ran out (it may still be answered later).
    mutating func lost() {
        epochLosses += 1
        judgeEpoch()
    }

    /// A try counted as lost was answered after all (a premature retransmission): the loss is taken back.
    mutating func lossTakenBack() {
        if epochLosses > 0 { epochLosses -= 1 }
    }

    /// At the end of each epoch of at least `max(window, epochOutcomes)` outcomes: a loss share above the
    /// background loss by `congestionLoss` is congestion (the window shrinks, slow start ends); below it the
    /// share feeds the background estimate.
    private mutating func judgeEpoch() {
        let outcomes = epochAnswers + epochLosses
        guard outcomes >= max(Int(window), tuning.epochOutcomes) else { return }
        let loss = Double(epochLosses) / Double(outcomes)
        if loss > backgroundLoss + tuning.congestionLoss {
            window = max(tuning.minimumWindow, window * tuning.decrease)
            smallestWindow = min(smallestWindow, window)
            slowStart = false
            decreases += 1
        } else {
            backgroundLoss = epochsJudged == 0 ? loss : 0.875 * backgroundLoss + 0.125 * loss
            epochsJudged += 1
        }
        epochAnswers = 0
        epochLosses = 0
    }

    // MARK: health

    /// An answer (NOERROR, NXDOMAIN, NODATA) came from this resolver.
    mutating func answered() {
        answers += 1
        consecutiveFailures = 0
    }

    /// A SERVFAIL, REFUSED or timeout from this resolver. Returns true when this sets it aside: it has
    /// failed `setAsideAfter` times in a row and answered nothing in the session.
    mutating func failed() -> Bool {
        failures += 1
        consecutiveFailures += 1
        guard !setAside, answers == 0, consecutiveFailures >= tuning.setAsideAfter else { return false }
        setAside = true
        return true
    }

    /// Back in use (the other resolvers are set aside): counted again from zero.
    mutating func reinstate() {
        setAside = false
        consecutiveFailures = 0
    }

    var stats: ResolverPathStats {
        ResolverPathStats(
            srtt: srtt, rttvar: rttvar, rto: rto(), samples: samples, window: window, smallestWindow: smallestWindow,
            largestWindow: largestWindow, decreases: decreases, backgroundLoss: backgroundLoss, answers: answers,
            failures: failures, setAside: setAside)
    }
}

/// The state of one resolver's path at the end of a session (or of a `resolve` call).
public struct ResolverPathStats: Sendable, Hashable {
    /// The resolver, as its endpoint prints.
    public var server = ""
    /// Smoothed round trip and its variation, in seconds (0 when nothing was measured).
    public var srtt: Double
    public var rttvar: Double
    /// The retransmission timeout a first try would get now, in seconds.
    public var rto: Double
    /// Round trips measured.
    public var samples: Int
    /// Congestion window now, the smallest it was cut to and the largest it reached.
    public var window: Double
    public var smallestWindow: Double
    public var largestWindow: Double
    /// Times the window was cut for congestion.
    public var decreases: Int
    /// Loss share of the epochs judged uncongested.
    public var backgroundLoss: Double
    /// Answers and failures (SERVFAIL, REFUSED, timeouts) from this resolver.
    public var answers: Int
    public var failures: Int
    /// Set aside for the rest of the session after failing everything.
    public var setAside: Bool
}
