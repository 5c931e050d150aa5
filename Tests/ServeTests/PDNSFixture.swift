import Classification
import DNSWatchModel
import Foundation
import HistoryStore
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Serve
import Testing

/// A small history written the way a poll writes it (a head extended while the answer stays, a new
/// span when it changes), for the passive-DNS endpoints' in-process tests.
///
/// a.example   A 192.0.2.1 (1000, 1100) → A 192.0.2.2 (2000) → A 192.0.2.1 (3000, 3100, 3200); NS ns1.host.example (1000)
/// www.a.example CNAME a.example (1500)
/// b.example   A 192.0.2.2 (1200), then NXDOMAIN (2500, never served)
/// v6.example  AAAA 2001:db8::1 (1300)
enum PDNSFixture {
    static func temporaryDatabase() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("dnswatch-pdns-\(UUID().uuidString)")
            .appendingPathComponent("db.sqlite").path
    }

    static func store() async throws -> HistoryStore {
        let store = try HistoryStore(path: temporaryDatabase())
        let names = ["a.example", "www.a.example", "b.example", "v6.example"]
        _ = try await store.addEntries(try names.map { ListEntry(domain: try DomainName($0)) }, to: ListSpec(name: "t", kind: .c2), now: 100)
        let targets = try await store.pollTargets(afterID: 0, limit: 10)
        let id = Dictionary(uniqueKeysWithValues: targets.map { ($0.name, $0.domainID) })
        func observe(_ name: String, _ type: RRType, _ status: AnswerStatus, _ rdata: [String], at t: Int64) async throws {
            let domain = try #require(id[name])
            try await store.write { w in
                let head = try w.heads(domainIDs: [domain])[HeadKey(domainID: domain, rrtype: type)]
                if let head, head.status == status, head.rdata == rdata.sorted() {
                    try w.extend(spanIDs: [head.spanID], at: t)
                } else {
                    try w.startSpans([NewSpan(domainID: domain, rrtype: type, status: status, rdata: rdata, class: nil, provider: nil)],
                                     at: t, fingerprintVersion: nil)
                }
            }
        }
        try await observe("a.example", .a, .noerror, ["192.0.2.1"], at: 1000)
        try await observe("a.example", .ns, .noerror, ["ns1.host.example"], at: 1000)
        try await observe("a.example", .a, .noerror, ["192.0.2.1"], at: 1100)
        try await observe("b.example", .a, .noerror, ["192.0.2.2"], at: 1200)
        try await observe("v6.example", .aaaa, .noerror, ["2001:db8::1"], at: 1300)
        try await observe("www.a.example", .cname, .noerror, ["a.example"], at: 1500)
        try await observe("a.example", .a, .noerror, ["192.0.2.2"], at: 2000)
        try await observe("b.example", .a, .nxdomain, [], at: 2500)
        for t: Int64 in [3000, 3100, 3200] { try await observe("a.example", .a, .noerror, ["192.0.2.1"], at: t) }
        return store
    }

    static func app(auth: AuthPolicy = .open, logger: Logger = Logger(label: "test")) async throws -> some ApplicationProtocol {
        let deps = ServeDependencies(store: try await store(), classifier: Classifier(fingerprints: try .embedded()))
        return Application(router: DNSWatchServer.router(deps, auth: auth, logger: logger))
    }
}

/// An NDJSON body as its objects (a line that is not a JSON object is a recorded issue).
func ndjson(_ buffer: ByteBuffer) -> [[String: Any]] {
    String(buffer: buffer).split(separator: "\n").compactMap { line in
        do {
            if let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] { return o }
        } catch {}
        Issue.record("not a JSON object: \(line)")
        return nil
    }
}

/// A SAF body: its objects and its closing condition (the first line must be `begin`, the last a cond).
func saf(_ buffer: ByteBuffer) -> (objects: [[String: Any]], cond: String) {
    let lines = ndjson(buffer)
    guard lines.count >= 2, lines.first?["cond"] as? String == "begin", let last = lines.last?["cond"] as? String else {
        Issue.record("not a SAF body: \(String(buffer: buffer))")
        return ([], "")
    }
    let objects = lines.dropFirst().dropLast().compactMap { $0["obj"] as? [String: Any] }
    #expect(objects.count == lines.count - 2, "a line between begin and the condition is not an object")
    return (objects, last)
}

/// A header name (a test's literal; `#require` rather than a force unwrap).
func hf(_ name: String) throws -> HTTPField.Name {
    try #require(HTTPField.Name(name))
}
