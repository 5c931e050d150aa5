import Glibc

/// Route-flap damping (RFC 2439) applied to a domain's transitions: each transition adds `penalty` to the
/// domain's figure of merit, which decays exponentially with `halfLife`; when it reaches `suppress` the
/// domain's transitions are kept in history but not alerted, until it decays below `reuse`. No flapping
/// domain stays suppressed longer than `maxSuppress` after its last transition: the figure is capped at
/// `reuse × 2^(maxSuppress / halfLife)` (RFC 2439's ceiling).
public struct FlapDamping: Sendable, Equatable {
    public var penalty: Double
    public var suppress: Double
    public var reuse: Double
    /// Seconds.
    public var halfLife: Int64
    /// Seconds.
    public var maxSuppress: Int64

    /// The defaults of every kind of list (docs/detection.md): RFC 2439's penalty (1000 a change) and reuse
    /// limit (750), a suppress limit of 2500 instead of its 2000, so that two changes in a row (a parked
    /// domain activated, then parked again) are both alerted however close together, and times for polls an
    /// hour apart. A domain that changes on every hourly poll (or faster) is held back at its third change
    /// and alerted again at most 12 hours after its last one.
    public static let defaults = FlapDamping(penalty: 1000, suppress: 2500, reuse: 750, halfLife: 4 * 3600, maxSuppress: 12 * 3600)

    public init(penalty: Double, suppress: Double, reuse: Double, halfLife: Int64, maxSuppress: Int64) {
        self.penalty = penalty
        self.suppress = suppress
        self.reuse = reuse
        self.halfLife = halfLife
        self.maxSuppress = maxSuppress
    }

    /// Why a set of figures cannot damp (nil when it can).
    public var problem: String? {
        if !(penalty > 0) { return "penalty must be more than 0" }
        if !(reuse > 0) { return "reuse must be more than 0" }
        if !(suppress > reuse) { return "suppress must be more than reuse" }
        if halfLife <= 0 { return "half_life must be more than 0" }
        if maxSuppress <= 0 { return "max_suppress must be more than 0" }
        return nil
    }

    /// The most a figure can reach.
    public var ceiling: Double { reuse * pow(2, Double(maxSuppress) / Double(halfLife)) }

    /// A figure of `value` at `from`, decayed to `to`.
    public func decayed(_ value: Double, from: Int64, to: Int64) -> Double {
        guard to > from, value > 0 else { return value }
        return value * pow(2, -Double(to - from) / Double(halfLife))
    }

    /// What a domain's damping says at `now`.
    public enum Decision: Sendable, Equatable {
        /// Alert as usual.
        case alert
        /// Suppression begins with this transition: one `flapping` alert instead of the transition's.
        case startSuppressing
        /// Suppressed: history only.
        case suppressed
        /// Suppression ends now (no transition this poll, or one that no longer crosses): alert the state
        /// reached if it differs from the one last alerted.
        case endSuppression
    }

    /// The damping state of one domain (a pure value: `step` returns the decision and the next state).
    public struct State: Sendable, Equatable {
        public var figure: Double
        public var time: Int64
        public var suppressedSince: Int64?
        public init(figure: Double, time: Int64, suppressedSince: Int64?) {
            self.figure = figure
            self.time = time
            self.suppressedSince = suppressedSince
        }
    }

    /// One poll of a domain at `now`, `transition` whether it made a (confirmed) transition.
    public func step(_ state: State, now: Int64, transition: Bool) -> (Decision, State) {
        var figure = decayed(state.figure, from: state.time, to: now)
        if transition { figure = min(figure + penalty, ceiling) }
        var next = State(figure: figure, time: now, suppressedSince: state.suppressedSince)
        if state.suppressedSince != nil {
            if figure < reuse {
                next.suppressedSince = nil
                return (.endSuppression, next)
            }
            return (.suppressed, next)
        }
        if transition && figure >= suppress {
            next.suppressedSince = now
            return (.startSuppressing, next)
        }
        return (.alert, next)
    }
}
