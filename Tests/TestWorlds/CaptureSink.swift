public import Alerting
import Foundation

/// A sink that keeps what it is given; it fails the first `failing` deliveries (an `io` error), as a sink
/// that is down for a while.
public final class CaptureSink: AlertSink, @unchecked Sendable {  // every stored property is behind `lock`
    public let key: String
    private let lock = NSLock()
    private var failing: Int
    private var _attempts: [String] = []
    private var _delivered: [String] = []
    private var _received: [[String: Any]] = []

    public init(key: String = "capture", failing: Int = 0) {
        self.key = key
        self.failing = failing
    }

    public func deliver(_ alertJSON: [UInt8]) async throws {
        let json = String(decoding: alertJSON, as: UTF8.self)
        try lock.withLock {
            _attempts.append(json)
            if failing > 0 {
                failing -= 1
                throw AlertSinkError(sink: key, reason: .io, message: "scripted failure")
            }
            // An alert that is not JSON fails its delivery, as a real consumer's parser would refuse it.
            _received.append(try JSONSerialization.jsonObject(with: Data(alertJSON)) as? [String: Any] ?? [:])
            _delivered.append(json)
        }
    }

    /// Every attempt's payload, failed or not.
    public var attempts: [String] { lock.withLock { _attempts } }
    /// The payloads delivered.
    public var delivered: [String] { lock.withLock { _delivered } }
    /// The payloads delivered, as JSON (a JSON value that is not an object is an empty object here, which
    /// no expectation of a field matches).
    public var received: [[String: Any]] { lock.withLock { _received } }
    /// The `type` of each delivered alert.
    public var types: [String] { received.compactMap { $0["type"] as? String } }
}
