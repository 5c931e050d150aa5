import DNSWatchModel
import SQLiteStore
import Store

/// History written the only way the product writes a poll: `WritePlan`s applied by the store
/// (`PollWrites.apply`), one plan per write time, all in one poll run of the fixture's own. The fixtures
/// build the plans by hand (no resolver, no classifier), so they can set any class, provider and time.
struct PlannedHistory {
    /// `fp_version` of the fixtures' spans and states.
    static let classifierVersion = "fixture"
    let store: SQLiteStore
    let pollID: Int64

    /// Begins the fixture's poll run (the `polls` row each transition names).
    init(_ store: SQLiteStore, at time: Int64) async throws {
        self.store = store
        pollID = try await store.beginPoll(at: time, resolvers: "fixture")
    }

    /// Applies one plan at `time`: spans started (at most one per (domain, type)), current spans of
    /// `extend` seen again, states saved, transitions (with their alerts) stored, in that plan's order.
    func write(at time: Int64, start: [NewSpan] = [], extend: [ExtendHeads] = [], states: [PlannedState] = [],
               transitions: [PlannedTransition] = []) async throws {
        let plan = WritePlan(pollID: pollID, time: time, classifierVersion: Self.classifierVersion, extendHeads: extend,
                             startSpans: start, states: states, transitions: transitions)
        try await store.apply(plan, claim: ClaimedTargets(targets: [], lease: nil))
    }

    /// Ends the fixture's poll run.
    func finish(at time: Int64) async throws {
        try await store.finishPoll(pollID, at: time)
    }

    /// A transition with `{}` on both sides and its alert on `list`, queued for `sinks`.
    static func transition(domainID: Int64, domain: String, list: String, kind: ListKind = .c2, type: String, severity: String,
                           severityRank: Int, sinks: [String] = [],
                           payload: @escaping @Sendable (Int64) throws -> String) -> PlannedTransition {
        PlannedTransition(domainID: domainID, type: type, fromJSON: "{}", toJSON: "{}",
                          alert: PlannedAlert(domain: domain, list: list, kind: kind, type: type, severity: severity,
                                              severityRank: severityRank, sinks: sinks, payload: payload))
    }
}
