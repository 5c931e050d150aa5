import Detection
import Testing

/// Flap damping after RFC 2439: penalty per change, exponential decay, suppress and reuse limits, ceiling.
@Suite struct FlapDampingTests {
    let d = FlapDamping.defaults

    @Test func aPenaltyHalvesInAHalfLife() {
        #expect(d.decayed(1000, from: 0, to: d.halfLife) == 500)
        #expect(d.decayed(1000, from: 0, to: 2 * d.halfLife) == 250)
        #expect(d.decayed(1000, from: 10, to: 10) == 1000)
    }

    @Test func twoChangesInARowAlertTheThirdStartsSuppression() {
        var state = FlapDamping.State(figure: 0, time: 0, suppressedSince: nil)
        var decisions: [FlapDamping.Decision] = []
        for t in [Int64(60), 120, 180, 240] {
            let (decision, next) = d.step(state, now: t, transition: true)
            decisions.append(decision)
            state = next
        }
        #expect(decisions == [.alert, .alert, .startSuppressing, .suppressed])
        #expect(state.suppressedSince == 180)
    }

    @Test func hourlyFlappingIsHeldBackAtItsThirdChange() {
        var state = FlapDamping.State(figure: 0, time: 0, suppressedSince: nil)
        var decisions: [FlapDamping.Decision] = []
        for hour in 1...3 {
            let (decision, next) = d.step(state, now: Int64(hour * 3600), transition: true)
            decisions.append(decision)
            state = next
        }
        #expect(decisions == [.alert, .alert, .startSuppressing])
    }

    @Test func suppressionEndsBelowTheReuseLimitAndNoLaterThanMaxSuppressAfterTheLastChange() {
        var state = FlapDamping.State(figure: 0, time: 0, suppressedSince: nil)
        // Flapping every minute for a day: the figure is capped at the ceiling.
        for minute in 1...(24 * 60) { state = d.step(state, now: Int64(minute * 60), transition: true).1 }
        #expect(state.figure <= d.ceiling && state.suppressedSince != nil)
        let last = state.time
        let (held, _) = d.step(state, now: last + d.maxSuppress - 60, transition: false)
        #expect(held == .suppressed)
        let (ended, after) = d.step(state, now: last + d.maxSuppress + 60, transition: false)
        #expect(ended == .endSuppression && after.suppressedSince == nil)
    }

    @Test func figuresThatCannotDampAreRefused() {
        var bad = d
        bad.suppress = bad.reuse
        #expect(bad.problem != nil)
        #expect(d.problem == nil)
    }
}
