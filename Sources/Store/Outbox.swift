import DNSWatchModel

/// An alert waiting for one sink.
public struct QueuedDelivery: Sendable, Equatable {
    public var alertID: Int64
    public var sink: String
    public var payload: String
    public init(alertID: Int64, sink: String, payload: String) {
        self.alertID = alertID
        self.sink = sink
        self.payload = payload
    }
}
