public import Foundation

/// A PostgreSQL database named by `--db` or `$DNSWATCH_DB`: `postgresql://USER[:PASS]@HOST[:PORT]/DB`
/// (`postgres://` too, `?sslmode=` honoured). The password may instead come from `$PGPASSWORD` or
/// `~/.pgpass`, as libpq reads them. It is never shown: `description` is the URL without it.
public struct PostgresURL: Sendable, Equatable, CustomStringConvertible {
    public var user: String
    public var password: String?
    public var host: String
    public var port: Int
    public var database: String
    public var sslMode: SSLMode

    /// libpq's `sslmode` values, as the client can honour them.
    public enum SSLMode: String, Sendable, CaseIterable {
        /// No TLS.
        case disable
        /// TLS when the server offers it (libpq's `allow` and `prefer`, `prefer` being its default).
        case prefer
        /// TLS or no connection, the certificate not checked (libpq's `require`).
        case require
        /// TLS with the certificate checked against the system's roots (`verify-ca`, `verify-full`).
        case verifyFull = "verify-full"
    }

    public struct Invalid: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Whether `value` names a PostgreSQL database rather than a SQLite file.
    public static func isPostgres(_ value: String) -> Bool {
        value.hasPrefix("postgresql://") || value.hasPrefix("postgres://")
    }

    /// Parses `text`; the password, when the URL has none, from `environment["PGPASSWORD"]` or the
    /// passfile (`$PGPASSFILE`, else `~/.pgpass`, read only when no one but its owner can read it).
    public init(_ text: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws(Invalid) {
        guard Self.isPostgres(text), let c = URLComponents(string: text) else {
            throw Invalid(description: "not a PostgreSQL URL (postgresql://USER[:PASS]@HOST[:PORT]/DB): \(Self.redact(text))")
        }
        guard let host = c.host, !host.isEmpty else { throw Invalid(description: "no host in \(Self.redact(text))") }
        let database = String(c.path.drop { $0 == "/" })
        guard !database.isEmpty, !database.contains("/") else {
            throw Invalid(description: "no database name in \(Self.redact(text)) (postgresql://USER@HOST/DB)")
        }
        let user = c.user.flatMap { $0.removingPercentEncoding } ?? environment["PGUSER"] ?? environment["USER"] ?? "postgres"
        self.user = user
        self.host = host
        self.port = c.port ?? Int(environment["PGPORT"] ?? "") ?? 5432
        self.database = database.removingPercentEncoding ?? database
        var mode = SSLMode.prefer
        for item in c.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                switch item.value ?? "" {
                case "disable": mode = .disable
                case "allow", "prefer": mode = .prefer
                case "require": mode = .require
                case "verify-ca", "verify-full": mode = .verifyFull
                default: throw Invalid(description: "sslmode=\(item.value ?? ""): expected disable, allow, prefer, require, verify-ca or verify-full")
                }
            case "application_name", "connect_timeout": break
            default: throw Invalid(description: "unknown parameter \(item.name) in \(Self.redact(text)) (dnswatch takes sslmode)")
            }
        }
        sslMode = mode
        if let p = c.password {
            password = p.removingPercentEncoding ?? p
        } else if let p = environment["PGPASSWORD"] {
            password = p
        } else {
            let file = environment["PGPASSFILE"] ?? (environment["HOME"].map { $0 + "/.pgpass" } ?? "")
            password = Self.passfilePassword(file: file, host: host, port: port, database: self.database, user: user)
        }
    }

    /// The URL without its password: what every message shows.
    public var description: String {
        var c = URLComponents()
        c.scheme = "postgresql"
        c.user = user
        c.host = host
        c.port = port
        c.path = "/" + database
        if sslMode != .prefer { c.queryItems = [URLQueryItem(name: "sslmode", value: sslMode.rawValue)] }
        return c.string ?? "postgresql://\(user)@\(host):\(port)/\(database)"
    }

    /// `text` with any password removed, for messages about a URL that did not parse.
    public static func redact(_ text: String) -> String {
        guard let scheme = text.range(of: "://"), let at = text[scheme.upperBound...].lastIndex(of: "@") else { return text }
        let credentials = text[scheme.upperBound..<at]
        guard let colon = credentials.firstIndex(of: ":") else { return text }
        return String(text[..<colon]) + String(text[at...])
    }

    /// The password of the first matching line of a libpq passfile (`host:port:db:user:password`, `*`
    /// matching anything, `\:` and `\\` escaped); nil when none matches or the file is readable by others.
    static func passfilePassword(file: String, host: String, port: Int, database: String, user: String) -> String? {
        guard !file.isEmpty, let attributes = try? FileManager.default.attributesOfItem(atPath: file),
              let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue, mode & 0o077 == 0,
              let text = try? String(contentsOfFile: file, encoding: .utf8) else { return nil }
        for line in text.split(whereSeparator: \.isNewline) where !line.hasPrefix("#") {
            var fields: [String] = [], field = "", escaped = false
            for ch in line {
                if escaped { field.append(ch); escaped = false } else if ch == "\\" { escaped = true } else if ch == ":" && fields.count < 4 {
                    fields.append(field); field = ""
                } else { field.append(ch) }
            }
            fields.append(field)
            guard fields.count == 5 else { continue }
            let wanted = [host, String(port), database, user]
            if zip(fields.prefix(4), wanted).allSatisfy({ $0 == "*" || $0 == $1 }) { return fields[4] }
        }
        return nil
    }
}
