import Store
public import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO
#if canImport(Glibc)
import Glibc
#endif

/// dnswatch's history in PostgreSQL, shared by several pollers and `serve`. A pool of connections
/// (postgres-nio's `PostgresClient`) lives for the scope of `withStore`; its schema is migrated once
/// (under an advisory lock) by the first writing command. Every error names the database by its URL
/// without the password.
///
/// The server going away is one sentence within seconds, not the pool's minute of retries ending in its
/// circuit breaker: a statement that fails because its connection was lost says so, and an operation
/// that waits longer than `checkAfter` (for a connection of the pool, or for its statements) checks the
/// server with a connection of its own and fails when that cannot connect (`lostConnection`). The pool
/// itself lives on, so a daemon polls again once the server is back.
public final class PostgresStore: Sendable {
    public let url: PostgresURL
    let client: PostgresClient
    let logger: Logger
    /// One connection of its own: what `withStore` checks first, and what checks the server when an
    /// operation waits.
    let probe: PostgresConnection.Configuration

    /// An error of the PostgreSQL backend: what failed and the server's (or the network's) reason.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
        /// Whether the connection to the server was lost (the server stopped or cannot be reached).
        public var lostConnection = false
        init(_ description: String) { self.description = description }
        init(lost description: String) {
            self.description = description
            lostConnection = true
        }
    }

    private init(url: PostgresURL, client: PostgresClient, probe: PostgresConnection.Configuration, logger: Logger) {
        self.url = url
        self.client = client
        self.probe = probe
        self.logger = logger
    }

    /// Settings of every dnswatch session (the probe and the pool's connections). dnswatch's statements are
    /// short: compiling one (PostgreSQL's default jit=on above a cost estimate) took longer than running it
    /// (500 ms against 29 ms for a claim's plan). For its own sessions only; the server is not changed.
    static let sessionParameters = [("jit", "off")]
    /// How long connecting may take.
    static let connectSeconds: Int64 = 10
    /// How long an operation waits (for a connection of the pool, or for its statements) before the server
    /// is checked, and then again between checks.
    static let checkAfter: Duration = .seconds(2)
    /// How long a check's connection may take to connect.
    static let checkConnectSeconds: Int64 = 5

    /// Opens the database at `url`, migrates it when `migrate` (a writing command), runs `body` and closes
    /// the pool.
    public static func withStore<T: Sendable>(
        _ url: PostgresURL, logger: Logger, migrate: Bool, _ body: (PostgresStore) async throws -> T
    ) async throws -> T {
        var tlsConfig = TLSConfiguration.makeClientConfiguration()
        switch url.sslMode {
        case .disable, .prefer, .require: tlsConfig.certificateVerification = .none
        case .verifyCA: tlsConfig.certificateVerification = .noHostnameVerification
        case .verifyFull: tlsConfig.certificateVerification = .fullVerification
        }
        if let roots = url.sslRootCert { tlsConfig.trustRoots = .file(roots) }
        let tls: PostgresClient.Configuration.TLS = switch url.sslMode {
        case .disable: .disable
        case .prefer: .prefer(tlsConfig)
        case .require, .verifyCA, .verifyFull: .require(tlsConfig)
        }
        var configuration = PostgresClient.Configuration(
            host: url.host, port: url.port, username: url.user, password: url.password, database: url.database, tls: tls)
        configuration.options.maximumConnections = 8
        configuration.options.additionalStartupParameters = sessionParameters
        configuration.options.connectTimeout = .seconds(connectSeconds)
        var quiet = logger
        // postgres-nio warns when a connection is asked for before `run()` got going (the race of starting both
        // at once, harmless: the request waits); its real failures reach the caller as errors.
        quiet.logLevel = max(logger.logLevel, .error)
        // One connection first, so that a wrong host, port, password or database name is one clear sentence
        // at once (the pool would retry for a while and then only say that its circuit breaker tripped).
        let probeTLS: PostgresConnection.Configuration.TLS
        do {
            probeTLS = switch url.sslMode {
            case .disable: .disable
            case .prefer: .prefer(try NIOSSLContext(configuration: tlsConfig))
            case .require, .verifyCA, .verifyFull: .require(try NIOSSLContext(configuration: tlsConfig))
            }
        } catch {
            throw Failure("\(url): cannot set up TLS: \(error)")
        }
        var probe = PostgresConnection.Configuration(
            host: url.host, port: url.port, username: url.user, password: url.password, database: url.database, tls: probeTLS)
        probe.options.connectTimeout = TimeAmount.seconds(connectSeconds)
        probe.options.additionalStartupParameters = sessionParameters
        do {
            try await reach(probe, logger: quiet)
        } catch {
            throw Failure("cannot connect to \(url): \(explain(error))")
        }
        probe.options.connectTimeout = TimeAmount.seconds(checkConnectSeconds)
        let client = PostgresClient(configuration: configuration, backgroundLogger: quiet)
        return try await withThrowingTaskGroup(of: Void.self, returning: T.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            let store = PostgresStore(url: url, client: client, probe: probe, logger: quiet)
            if migrate { try await store.migrate() }
            return try await body(store)
        }
    }

    // MARK: Running statements

    /// Runs `body` with a connection of the pool, errors explained with the URL (a `StoreError` it throws,
    /// such as an unknown list, reaches the caller as it is, as on SQLite).
    @discardableResult
    func connection<T: Sendable>(_ what: String, _ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        do {
            return try await checked(what) { [client] in try await client.withConnection { try await body($0) } }
        } catch {
            throw described(error, what)
        }
    }

    /// Runs `body` in one transaction (committed when it returns, rolled back when it throws).
    @discardableResult
    func transaction<T: Sendable>(_ what: String, _ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        do {
            return try await checked(what) { [client, logger] in try await client.withTransaction(logger: logger) { try await body($0) } }
        } catch {
            throw described(error, what)
        }
    }

    /// Runs `operation` (a lease of the pool and its statements); while it runs longer than `checkAfter`,
    /// checks every `checkAfter` that the server can still be reached, and ends it with `lostConnection`
    /// when not (the pool would only give up a minute after its connections started failing).
    private func checked<T: Sendable>(_ what: String, _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await operation() }
            group.addTask {
                while true {
                    try await Task.sleep(for: Self.checkAfter)
                    if let reason = await self.unreachable() { throw self.lost(what, reason) }
                }
            }
            defer { group.cancelAll() }
            while let result = try await group.next() {
                if let result { return result }
            }
            throw CancellationError()
        }
    }

    /// Why the server cannot be reached now (a connection of its own cannot connect), or nil: it answered,
    /// also with an error (too many clients, a refused login), or the check was cancelled.
    private func unreachable() async -> String? {
        do {
            try await Self.reach(probe, logger: logger)
            return nil
        } catch is CancellationError {
            return nil
        } catch let error as PSQLError where error.serverInfo != nil {
            return Self.isConnectionLoss(error) ? Self.explain(error) : nil
        } catch {
            return Self.explain(error)
        }
    }

    /// Opens a connection of its own with `configuration` and closes it: the server can be reached, or why not.
    /// What `withStore` checks first, and what `unreachable` checks while an operation waits.
    static func reach(_ configuration: PostgresConnection.Configuration, logger: Logger) async throws {
        let connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
        try await connection.close()
    }

    /// The sentence of a lost connection.
    private func lost(_ what: String, _ reason: String) -> Failure {
        Failure(lost: "lost the connection to \(url) while \(what): \(reason)")
    }

    /// Whether `error` says the connection to the server is gone: closed or broken, the server shutting
    /// down (SQLSTATE 57P01-57P03) or a connection exception (class 08).
    static func isConnectionLoss(_ error: any Error) -> Bool {
        guard let psql = error as? PSQLError else { return false }
        if let state = psql.serverInfo?[.sqlState] { return state.hasPrefix("57P") || state.hasPrefix("08") }
        return [.serverClosedConnection, .connectionError, .uncleanShutdown].contains(psql.code)
    }

    /// What a failed `connection` or `transaction` throws: dnswatch's own errors (a `Failure`, `LeaseLost`, a
    /// `StoreError` such as an unknown list) as they are, also from inside a transaction; anything else as a
    /// `Failure` naming the URL, what was being done and the server's or the network's reason.
    private func described(_ error: any Error, _ what: String) -> any Error {
        var cause = error
        if let t = error as? PostgresTransactionError {
            cause = t.closureError ?? t.commitError ?? t.beginError ?? t.rollbackError ?? error
        }
        switch cause {
        case is Failure, is LeaseLost, is StoreError: return cause
        case _ where Self.isConnectionLoss(cause): return lost(what, Self.explain(cause))
        default: return Failure("\(url): \(what): \(Self.explain(cause))")
        }
    }

    /// Why connecting failed, for each address tried: "127.0.0.1 port 5432: connection refused".
    static func explain(_ error: NIOConnectionError) -> String {
        var reasons: [String] = error.connectionErrors.map { failure in
            let address = failure.target.ipAddress.map { "\($0) port \(failure.target.port ?? error.port)" } ?? "\(failure.target)"
            guard let io = failure.error as? IOError else { return "\(address): \(failure.error)" }
            return "\(address): " + String(cString: strerror(io.errnoCode)).lowercased()
        }
        if reasons.isEmpty, error.dnsAError != nil || error.dnsAAAAError != nil { reasons.append("cannot resolve the host name \(error.host)") }
        return reasons.isEmpty ? "\(error)" : reasons.joined(separator: "; ")
    }

    /// The server's message (and SQLSTATE) for a server error, the cause for a connection error; never the
    /// query's bound values.
    static func explain(_ error: any Error) -> String {
        if let psql = error as? PSQLError {
            if let info = psql.serverInfo, let message = info[.message] {
                let state = info[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
                let detail = info[.detail].map { ": \($0)" } ?? ""
                return message + detail + state
            }
            if let connect = psql.underlying as? NIOConnectionError { return explain(connect) }
            if let underlying = psql.underlying { return "\(underlying)" }
            switch psql.code {
            case .serverClosedConnection: return "the server closed the connection"
            case .uncleanShutdown: return "the connection ended uncleanly"
            default: return "\(psql.code)"
            }
        }
        return "\(error)"
    }
}
