import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// POSTs each alert, as the request body with `Content-Type: application/json`, to a URL.
///
/// Only a 2xx answer counts as delivered; redirects are not followed (they count as failures, naming
/// the status). Every call is bounded by `timeout`. The URL often carries a token (Slack, Teams,
/// Mattermost hooks), so neither ``key`` nor error messages contain its path or query: the key is a
/// hash of the URL, messages name only scheme, host and port (``endpoint``).
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
    private let session: URLSession

    /// - Parameters:
    ///   - url: an `http` or `https` URL.
    ///   - timeout: the longest one delivery may take, connection included (default 10 s).
    ///   - headers: extra request headers (e.g. `Authorization`); `Content-Type` is always
    ///     `application/json`.
    public init(url: URL, timeout: Duration = .seconds(10), headers: [String: String] = [:]) throws(AlertSinkError) {
        let scheme = url.scheme?.lowercased() ?? ""
        guard scheme == "http" || scheme == "https", let host = url.host, !host.isEmpty else {
            throw AlertSinkError(
                sink: "webhook", reason: .invalidConfiguration,
                message: "the webhook URL must be an http:// or https:// URL with a host")
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
        self.key = "webhook:" + String(SHA256.hex(Array(url.absoluteString.utf8)).prefix(16))
        let shownHost = host.contains(":") ? "[\(host)]" : host
        self.endpoint = "\(scheme)://\(shownHost)" + (url.port.map { ":\($0)" } ?? "")

        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = Self.sessionTimeout(timeout)
        configuration.timeoutIntervalForResource = Self.sessionTimeout(timeout)
        configuration.urlCache = nil
        configuration.httpCookieStorage = nil
        configuration.httpShouldSetCookies = false
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        self.session = URLSession(configuration: configuration, delegate: NoRedirects(), delegateQueue: nil)
    }

    /// - Parameter urlString: the URL as text; see ``init(url:timeout:headers:)``.
    public convenience init(urlString: String, timeout: Duration = .seconds(10), headers: [String: String] = [:])
        throws(AlertSinkError)
    {
        guard let url = URL(string: urlString.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw AlertSinkError(sink: "webhook", reason: .invalidConfiguration, message: "the webhook URL is not a valid URL")
        }
        try self.init(url: url, timeout: timeout, headers: headers)
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

    deinit {
        session.finishTasksAndInvalidate()
    }

    public func deliver(_ alertJSON: [UInt8]) async throws {
        try Task.checkCancellation()
        var request = URLRequest(
            url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: Self.sessionTimeout(timeout))
        request.httpMethod = "POST"
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        if headers.keys.allSatisfy({ $0.lowercased() != "user-agent" }) {
            request.setValue("dnswatch", forHTTPHeaderField: "User-Agent")
        }
        request.httpBody = Data(alertJSON)

        let status: Int
        let body: Data
        do {
            (status, body) = try await HTTPPost.send(request, session: session, timeout: timeout)
        } catch let failure as HTTPPost.Failure {
            switch failure {
            case .timedOut:
                throw AlertSinkError(
                    sink: key, reason: .timeout, message: "webhook \(endpoint) did not answer within \(timeout.shortDescription)")
            case .transport(let urlError, let text):
                throw AlertSinkError(
                    sink: key, reason: .transport, message: "webhook \(endpoint) unreachable: \(Self.describe(urlError, text))")
            }
        }
        guard (200..<300).contains(status) else {
            let excerpt = Self.excerpt(body)
            let redirect = (300..<400).contains(status) ? " (redirects are not followed; configure the final URL)" : ""
            throw AlertSinkError(
                sink: key, reason: .httpStatus(status),
                message: "webhook \(endpoint) answered HTTP \(status)\(redirect)" + (excerpt.isEmpty ? "" : ": \(excerpt)"))
        }
    }

    /// The timeout handed to URLSession, a backstop only: the exact bound is enforced by
    /// `HTTPPost.send`. On Linux URLSession truncates timeouts to whole seconds (0.6 s becomes an
    /// immediate failure), so it gets the next whole second plus one.
    private static func sessionTimeout(_ timeout: Duration) -> TimeInterval {
        max(1, timeout.timeInterval.rounded(.up)) + 1
    }

    private static func describe(_ error: URLError?, _ fallback: String) -> String {
        switch error?.code {
        case .cannotConnectToHost?: "connection refused"
        case .cannotFindHost?, .dnsLookupFailed?: "host name not found"
        case .networkConnectionLost?: "connection lost"
        case .notConnectedToInternet?: "no network"
        case .secureConnectionFailed?, .serverCertificateUntrusted?, .serverCertificateHasBadDate?,
            .serverCertificateNotYetValid?, .serverCertificateHasUnknownRoot?:
            "TLS failure"
        case .badServerResponse?: "malformed HTTP answer"
        default: scrub(fallback)
        }
    }

    /// The first 200 bytes of a response body, printable, on one line.
    static func excerpt(_ body: Data) -> String {
        let text = String(decoding: body.prefix(200), as: UTF8.self)
        let flat = String(text.unicodeScalars.map { $0.properties.generalCategory == .control ? " " : Character($0) })
        return flat.trimmingCharacters(in: .whitespaces) + (body.count > 200 ? "…" : "")
    }

    /// Error texts from URLSession may quote the URL; cut anything that looks like one.
    private static func scrub(_ text: String) -> String {
        text.split(separator: " ").map { $0.contains("://") ? "<url>" : String($0) }.joined(separator: " ")
    }
}
