public import Classification
public import DNSWatchModel
public import HistoryStore
public import Hummingbird
public import Investigation
public import Logging

/// The request context of every route: Hummingbird's core storage, and the name of the key that
/// authenticated the request ("-" when none was needed), for the request log.
public struct ServeContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var keyName: String = "-"

    public init(source: Source) {
        coreContext = .init(source: source)
    }
}

/// What the routes read from: the store (read-only), and the investigator over it.
public struct ServeDependencies: Sendable {
    public let store: HistoryStore
    public let investigator: Investigator
    /// The config's default poll intervals (the intervals `/api/v1/domains` shows, as `watch list --json`).
    public let intervals: PollInterval.Defaults

    public init(store: HistoryStore, classifier: Classifier, intervals: PollInterval.Defaults = .init()) {
        self.store = store
        self.intervals = intervals
        investigator = Investigator(store: store, classifier: classifier, asns: Investigator.cachedASNs(store))
    }
}

/// The server's routes, each family registered by its own file.
public enum DNSWatchServer {
    public static func router(_ deps: ServeDependencies) -> Router<ServeContext> {
        let router = Router(context: ServeContext.self)
        DNSDBRoutes.register(on: router, deps)
        CIRCLRoutes.register(on: router, deps)
        APIRoutes.register(on: router, deps)
        UIRoutes.register(on: router, deps)
        MetricsRoutes.register(on: router, deps)
        return router
    }
}
