public import DNSWatchModel

/// Infrastructure the user declared as their own (config file): addresses in these blocks and name servers
/// matching these patterns classify as `owned`.
public struct OwnedInfrastructure: Sendable, Hashable {
    public var cidrs: [CIDR]
    /// Name-server patterns, same syntax as `ns` fingerprints (`ns1.example.com`, `*.example.net`, `ns*.example.org`).
    public var nameServers: [String]

    public init(cidrs: [CIDR] = [], nameServers: [String] = []) {
        self.cidrs = cidrs
        self.nameServers = nameServers
    }

    /// Name-server patterns that are not valid (the classifier ignores them), with the reason; for the CLI to report.
    public var invalidNameServers: [(pattern: String, reason: String)] {
        nameServers.compactMap { p in
            if case .failure(let e) = NamePattern.parse(p) { return (p, e.message) }
            return nil
        }
    }
}
