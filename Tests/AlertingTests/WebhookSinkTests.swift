import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport
@testable import Alerting

@Suite("WebhookSink")
struct WebhookSinkTests {
    let alert = Array(#"{"id":7,"type":"activation","domain":"bad.example","severity":"critical"}"#.utf8)

    @Test("fails on 503 naming the status, succeeds once the server recovers, posts exactly the JSON")
    func retriesAfter503() async throws {
        let server = try TestHTTPServer(.failFirst(2, status: 503))
        defer { server.stop() }
        let sink = try WebhookSink(url: server.url, timeout: .seconds(5), headers: ["X-Team": "soc"])

        for attempt in 1...2 {
            let error = await #expect(throws: AlertSinkError.self) { try await sink.deliver(alert) }
            #expect(error?.reason == .httpStatus(503), "attempt \(attempt)")
            #expect(error?.message.contains("503") == true)
            #expect(error?.message.contains("try again later") == true)
            #expect(error?.description.contains("SECRET") == false)
        }
        try await sink.deliver(alert)

        let requests = server.recorded
        #expect(requests.count == 3)
        for request in requests {
            #expect(request.method == "POST")
            #expect(request.path == "/hooks/T0SECRET/B0SECRET/xoxSECRETTOKEN")
            #expect(request.body == alert)
            #expect(request.headers["content-type"] == "application/json")
            #expect(request.headers["x-team"] == "soc")
        }
    }

    #if os(Linux)
    @Test("deliveries shut their HTTP client down: no thread or descriptor is left behind per delivery")
    func noLeaks() async throws {
        let server = try TestHTTPServer(.failFirst(0, status: 503))
        defer { server.stop() }
        let sink = try WebhookSink(url: server.url, timeout: .seconds(5))
        func count(_ directory: String) throws -> Int { try FileManager.default.contentsOfDirectory(atPath: directory).count }
        try await sink.deliver(alert)  // NIO's shared event loops and thread pool start once
        let threads = try count("/proc/self/task"), descriptors = try count("/proc/self/fd")
        for _ in 0..<20 { try await sink.deliver(alert) }
        #expect(server.recorded.count == 21)
        #expect(try count("/proc/self/task") <= threads + 2, "threads grow with deliveries")
        #expect(try count("/proc/self/fd") <= descriptors + 2, "descriptors grow with deliveries")
    }
    #endif

    @Test("the key and the messages do not reveal the URL's token")
    func keyHidesToken() async throws {
        let url = "https://hooks.example.com/services/T000/B000/XXXXSECRET?token=abc"
        let sink = try WebhookSink(urlString: url)
        // The first 16 hex digits of SHA-256(url), as `printf %s URL | sha256sum` gives them: existing
        // outboxes keep matching their sinks.
        #expect(sink.key == "webhook:07629ca759f2adf5")
        #expect(WebhookSink.key(forURL: url) == sink.key)
        #expect(sink.key.count == "webhook:".count + 16)
        #expect(!sink.key.contains("SECRET"))
        #expect(sink.endpoint == "https://hooks.example.com")
        #expect(try WebhookSink(urlString: url).key == sink.key, "the key is stable")
        #expect(try WebhookSink(urlString: url + "x").key != sink.key)
    }

    @Test("a loopback port where nothing listens fails at once, without retrying", .timeLimit(.minutes(1)))
    func connectionRefused() async throws {
        let port = try TestHTTPServer.closedPort()
        // Ten minutes of timeout: a client that retried the connection until its deadline would outlast
        // the time limit (a failure); one that gives up at the refusal ends long before.
        let sink = try WebhookSink(urlString: "http://127.0.0.1:\(port)/hook", timeout: .seconds(600))
        let error = await #expect(throws: AlertSinkError.self) { try await sink.deliver(alert) }
        #expect(error?.reason == .transport)
        #expect(error?.message.contains("127.0.0.1:\(port)") == true)
    }

    @Test("a server that never answers runs into the timeout", .timeLimit(.minutes(1)))
    func timeout() async throws {
        // The server reads the request and holds the connection open until stopped: without the timeout
        // the delivery would wait for ever (the time limit ends that as a failure).
        let server = try TestHTTPServer(.neverAnswer)
        defer { server.stop() }
        let sink = try WebhookSink(url: server.url, timeout: .milliseconds(600))
        let error = await #expect(throws: AlertSinkError.self) { try await sink.deliver(alert) }
        #expect(error?.reason == .timeout)
        #expect(error?.message.contains("within 0.6s") == true)
        #expect(try await eventually { server.recorded.count == 1 }, "the request reached the server: the wait was for the answer")
    }

    @Test("a redirect is a failure and is not followed")
    func redirectNotFollowed() async throws {
        let server = try TestHTTPServer(.redirect)
        defer { server.stop() }
        let sink = try WebhookSink(url: server.url, timeout: .seconds(5))
        let error = await #expect(throws: AlertSinkError.self) { try await sink.deliver(alert) }
        #expect(error?.reason == .httpStatus(302))
        #expect(error?.message.contains("redirects are not followed") == true)
        #expect(server.recorded.count == 1)
    }

    /// Whether a TCP socket can be bound on [::1] here (not on a machine with IPv6 disabled).
    static let loopback6Available: Bool = {
        guard let (fd, _) = try? LoopbackSocket.bind(type: Int32(SOCK_STREAM.rawValue), ipv6: true) else { return false }
        close(fd)
        return true
    }()

    @Test(
        "an IPv6 literal URL such as http://[::1]:PORT/hook delivers",
        .enabled(if: loopback6Available, "skipped: ::1 is not available on this machine (IPv6 disabled)"))
    func ipv6Literal() async throws {
        let server = try TestHTTPServer(.failFirst(0, status: 503), ipv6: true)
        defer { server.stop() }
        let sink = try WebhookSink(urlString: "http://[::1]:\(server.port)/hook", timeout: .seconds(5))
        #expect(sink.endpoint == "http://[::1]:\(server.port)")
        try await sink.deliver(alert)
        #expect(server.recorded.map(\.path) == ["/hook"])
        #expect(server.recorded.first?.body == alert)
    }

    @Test("messages about a URL show its scheme and host only, never user info, path or query")
    func redaction() async throws {
        let secret = "htps://user:pw@hooks.example/T0/SECRET?token=abc"
        #expect(WebhookSink.redacted(secret) == "htps://hooks.example")
        #expect(WebhookSink.redacted("https://u:p@[2001:db8::1]:8443/x/SECRET") == "https://[2001:db8::1]:8443")
        #expect(WebhookSink.redacted("not a url SECRET") == "<unparseable URL>")
        let error = #expect(throws: AlertSinkError.self) { try WebhookSink(urlString: secret) }
        for part in ["pw", "user:", "T0", "SECRET", "token"] {
            #expect(error?.message.contains(part) == false, "\(part) in \(error?.message ?? "")")
        }
        #expect(error?.message.contains("htps://hooks.example") == true)

        let port = try TestHTTPServer.closedPort()
        let sink = try WebhookSink(urlString: "http://user:pw@127.0.0.1:\(port)/T0/SECRET?q=1", timeout: .seconds(5))
        let failure = await #expect(throws: AlertSinkError.self) { try await sink.deliver(alert) }
        for part in ["pw", "user:", "T0", "SECRET"] {
            #expect(failure?.description.contains(part) == false, "\(part) in \(failure?.description ?? "")")
        }
    }

    @Test("cancelling a delivery the server holds ends it with CancellationError", .timeLimit(.minutes(1)))
    func cancellation() async throws {
        let server = try TestHTTPServer(.neverAnswer)
        defer { server.stop() }
        // Ten minutes of timeout: only the cancellation ends the delivery before the time limit does.
        let sink = try WebhookSink(url: server.url, timeout: .seconds(600))
        let alert = self.alert
        let task = Task { try await sink.deliver(alert) }
        try await waitUntil("the server received the request") { server.recorded.count == 1 }
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(server.recorded.count == 1)
    }

    @Test("DNSWATCH_WEBHOOK_URL configures the sink from the environment")
    func fromEnvironment() async throws {
        #expect(try WebhookSink.fromEnvironment([:]) == nil)
        #expect(try WebhookSink.fromEnvironment(["DNSWATCH_WEBHOOK_URL": "  "]) == nil)
        let url = "http://127.0.0.1:9/hook/SECRET"
        let sink = try #require(try WebhookSink.fromEnvironment(["DNSWATCH_WEBHOOK_URL": url], timeout: .seconds(2)))
        #expect(sink.key == (try WebhookSink(urlString: url)).key)
        #expect(sink.timeout == .seconds(2))
        #expect(throws: AlertSinkError.self) { try WebhookSink.fromEnvironment(["DNSWATCH_WEBHOOK_URL": "ftp://x/y"]) }
    }

    @Test("bad configurations are refused", arguments: ["file:///tmp/x", "not a url", "http://", "mailto:soc@example.com"])
    func invalidURL(_ text: String) {
        let error = #expect(throws: AlertSinkError.self) { try WebhookSink(urlString: text) }
        #expect(error?.reason == .invalidConfiguration)
    }

    @Test("header values with line breaks are refused")
    func invalidHeader() {
        #expect(throws: AlertSinkError.self) {
            try WebhookSink(urlString: "http://127.0.0.1/x", headers: ["X-A": "a\r\nInjected: 1"])
        }
    }

    @Test("SHA-256 (swift-crypto) matches the FIPS 180-4 test vectors")
    func sha256() {
        #expect(sha256Hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(sha256Hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(
            sha256Hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }
}
