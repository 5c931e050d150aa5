import Classification
import Foundation
import SQLiteStore
import Store
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import DNSWatchModel
@testable import Serve
import Testing

/// What every route does with the shape of a request rather than its question (issue 19 rows 11 to 13):
/// methods, percent-encoding, prefix lengths.
@Suite struct RequestShapeTests {
    /// One page of each route family, and what GET answers there.
    static let pages: [(uri: String, status: HTTPResponse.Status)] = [
        ("/", .ok), ("/ui/search?q=c2.example", .seeOther), ("/ui/domain/c2.example", .ok), ("/ui/ip/91.195.240.94", .ok),
        ("/api/v1/history/c2.example", .ok), ("/api/v1/openapi.json", .ok), ("/api/v1/domains", .ok),
        ("/dnsdb/v2/ping", .ok), ("/dnsdb/v2/lookup/rrset/name/c2.example", .ok), ("/dnsdb/v2/summarize/rdata/ip/91.195.240.0,23", .ok),
        ("/pdns/query/c2.example", .ok), ("/metrics", .ok),
    ]

    struct Reply: Sendable {
        let status: HTTPResponse.Status
        let headers: HTTPFields
        let body: String
    }

    static func ask(_ app: some ApplicationProtocol, _ requests: [(HTTPRequest.Method, String, HTTPFields)]) async throws -> [Reply] {
        try await app.test(.router) { client in
            var replies: [Reply] = []
            for (method, uri, headers) in requests {
                replies.append(try await client.execute(uri: uri, method: method, headers: headers) { r in
                    Reply(status: r.status, headers: r.headers, body: String(buffer: r.body))
                })
            }
            return replies
        }
    }

    /// Row 13: HEAD was a 404 with an empty body everywhere; now it answers as GET does, without the body.
    @Test func headWorksWhereverGetDoes() async throws {
        let app = try await UIFixture().app()
        let gets = try await Self.ask(app, Self.pages.map { (.get, $0.uri, [:]) })
        let heads = try await Self.ask(app, Self.pages.map { (.head, $0.uri, [:]) })
        for ((page, get), head) in zip(zip(Self.pages, gets), heads) {
            #expect(get.status == page.status, "GET \(page.uri)")
            #expect(head.status == get.status, "HEAD \(page.uri)")
            #expect(head.headers[.contentType] == get.headers[.contentType], "HEAD \(page.uri)")
            #expect(head.headers[.location] == get.headers[.location], "HEAD \(page.uri)")
            #expect(head.body.isEmpty, "HEAD \(page.uri)")
        }
    }

    /// Row 13: any other method on a path that exists is a 405 naming what is allowed; a path that does not
    /// exist stays a 404.
    @Test func otherMethodsAre405WithAllow() async throws {
        let app = try await UIFixture().app()
        let methods: [HTTPRequest.Method] = [.post, .put, .delete, .patch, .options, try #require(HTTPRequest.Method("PROPFIND"))]
        var requests: [(HTTPRequest.Method, String, HTTPFields)] = []
        for page in Self.pages { for m in methods { requests.append((m, page.uri, [:])) } }
        for (request, reply) in zip(requests, try await Self.ask(app, requests)) {
            #expect(reply.status == .methodNotAllowed, "\(request.0) \(request.1)")
            #expect(reply.headers[.allow] == "GET, HEAD", "\(request.0) \(request.1)")
            #expect(reply.body.contains("GET and HEAD"), "\(request.0) \(request.1)")
        }
        let missing = try await Self.ask(app, [(.post, "/no/such/path", [:]), (.delete, "/api/v1/nothing", [:]), (.get, "/no/such/path", [:])])
        #expect(missing.map(\.status) == [.notFound, .notFound, .notFound])
    }

    /// Keys are checked first, whatever the method: no key 401, a wrong one 403, then HEAD answers and POST is a 405.
    @Test func methodsStillNeedAKey() async throws {
        let fixture = try await UIFixture()
        let deps = ServeDependencies(store: try SQLiteStore.readOnly(path: fixture.path), classifier: Classifier(fingerprints: try .embedded()))
        let policy = AuthPolicy(keys: [APIKey(name: "alice", key: "k-alice")], metricsOpen: false)
        let app = Application(router: DNSWatchServer.router(deps, auth: policy))
        let key: HTTPFields = [try #require(HTTPField.Name("X-API-Key")): "k-alice"]
        let wrong: HTTPFields = [try #require(HTTPField.Name("X-API-Key")): "k-bob"]
        let uri = "/api/v1/history/c2.example"
        let replies = try await Self.ask(app, [(.head, uri, [:]), (.post, uri, [:]), (.head, uri, wrong), (.post, uri, wrong),
                                              (.head, uri, key), (.post, uri, key)])
        #expect(replies.map(\.status) == [.unauthorized, .unauthorized, .forbidden, .forbidden, .ok, .methodNotAllowed])
        #expect(replies.allSatisfy { !$0.body.contains("c2.example") })
    }

    /// Row 12: a malformed escape or bytes that are not UTF-8, in a query parameter's name or value or in a
    /// path segment, is a 400 with a sentence; it was a redirect to a punycode name, or `[]` for a list named `%ZZ`.
    @Test func badPercentEncodingIsA400() async throws {
        let app = try await UIFixture().app()
        let bad = [
            "/ui/search?q=%FF", "/ui/search?q=c2%ZZexample", "/ui/search?q=%E2%82", "/api/v1/domains?list=%ZZ", "/api/v1/domains?list=%FF",
            "/api/v1/alerts?%FF=1", "/api/v1/history/c2.example?since=%", "/api/v1/triage/91.195.240.94?at=%C0%80",
            "/dnsdb/v2/lookup/rrset/name/c2.example?time_first_after=%ZZ", "/dnsdb/v2/lookup/rrset/name/c2.example?swclient=%FF",
            "/ui/domain/c2%FF.example", "/ui/ip/91.195.240.%ZZ", "/api/v1/history/%ZZ", "/api/v1/ip/91.195.240.94%2F%F0",
            "/dnsdb/v2/lookup/rrset/name/%C0%80", "/pdns/query/c2%2.example",
        ]
        for (uri, reply) in zip(bad, try await Self.ask(app, bad.map { (.get, $0, [:]) })) {
            #expect(reply.status == .badRequest, "\(uri): \(reply.status) \(reply.body.prefix(200))")
            #expect(reply.body.contains("percent-encod"), "\(uri): \(reply.body.prefix(300))")
        }
        // Good escapes still work.
        let good = try await Self.ask(app, [(.get, "/ui/search?q=c2%2Eexample", [:]), (.get, "/api/v1/domains?list=urs%6Eif", [:]),
                                            (.get, "/api/v1/history/c2%2Eexample?since=2026-12-01T00%3A00%3A00Z", [:])])
        #expect(good.map(\.status) == [.seeOther, .ok, .ok])
        #expect(good[0].headers[.location] == "/ui/domain/c2.example")
        #expect(good[1].body.contains("c2.example") && good[2].body.contains("91.195.240.94"))
    }

    /// Found by FuzzHTTP: the web page's refusals carried the input's control and bidi characters raw (the
    /// page escaped them for HTML, but a refusal is one rule everywhere: made visible by VisibleText).
    @Test func webPageRefusalsShowControlCharactersVisibly() throws {
        for raw in ["%E2%80%AE%1B[31m", "\u{202E}evil", "a%00b"] {
            for result in [UIRoutes.addressQuery(raw).map { _ in "" }, UIRoutes.domainName(raw).map { _ in "" }] {
                guard case .failure(let problem) = result else { Issue.record("\(raw) accepted"); continue }
                #expect(!problem.message.unicodeScalars.contains(where: VisibleText.needsEscape), "\(problem.message.debugDescription)")
            }
        }
        #expect(HTTPInputProbe.outcomes("%E2%80%AE%1B[31m").allSatisfy { outcome in
            guard case .refused(let m) = outcome else { return true }
            return !m.unicodeScalars.contains(where: VisibleText.needsEscape)
        })
    }

    /// Row 11: a prefix length with a leading zero is refused by every route that reads prefixes (it was read as /24).
    @Test func leadingZeroPrefixLengthIsRefused() async throws {
        let app = try await UIFixture().app()
        let bad = ["/api/v1/ip/91.195.240.0/023", "/api/v1/ip/91.195.240.0,023", "/ui/ip/91.195.240.0/023", "/ui/search?q=91.195.240.0/023",
                   "/dnsdb/v2/lookup/rdata/ip/91.195.240.0,023", "/pdns/query/91.195.240.0,023"]
        for (uri, reply) in zip(bad, try await Self.ask(app, bad.map { (.get, $0, [:]) })) {
            #expect(reply.status == .badRequest, "\(uri): \(reply.status)")
        }
        let good = try await Self.ask(app, [(.get, "/api/v1/ip/91.195.240.0/23", [:])])
        #expect(good[0].status == .ok && good[0].body.contains("c2.example"))
    }
}
