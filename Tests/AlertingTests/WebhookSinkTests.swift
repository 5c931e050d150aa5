import Foundation
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

    @Test("the key and the messages do not reveal the URL's token")
    func keyHidesToken() async throws {
        let url = "https://hooks.example.com/services/T000/B000/XXXXSECRET?token=abc"
        let sink = try WebhookSink(urlString: url)
        let expectedKey = "webhook:" + String(SHA256.hex(Array(url.utf8)).prefix(16))
        #expect(sink.key == expectedKey)
        #expect(sink.key.count == "webhook:".count + 16)
        #expect(!sink.key.contains("SECRET"))
        #expect(sink.endpoint == "https://hooks.example.com")
        #expect(try WebhookSink(urlString: url).key == sink.key, "the key is stable")
        #expect(try WebhookSink(urlString: url + "x").key != sink.key)
    }

    @Test("a loopback port where nothing listens fails fast")
    func connectionRefused() async throws {
        let port = try TestHTTPServer.closedPort()
        let sink = try WebhookSink(urlString: "http://127.0.0.1:\(port)/hook", timeout: .seconds(10))
        let start = ContinuousClock.now
        let error = await #expect(throws: AlertSinkError.self) { try await sink.deliver(alert) }
        #expect(ContinuousClock.now - start < .seconds(3))
        #expect(error?.reason == .transport)
        #expect(error?.message.contains("127.0.0.1:\(port)") == true)
    }

    @Test("a server that never answers runs into the timeout")
    func timeout() async throws {
        let server = try TestHTTPServer(.neverAnswer)
        defer { server.stop() }
        let sink = try WebhookSink(url: server.url, timeout: .milliseconds(600))
        let start = ContinuousClock.now
        let error = await #expect(throws: AlertSinkError.self) { try await sink.deliver(alert) }
        let elapsed = ContinuousClock.now - start
        #expect(error?.reason == .timeout)
        #expect(error?.message.contains("within 0.6s") == true)
        #expect(elapsed >= .milliseconds(550))
        #expect(elapsed < .seconds(3))
    }

    @Test("a redirect is a failure and is not followed")
    func redirectNotFollowed() async throws {
        let server = try TestHTTPServer(.redirect)
        defer { server.stop() }
        let sink = try WebhookSink(url: server.url, timeout: .seconds(5))
        let error = await #expect(throws: AlertSinkError.self) { try await sink.deliver(alert) }
        #expect(error?.reason == .httpStatus(302))
        #expect(server.recorded.count == 1)
    }

    @Test("cancelling a delivery to a silent server ends it promptly with CancellationError")
    func cancellation() async throws {
        let server = try TestHTTPServer(.neverAnswer)
        defer { server.stop() }
        let sink = try WebhookSink(url: server.url, timeout: .seconds(30))
        let alert = self.alert
        let task = Task { try await sink.deliver(alert) }
        try await Task.sleep(for: .milliseconds(300))
        let start = ContinuousClock.now
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(ContinuousClock.now - start < .seconds(2))
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

    @Test("SHA-256 matches the FIPS 180-4 test vectors")
    func sha256() {
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(
            SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(
            SHA256.hex([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000))
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }
}
