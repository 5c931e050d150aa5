import AsyncHTTPClient
import Crypto
public import Foundation
public import Logging
import NIOCore
import NIOPosix
import NIOHTTP1

/// POSTs each alert, as the request body with `Content-Type: application/json`, to a URL.
///
/// Requests go through async-http-client. Only a 2xx answer counts as delivered; redirects are not
/// followed (a 3xx is a failure whose message says so). Every call is bounded by `timeout`, connection
/// included. The URL often carries a token (Slack, Teams, Mattermost hooks) or credentials, so neither
/// ``key`` nor error messages contain its user info, path or query: the key is a hash of the URL,
/// messages name only scheme, host and port (``endpoint``, ``redacted(_:)``).
public final class WebhookSink: AlertSink {
    /// The environment variable ``fromEnvironment(_:timeout:headers:)`` reads.
    public static let environmentVariable = "DNSWATCH_WEBHOOK_URL"

    /// `"webhook:"` followed by the first 16 hex digits of the SHA-256 of the URL.
    public let key: String
    /// `scheme://host[:port]`, safe to show.
    public let endpoint: String
    public let timeout: Duration
    private let url: URL
    private let headers: [String: String]
    private let logger: Logger

    /// - Parameters:
    ///   - url: an `http` or `https` URL.
    ///   - timeout: the longest one delivery may take, connection included (default 10 s).
    ///   - headers: extra request headers (e.g. `Authorization`); `Content-Type` is always
    ///     `application/json`.
    public init(
        url: URL, timeout: Duration = .seconds(10), headers: [String: String] = [:],
        logger: Logger = Logger(label: "dnswatch.alerting.webhook")
    ) throws(AlertSinkError) {
        let scheme = url.scheme?.lowercased() ?? ""
        guard scheme == "http" || scheme == "https" else {
            throw AlertSinkError(
                sink: "webhook", reason: .invalidConfiguration,
                message: "the webhook URL \(Self.redacted(url.absoluteString)) must be an http:// or https:// URL")
        }
        guard let host = url.host, !host.isEmpty else {
            throw AlertSinkError(
                sink: "webhook", reason: .invalidConfiguration,
                message: "the webhook URL \(Self.redacted(url.absoluteString)) has no host")
        }
        if let port = url.port, !(1...65_535).contains(port) {
            throw AlertSinkError(
                sink: "webhook", reason: .invalidConfiguration,
                message: "the webhook URL \(Self.redacted(url.absoluteString)) has port \(port), outside 1 to 65535")
        }
        guard timeout > .zero else {
            throw AlertSinkError(sink: "webhook", reason: .invalidConfiguration, message: "the webhook timeout must be positive")
        }
        for (name, value) in headers {
            let breaksLine = { (s: String) in s.contains("\r") || s.contains("\n") || s.contains("\0") }
            guard !name.isEmpty, !breaksLine(name), !breaksLine(value), !name.contains(":"), !name.contains(" ") else {
                throw AlertSinkError(
                    sink: "webhook", reason: .invalidConfiguration, message: "invalid webhook header name or value for '\(name)'")
            }
        }
        self.url = url
        self.timeout = timeout
        self.headers = headers
        self.logger = logger
        self.key = Self.key(forURL: url.absoluteString)
        self.endpoint = Self.endpoint(scheme: scheme, host: host, port: url.port)
    }

    /// - Parameter urlString: the URL as text; see ``init(url:timeout:headers:logger:)``.
    public convenience init(
        urlString: String, timeout: Duration = .seconds(10), headers: [String: String] = [:],
        logger: Logger = Logger(label: "dnswatch.alerting.webhook")
    ) throws(AlertSinkError) {
        let text = urlString.trimmingCharacters(in: .whitespacesAndNewlines)
        // Parsers disagree on these (a backslash ends the authority for browsers and curl, not here):
        // refuse them rather than send the alert to a host other than the one the user reads.
        if text.contains(where: { $0 == "\\" || $0.isWhitespace || $0.asciiValue.map { $0 < 0x20 || $0 == 0x7F } == true }) {
            throw AlertSinkError(
                sink: "webhook", reason: .invalidConfiguration,
                message: "the webhook URL \(Self.redacted(text)) holds a backslash, a space or a control character; percent-encode it")
        }
        guard let url = URL(string: text) else {
            throw AlertSinkError(
                sink: "webhook", reason: .invalidConfiguration,
                message: "the webhook URL \(Self.redacted(text)) is not a valid URL")
        }
        try self.init(url: url, timeout: timeout, headers: headers, logger: logger)
    }

    /// The sink for the URL in `DNSWATCH_WEBHOOK_URL`, or `nil` when it is unset or empty. Keeping the
    /// URL in the environment keeps its token out of command lines and config files.
    public static func fromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment,
        timeout: Duration = .seconds(10), headers: [String: String] = [:]
    ) throws(AlertSinkError) -> WebhookSink? {
        guard let value = environment[environmentVariable]?.trimmingCharacters(in: .whitespacesAndNewlines),
            !value.isEmpty
        else { return nil }
        return try WebhookSink(urlString: value, timeout: timeout, headers: headers)
    }

    /// The sink key of a webhook URL: `"webhook:"` and the first 16 hex digits of its SHA-256.
    public static func key(forURL url: String) -> String {
        "webhook:" + String(sha256Hex(Array(url.utf8)).prefix(16))
    }

    /// What may be shown of a URL: `scheme://host[:port]`, never its user info, path, query or
    /// fragment. Text that has no recognisable scheme and host gives a placeholder, not the text.
    public static func redacted(_ text: String) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let components = URLComponents(string: trimmed), let scheme = components.scheme, !scheme.isEmpty,
            let host = components.host, !host.isEmpty
        else {
            return "<unparseable URL>"
        }
        let port = components.port
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        return endpoint(scheme: scheme.lowercased(), host: bare, port: port)
    }

    private static func endpoint(scheme: String, host: String, port: Int?) -> String {
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return "\(scheme)://\(shownHost)" + (port.map { ":\($0)" } ?? "")
    }

    public func deliver(_ alertJSON: [UInt8]) async throws {
        try Task.checkCancellation()
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = .POST
        for (name, value) in headers { request.headers.replaceOrAdd(name: name, value: value) }
        request.headers.replaceOrAdd(name: "Content-Type", value: "application/json")
        if !request.headers.contains(name: "User-Agent") {
            request.headers.add(name: "User-Agent", value: "dnswatch")
        }
        request.body = .bytes(ByteBuffer(bytes: alertJSON))

        // One client per delivery, on NIO's shared event loops: alerts are rare, and a client that
        // lives only as long as the call is always shut down (no pool or event loop outlives it).
        let nanoseconds = Int64(timeout.components.seconds) * 1_000_000_000
            + Int64(timeout.components.attoseconds / 1_000_000_000)
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .nanoseconds(nanoseconds)),
            decompression: .disabled)
        // A refused connection fails the delivery at once (it is retried on the next poll), rather than
        // being retried here until the deadline.
        configuration.connectionPool.retryConnectionEstablishment = false
        let client = HTTPClient(
            eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration, backgroundActivityLogger: logger)
        let outcome: Result<(status: Int, excerpt: String), any Error>
        do {
            let response = try await client.execute(request, deadline: .now() + .nanoseconds(nanoseconds), logger: logger)
            var body: [UInt8] = []
            for try await chunk in response.body {
                body.append(contentsOf: chunk.readableBytesView.prefix(Self.excerptLimit + 1 - body.count))
                if body.count > Self.excerptLimit { break }
            }
            outcome = .success((Int(response.status.code), Self.excerpt(body)))
        } catch {
            outcome = .failure(error)
        }
        do {
            try await client.shutdown()
        } catch {
            logger.debug("webhook client shutdown failed", metadata: ["sink": "\(key)", "error": "\(error)"])
        }

        let status: Int, excerpt: String
        switch outcome {
        case .success(let answer):
            (status, excerpt) = answer
        case .failure(let error):
            if Task.isCancelled { throw CancellationError() }
            throw describe(error)
        }
        guard (200..<300).contains(status) else {
            let redirect = (300..<400).contains(status) ? " (redirects are not followed; configure the final URL)" : ""
            throw AlertSinkError(
                sink: key, reason: .httpStatus(status),
                message: "webhook \(endpoint) answered HTTP \(status)\(redirect)" + (excerpt.isEmpty ? "" : ": \(excerpt)"))
        }
    }

    /// An error of async-http-client or NIO as an ``AlertSinkError`` naming only the endpoint.
    private func describe(_ error: any Error) -> AlertSinkError {
        if let http = error as? HTTPClientError {
            switch http {
            case .deadlineExceeded, .readTimeout, .writeTimeout, .connectTimeout, .tlsHandshakeTimeout,
                .getConnectionFromPoolTimeout:
                return AlertSinkError(
                    sink: key, reason: .timeout, message: "webhook \(endpoint) did not answer within \(timeout.shortDescription)")
            case .remoteConnectionClosed:
                return AlertSinkError(sink: key, reason: .transport, message: "webhook \(endpoint) closed the connection")
            default:
                break
            }
        }
        return AlertSinkError(sink: key, reason: .transport, message: "webhook \(endpoint) unreachable: \(Self.words(for: error))")
    }

    /// A connection failure in words; NIO's own texts are used only once scrubbed of anything URL-like.
    private static func words(for error: any Error) -> String {
        if let io = error as? IOError {
            switch io.errnoCode {
            case ECONNREFUSED: return "connection refused"
            case ENETUNREACH, EHOSTUNREACH: return "no route to the host"
            case ECONNRESET: return "connection reset"
            default: return scrub("\(io)")
            }
        }
        if let connection = error as? NIOConnectionError {
            if let first = connection.connectionErrors.first { return words(for: first.error) }
            if connection.dnsAError != nil || connection.dnsAAAAError != nil { return "host name not found" }
        }
        return scrub(String(describing: error))
    }

    private static let excerptLimit = 200

    /// The first 200 bytes of a response body, printable, on one line.
    static func excerpt(_ body: [UInt8]) -> String {
        let text = String(decoding: body.prefix(excerptLimit), as: UTF8.self)
        let flat = String(text.unicodeScalars.map { $0.properties.generalCategory == .control ? " " : Character($0) })
        return flat.trimmingCharacters(in: .whitespaces) + (body.count > excerptLimit ? "…" : "")
    }

    /// Error texts may quote a URL; cut anything that looks like one.
    private static func scrub(_ text: String) -> String {
        text.split(separator: " ").map { $0.contains("://") || $0.contains("/") ? "<redacted>" : String($0) }
            .joined(separator: " ")
    }
}

/// Lower-case hex of the SHA-256 of `bytes` (swift-crypto).
func sha256Hex(_ bytes: [UInt8]) -> String {
    SHA256.hash(data: bytes).map { byte in
        let digits = Array("0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0f)]])
    }.joined()
}
