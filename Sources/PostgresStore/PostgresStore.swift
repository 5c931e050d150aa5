import HistoryStore
public import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO

/// dnswatch's history in PostgreSQL, shared by several pollers and `serve`. A pool of connections
/// (postgres-nio's `PostgresClient`) lives for the scope of `withStore`; its schema is migrated once
/// (under an advisory lock) by the first writing command. Every error names the database by its URL
/// without the password.
public final class PostgresStore: Sendable {
    public let url: PostgresURL
    let client: PostgresClient
    let logger: Logger

    /// An error of the PostgreSQL backend: what failed and the server's (or the network's) reason.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }

    private init(url: PostgresURL, client: PostgresClient, logger: Logger) {
        self.url = url
        self.client = client
        self.logger = logger
    }

    /// Settings of every dnswatch session (the probe and the pool's connections). dnswatch's statements are
    /// short: compiling one (PostgreSQL's default jit=on above a cost estimate) took longer than running it
    /// (500 ms against 29 ms for a claim's plan). For its own sessions only; the server is not changed.
    static let sessionParameters = [("jit", "off")]
    /// How long connecting may take.
    static let connectSeconds: Int64 = 10

    /// Opens the database at `url`, migrates it when `migrate` (a writing command), runs `body` and closes
    /// the pool.
    public static func withStore<T: Sendable>(
        _ url: PostgresURL, logger: Logger, migrate: Bool, _ body: (PostgresStore) async throws -> T
    ) async throws -> T {
        var tlsConfig = TLSConfiguration.makeClientConfiguration()
        if url.sslMode == .require { tlsConfig.certificateVerification = .none }
        let tls: PostgresClient.Configuration.TLS = switch url.sslMode {
        case .disable: .disable
        case .prefer: .prefer(tlsConfig)
        case .require, .verifyFull: .require(tlsConfig)
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
            case .require, .verifyFull: .require(try NIOSSLContext(configuration: tlsConfig))
            }
        } catch {
            throw Failure("\(url): cannot set up TLS: \(error)")
        }
        var probe = PostgresConnection.Configuration(
            host: url.host, port: url.port, username: url.user, password: url.password, database: url.database, tls: probeTLS)
        probe.options.connectTimeout = TimeAmount.seconds(connectSeconds)
        probe.options.additionalStartupParameters = sessionParameters
        do {
            let connection = try await PostgresConnection.connect(configuration: probe, id: 0, logger: quiet)
            try await connection.close()
        } catch {
            throw Failure("cannot connect to \(url): \(explain(error))")
        }
        let client = PostgresClient(configuration: configuration, backgroundLogger: quiet)
        return try await withThrowingTaskGroup(of: Void.self, returning: T.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            let store = PostgresStore(url: url, client: client, logger: quiet)
            if migrate { try await store.migrate() }
            return try await body(store)
        }
    }

    // MARK: Running statements

    /// Runs `body` with a connection of the pool, errors explained with the URL (a `StoreError` it throws,
    /// such as an unknown list, reaches the caller as it is, as on SQLite).
    @discardableResult
    func connection<T: Sendable>(_ what: String, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        do {
            return try await client.withConnection { try await body($0) }
        } catch {
            throw described(error, what)
        }
    }

    /// Runs `body` in one transaction (committed when it returns, rolled back when it throws).
    @discardableResult
    func transaction<T: Sendable>(_ what: String, _ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        do {
            return try await client.withTransaction(logger: logger) { try await body($0) }
        } catch {
            throw described(error, what)
        }
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
        default: return Failure("\(url): \(what): \(Self.explain(cause))")
        }
    }

    /// Runs the synchronous `body` (a batch writer) in one transaction on a thread of NIO's pool, off the
    /// cooperative pool: it drives the connection with blocking waits, as GRDB drives SQLite on its queue.
    func blockingTransaction<T: Sendable>(_ what: String, _ body: @escaping @Sendable (SyncConnection) throws -> T) async throws -> T {
        let logger = self.logger
        return try await transaction(what) { connection in
            try await NIOThreadPool.singleton.runIfActive { try body(SyncConnection(connection: connection, logger: logger)) }
        }
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
            if let underlying = psql.underlying { return "\(underlying)" }
            return "\(psql.code)"
        }
        return "\(error)"
    }
}

/// A connection driven synchronously from a thread that is not an event loop (one batch's transaction).
struct SyncConnection: @unchecked Sendable {
    let connection: PostgresConnection
    let logger: Logger

    /// Runs `query`, waiting for its rows.
    @discardableResult
    func query(_ query: PostgresQuery) throws -> PostgresQueryResult {
        try connection.query(query, logger: logger).wait()
    }
}
