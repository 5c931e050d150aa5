import Foundation
import Testing
@testable import Classification
import DNSWatchModel

/// Every row of the curated reference table (data/reference/parking-and-sinkholes.tsv, copied from the project's shared reference data) must classify as its
/// provider and class with the shipped fingerprints.
@Suite struct ReferenceTableTests {
    struct Row: CustomStringConvertible {
        var line: Int
        var provider: String
        var expectedClass: DomainClass
        var regdefault: Bool
        var kind: String
        var value: String
        var description: String { "line \(line): \(provider) \(kind) \(value)" }
    }

    static func rows() throws -> [Row] {
        let url = referenceDirectory.appendingPathComponent("parking-and-sinkholes.tsv")
        guard let text = try? String(contentsOf: url, encoding: .utf8) else {
            Issue.record("reference table missing or unreadable: \(url.path) (expected data/reference/ in the repository)")
            return []
        }
        var rows: [Row] = []
        var sawHeader = false
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if line.hasPrefix("#") || line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            let f = line.split(separator: "\t").map(String.init)
            if !sawHeader { sawHeader = true; #expect(f == ["provider", "kind", "value", "source"]); continue }
            guard f.count == 4 else { Issue.record("line \(i + 1): expected 4 columns: \(line)"); continue }
            var provider = f[0], cls = DomainClass.parked, regdefault = false
            for (prefix, c) in [("regdefault:", DomainClass.unknown), ("sinkhole:", .sinkhole), ("seizure:", .sinkhole)]
            where provider.hasPrefix(prefix) {
                provider = String(provider.dropFirst(prefix.count))
                cls = c
                regdefault = prefix == "regdefault:"
            }
            rows.append(Row(line: i + 1, provider: provider, expectedClass: cls, regdefault: regdefault, kind: f[1], value: f[2]))
        }
        return rows
    }

    @Test func tableIsThere() async throws {
        let rows = try Self.rows()
        #expect(rows.count >= 80, "reference table has \(rows.count) rows")
        #expect(Set(rows.map(\.kind)) == ["ns", "asn", "cidr", "ip"])
    }

    @Test func nameServerRows() async throws {
        let c = try shipped()
        for row in try Self.rows() where row.kind == "ns" {
            let name = row.value.replacingOccurrences(of: "*", with: "a1")
            let v = c.classify(nameServer: name)
            #expect(v.class == row.expectedClass, "\(row) → \(name): \(v)")
            #expect(v.provider == row.provider, "\(row) → \(name): \(v)")
            if row.regdefault {
                #expect(v.subtype == "regdefault" && v.reason.contains("registrar default"), "\(row): \(v)")
            }
            // Also with a trailing dot and in upper case, as names come off the wire.
            #expect(c.classify(nameServer: name.uppercased() + ".") == v, "\(row)")
        }
    }

    @Test func regdefaultRowsAreNotParked() async throws {
        let c = try shipped()
        let rows = try Self.rows().filter(\.regdefault)
        #expect(rows.count >= 4)
        for row in rows {
            let v = c.classify(nameServer: row.value.replacingOccurrences(of: "*", with: "ns1"))
            #expect(v.class != .parked, "\(row): \(v)")
        }
    }

    @Test func cidrRowsFirstAndLastAddress() async throws {
        let c = try shipped()
        for row in try Self.rows() where row.kind == "cidr" {
            let block = try #require(CIDR(row.value), "\(row)")
            let last = try #require(lastAddress(block))
            #expect(block.contains(last) && last != block.network || block.prefixLength == 32, "\(row)")
            for address in [block.network, last] {
                expect(c.classify(address: address, asn: nil), row: row, address: address)
            }
        }
    }

    @Test func ipRows() async throws {
        let c = try shipped()
        for row in try Self.rows() where row.kind == "ip" {
            let address = try #require(IPAddress(row.value), "\(row)")
            expect(c.classify(address: address, asn: nil), row: row, address: address)
        }
    }

    @Test func asnRows() async throws {
        let c = try shipped()
        let probe = try ip("1.2.3.4")
        #expect(c.classify(address: probe, asn: nil).class == .unknown)
        for row in try Self.rows() where row.kind == "asn" {
            let n = try #require(Int(row.value.dropFirst(2)), "\(row)")
            let v = c.classify(address: probe, asn: n)
            #expect(v.class == row.expectedClass && v.provider == row.provider, "\(row): \(v)")
            #expect(v.reason.contains("AS\(n)"), "\(row): \(v.reason)")
        }
    }

    /// Strong match, or — in a shared cloud range — a weak one naming the same provider.
    private func expect(_ v: Verdict, row: Row, address: IPAddress, sourceLocation: SourceLocation = #_sourceLocation) {
        if SharedCloud.range(containing: address) != nil {
            #expect(v.class == .unknown && v.weakProvider == row.provider && v.reason.hasPrefix("weak"),
                    "\(row) @ \(address): \(v)", sourceLocation: sourceLocation)
        } else {
            #expect(v.class == row.expectedClass && v.provider == row.provider, "\(row) @ \(address): \(v)",
                    sourceLocation: sourceLocation)
        }
    }

    /// The shared-cloud caveat in the reference header: every range it names is treated as shared.
    @Test func caveatRangesAreShared() async throws {
        for a in ["3.33.1.1", "15.197.1.1", "75.2.1.1", "76.223.1.1", "99.83.1.1", "34.1.2.3", "35.200.1.1"] {
            #expect(SharedCloud.range(containing: try ip(a)) != nil, "\(a)")
        }
        #expect(SharedCloud.range(containing: try ip("91.195.240.1")) == nil)
    }
}
