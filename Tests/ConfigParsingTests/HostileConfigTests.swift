import Testing
import DNSWatchModel
@testable import DNSWatchConfig

/// Hostile config files: out-of-range durations and intervals are errors naming their key, and messages
/// never carry raw control bytes.
@Suite struct HostileConfigTests {
    func failure(_ text: String) -> String? {
        do {
            _ = try Config.parse(text, path: "c.toml")
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test(arguments: [
        "[intervals]\nc2 = 9223372036854775807",
        "[intervals]\nc2 = \"106751991167300d\"",
        "[intervals]\nowned = \"366d\"",
    ])
    func hugeIntervalsAreRefused(text: String) {
        let message = failure(text)
        #expect(message?.hasPrefix("c.toml: intervals.") == true, "\(String(describing: message))")
    }

    @Test func theIntervalRuleIsTheWatchlistOne() throws {
        #expect(failure("[intervals]\nowned = \"366d\"") == "c.toml: intervals.owned: \(PollInterval.outOfRange)")
        #expect(try Config.parse("[intervals]\nowned = \"365d\"", path: "c.toml").intervals[.owned] == 365 * 86400)
    }

    @Test(arguments: [
        "[resolvers]\ntimeout = inf", "[resolvers]\ntimeout = nan", "[resolvers]\ntimeout = 1e300",
        "[resolvers]\ntimeout = \"infms\"", "[resolvers]\ntimeout = \"200000000000000d\"",
        "[daemon]\ntick = 9223372036854775807", "[alerts]\nwebhook_timeout = inf",
    ])
    func infiniteOrHugeDurationsAreRefused(text: String) {
        #expect(failure(text) != nil, "\(text) was accepted")
    }

    @Test func controlBytesInMessagesAreVisible() {
        let message = failure("[\"x\\u001b[2J\"]\na = 1") ?? ""
        #expect(!message.unicodeScalars.contains { $0.properties.generalCategory == .control }, "\(message.debugDescription)")
        #expect(message.contains("\\x1b[2J"), "\(message)")
    }
}
