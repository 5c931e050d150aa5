import DNSWatchModel
import Foundation
import Resolver
import Synchronization
import TestSupport

/// Zone data served by the test Unbound.
enum Zone {
    static let zones = ["example. static"]
    static let data = [
        "example. 300 IN SOA ns.example. hostmaster.example. 1 3600 600 86400 60",
        "a.example. 300 IN A 192.0.2.1",
        "a.example. 300 IN A 192.0.2.2",
        "a.example. 300 IN AAAA 2001:db8:0:0:0:0:0:1",
        "a.example. 300 IN NS NS1.Example.NET.",
        "a.example. 300 IN NS ns2.example.net.",
        "www.example. 300 IN CNAME a.example.",
        "asn.example. 300 IN TXT \"47846 | 91.195.240.0/23 | DE | ripencc | 2009-04-08\"",
    ]

    static func unbound(extra: [String] = [], extraConfig: String = "", ipv6: Bool = false) throws -> UnboundServer {
        try UnboundServer(localZones: zones, localData: data + extra, extraConfig: extraConfig, listenIPv6: ipv6)
    }
}

func resolver(
    _ endpoints: [String], timeout: Double = 2, retries: Int = 2, edns: UInt16 = 1232, tuning: PathTuning = PathTuning()
) throws -> DNSResolver {
    var options = ResolverOptions(timeout: timeout, retries: retries, ednsBufferSize: edns)
    options.tuning = tuning
    return try DNSResolver(endpoints: endpoints.map { try ResolverEndpoint($0) }, options: options)
}

/// Pacing tuning for tests that count retransmissions on loopback: a 250 ms floor under the timer. A
/// loopback round trip is tens of microseconds, and a busy CI machine can stall the engine or the
/// scripted server for tens of milliseconds, which the default 30 ms floor would take for loss.
var stallTolerant: PathTuning {
    var tuning = PathTuning()
    tuning.minimumRTO = 0.25
    return tuning
}

func q(_ name: String, _ type: RRType) -> Question { Question(name: name, type: type) }

func answer(_ status: AnswerStatus, _ rdata: [String] = [], chain: [String] = []) -> Outcome {
    .answer(Answer(status: status, rdata: rdata, cnameChain: chain))
}

/// A reply with one A record for whatever the query asks.
func aReply(to query: [UInt8], _ address: String = "192.0.2.77") -> [UInt8] {
    let name = DNSTestWire.parseQuery(query)?.name ?? ""
    return DNSTestWire.reply(to: query, answers: [.a(name, address)])
}

/// IDs and source ports a scripted server saw.
final class Seen: @unchecked Sendable {
    private let lock = NSLock()
    private var ids: [UInt16] = []
    private var ports: [UInt16] = []
    func add(id: UInt16, port: UInt16) { lock.withLock { ids.append(id); ports.append(port) } }
    var snapshot: ([UInt16], [UInt16]) { lock.withLock { (ids, ports) } }
}

/// A flag a test opens once, for a scripted server's thread to wait on.
final class Gate: Sendable {
    private let state = Mutex(false)
    var isOpen: Bool { state.withLock { $0 } }
    func open() { state.withLock { $0 = true } }
}
