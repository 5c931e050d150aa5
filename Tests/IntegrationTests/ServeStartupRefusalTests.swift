import Foundation
import GRDB
import SQLiteStore
import Store
import Testing
import TestSupport

/// `dnswatch serve` started in the background on 127.0.0.1 (a port the kernel picks), read from its
/// "serving http://..." line.
struct ServeProcess {
    let process: Background
    let base: String

    static func start(_ args: [String], in dir: TemporaryDirectory, environment: [String: String] = [:]) async throws -> ServeProcess {
        let process = try Background(["serve", "--listen", "127.0.0.1:0"] + args, workdir: dir.url, environment: environment)
        var port: Int?
        try await waitUntil("dnswatch serve \(args) says where it serves") {
            let err = process.err
            if let r = err.range(of: "serving http://127.0.0.1:") {
                port = Int(err[r.upperBound...].prefix(while: \.isNumber))
                return port != nil
            }
            guard process.isRunning else { throw TestSupportError.process("dnswatch serve \(args) ended: \(err)") }
            return false
        }
        return ServeProcess(process: process, base: "http://127.0.0.1:\(try #require(port))")
    }

    /// Runs `dnswatch args` to its end in `dir`, killed after `timeout` seconds: a command that should have
    /// refused to start (a server that serves after all) fails the test instead of hanging it. `code` is
    /// nil when it had to be killed.
    static func run(_ args: [String], in dir: TemporaryDirectory, environment: [String: String] = [:],
                    timeout: Double = 60) async throws -> (code: Int32?, out: String, err: String) {
        _ = try DNSWatchBinary.required()
        let process = try Background(args, workdir: dir.url, environment: environment)
        let end = try await process.wait(timeout: timeout)
        return (end.flatMap { $0.signalled ? nil : $0.status }, process.out, process.err)
    }

    /// SIGTERM, and the graceful end serve.md promises (exit 0).
    func stop() async throws {
        process.signal(SIGTERM)
        let end = try await process.wait()
        #expect(end?.status == 0 && end?.signalled == false, "serve did not end by itself on SIGTERM: \(process.err)")
    }
}

/// What docs/serve.md promises of starting `dnswatch serve`: the warning for a key file others can read,
/// `$DNSWATCH_API_KEY`, and the refusal of a database that needs migrating.
@Suite struct ServeStartupRefusalTests {
    static let warning = "can be read by others"

    /// "Keep it mode 0600: serve warns when anyone but its owner (its group or others) can read it": the
    /// warning names the file and its mode (the server still starts with its keys); 0600 and 0400 get none.
    @Test(arguments: [(0o644 as Int, true), (0o604, true), (0o640, true), (0o600, false), (0o400, false)])
    func aKeyFileOthersCanReadIsWarnedAbout(mode: Int, warned: Bool) async throws {
        let dir = try TemporaryDirectory("dnswatch-serve-keys")
        let keys = try dir.write("api-keys", "alice s3cret-alice-key\n")
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: keys)
        let serve = try await ServeProcess.start(["--db", dir.path("db.sqlite"), "--api-keys", keys], in: dir)
        let err = serve.process.err
        #expect(err.contains("(1 API key)"), "\(err)")
        if warned {
            let line = "dnswatch: warning: the key file \(keys) can be read by others (mode \(String(mode, radix: 8))); chmod 600 it"
            #expect(err.contains(line), "\(err)")
        } else {
            #expect(!err.contains(Self.warning), "\(err)")
        }
        // The keys are in force either way.
        #expect(try await HTTP.get(serve.base + "/api/v1/domains").status == 401)
        #expect(try await HTTP.get(serve.base + "/api/v1/domains", headers: ["X-API-Key: s3cret-alice-key"]).status == 200)
        try await serve.stop()
    }

    /// "Without `--api-keys`, `$DNSWATCH_API_KEY` (one key, logged as `env`) is used if set."
    @Test func theKeyOfTheEnvironmentIsUsedWithoutAKeyFile() async throws {
        let dir = try TemporaryDirectory("dnswatch-serve-envkey")
        let serve = try await ServeProcess.start(["--db", dir.path("db.sqlite")], in: dir, environment: ["DNSWATCH_API_KEY": "env-key-0123456789"])
        #expect(serve.process.err.contains("(1 API key)"), "\(serve.process.err)")
        // No database yet: serve says so, creates nothing and answers as for an empty history.
        #expect(serve.process.err.contains("dnswatch: no database at \(dir.path("db.sqlite")) yet"), "\(serve.process.err)")
        let none = try await HTTP.get(serve.base + "/api/v1/domains")
        #expect(none.status == 401 && none.headers["www-authenticate"] == #"Basic realm="dnswatch""#, "\(none)")
        #expect(try await HTTP.get(serve.base + "/api/v1/domains", headers: ["X-API-Key: wrong"]).status == 403)
        let right = try await HTTP.get(serve.base + "/api/v1/domains", headers: ["Authorization: Bearer env-key-0123456789"])
        #expect(right.status == 200 && right.body == "[]", "\(right)")
        try await waitUntil("the request logged under the key's name, env") {
            serve.process.err.contains(" env GET /api/v1/domains 200 ")
        }
        try await serve.stop()
        #expect(!FileManager.default.fileExists(atPath: dir.path("db.sqlite")), "serve created no database")
    }

    /// With `--api-keys` the environment's key is not a key: the file's are the only ones.
    @Test func aKeyFileOverridesTheEnvironment() async throws {
        let dir = try TemporaryDirectory("dnswatch-serve-envkey")
        let keys = try dir.write("api-keys", "alice s3cret-alice-key\n")
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: keys)
        let serve = try await ServeProcess.start(["--db", dir.path("db.sqlite"), "--api-keys", keys], in: dir,
                                                 environment: ["DNSWATCH_API_KEY": "env-key-0123456789"])
        #expect(try await HTTP.get(serve.base + "/api/v1/domains", headers: ["X-API-Key: env-key-0123456789"]).status == 403)
        #expect(try await HTTP.get(serve.base + "/api/v1/domains", headers: ["X-API-Key: s3cret-alice-key"]).status == 200)
        try await serve.stop()
    }

    /// "A database that an older dnswatch wrote and that needs migrating: exit 1, asking for a command that
    /// writes (`poll`, `watch add`, `reclassify`) first." serve leaves it as it was (it only reads); once a
    /// writing command has run, serve serves its old history.
    @Test func aDatabaseThatNeedsMigratingIsRefused() async throws {
        let dir = try TemporaryDirectory("dnswatch-serve-old")
        let path = dir.path("db.sqlite")
        do {
            let pool = try DatabasePool(path: path)
            try Migrations.migrator(upTo: "0004_answer_hash").migrate(pool)
            try await pool.write { db in
                try db.execute(sql: "INSERT INTO domains (name, created) VALUES ('old.example', 1)")
                try db.execute(sql: """
                    INSERT INTO spans (domain_id, rrtype, status, rdata, time_first, time_last, count) VALUES (1, 'A', 'NOERROR', '192.0.2.1', 1, 5, 3)
                    """)
            }
        }
        func applied() async throws -> [String] {
            try await DatabaseQueue(path: path).read { db in try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY identifier") }
        }
        let before = try await applied()
        try #require(before.last == "0004_answer_hash" && before.count < Migrations.all.count, "\(before)")

        let refused = try await ServeProcess.run(["serve", "--listen", "127.0.0.1:0", "--db", path], in: dir)
        #expect(refused.code == 1, "\(refused.err)")
        #expect(refused.err == """
            dnswatch: the database \(path) was written by an older dnswatch and needs migrating: run a command that writes to it once (poll, watch add, reclassify)

            """, "\(refused.err)")
        #expect(!refused.err.contains("serving"))
        #expect(try await applied() == before, "serve migrated nothing")

        let add = try await ServeProcess.run(["watch", "add", "new.example", "--list", "feed", "--db", path], in: dir)
        try #require(add.code == 0, "\(add.err)")
        let serve = try await ServeProcess.start(["--db", path], in: dir)
        let history = try await HTTP.get(serve.base + "/api/v1/history/old.example")
        #expect(history.status == 200 && history.body.contains(#""rdata":["192.0.2.1"]"#), "\(history)")
        try await serve.stop()
    }
}
