import Foundation
public import Testing

/// The two store backends, the argument of every test that runs on both (StoreContractTests, the
/// PostgreSQL integration tests): run on both by parameter, they cannot drift. A test shows its backend as
/// its raw value (`sqlite`, `postgresql`).
public enum Backend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgresql
    public var testDescription: String { rawValue }
}

/// The shared throwaway PostgreSQL server of this test process (`PostgresServer.shared`), a fresh database
/// on it per test, and psql to look at a database independently of dnswatch's code.
public enum TestPostgres {
    /// `PostgresServer.shared`, started on first use; throws when it could not start.
    public static func server() throws -> PostgresServer { try PostgresServer.shared.get() }

    /// A new empty database named `PREFIX_` and 16 random hex digits; its URL.
    public static func freshDatabase(prefix: String = "t") throws -> String {
        let server = try server()
        let name = prefix + "_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
        try server.createDatabase(name)
        return server.url(database: name)
    }

    /// Runs one SQL statement with psql (independent of dnswatch's code) and returns its rows, `|`-separated.
    public static func psql(_ url: String, _ sql: String) throws -> [String] {
        let r = try ChildProcess.run(URL(fileURLWithPath: try server().binDirectory + "/psql"), [url, "-X", "-At", "-v", "ON_ERROR_STOP=1", "-c", sql])
        guard r.code == 0 else { throw PostgresServer.Failure(step: "psql \(sql)", status: r.code, output: r.err) }
        return r.out.split(separator: "\n").map(String.init)
    }

    /// The first row of `psql(url, sql)` as an integer; throws unless it is one.
    public static func scalar(_ url: String, _ sql: String) throws -> Int {
        guard let first = try psql(url, sql).first, let n = Int(first) else { throw PostgresServer.Failure(step: "no number from \(sql)") }
        return n
    }
}
