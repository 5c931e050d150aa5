public import Foundation

/// The one rule for the modes of the files and directories dnswatch creates (the SQLite database and its
/// `-wal`/`-shm`, the poll lock, the alerts file, the warning-list index cache): owner only by default, or
/// owner and group reading when the config's `file_mode` says `"0640"`; a directory created for such a
/// file lets the same people in. The mode is set exactly, whatever the umask; an existing file's mode is
/// left alone.
public enum FileModes {
    /// Owner reading and writing: the default.
    public static let ownerOnly: mode_t = 0o600
    /// The modes `file_mode` may name: owner only, or owner and group reading.
    public static let allowed: [mode_t] = [0o600, 0o640]

    /// The mode of a directory created to hold files of mode `file`: 0700, or 0750 when the group may read
    /// the files.
    public static func directory(for file: mode_t) -> mode_t {
        file & 0o040 != 0 ? 0o750 : 0o700
    }
}
