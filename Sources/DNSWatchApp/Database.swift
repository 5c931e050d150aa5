public import Foundation
import PostgresStore
import SQLiteStore
import Store

/// A failure of the composition root, with the kind of exit the CLI maps it to and one sentence.
public struct AppFailure: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable {
        /// The command was given something unusable (exit 64).
        case usage
        /// The store could not be opened or used (exit 1).
        case failure
    }

    public let kind: Kind
    public let description: String

    public init(_ kind: Kind, _ description: String) {
        self.kind = kind
        self.description = description
    }
}

/// The history database a command names: `--db` (a SQLite file's path or a `postgresql://` URL), else
/// `$DNSWATCH_DB`, else the default file (`$XDG_DATA_HOME/dnswatch/dnswatch.sqlite`). Which backend is
/// decided here, and only here: a command gets the store through `reading`, `investigating`, `writing`,
/// `polling` or `copying`, typed by Store's protocols.
public struct Database: Sendable, CustomStringConvertible {
    enum Location: Sendable {
        case sqlite(String)
        case postgres(PostgresURL)
    }

    let location: Location

    /// The database of `flag` (`--db`), else of `environment`'s `DNSWATCH_DB`, else the default file; an
    /// empty one is a usage error, never the default; so is a `postgresql://` URL that cannot be read.
    public init(flag: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws(AppFailure) {
        let value: String
        do {
            value = try SQLiteStore.resolvePath(flag: flag, environment: environment)
        } catch {
            throw AppFailure(.usage, error.description)
        }
        guard PostgresURL.isPostgres(value) else {
            location = .sqlite(value)
            return
        }
        do {
            location = .postgres(try PostgresURL(value, environment: environment))
        } catch {
            throw AppFailure(.usage, "--db: \(error.description)")
        }
    }

    /// The warning for a `--db` given in argv: a PostgreSQL URL holding a password is in the process list
    /// (ps, /proc) for every local user to read. Nil for anything else.
    public static func argvWarning(flag: String) -> String? {
        guard PostgresURL.isPostgres(flag), PostgresURL.holdsPassword(flag) else { return nil }
        return "warning: the --db URL holds a password, which every local user can read in the process list; "
            + "give it in $PGPASSWORD, a passfile (~/.pgpass, $PGPASSFILE or ?passfile=PATH) or $DNSWATCH_DB instead"
    }

    /// The file's path, or the URL without its password.
    public var description: String {
        switch location {
        case .sqlite(let path): path
        case .postgres(let url): url.description
        }
    }

    /// When `error` is the sentence of a PostgreSQL server lost while a command ran (the batches a poll
    /// committed are kept), that sentence; nil otherwise.
    public static func lostConnection(_ error: any Error) -> String? {
        guard let failure = error as? PostgresStore.Failure, failure.lostConnection else { return nil }
        return failure.description
    }
}
