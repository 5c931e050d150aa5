import Foundation
import Testing
import DNSWatchModel
@testable import DNSWatchConfig

/// Hostile config files: out-of-range durations and intervals are errors naming their key, and messages
/// never carry raw control bytes.
@Suite struct HostileConfigTests {
    @Test(arguments: [
        "[intervals]\nc2 = 9223372036854775807",
        "[intervals]\nc2 = \"106751991167300d\"",
        "[intervals]\nowned = \"366d\"",
    ])
    func hugeIntervalsAreRefused(text: String) {
        let message = configFailure(text)
        #expect(message?.hasPrefix("c.toml: intervals.") == true, "\(String(describing: message))")
    }

    @Test func theIntervalRuleIsTheWatchlistOne() throws {
        // The watchlist header's sentence for the same value (WatchlistsTests.IntervalBoundsTests).
        #expect(configFailure("[intervals]\nowned = \"366d\"") == "c.toml: intervals.owned: interval out of range (1s to 365d)")
        #expect(try Config.parse("[intervals]\nowned = \"365d\"", path: "c.toml").intervals[.owned] == 365 * 86400)
    }

    /// docs/config.md: "a bad value is an error naming the key".
    @Test(arguments: [
        ("[resolvers]\ntimeout = inf", "resolvers.timeout"), ("[resolvers]\ntimeout = nan", "resolvers.timeout"),
        ("[resolvers]\ntimeout = 1e300", "resolvers.timeout"), ("[resolvers]\ntimeout = \"infms\"", "resolvers.timeout"),
        ("[resolvers]\ntimeout = \"200000000000000d\"", "resolvers.timeout"),
        ("[daemon]\ntick = 9223372036854775807", "daemon.tick"), ("[alerts]\nwebhook_timeout = inf", "alerts.webhook_timeout"),
    ])
    func infiniteOrHugeDurationsAreRefused(text: String, key: String) {
        let message = configFailure(text)
        #expect(message?.hasPrefix("c.toml: \(key): ") == true, "\(text): \(String(describing: message))")
    }

    @Test func controlBytesInMessagesAreVisible() {
        let message = configFailure("[\"x\\u001b[2J\"]\na = 1") ?? ""
        #expect(!message.unicodeScalars.contains { $0.properties.generalCategory == .control }, "\(message.debugDescription)")
        #expect(message.contains("\\x1b[2J"), "\(message)")
    }
}

/// Inputs found by Fuzz/FuzzConfig, fed as they are (also in Fuzz/corpus/config/).
@Suite struct FuzzFoundConfigTests {
    /// toml++ 3.4 asserted (SIGABRT) on a table header starting with a character that starts no key.
    @Test(arguments: [
        "[%alerts]\nstdout = false\nwebhook = \"\u{FFFD}http://127.0.0.1:8080/x\"\nwebhook_timeout = \"500ms\"\n",
        "[%a]", "[ %a]", "[[%a]]", "  [\t%a]", "[a]\n[%b]", "[\u{A0}%a]", "[{a = 1}]",
    ])
    func tableHeaderThatStartsNoKeyIsAnError(text: String) {
        #expect(throws: Config.Failure.self) { try Config.parse(text, path: "c.toml") }
    }

    @Test func theExactCrashInput() throws {
        // crash-852dc63ad64dac61968398269c0b93f195daa2ba: `[%alerts]` and a byte 0xa2 before the URL.
        let bytes: [UInt8] = Array("[%alerts]\nstdout = false\nwebhook = \"".utf8) + [0xA2]
            + Array("http://127.0.0.1:8080/x\"\nwebhook_timeout = \"500ms\"\n".utf8)
        let text = String(decoding: bytes, as: UTF8.self)
        do {
            _ = try Config.parse(text, path: "c.toml")
            Issue.record("accepted")
        } catch {
            #expect("\(error)" == "c.toml:1: invalid table header: a key starts with a letter, a digit, '_', '-' or a quote")
        }
    }

    /// toml++ 3.4 asserted (SIGABRT) on a `}` where an array element starts.
    @Test func braceClosingAnArrayIsAnError() {
        // crash-30384baf313173063b4c41071f22b5af87d6f999, as found.
        let bytes: [UInt8] = Array("r=[}\np,o:\n vurs = \"1s\" }\npoll.ty= [\"K".utf8) + [0x00, 0x10]
            + Array("0expir eo\" }\n".utf8)
        do {
            _ = try Config.parse(String(decoding: bytes, as: UTF8.self), path: "c.toml")
            Issue.record("accepted")
        } catch {
            #expect("\(error)" == "c.toml:1: '}' does not close the '[' before it")
        }
        for text in ["a=[1,}", "a=[ # c\n}", "a=[[}]]", "a={b=[}]}", "a=[\n}", "a=[inf,}", "a={b=]"] {
            #expect(throws: Config.Failure.self) { try Config.parse(text, path: "c.toml") }
        }
    }

    /// These are values, not headers: each is what the schema makes of it (`s` and `a` are no keys of
    /// dnswatch's; a comment alone is an empty config), never the header error.
    @Test(arguments: [
        ("s = \"\"\"\n[%not a header]\n\"\"\"", "c.toml: unknown key 's'"), ("s = '''\n[%x]\n'''", "c.toml: unknown key 's'"),
        ("a = [\n  [1, 2],\n  [\"%\"],\n]", "c.toml: unknown key 'a'"), ("# [%comment]", nil), ("s = \"[%x]\"", "c.toml: unknown key 's'"),
        ("a = [\"}\", '}', { b = [1] }]", "c.toml: unknown key 'a'"), ("a = { b = \"]\" }", "c.toml: unknown key 'a'"),
    ] as [(String, String?)])
    func bracketsInsideValuesAreNotHeaders(text: String, refusal: String?) {
        do {
            _ = try Config.parse(text, path: "c.toml")
            #expect(refusal == nil, "accepted")
        } catch {
            #expect("\(error)" == refusal, "\(error)")
        }
    }
}

/// Found by Fuzz/FuzzConfig: `[alerts] file` of one character trapped in Foundation's
/// `NSString.deletingLastPathComponent` (SIGILL).
@Suite struct AlertFileDirectoryTests {
    static let corpus = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz/corpus/config")

    @Test func theExactCrashInput() throws {
        // crash-475722a50f753ebc5583de120fe4d15849ce069b: `file = "ш"` among mutated keys.
        let data = try Data(contentsOf: Self.corpus.appendingPathComponent("crash-alerts-file-one-character.toml"))
        // The one-character file passes; the mutated file is refused for a later key, in a sentence.
        do {
            _ = try Config.parse(String(decoding: data, as: UTF8.self), path: "c.toml")
            Issue.record("accepted")
        } catch {
            #expect("\(error)" == "c.toml: alerts.command: expected an array of strings, the program and its arguments, such as "
                    + "[\"notify-soc\", \"--json\"]; a string is not split into words (commands run without a shell)")
        }
    }

    @Test(arguments: ["a", "ш", "x/", "a//", "1"])
    func oneCharacterAlertFiles(file: String) throws {
        // `x/` and `a//` name directories' entries, with a directory that exists or none at all. (`./`
        // names the current directory itself, refused as not a regular file: `FileSink.problem`.)
        let config = try Config.parse("[alerts]\nfile = \"\(file)\"", path: "c.toml")
        #expect(config.alertFile == file)
    }

    @Test func directoriesThatDoNotExistAreStillRefused() {
        #expect(alertFileProblem("/nonexistent-dnswatch-dir/x.ndjson")?.hasPrefix("the directory /nonexistent-dnswatch-dir does not exist") == true)
        #expect(alertFileProblem("./")?.contains("not a regular file") == true)
        #expect(alertFileProblem("/tmp/x.ndjson") == nil)
        #expect(alertFileProblem("x.ndjson") == nil)
    }
}
