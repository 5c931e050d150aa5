import Foundation
import Testing
import DNSWatchModel
@testable import Watchlists

@Suite struct PerformanceTests {
    /// A generated file mixing every line form; parsing 10× the lines must not take much more than 10× the time.
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

    @Test func thousandLinesParseFast() {
        let text = Self.generated(1000)
        let clock = ContinuousClock()
        var list = ParsedWatchlist(name: "", path: "")
        let elapsed = clock.measure { list = WatchlistParser.parse(text: text, path: "gen.txt") }
        #expect(list.entries.count == 500)
        #expect(list.duplicates == 125)
        #expect(list.skipped == [.addressHost: 125, .urlPath: 125])
        #expect(list.invalid.isEmpty)
        #expect(elapsed < .seconds(1), "1000 lines took \(elapsed)")
    }

    @Test func timeGrowsLinearly() {
        let small = Self.generated(1000), large = Self.generated(10_000)
        let clock = ContinuousClock()
        /// The best of three runs, to damp the noise of a shared machine.
        func best(_ text: String) -> Duration {
            (0..<3).map { _ in clock.measure { _ = WatchlistParser.parse(text: text, path: "gen.txt") } }.min() ?? .zero
        }
        let tSmall = best(small), tLarge = best(large)
        #expect(WatchlistParser.parse(text: large, path: "gen.txt").entries.count == 5000)
        // Linear is about 10× (measured 8×); a quadratic duplicate check measured 43×.
        #expect(tLarge < tSmall * 25, "1000 lines: \(tSmall), 10000 lines: \(tLarge)")
    }
}
