import DNSWatchConfig

/// The error `Config.parse` gives for `text` (read as the file `c.toml`), as its message; nil when it parses.
func configFailure(_ text: String) -> String? {
    do {
        _ = try Config.parse(text, path: "c.toml")
        return nil
    } catch {
        return "\(error)"
    }
}
