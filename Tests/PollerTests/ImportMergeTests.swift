import DNSWatchModel
import Store
import Testing

/// The import merge rule (`ImportPlan.merging`), from a batch's records and the spans of its source already
/// stored to the plan a backend writes: no database.
@Suite struct ImportMergeTests {
    static func record(_ domain: String, _ type: RRType, _ rdata: [String], _ first: Int64, _ last: Int64, _ count: Int) -> ImportedRecord {
        ImportedRecord(domain: domain, rrtype: type, rdata: rdata, timeFirst: first, timeLast: last, count: count)
    }

    /// Classifies as parked at Sedo what holds 45.0.121.5, and names every record it was asked about.
    final class Recording: @unchecked Sendable {
        var asked: [ImportedRecord] = []
        func classify(_ r: ImportedRecord) -> DomainState {
            asked.append(r)
            return r.rdata.contains("45.0.121.5") ? DomainState(class: .parked, provider: "sedo") : DomainState(class: .unknown)
        }
    }

    @Test func newRecordsBecomeSpansInTheirOrderAndARepeatMergesIntoTheFirst() {
        let a = Self.record("c2.example", .a, ["45.0.121.6", "45.0.121.5"], 500, 900, 12)
        let ns = Self.record("never.example", .ns, ["ns1.host.example"], 100, 200, 3)
        let again = Self.record("c2.example", .a, ["45.0.121.5", "45.0.121.6"], 400, 800, 20)
        let same = Self.record("c2.example", .a, ["45.0.121.5", "45.0.121.6"], 450, 850, 5)
        let recording = Recording()
        let plan = ImportPlan.merging([a, ns, again, same], into: [], sourceID: 4, at: 2000, fingerprintVersion: "fp1",
                                      classify: recording.classify)
        let keyA = ImportKey(domain: "c2.example", rrtype: .a, rdata: "45.0.121.5\n45.0.121.6")
        #expect(plan == ImportPlan(sourceID: 4, time: 2000, fingerprintVersion: "fp1", create: [
            .init(key: keyA, values: ["45.0.121.6", "45.0.121.5"], timeFirst: 400, timeLast: 900, count: 20,
                  state: DomainState(class: .parked, provider: "sedo")),
            .init(key: ImportKey(domain: "never.example", rrtype: .ns, rdata: "ns1.host.example"), values: ["ns1.host.example"],
                  timeFirst: 100, timeLast: 200, count: 3, state: DomainState(class: .unknown)),
        ], widen: [], counts: MergeCounts(imported: 2, merged: 2, changed: 1)))
        #expect(recording.asked == [a, ns], "only a record that becomes a span is classified, once")
    }

    @Test func aStoredSpanWidensToTheEarliestTheLatestAndTheLargestCountNeverASum() {
        let key = ImportKey(domain: "c2.example", rrtype: .a, rdata: "192.0.2.1")
        let stored = [StoredImportSpan(id: 41, key: key, timeFirst: 500, timeLast: 900, count: 20)]
        let records = [
            Self.record("c2.example", .a, ["192.0.2.1"], 600, 800, 7),     // inside, smaller: merged, nothing changes
            Self.record("c2.example", .a, ["192.0.2.1"], 300, 700, 12),    // earlier first sighting
            Self.record("c2.example", .a, ["192.0.2.1"], 300, 950, 25),    // later last, larger count
            Self.record("c2.example", .a, ["192.0.2.1"], 400, 900, 25),    // inside the widened span: no change
        ]
        let recording = Recording()
        let plan = ImportPlan.merging(records, into: stored, sourceID: 4, at: 2000, fingerprintVersion: nil, classify: recording.classify)
        #expect(plan == ImportPlan(sourceID: 4, time: 2000, fingerprintVersion: nil, create: [],
                                   widen: [.init(id: 41, timeFirst: 300, timeLast: 950, count: 25)],
                                   counts: MergeCounts(imported: 0, merged: 4, changed: 2)))
        #expect(recording.asked.isEmpty, "a merged record keeps its span's class")
    }

    @Test func aRecordThatChangesNothingWritesNothing() {
        let key = ImportKey(domain: "c2.example", rrtype: .ns, rdata: "ns1.a.example\nns2.a.example")
        let stored = [StoredImportSpan(id: 9, key: key, timeFirst: 100, timeLast: 200, count: 3)]
        let plan = ImportPlan.merging([Self.record("c2.example", .ns, ["ns2.a.example", "ns1.a.example"], 100, 200, 3)], into: stored,
                                      sourceID: 1, at: 5, fingerprintVersion: nil, classify: Recording().classify)
        #expect(plan.create.isEmpty && plan.widen.isEmpty && plan.counts == MergeCounts(imported: 0, merged: 1, changed: 0), "\(plan)")
    }

    @Test func aSpanIsPerNameTypeAndRdataSet() {
        let stored = [StoredImportSpan(id: 1, key: ImportKey(domain: "a.example", rrtype: .a, rdata: "192.0.2.1"), timeFirst: 10, timeLast: 20, count: 1)]
        let records = [
            Self.record("b.example", .a, ["192.0.2.1"], 10, 20, 1),
            Self.record("a.example", .aaaa, ["2001:db8::1"], 10, 20, 1),
            Self.record("a.example", .a, ["192.0.2.1", "192.0.2.2"], 10, 20, 1),
        ]
        let plan = ImportPlan.merging(records, into: stored, sourceID: 1, at: 5, fingerprintVersion: nil, classify: Recording().classify)
        #expect(plan.create.map(\.key) == records.map(ImportKey.init) && plan.widen.isEmpty)
        #expect(plan.counts == MergeCounts(imported: 3, merged: 0, changed: 0))
    }
}
