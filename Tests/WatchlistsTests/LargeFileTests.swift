import Foundation
import Testing
import DNSWatchModel
@testable import Watchlists

@Suite struct LargeFileTests {
    /// A generated file mixing every line form; used to check counts on a large input.
    static func generated(_ count: Int) -> String {
        var lines = ["# kind: c2", "# interval: 1h"]
        for i in 0..<count {
            switch i % 8 {
            case 0: lines.append("host\(i).example")
            case 1: lines.append("  Sub\(i).Host\(i).example.   # note \(i)")
            case 2: lines.append("http://c\(i).example:8080/gate.php?id=\(i)")
            case 3: lines.append("192.0.\(i % 256).\(i / 256 % 256):443")
            case 4: lines.append("/path\(i)/x.php")
            case 5: lines.append("host\(i - 5).example")  // a duplicate
            case 6: lines.append("# Reference: https://ref.example/\(i)")
            default: lines.append("bücher\(i).example")
            }
        }
        return lines.joined(separator: "\n")
    }

    /// Speed belongs to the benchmark script, not to timed unit tests: this checks that a large mixed
    /// file comes out exactly right.
    @Test func largeGeneratedFileCountsExactly() {
        let list = WatchlistParser.parse(text: LargeFileTests.generated(20_000), path: "gen.txt")
        // Per 8 lines: 3 distinct domains (cases 0, 1, 7), 1 URL host (case 2), 1 duplicate (5),
        // 1 address-host (3), 1 url-path (4), 1 comment (6).
        #expect(list.entries.count == 20_000 / 8 * 4)
        #expect(list.duplicates == 20_000 / 8)
        #expect(list.skipped[.addressHost] == 20_000 / 8)
        #expect(list.skipped[.urlPath] == 20_000 / 8)
        #expect(list.invalid.isEmpty)
        #expect(list.header.kind == .c2)
    }
}
