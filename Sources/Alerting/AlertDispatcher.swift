public import Logging

/// One queued delivery of an alert to a sink, as the outbox holds it.
public struct PendingDelivery: Sendable, Equatable {
    /// The outbox row (the alert's id: the outbox has one row per alert and sink), echoed in the result.
    public let deliveryID: Int64
    /// The ``AlertSink/key`` of the sink it goes to.
    public let sinkKey: String
    /// The alert, one compact JSON object.
    public let json: [UInt8]

    public init(deliveryID: Int64, sinkKey: String, json: [UInt8]) {
        self.deliveryID = deliveryID
        self.sinkKey = sinkKey
        self.json = json
    }

    /// The `"delivery_id"` every delivered payload carries: the same for every attempt of this alert to
    /// this sink (so receivers can drop a redelivery after a crash), different for another sink.
    public var payloadDeliveryID: String { DeliveryStamp.id(deliveryID: deliveryID, sinkKey: sinkKey) }
}

/// Adds `"delivery_id"` to an alert's JSON before it goes to a sink.
public enum DeliveryStamp {
    /// `"<alert id>-<first 12 hex digits of the SHA-256 of the sink key>"`, e.g. `"42-3f1c0a9b7e21"`.
    public static func id(deliveryID: Int64, sinkKey: String) -> String {
        "\(deliveryID)-" + String(sha256Hex(Array(sinkKey.utf8)).prefix(12))
    }

    /// `json` (one JSON object) with `"delivery_id":"<id>"` as its first member; the rest is kept byte
    /// for byte. A member of that name already there is left as it is.
    static func stamp(_ json: [UInt8], id: String, sink: String) throws(AlertSinkError) -> [UInt8] {
        let isBlank = { (b: UInt8) in b == 0x20 || b == 0x09 || b == 0x0a || b == 0x0d }
        guard let open = json.firstIndex(where: { !isBlank($0) }), json[open] == UInt8(ascii: "{"),
            let close = json.lastIndex(where: { !isBlank($0) }), json[close] == UInt8(ascii: "}"), close > open
        else {
            throw AlertSinkError(sink: sink, reason: .invalidAlert, message: "the alert is not a JSON object")
        }
        let inside = json[(open + 1)..<close]
        if inside.firstRange(of: Array(#""delivery_id":"#.utf8)) != nil { return json }
        let isEmpty = inside.allSatisfy(isBlank)
        let member = Array(#""delivery_id":"\#(id)""#.utf8) + (isEmpty ? [] : [UInt8(ascii: ",")])
        return Array(json[...open]) + member + Array(json[(open + 1)...])
    }
}

/// What became of one ``PendingDelivery``.
public struct DeliveryResult: Sendable, Equatable {
    public enum Outcome: Sendable, Equatable {
        /// The sink accepted the alert: remove it from the outbox.
        case delivered
        /// The sink failed; the message says why. Keep it queued.
        case failed(String)
        /// Not tried, because an earlier alert for the same sink failed in this round (order is kept
        /// per sink, and a dead webhook is not waited for once per queued alert). Keep it queued.
        case notAttempted(String)
    }

    public let deliveryID: Int64
    public let sinkKey: String
    public let outcome: Outcome

    public init(deliveryID: Int64, sinkKey: String, outcome: Outcome) {
        self.deliveryID = deliveryID
        self.sinkKey = sinkKey
        self.outcome = outcome
    }

    public var delivered: Bool { outcome == .delivered }

    /// The reason it was not delivered, or `nil` when it was.
    public var errorMessage: String? {
        switch outcome {
        case .delivered: nil
        case .failed(let message), .notAttempted(let message): message
        }
    }
}

/// Delivers queued alerts to their sinks: in queue order for each sink, the sinks concurrently.
///
/// Each payload is given a `"delivery_id"` member (``PendingDelivery/payloadDeliveryID``) first.
/// Delivery is at-least-once: a crash between a sink's acceptance and the outbox's record of it sends
/// the alert again on the next round, with the same `delivery_id`, for the receiver to drop.
///
/// One sink's failure never fails the others or the call; it shows in that delivery's result.
/// Cancellation is not a failure: it ends the call with `CancellationError`. Use `onResult` to record
/// each outcome as soon as it is known, so that an alert delivered just before a cancellation is not
/// sent again.
public struct AlertDispatcher: Sendable {
    /// The configured sinks; when two share a key, the first is used.
    public let sinks: [any AlertSink]
    /// After a failure, skip the sink's later alerts in this round (default `true`).
    public let stopSinkAfterFailure: Bool
    private let logger: Logger

    public init(
        sinks: [any AlertSink], stopSinkAfterFailure: Bool = true,
        logger: Logger = Logger(label: "dnswatch.alerting")
    ) {
        self.sinks = sinks
        self.stopSinkAfterFailure = stopSinkAfterFailure
        self.logger = logger
    }

    /// Delivers `pending` and returns one result per delivery, in the order given.
    ///
    /// - Parameter onResult: called once per delivery as soon as its outcome is known (from several
    ///   tasks at once when several sinks are involved).
    /// - Throws: only `CancellationError`.
    public func deliver(
        _ pending: [PendingDelivery], onResult: (@Sendable (DeliveryResult) async -> Void)? = nil
    ) async throws -> [DeliveryResult] {
        try Task.checkCancellation()
        var sinkByKey: [String: any AlertSink] = [:]
        for sink in sinks where sinkByKey[sink.key] == nil { sinkByKey[sink.key] = sink }

        var queues: [String: [(index: Int, delivery: PendingDelivery)]] = [:]
        var keyOrder: [String] = []
        for (index, delivery) in pending.enumerated() {
            if queues[delivery.sinkKey] == nil { keyOrder.append(delivery.sinkKey) }
            queues[delivery.sinkKey, default: []].append((index, delivery))
        }

        var results = [DeliveryResult?](repeating: nil, count: pending.count)
        try await withThrowingTaskGroup(of: [(Int, DeliveryResult)].self) { group in
            for key in keyOrder {
                let queue = queues[key] ?? []
                let sink = sinkByKey[key]
                group.addTask {
                    try await deliverQueue(queue, to: sink, key: key, onResult: onResult)
                }
            }
            for try await batch in group {
                for (index, result) in batch { results[index] = result }
            }
        }
        return results.enumerated().map { index, result in
            result ?? DeliveryResult(
                deliveryID: pending[index].deliveryID, sinkKey: pending[index].sinkKey,
                outcome: .notAttempted("not attempted"))
        }
    }

    /// The same, for deliveries given as tuples.
    public func deliver(
        _ pending: [(deliveryID: Int64, sinkKey: String, json: [UInt8])],
        onResult: (@Sendable (DeliveryResult) async -> Void)? = nil
    ) async throws -> [DeliveryResult] {
        try await deliver(pending.map { PendingDelivery(deliveryID: $0.deliveryID, sinkKey: $0.sinkKey, json: $0.json) },
            onResult: onResult)
    }

    private func deliverQueue(
        _ queue: [(index: Int, delivery: PendingDelivery)], to sink: (any AlertSink)?, key: String,
        onResult: (@Sendable (DeliveryResult) async -> Void)?
    ) async throws -> [(Int, DeliveryResult)] {
        var results: [(Int, DeliveryResult)] = []
        var blocked: String?
        for (index, delivery) in queue {
            try Task.checkCancellation()
            let outcome: DeliveryResult.Outcome
            if let blocked {
                outcome = .notAttempted(blocked)
            } else if let sink {
                do {
                    let payload = try DeliveryStamp.stamp(delivery.json, id: delivery.payloadDeliveryID, sink: key)
                    try await sink.deliver(payload)
                    outcome = .delivered
                    logger.debug("alert delivered", metadata: ["sink": "\(key)", "delivery": "\(delivery.deliveryID)"])
                } catch let error as CancellationError {
                    throw error
                } catch {
                    let message = (error as? AlertSinkError)?.message ?? String(describing: error)
                    outcome = .failed(message)
                    logger.warning(
                        "alert delivery failed",
                        metadata: ["sink": "\(key)", "delivery": "\(delivery.deliveryID)", "error": "\(message)"])
                    if stopSinkAfterFailure {
                        blocked = "not attempted: an earlier alert to this sink failed (\(message))"
                    }
                }
            } else {
                outcome = .failed("no alert sink with key '\(key)' is configured")
            }
            let result = DeliveryResult(deliveryID: delivery.deliveryID, sinkKey: key, outcome: outcome)
            await onResult?(result)
            results.append((index, result))
        }
        return results
    }
}
