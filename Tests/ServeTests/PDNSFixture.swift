import Classification
import DNSWatchModel
import Foundation
import SQLiteStore
import Store
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Poller
import Serve
import TestSupport
import TestWorlds
import Testing

/// A small history written by the product's own poll: a `Poller` over the database, its batch writer
/// deciding which spans extend and which start, fed by a scripted resolver (`ScriptedDNS`), one poll per
/// time below. A question the script does not answer at a time fails (a timeout: no span, as on the wire).
///
/// a.example   A 192.0.2.1 (1000, 1100) → A 192.0.2.2 (2000) → A 192.0.2.1 (3000, 3100, 3200); NS ns1.host.example (1000)
/// www.a.example CNAME a.example (1500; its A answer is NODATA at the end of the chain)
/// b.example   A 192.0.2.2 (1200), then NXDOMAIN (2500, never served)
/// v6.example  AAAA 2001:db8::1 (1300)
enum PDNSFixture {
    /// What each poll's resolver answers, by poll time.
    static let script: [(time: Int64, answers: [Question: Answer])] = [
        (1000, [Question(name: "a.example", type: .a): Answer(status: .noerror, rdata: ["192.0.2.1"]),
                Question(name: "a.example", type: .ns): Answer(status: .noerror, rdata: ["ns1.host.example"])]),
        (1100, [Question(name: "a.example", type: .a): Answer(status: .noerror, rdata: ["192.0.2.1"])]),
        (1200, [Question(name: "b.example", type: .a): Answer(status: .noerror, rdata: ["192.0.2.2"])]),
        (1300, [Question(name: "v6.example", type: .aaaa): Answer(status: .noerror, rdata: ["2001:db8::1"])]),
        (1500, [Question(name: "www.a.example", type: .a): Answer(status: .nodata, cnameChain: ["a.example"])]),
        (2000, [Question(name: "a.example", type: .a): Answer(status: .noerror, rdata: ["192.0.2.2"])]),
        (2500, [Question(name: "b.example", type: .a): Answer(status: .nxdomain)]),
        (3000, [Question(name: "a.example", type: .a): Answer(status: .noerror, rdata: ["192.0.2.1"])]),
        (3100, [Question(name: "a.example", type: .a): Answer(status: .noerror, rdata: ["192.0.2.1"])]),
        (3200, [Question(name: "a.example", type: .a): Answer(status: .noerror, rdata: ["192.0.2.1"])]),
    ]

    static func store() async throws -> SQLiteStore {
        let store = try SQLiteStore(path: try TemporaryDirectory("dnswatch-pdns").path("db.sqlite"))
        let names = ["a.example", "www.a.example", "b.example", "v6.example"]
        _ = try await store.addEntries(try names.map { ListEntry(domain: try DomainName($0)) }, to: ListSpec(name: "t", kind: .c2), now: 100)
        let lock = try PollLock(store: store, wait: false)
        var options = PollOptions()
        options.asnLookups = false
        let classifier = Classifier(fingerprints: try .embedded())
        for (time, answers) in script {
            let poller = Poller(store: lock.store, holding: lock, engine: ScriptedDNS(timingOut: answers), classifier: classifier, options: options,
                                logger: Logger(label: "pdns-fixture"))
            let summary = try await poller.poll(clock: { time })
            // Every scripted answer was asked and written (a question the poll no longer asks would leave a hole).
            #expect(summary.counts.answers == answers.count, "poll at \(time): \(summary.line)")
        }
        return store
    }

    static func app(auth: AuthPolicy = .open, logger: Logger = Logger(label: "test")) async throws -> some ApplicationProtocol {
        let deps = ServeDependencies(store: try await store(), classifier: Classifier(fingerprints: try .embedded()))
        return Application(router: DNSWatchServer.router(deps, auth: auth, logger: logger))
    }
}

extension ScriptedDNS {
    /// A resolver that answers what `script` holds and times out on any other question.
    convenience init(timingOut script: [Question: Answer]) {
        self.init(otherwise: .failure(.timeout))
        for (question, answer) in script { set(question, answer) }
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
