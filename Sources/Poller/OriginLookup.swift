import Classification
import DNSWatchModel
public import Store

/// Origin ASNs of addresses: the cache first, then Team Cymru's DNS service (`origin(6).asn.cymru.com`
/// TXT) through the configured resolvers for what is missing, saved back to the cache. Used by polls and
/// by the investigation commands alike.
public struct OriginLookup: Sendable {
    public let store: any PollStore
    /// nil: the cache only.
    public let engine: (any QueryEngine)?
    public var ttl: Int64 = 7 * 86400
    /// How long "no origin known" is remembered.
    public var negativeTTL: Int64 = 86400

    public init(store: any PollStore, engine: (any QueryEngine)?) {
        self.store = store
        self.engine = engine
    }

    /// What a lookup found.
    public struct Result: Sendable {
        /// Cached and newly learnt entries by address text (an entry with `asn` nil: none known).
        public var entries: [String: ASNEntry] = [:]
        /// Addresses learnt just now.
        public var fresh: Set<String> = []
        /// Addresses whose lookup failed just now (not cached: asked again next time).
        public var failed: Set<String> = []
        public var queries = 0
        public var answers = 0
    }

    public func lookUp(_ addresses: [String], now: Int64) async throws -> Result {
        let addresses = Array(Set(addresses))
        var result = Result()
        result.entries = try await store.cachedASN(addresses, now: now)
        // Non-routable addresses have no origin: never asked.
        let missing = addresses.filter { result.entries[$0] == nil }.compactMap(IPAddress.init)
            .filter { SpecialPurpose.block(containing: $0) == nil }.sorted()
        guard let engine, !missing.isEmpty else { return result }
        let resolutions = try await engine.answers(for: missing.map { Question(name: OriginASN.queryName(for: $0), type: .txt) })
        result.queries = resolutions.count
        var found: [ASNEntry] = [], none: [ASNEntry] = []
        for (ip, r) in zip(missing, resolutions) {
            guard let a = r.outcome.answer else {
                result.failed.insert(ip.description)
                continue
            }
            result.answers += 1
            if let rec = OriginASN.best(of: a.rdata) {
                found.append(ASNEntry(address: ip.description, asn: rec.asn, prefix: rec.prefix, country: rec.country, registry: rec.registry))
            } else {
                none.append(ASNEntry(address: ip.description, asn: nil))
            }
        }
        for e in found + none {
            result.entries[e.address] = e
            result.fresh.insert(e.address)
        }
        let ttl = self.ttl, negativeTTL = self.negativeTTL, learnt = found, unknown = none
        try await store.saveASN(learnt, none: unknown, at: now, ttl: ttl, negativeTTL: negativeTTL)
        return result
    }
}
