import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Serve
import TestSupport
import Testing

@Suite struct AuthTests {
    static let keyFile = """
        # the team's keys
        alice k-alice-0123456789

        s3cr3t-unnamed-key
        """

    func policy(metricsOpen: Bool = false) throws -> AuthPolicy {
        AuthPolicy(keys: try AuthPolicy.parseKeyFile(AuthTests.keyFile), metricsOpen: metricsOpen)
    }

    static let endpoints = [
        "/", "/dnsdb/v2/ping", "/dnsdb/v2/lookup/rrset/name/a.example", "/dnsdb/v2/lookup/rdata/ip/192.0.2.1",
        "/dnsdb/v2/summarize/rrset/name/a.example", "/pdns/query/a.example", "/api/v1/history/a.example",
        "/api/v1/openapi.json", "/ui/domain/a.example", "/metrics", "/no/such/path",
    ]

    @Test func keyFileNamesKeysAndNeverUsesTheKeyAsName() throws {
        let keys = try AuthPolicy.parseKeyFile(AuthTests.keyFile)
        #expect(keys.map(\.name) == ["alice", "key2"])
        #expect(throws: APIKeyFileError.self) { try AuthPolicy.parseKeyFile("a b c\n") }
        #expect(throws: APIKeyFileError.self) { try AuthPolicy.parseKeyFile("# only a comment\n") }
        #expect(throws: APIKeyFileError.self) { try AuthPolicy.parseKeyFile("x k1\nx k2\n") }
        // A comment after the key is a comment: the key is not taken for a name (names are logged).
        let commented = try AuthPolicy.parseKeyFile("s3cr3t-key   # the SOC's\nbob k-bob # Bob\n")
        #expect(commented.map(\.name) == ["key1", "bob"])
        #expect(AuthPolicy(keys: commented, metricsOpen: false).name(of: "s3cr3t-key") == "key1")
        #expect(AuthPolicy(keys: commented, metricsOpen: false).name(of: "#") == nil)
        let p = try policy()
        #expect(p.name(of: "k-alice-0123456789") == "alice")
        #expect(p.name(of: "s3cr3t-unnamed-key") == "key2")
        #expect(p.name(of: "k-alice-012345678") == nil)
        #expect(p.name(of: "") == nil)
    }

    @Test(arguments: endpoints)
    func noKeyIs401WithABasicChallengeAndNoData(_ uri: String) async throws {
        let app = try await PDNSFixture.app(auth: try policy())
        try await app.test(.router) { client in
            try await client.execute(uri: uri, method: .get) { r in
                #expect(r.status == .unauthorized, "\(uri)")
                #expect(r.headers[.wwwAuthenticate] == "Basic realm=\"dnswatch\"", "\(uri)")
                #expect(!String(buffer: r.body).contains("example"), "\(uri)")
            }
        }
    }

    @Test(arguments: endpoints)
    func wrongKeyIs403WithNoData(_ uri: String) async throws {
        let app = try await PDNSFixture.app(auth: try policy())
        try await app.test(.router) { client in
            for headers: HTTPFields in [[try hf("X-API-Key"): "wrong"], [.authorization: "Bearer wrong"],
                                        [.authorization: "Basic " + Data("u:wrong".utf8).base64EncodedString()]] {
                try await client.execute(uri: uri, method: .get, headers: headers) { r in
                    #expect(r.status == .forbidden, "\(uri)")
                    #expect(!String(buffer: r.body).contains("example"), "\(uri)")
                }
            }
        }
    }

    @Test func eachCredentialFormIsAccepted() async throws {
        let app = try await PDNSFixture.app(auth: try policy())
        let key = "k-alice-0123456789"
        try await app.test(.router) { client in
            for headers: HTTPFields in [[try hf("X-API-Key"): key], [.authorization: "Bearer \(key)"], [.authorization: key],
                                        [.authorization: "Basic " + Data("anyone:\(key)".utf8).base64EncodedString()],
                                        [.authorization: "Basic " + Data(":\(key)".utf8).base64EncodedString()]] {
                try await client.execute(uri: "/dnsdb/v2/lookup/rrset/name/a.example/A", method: .get, headers: headers) { r in
                    #expect(r.status == .ok, "\(headers)")
                    #expect(saf(r.body).objects.count == 2)
                }
            }
        }
    }

    @Test func metricsNeedNoKeyOnlyOnLoopback() async throws {
        let open = try await PDNSFixture.app(auth: try policy(metricsOpen: true))
        try await open.test(.router) { client in
            try await client.execute(uri: "/metrics", method: .get) { r in
                #expect(r.status != .unauthorized && r.status != .forbidden)
            }
            try await client.execute(uri: "/dnsdb/v2/ping", method: .get) { r in #expect(r.status == .unauthorized) }
        }
        let closed = try await PDNSFixture.app(auth: try policy(metricsOpen: false))
        try await closed.test(.router) { client in
            try await client.execute(uri: "/metrics", method: .get) { r in #expect(r.status == .unauthorized) }
        }
    }

    @Test func requestLogNamesTheKeyNeverShowsIt() async throws {
        let capture = LogCapture()
        let app = try await PDNSFixture.app(auth: try policy(), logger: capture.logger)
        try await app.test(.router) { client in
            try await client.execute(uri: "/dnsdb/v2/lookup/rrset/name/a.example/A?limit=5", method: .get,
                                     headers: [try hf("X-API-Key"): "k-alice-0123456789"]) { r in #expect(r.status == .ok) }
            try await client.execute(uri: "/dnsdb/v2/ping", method: .get,
                                     headers: [.authorization: "Basic " + Data("u:s3cr3t-unnamed-key".utf8).base64EncodedString()]) { r in
                #expect(r.status == .ok)
            }
            try await client.execute(uri: "/dnsdb/v2/ping", method: .get, headers: [.authorization: "Bearer not-a-key-at-all"]) { r in
                #expect(r.status == .forbidden)
            }
            try await client.execute(uri: "/dnsdb/v2/ping", method: .get) { r in #expect(r.status == .unauthorized) }
        }
        let lines = capture.lines
        #expect(lines.contains { $0.contains("alice GET /dnsdb/v2/lookup/rrset/name/a.example/A 200") }, "\(lines)")
        #expect(lines.contains { $0.contains("key2 GET /dnsdb/v2/ping 200") }, "\(lines)")
        #expect(lines.contains { $0.contains("- GET /dnsdb/v2/ping 403") }, "\(lines)")
        #expect(lines.contains { $0.contains("- GET /dnsdb/v2/ping 401") }, "\(lines)")
        for secret in ["k-alice-0123456789", "s3cr3t-unnamed-key", "not-a-key-at-all", "limit=5"] {
            #expect(!lines.contains { $0.contains(secret) }, "\(secret) in \(lines)")
        }
    }

    @Test func withoutKeysEveryRequestIsAnswered() async throws {
        let capture = LogCapture()
        let app = try await PDNSFixture.app(logger: capture.logger)
        try await app.test(.router) { client in
            try await client.execute(uri: "/dnsdb/v2/ping", method: .get) { r in #expect(r.status == .ok) }
        }
        #expect(capture.lines.contains { $0.contains("- GET /dnsdb/v2/ping 200") })
    }
}
