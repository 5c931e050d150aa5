public import Foundation

/// The built `dnswatch` executable the tests run, as users and scripts do: next to the test bundle in the
/// build directory, or the file `$DNSWATCH_BINARY` names (another build, e.g. a release's, to run the tests
/// against). Computed in one place; missing, a test fails saying how to build it.
public enum DNSWatchBinary {
    public static let url: URL = {
        if let path = ProcessInfo.processInfo.environment["DNSWATCH_BINARY"] { return URL(fileURLWithPath: path) }
        let dir = Bundle.main.executableURL?.deletingLastPathComponent()
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        return dir.appendingPathComponent("dnswatch")
    }()

    /// `url`, after checking the file is there and executable.
    public static func required() throws -> URL {
        guard FileManager.default.isExecutableFile(atPath: url.path) else {
            throw TestSupportError.process("\(url.path) is missing: run `swift build` (make test builds it)")
        }
        return url
    }

    /// The package's root directory (Tests/TestSupport/Binary.swift is two levels below it).
    public static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
}
