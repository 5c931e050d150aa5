public import Foundation

/// A PostgreSQL database named by `--db` or `$DNSWATCH_DB`: `postgresql://USER[:PASS]@HOST[:PORT]/DB`
/// (`postgres://` too; an IPv6 host in brackets, `[::1]`). Query parameters, as libpq reads them:
/// `sslmode`, `sslrootcert` (with `verify-ca`/`verify-full`), `password`, `passfile`; `application_name`
/// and `connect_timeout` are accepted and ignored. The password may instead come from `$PGPASSWORD` or
/// the passfile (`passfile=`, `$PGPASSFILE`, `~/.pgpass`), as libpq reads them, which keeps it out of the
/// process list. It is never shown: `description` is the URL without it, `redact` hides it in any text.
public struct PostgresURL: Sendable, Equatable, CustomStringConvertible {
    public var user: String
    public var password: String?
    /// The host name or address, an IPv6 address without its brackets.
    public var host: String
    public var port: Int
    public var database: String
    public var sslMode: SSLMode
    /// `sslrootcert=PATH`: the certificate authorities (PEM) that `verify-ca`/`verify-full` trust instead
    /// of the system's roots.
    public var sslRootCert: String?

    /// libpq's `sslmode` values, as the client can honour them.
    public enum SSLMode: String, Sendable, CaseIterable {
        /// No TLS.
        case disable
        /// TLS when the server offers it (libpq's `allow` and `prefer`, `prefer` being its default).
        case prefer
        /// TLS or no connection, the certificate not checked (libpq's `require`).
        case require
        /// TLS with the certificate's chain checked (against `sslrootcert`, else the system's roots), not
        /// its host name.
        case verifyCA = "verify-ca"
        /// TLS with the certificate's chain and host name checked.
        case verifyFull = "verify-full"
    }

    public struct Invalid: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Whether `value` names a PostgreSQL database rather than a SQLite file.
    public static func isPostgres(_ value: String) -> Bool {
        value.hasPrefix("postgresql://") || value.hasPrefix("postgres://")
    }

    /// Whether `text` (a PostgreSQL URL) itself holds a password, in its user info or a `password=`
    /// parameter: it is then visible to every local user in the process list when given on the command line.
    public static func holdsPassword(_ text: String) -> Bool {
        guard let c = URLComponents(string: text) else { return redact(text) != text }
        return c.password != nil || (c.queryItems ?? []).contains { $0.name == "password" }
    }

    /// Parses `text`; the password, when the URL has none, from `environment["PGPASSWORD"]` or the
    /// passfile (`passfile=`, else `$PGPASSFILE`, else `~/.pgpass`, read only when no one but its owner can
    /// read it).
    public init(_ text: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws(Invalid) {
        let shown = Self.redact(text)
        guard Self.isPostgres(text), let c = URLComponents(string: text) else {
            throw Invalid(description: "not a PostgreSQL URL (postgresql://USER@HOST[:PORT]/DB): \(shown)")
        }
        guard var host = c.host, !host.isEmpty else { throw Invalid(description: "no host in \(shown)") }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw Invalid(description: "no host in \(shown)") }
        let database = String(c.path.drop { $0 == "/" })
        guard !database.isEmpty, !database.contains("/") else {
            throw Invalid(description: "no database name in \(shown) (postgresql://USER@HOST/DB)")
        }
        let user = c.user.flatMap { $0.removingPercentEncoding } ?? environment["PGUSER"] ?? environment["USER"] ?? "postgres"
        self.user = user
        self.host = host
        if let port = c.port {
            self.port = port
        } else if let text = environment["PGPORT"], !text.isEmpty {
            guard let port = Int(text) else { throw Invalid(description: "$PGPORT \(text) is not a port number (1 to 65535)") }
            self.port = port
        } else {
            self.port = 5432
        }
        guard (1...65535).contains(self.port) else {
            throw Invalid(description: "port \(self.port) in \(shown) is outside 1 to 65535")
        }
        self.database = database.removingPercentEncoding ?? database
        var mode = SSLMode.prefer
        var queryPassword: String?, passfile: String?, rootCert: String?
        for item in c.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                switch item.value ?? "" {
                case "disable": mode = .disable
                case "allow", "prefer": mode = .prefer
                case "require": mode = .require
                case "verify-ca": mode = .verifyCA
                case "verify-full": mode = .verifyFull
                default: throw Invalid(description: "sslmode=\(item.value ?? ""): expected disable, allow, prefer, require, verify-ca or verify-full")
                }
            case "password": queryPassword = item.value ?? ""
            case "passfile": passfile = item.value ?? ""
            case "sslrootcert": rootCert = item.value ?? ""
            case "application_name", "connect_timeout": break
            default:
                throw Invalid(description: "unknown parameter \(item.name) in \(shown) (dnswatch takes sslmode, sslrootcert, password and passfile)")
            }
        }
        sslMode = mode
        if let rootCert {
            guard !rootCert.isEmpty else { throw Invalid(description: "sslrootcert is empty in \(shown): name a PEM file of certificate authorities") }
            guard mode == .verifyCA || mode == .verifyFull else {
                throw Invalid(description: "sslrootcert in \(shown) needs sslmode=verify-ca or sslmode=verify-full (the certificate is only checked then)")
            }
            // libpq's `sslrootcert=system`: the system's roots, as without the parameter.
            sslRootCert = rootCert == "system" ? nil : rootCert
        } else {
            sslRootCert = nil
        }
        if c.password != nil && queryPassword != nil {
            throw Invalid(description: "two passwords in \(shown): give it once (better in $PGPASSWORD or a passfile)")
        }
        if let p = c.password {
            password = p.removingPercentEncoding ?? p
        } else if let p = queryPassword {
            password = p
        } else if let p = environment["PGPASSWORD"] {
            password = p
        } else {
            if let passfile, passfile.isEmpty { throw Invalid(description: "passfile is empty in \(shown): name a file") }
            let file = passfile ?? environment["PGPASSFILE"] ?? (environment["HOME"].map { $0 + "/.pgpass" } ?? "")
            password = Self.passfilePassword(file: file, host: host, port: port, database: self.database, user: user)
        }
    }

    /// The URL without its password: what every message shows.
    public var description: String {
        let userText = user.addingPercentEncoding(withAllowedCharacters: Self.plain) ?? user
        let databaseText = database.addingPercentEncoding(withAllowedCharacters: Self.plain) ?? database
        // The host as written in a URL: an IPv6 address in brackets.
        let hostText = host.contains(":") ? "[\(host)]" : host
        var c = URLComponents()
        var items: [URLQueryItem] = []
        if sslMode != .prefer { items.append(URLQueryItem(name: "sslmode", value: sslMode.rawValue)) }
        if let sslRootCert { items.append(URLQueryItem(name: "sslrootcert", value: sslRootCert)) }
        c.queryItems = items
        let query = items.isEmpty ? "" : "?" + (c.percentEncodedQuery ?? "")
        return "postgresql://\(userText)@\(hostText):\(port)/\(databaseText)\(query)"
    }

    /// Characters shown as they are in the user and database parts of `description`.
    private static let plain = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")

    /// Query parameters whose values may be shown.
    private static let shownParameters: Set<String> = ["sslmode", "sslrootcert", "application_name", "connect_timeout"]

    /// `text` with any password hidden: the password of the user info (everything between the first `:`
    /// and the last `@` before the query) dropped, as `description` drops it; a port that is not a number
    /// (`USER:SECRET/DB`, the `@` forgotten) and the value of every query parameter but the harmless ones
    /// (`password=` in any spelling, percent-encoded or not) shown as `***`; the fragment dropped.
    /// For messages about a URL, parsed or not; the one redaction of PostgreSQL URLs.
    public static func redact(_ text: String) -> String {
        guard let scheme = text.range(of: "://") else { return text }
        var rest = Substring(text[scheme.upperBound...])
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
        var query: Substring? = nil
        if let mark = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
        }
        // The user info ends at the last `@` before the query (a password may hold `/`).
        var authorityAndPath = String(rest)
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            if let colon = credentials.firstIndex(of: ":") {
                authorityAndPath = String(rest[..<colon]) + String(rest[at...])
            }
        } else {
            // No `@`: `USER:SECRET/...` would read as a host with a port; a port that is not a number is hidden.
            let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
            let authority = rest[..<authorityEnd]
            if !authority.hasPrefix("["), let colon = authority.lastIndex(of: ":"),
               !authority[authority.index(after: colon)...].allSatisfy(\.isASCIIDigitForPort) {
                authorityAndPath = String(rest[..<colon]) + ":***" + String(rest[authorityEnd...])
            }
        }
        var out = String(text[..<scheme.upperBound]) + authorityAndPath
        if let query {
            let items = query.split(separator: "&", omittingEmptySubsequences: false).map { item -> String in
                guard let equals = item.firstIndex(of: "=") else { return String(item) }
                let name = String(item[..<equals])
                if shownParameters.contains(name.removingPercentEncoding ?? name) { return String(item) }
                return name + "=***"
            }
            out += "?" + items.joined(separator: "&")
        }
        return out
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

extension Character {
    /// A digit of a port number (ASCII only).
    fileprivate var isASCIIDigitForPort: Bool { ("0"..."9").contains(self) }
}
