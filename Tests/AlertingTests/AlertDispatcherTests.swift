import Foundation
import Testing
import TestSupport
@testable import Alerting

/// A sink that fails every delivery, counting the attempts.
private struct FailingSink: AlertSink {
    let key = "test:failing"
    let attempts = Locked(0)

    func deliver(_ alertJSON: [UInt8]) async throws {
        attempts.withLock { $0 += 1 }
        throw AlertSinkError(sink: key, reason: .io, message: "disk on fire")
    }
}

/// A sink that notes that a delivery started, then waits (cancellably) for a long time.
private struct SlowSink: AlertSink {
    let key = "test:slow"
    let started = Locked(false)

    func deliver(_ alertJSON: [UInt8]) async throws {
        started.withLock { $0 = true }
        try await Task.sleep(for: .seconds(600))
    }
}

/// `alertJSON(n)` as the dispatcher hands it to a sink: with `"delivery_id"` first.
private func stamped(_ n: Int, sink: String, deliveryID: Int64? = nil) -> String {
    let id = DeliveryStamp.id(deliveryID: deliveryID ?? Int64(n), sinkKey: sink)
    let json = String(decoding: alertJSON(n), as: UTF8.self)
    return "{\"delivery_id\":\"\(id)\"," + json.dropFirst()
}

/// A sink that fails its first `failures` deliveries and records every payload it is given.
private struct FlakySink: AlertSink {
    let key: String
    let failures: Int
    let payloads = Locked<[[UInt8]]>([])

    func deliver(_ alertJSON: [UInt8]) async throws {
        let attempt = payloads.withLock { $0.append(alertJSON); return $0.count }
        if attempt <= failures { throw AlertSinkError(sink: key, reason: .io, message: "not yet") }
    }
}

@Suite("AlertDispatcher")
struct AlertDispatcherTests {
    @Test("every payload carries a delivery_id, stable per alert and sink, the same on a redelivery")
    func deliveryID() async throws {
        let webhookKey = WebhookSink.key(forURL: "http://127.0.0.1:1/hook")
        let flaky = FlakySink(key: webhookKey, failures: 1)
        let other = FlakySink(key: "command:notify --to soc", failures: 0)
        let dispatcher = AlertDispatcher(sinks: [flaky, other])
        let pending = [
            PendingDelivery(deliveryID: 42, sinkKey: flaky.key, json: alertJSON(42)),
            PendingDelivery(deliveryID: 42, sinkKey: other.key, json: alertJSON(42)),
        ]
        let first = try await dispatcher.deliver(pending)
        #expect(first.map(\.delivered) == [false, true])
        // The next round (the next poll) hands the same outbox row again.
        let second = try await dispatcher.deliver([pending[0]])
        #expect(second.map(\.delivered) == [true])

        func deliveryIDs(_ sink: FlakySink) throws -> [String] {
            try sink.payloads.withLock { $0 }.map { payload in
                let object = try #require(try JSONSerialization.jsonObject(with: Data(payload)) as? [String: Any])
                #expect(object["id"] as? Int == 42, "the alert itself is untouched")
                #expect(object["message"] as? String == "a \"quoted\" word")
                return try #require(object["delivery_id"] as? String)
            }
        }
        let retried = try deliveryIDs(flaky)
        #expect(retried.count == 2)
        #expect(retried[0] == retried[1], "a redelivery has the same delivery_id")
        #expect(retried[0] == pending[0].payloadDeliveryID)
        #expect(retried[0].hasPrefix("42-"))
        let elsewhere = try deliveryIDs(other)
        #expect(elsewhere.count == 1 && elsewhere[0] != retried[0], "another sink, another delivery_id")
        #expect(DeliveryStamp.id(deliveryID: 43, sinkKey: flaky.key) != retried[0], "another alert, another delivery_id")
        #expect(DeliveryStamp.id(deliveryID: 42, sinkKey: flaky.key) == retried[0], "stable across runs")
    }

    @Test("stamping keeps the JSON as it was around the new member")
    func stamping() throws {
        #expect(try DeliveryStamp.stamp(Array(#"{"a":1}"#.utf8), id: "7-x", sink: "s") == Array(#"{"delivery_id":"7-x","a":1}"#.utf8))
        #expect(try DeliveryStamp.stamp(Array("{ }".utf8), id: "7-x", sink: "s") == Array(#"{"delivery_id":"7-x" }"#.utf8))
        #expect(throws: AlertSinkError.self) { try DeliveryStamp.stamp(Array("[1]".utf8), id: "7-x", sink: "s") }
        #expect(throws: AlertSinkError.self) { try DeliveryStamp.stamp([], id: "7-x", sink: "s") }
    }

    @Test("one failing sink does not stop the others; results keep the input order")
    func mixedSinks() async throws {
        let captured = Locked<[String]>([])
        let working = StdoutSink(key: "stdout") { line in
            captured.withLock { $0.append(String(decoding: line, as: UTF8.self)) }
        }
        let failing = FailingSink()
        let dispatcher = AlertDispatcher(sinks: [failing, working])
        let reported = Locked<[Int64]>([])

        let results = try await dispatcher.deliver(
            [
                (deliveryID: 1, sinkKey: "stdout", json: alertJSON(1)),
                (deliveryID: 2, sinkKey: "test:failing", json: alertJSON(2)),
                (deliveryID: 3, sinkKey: "stdout", json: alertJSON(3)),
                (deliveryID: 4, sinkKey: "test:failing", json: alertJSON(4)),
                (deliveryID: 5, sinkKey: "webhook:0000000000000000", json: alertJSON(5)),
            ],
            onResult: { result in reported.withLock { $0.append(result.deliveryID) } })

        #expect(results.map(\.deliveryID) == [1, 2, 3, 4, 5])
        #expect(results.map(\.delivered) == [true, false, true, false, false])
        #expect(results[1].outcome == .failed("disk on fire"))
        guard case .notAttempted(let reason) = results[3].outcome else {
            Issue.record("delivery 4 should not have been attempted after delivery 2 failed: \(results[3].outcome)")
            return
        }
        #expect(reason.contains("disk on fire"))
        #expect(results[4].errorMessage?.contains("no alert sink") == true)
        #expect(failing.attempts.withLock { $0 } == 1)
        #expect(captured.withLock { $0 } == [1, 3].map { stamped($0, sink: "stdout") + "\n" })
        #expect(reported.withLock { $0.sorted() } == [1, 2, 3, 4, 5])
    }

    @Test("without stopSinkAfterFailure every delivery is attempted")
    func attemptsAll() async throws {
        let failing = FailingSink()
        let dispatcher = AlertDispatcher(sinks: [failing], stopSinkAfterFailure: false)
        let results = try await dispatcher.deliver(
            (1...3).map { PendingDelivery(deliveryID: Int64($0), sinkKey: failing.key, json: alertJSON($0)) })
        #expect(results.allSatisfy { $0.outcome == .failed("disk on fire") })
        #expect(failing.attempts.withLock { $0 } == 3)
    }

    @Test("a real file sink and a dead webhook, concurrently")
    func fileAndDeadWebhook() async throws {
        let dir = try TemporaryDirectory()
        let file = try FileSink(path: dir.path("alerts.ndjson"))
        let webhook = try WebhookSink(urlString: "http://127.0.0.1:\(try TestHTTPServer.closedPort())/x", timeout: .seconds(5))
        let pending = (1...4).flatMap { n in
            [file.key, webhook.key].enumerated().map { offset, key in
                PendingDelivery(deliveryID: Int64(n * 10 + offset), sinkKey: key, json: alertJSON(n))
            }
        }
        let results = try await AlertDispatcher(sinks: [webhook, file]).deliver(pending)
        #expect(results.filter(\.delivered).map(\.sinkKey) == Array(repeating: file.key, count: 4))
        #expect(results.filter { $0.sinkKey == webhook.key }.allSatisfy { !$0.delivered })
        let expected = (1...4).map { stamped($0, sink: file.key, deliveryID: Int64($0 * 10)) + "\n" }.joined()
        #expect(try dir.read("alerts.ndjson") == expected, "in queue order")
    }

    @Test("cancellation is rethrown, not reported as a failed delivery", .timeLimit(.minutes(1)))
    func cancellation() async throws {
        let reported = Locked<[DeliveryResult]>([])
        let slow = SlowSink()
        let dispatcher = AlertDispatcher(sinks: [slow])
        let task = Task {
            try await dispatcher.deliver(
                [PendingDelivery(deliveryID: 1, sinkKey: "test:slow", json: alertJSON(1))],
                onResult: { result in reported.withLock { $0.append(result) } })
        }
        try await waitUntil("the delivery started") { slow.started.withLock { $0 } }
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(reported.withLock { $0.isEmpty })
    }

    @Test("an already cancelled task delivers nothing")
    func cancelledBeforehand() async throws {
        let captured = Locked(0)
        let sink = StdoutSink(key: "stdout") { _ in captured.withLock { $0 += 1 } }
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await AlertDispatcher(sinks: [sink]).deliver(
                [PendingDelivery(deliveryID: 1, sinkKey: "stdout", json: alertJSON(1))])
        }
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(captured.withLock { $0 } == 0)
    }
}
