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
    /// Fewest consecutive tries an epoch holds before it is judged: one lost query of sixteen on a
    /// 1%-loss path is chance, not congestion.
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
    /// Measurement epochs still open, oldest first; the last one is being filled with sends. A try's
    /// outcome counts in the epoch it was *sent* in, so losses (known a timer later) and answers (known a
    /// round trip later) of the same tries are judged together, however the two arrive in time.
    private var epochs: [Epoch] = []
    /// Sequence number of the next try sent to this resolver.
    private var nextTry = 0
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

    /// A query is about to go out: it counts in the window (and spends a pacing token).
    mutating func sent() {
        inFlight += 1
        if samples > 0 { pacer.consume() }
    }

    /// A try went out: returns its sequence number, which names the epoch its outcome counts in. An epoch
    /// holds `max(window, epochOutcomes)` consecutive tries, the window as the epoch opened.
    mutating func transmitted() -> Int {
        if epochs.last.map({ $0.sent == $0.size }) ?? true {
            epochs.append(Epoch(first: nextTry, size: max(Int(window), tuning.epochOutcomes)))
        }
        epochs[epochs.count - 1].sent += 1
        nextTry += 1
        return nextTry - 1
    }

    /// How a try sent to this resolver ended.
    enum TryOutcome {
        /// Replied while the engine still counted it: the window grows.
        case answered
        /// Its retransmission timer ran out (it may still be answered later).
        case lost
        /// Closed with neither (a SERVFAIL moved on, a truncated reply went to TCP, the poll ended): it
        /// says nothing about loss.
        case neither
    }

    /// The try numbered `sequence` is closed. An answer grows the window at once (by one per reply in slow
    /// start, by one per window of replies after); the try's epoch is judged when all its tries are closed.
    mutating func closed(_ sequence: Int, _ outcome: TryOutcome) {
        if outcome == .answered {
            if slowStart {
                window = min(maxWindow, window + 1)
            } else {
                window = min(maxWindow, window + 1 / max(1, window))
            }
            largestWindow = max(largestWindow, window)
        }
        guard let e = epochs.firstIndex(where: { sequence >= $0.first && sequence < $0.first + $0.size }) else {
            return
        }
        epochs[e].closed += 1
        switch outcome {
        case .answered: epochs[e].answers += 1
        case .lost: epochs[e].losses += 1
        case .neither: break
        }
        if epochs[e].sent == epochs[e].size && epochs[e].closed == epochs[e].sent {
            judge(epochs.remove(at: e))
        }
    }

    /// A try counted as lost was answered after all (a premature retransmission): the loss is taken back
    /// from the oldest epoch still open that counts one.
    mutating func lossTakenBack() {
        guard let e = epochs.firstIndex(where: { $0.losses > 0 }) else { return }
        epochs[e].losses -= 1
        epochs[e].answers += 1
    }

    /// A closed epoch: a loss share above the background loss by `congestionLoss` is congestion (the
    /// window shrinks, slow start ends); below it the share feeds the background estimate. An epoch whose
    /// tries all ended with neither outcome says nothing.
    private mutating func judge(_ epoch: Epoch) {
        let outcomes = epoch.answers + epoch.losses
        guard outcomes > 0 else { return }
        let loss = Double(epoch.losses) / Double(outcomes)
        if loss > backgroundLoss + tuning.congestionLoss {
            window = max(tuning.minimumWindow, window * tuning.decrease)
            smallestWindow = min(smallestWindow, window)
            slowStart = false
            decreases += 1
        } else {
            backgroundLoss = epochsJudged == 0 ? loss : 0.875 * backgroundLoss + 0.125 * loss
            epochsJudged += 1
        }
    }

    /// Consecutive tries whose outcomes are judged together.
    private struct Epoch {
        /// Sequence number of its first try.
        let first: Int
        /// Tries it holds.
        let size: Int
        var sent = 0
        var closed = 0
        var answers = 0
        var losses = 0
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
