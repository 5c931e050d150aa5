import DNSWatchModel
import Foundation
@testable import Resolver
import TestSupport
import Testing

@Suite struct EndpointTests {
    @Test(arguments: [
        ("192.0.2.1", "192.0.2.1:53"),
        ("192.0.2.1:5353", "192.0.2.1:5353"),
        (" 127.0.0.1:53 ", "127.0.0.1:53"),
        ("[2001:db8::1]:5353", "[2001:db8::1]:5353"),
        ("[::1]", "[::1]:53"),
        ("2001:DB8:0:0::1", "[2001:db8::1]:53"),
        ("::1", "[::1]:53"),
    ])
    func parses(text: String, expected: String) throws {
        #expect(try ResolverEndpoint(text).description == expected)
    }

    @Test func fields() async throws {
        let e = try ResolverEndpoint("[2001:db8::53]:8053")
        #expect(e.port == 8053)
        #expect(e.address == IPAddress("2001:db8::53"))
        #expect(try ResolverEndpoint("10.0.0.1") == ResolverEndpoint(address: try #require(IPAddress("10.0.0.1")), port: 53))
    }

    @Test(arguments: ["", "dns.google", "dns.google:53", "1.2.3.4:", "1.2.3.4:0", "1.2.3.4:70000", "1.2.3.4:x",
                      "[::1", "[::1]x", "[::1]:", "1.2.3", "999.1.1.1", "[1.2.3.4]:ab"])
    func rejects(text: String) {
        #expect(throws: ResolverError.self) { try ResolverEndpoint(text) }
    }

    @Test func resolvConfText() {
        let text = """
        # generated
        ; comment
        search corp.example
        nameserver 10.0.0.2
        nameserver\t2001:db8::35
        nameserver fe80::1%eth0
        nameserver not-an-ip
        nameserver 10.0.0.2
        options edns0 trust-ad
        #nameserver 10.9.9.9
          nameserver 192.0.2.9
        """
        #expect(ResolverEndpoint.parseResolvConf(text).map(\.description) == ["10.0.0.2:53", "[2001:db8::35]:53", "192.0.2.9:53"])
    }

    @Test func resolvConfFile() async throws {
        let dir = try TemporaryDirectory("resolvconf").url
        let good = dir.appendingPathComponent("good").path
        try "nameserver 127.0.0.53\n".write(toFile: good, atomically: true, encoding: .utf8)
        #expect(try ResolverEndpoint.systemResolvers(resolvConf: good).map(\.description) == ["127.0.0.53:53"])
        let empty = dir.appendingPathComponent("empty").path
        try "search x\n".write(toFile: empty, atomically: true, encoding: .utf8)
        #expect(throws: ResolverError.self) { try ResolverEndpoint.systemResolvers(resolvConf: empty) }
        #expect(throws: ResolverError.self) { try ResolverEndpoint.systemResolvers(resolvConf: dir.appendingPathComponent("missing").path) }
    }

    @Test func resolverNeedsEndpoints() {
        #expect(throws: ResolverError.noEndpoints) { try DNSResolver(endpoints: [], options: ResolverOptions()) }
    }

    @Test func defaults() {
        let o = ResolverOptions()
        #expect(o.timeout == 2)
        #expect(o.retries == 2)
        #expect(o.maxInFlight == 512)
        #expect(o.queriesPerSecondPerResolver == nil)
        #expect(o.ednsBufferSize == 1232)
        #expect(o.tcpOnTruncation)
    }
}
