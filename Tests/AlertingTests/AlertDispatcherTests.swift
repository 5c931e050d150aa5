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

/// A sink that waits (cancellably) for a long time.
private struct SlowSink: AlertSink {
    let key = "test:slow"

    func deliver(_ alertJSON: [UInt8]) async throws {
        try await Task.sleep(for: .seconds(30))
    }
}

@Suite("AlertDispatcher")
struct AlertDispatcherTests {
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
        #expect(captured.withLock { $0 } == [1, 3].map { String(decoding: alertJSON($0), as: UTF8.self) + "\n" })
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
        defer { dir.remove() }
        let file = try FileSink(path: dir.file("alerts.ndjson"))
        let webhook = try WebhookSink(urlString: "http://127.0.0.1:\(try TestHTTPServer.closedPort())/x", timeout: .seconds(5))
        let pending = (1...4).flatMap { n in
            [file.key, webhook.key].enumerated().map { offset, key in
                PendingDelivery(deliveryID: Int64(n * 10 + offset), sinkKey: key, json: alertJSON(n))
            }
        }
        let results = try await AlertDispatcher(sinks: [webhook, file]).deliver(pending)
        #expect(results.filter(\.delivered).map(\.sinkKey) == Array(repeating: file.key, count: 4))
        #expect(results.filter { $0.sinkKey == webhook.key }.allSatisfy { !$0.delivered })
        let expected = (1...4).map { String(decoding: alertJSON($0), as: UTF8.self) + "\n" }.joined()
        #expect(try dir.read("alerts.ndjson") == expected, "in queue order")
    }

    @Test("cancellation is rethrown, not reported as a failed delivery")
    func cancellation() async throws {
        let reported = Locked<[DeliveryResult]>([])
        let dispatcher = AlertDispatcher(sinks: [SlowSink()])
        let task = Task {
            try await dispatcher.deliver(
                [PendingDelivery(deliveryID: 1, sinkKey: "test:slow", json: alertJSON(1))],
                onResult: { result in reported.withLock { $0.append(result) } })
        }
        try await Task.sleep(for: .milliseconds(100))
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
