import Foundation

/// A destination for alerts: stdout, an NDJSON file, a webhook or a command.
///
/// The history store keeps an outbox of (alert, sink key) deliveries and hands the pending ones to an
/// ``AlertDispatcher``; a delivery counts as done only when ``deliver(_:)`` returns without throwing.
public protocol AlertSink: Sendable {
    /// Stable identity of the sink for the outbox, e.g. `"stdout"`, `"file:/var/log/dnswatch.ndjson"`,
    /// `"webhook:1a2b3c4d5e6f7a8b"`, `"command:notify --to soc"`.
    ///
    /// The same configuration gives the same key across runs. It never contains secrets such as the
    /// token in a webhook URL, because it is stored in the database and shown to users.
    var key: String { get }

    /// Delivers one alert, given as a compact JSON object without a trailing newline.
    ///
    /// Throws ``AlertSinkError`` when the alert was not delivered, or `CancellationError` when the
    /// calling task was cancelled.
    func deliver(_ alertJSON: [UInt8]) async throws
}

/// Why an alert could not be delivered (or a sink could not be configured).
///
/// `message` is meant for people (logs, the outbox's last error); it never contains a webhook URL's
/// user info, path or query, only its scheme, host and port.
public struct AlertSinkError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure, for callers that need to tell them apart.
    public enum Reason: Sendable, Equatable {
        /// The sink's configuration is unusable (bad URL, empty command...).
        case invalidConfiguration
        /// The alert is not a single line of JSON.
        case invalidAlert
        /// Writing to a file or to stdout failed.
        case io
        /// The webhook answered with a status outside 2xx.
        case httpStatus(Int)
        /// The webhook could not be reached (connection refused, name not found, TLS failure...).
        case transport
        /// The webhook or command did not finish within the sink's timeout.
        case timeout
        /// The command's executable was not found on `PATH` or is not executable.
        case commandNotFound
        /// The command exited with a non-zero status.
        case commandFailed(exitStatus: Int32)
        /// The command was ended by a signal it did not handle.
        case commandKilled(signal: Int32)
    }

    /// The key of the sink concerned (see ``AlertSink/key``).
    public let sink: String
    public let reason: Reason
    /// What happened, in words.
    public let message: String

    public init(sink: String, reason: Reason, message: String) {
        self.sink = sink
        self.reason = reason
        self.message = message
    }

    public var description: String { "alert sink \(sink): \(message)" }
}

/// Checks and frames an alert as one NDJSON line.
enum AlertLine {
    /// The alert followed by `\n`. A trailing line break in the input is tolerated; a line break
    /// inside it (which compact JSON never has) or an empty alert is refused.
    static func make(_ json: [UInt8], sink: String) throws(AlertSinkError) -> [UInt8] {
        var body = json[...]
        while let last = body.last, last == UInt8(ascii: "\n") || last == UInt8(ascii: "\r") {
            body = body.dropLast()
        }
        guard !body.isEmpty else {
            throw AlertSinkError(sink: sink, reason: .invalidAlert, message: "the alert is empty")
        }
        guard !body.contains(UInt8(ascii: "\n")), !body.contains(UInt8(ascii: "\r")) else {
            throw AlertSinkError(
                sink: sink, reason: .invalidAlert, message: "the alert JSON contains a line break; it must be compact")
        }
        return Array(body) + [UInt8(ascii: "\n")]
    }
}

extension Duration {
    /// The duration in seconds, as Foundation's `TimeInterval`.
    var timeInterval: TimeInterval {
        let parts = components
        return TimeInterval(parts.seconds) + TimeInterval(parts.attoseconds) / 1e18
    }

    /// Short human form for messages: `10s`, `0.25s`.
    var shortDescription: String {
        let seconds = timeInterval
        if seconds == seconds.rounded() { return "\(Int(seconds))s" }
        return "\((seconds * 1000).rounded() / 1000)s"
    }
}
