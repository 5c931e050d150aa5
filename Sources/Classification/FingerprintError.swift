/// A fingerprint file that cannot be used. The description names `file:line`.
public struct FingerprintError: Error, Sendable, Hashable, CustomStringConvertible {
    public var origin: String
    public var line: Int
    public var message: String

    public init(origin: String, line: Int, message: String) {
        self.origin = origin
        self.line = line
        self.message = message
    }

    public var description: String { "\(origin):\(line): \(message)" }
}
