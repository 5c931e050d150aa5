import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Serve
import Testing
import TestSupport

@Suite(.serialized) struct OpenAPITests {
    static let document = DNSWatchBinary.packageRoot.appendingPathComponent("Sources/Serve/openapi.json")

    @Test func theServedDocumentIsTheRepositorysAndValid() async throws {
        let app = Application(router: try await APITests.world.value.router())
        let served = try await app.test(.router) { client in
            try await client.execute(uri: "/api/v1/openapi.json", method: .get) { r in
                #expect(r.status == .ok)
                #expect(r.headers[.contentType] == "application/json")
                return String(buffer: r.body)
            }
        }
        #expect(served == (try String(contentsOf: OpenAPITests.document, encoding: .utf8)), "the binary serves the repository's document")
        let r = try await Tools.run(try Tools.python("openapi-spec-validator"), [OpenAPITests.document.path])
        #expect(r.code == 0, "openapi-spec-validator: \(r.out)\(r.err)")
    }

    /// Every /api/v1 path in the code is in the document, and the other families at least summarised.
    @Test func theDocumentNamesEveryPath() throws {
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: OpenAPITests.document)) as? [String: Any])
        let paths = Set(((doc["paths"] as? [String: Any]) ?? [:]).keys)
        for p in ["/api/v1/history/{domain}", "/api/v1/ip/{address}", "/api/v1/triage/{value}", "/api/v1/alerts", "/api/v1/domains",
                  "/api/v1/openapi.json", "/dnsdb/v2/ping", "/dnsdb/v2/rate_limit", "/dnsdb/v2/lookup/rrset/name/{name}",
                  "/dnsdb/v2/lookup/rdata/ip/{value}", "/dnsdb/v2/lookup/rdata/name/{name}", "/pdns/query/{value}", "/metrics"] {
            #expect(paths.contains(p), "\(p) is missing from openapi.json")
        }
        let schemes = ((doc["components"] as? [String: Any])?["securitySchemes"] as? [String: Any]) ?? [:]
        #expect(Set(schemes.keys) == ["ApiKey", "bearer", "basic"])
    }

    /// schemathesis generates requests from the document (valid and invalid values) against a live server
    /// over a database made by real polls, checking every answer against the document: no 5xx, statuses,
    /// content types, headers and bodies (JSON schemas) as documented.
    @Test func schemathesisFindsNoServerErrorAndNoMismatch() async throws {
        let st = try Tools.python("st")
        let app = Application(router: try await APITests.world.value.router(), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let workdir = try TemporaryDirectory("dnswatch-st")
            let report = workdir.url.appendingPathComponent("report.xml")
            let r = try await Tools.run(st, [
                "run", OpenAPITests.document.path, "--url", "http://127.0.0.1:\(port)", "--include-path-regex", "^/api/v1/",
                // Every check but three: whether a value is valid is not expressible by the schema for free-form
                // strings (a domain name, a TIME), so schemathesis' guesses of "valid" and "invalid" requests are
                // not the API's; and Hummingbird answers an undeclared method with 404, not 405.
                "--checks", "all", "--exclude-checks", "positive_data_acceptance,negative_data_rejection,unsupported_method",
                "--max-examples", "30", "--seed", "9", "--workers", "1", "--no-color",
                "--report", "junit", "--report-junit-path", report.path,
            ], environment: ["SCHEMATHESIS_HOOKS": "", "NO_COLOR": "1"], in: workdir.url)  // its .schemathesis/ there
            #expect(r.code == 0, "schemathesis:\n\(r.out)\(r.err)")
            let junit = try String(contentsOf: report, encoding: .utf8)
            #expect(junit.contains("tests=\"7\""), "seven /api/v1 operations tested: \(junit.prefix(400))")
            print("schemathesis summary:\n" + r.out.split(separator: "\n").suffix(25).joined(separator: "\n"))
        }
    }
}
