public import Classification
public import DNSWatchModel
public import Detection
public import Store
public import Hummingbird
import HummingbirdCore
import HTTPTypes
public import Investigation
public import Logging
public import ServiceLifecycle

/// The request context of every route: Hummingbird's core storage, and the name of the key that
/// authenticated the request ("-" when none was needed), for the request log.
public struct ServeContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Shared by every copy of this context, so the request log sees the name the authentication set.
    public let identity = RequestIdentity()
    public var keyName: String {
        get { identity.name }
        nonmutating set { identity.name = newValue }
    }

    public init(source: Source) {
        coreContext = .init(source: source)
    }
}

/// What the routes read from: the store (read-only), and the investigator over it.
public struct ServeDependencies: Sendable {
    public let store: any ServeReading
    public let investigator: Investigator
    /// The config's default poll intervals (the intervals `/api/v1/domains` shows, as `watch list --json`).
    public let intervals: PollInterval.Defaults
    /// What the domain view's "Explain" section says (with the config's `[damping]` figures per kind).
    public let explainer: Explainer

    /// `damping`: the config's figures per kind of list (empty: the defaults, as a config without `[damping]`).
    public init(store: any ServeReading, classifier: Classifier, intervals: PollInterval.Defaults = .init(),
                damping: [ListKind: FlapDamping] = [:]) {
        self.store = store
        self.intervals = intervals
        investigator = Investigator(store: store, classifier: classifier, asns: Investigator.cachedASNs(store))
        explainer = Explainer(store: store, classifier: classifier, asns: Investigator.cachedASNs(store), damping: damping)
    }
}

/// The server's routes, each family registered by its own file, behind the request log and the keys.
public enum DNSWatchServer {
    /// HEAD is answered wherever GET is (the same status and headers, no body); any other method on a path
    /// that exists is a 405 with `Allow: GET, HEAD` (after the keys are checked, as every answer is).
    public static func router(_ deps: ServeDependencies, auth: AuthPolicy = .open,
                              logger: Logger = Logger(label: "dnswatch.serve")) -> Router<ServeContext> {
        // The paths, from the same registration on a router that never answers, for the 405s.
        let paths = registered(on: Router(context: ServeContext.self), deps).routes.map(\.path)
        let router = Router(context: ServeContext.self, options: .autoGenerateHeadEndpoints)
        router.add(middleware: RequestLogMiddleware(logger: logger))
        router.add(middleware: AuthMiddleware(policy: auth))
        router.add(middleware: MethodMiddleware(paths: paths))
        return registered(on: router, deps)
    }

    private static func registered(on router: Router<ServeContext>, _ deps: ServeDependencies) -> Router<ServeContext> {
        DNSDBRoutes.register(on: router, deps)
        CIRCLRoutes.register(on: router, deps)
        APIRoutes.register(on: router, deps)
        UIRoutes.register(on: router, deps)
        MetricsRoutes.register(on: router, deps)
        return router
    }
}

/// Every route answers GET and HEAD only: another method on a path that one of them matches is a 405 with
/// `Allow`, instead of the router's 404 (which says the path does not exist).
struct MethodMiddleware: RouterMiddleware {
    typealias Context = ServeContext
    static let allow = "GET, HEAD"
    let paths: [RouterPath]

    func handle(_ request: Request, context: ServeContext,
                next: (Request, ServeContext) async throws -> Response) async throws -> Response {
        guard request.method != .get, request.method != .head, exists(request.uri.path) else {
            return try await next(request, context)
        }
        var headers = HTTPFields()
        headers[.allow] = MethodMiddleware.allow
        headers[.contentType] = "text/plain; charset=utf-8"
        return Response(status: .methodNotAllowed, headers: headers,
                        body: .init(byteBuffer: ByteBuffer(string: "method \(VisibleText.escape(String(request.method.rawValue.prefix(40)))) not allowed here: this server answers GET and HEAD\n")))
    }

    /// Whether a route's path matches `path` (segment by segment, `**` the rest).
    func exists(_ path: String) -> Bool {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        return paths.contains { route in
            var i = 0
            for element in route.components {
                if element == .recursiveWildcard { return i < segments.count }
                guard i < segments.count, element ~= segments[i] else { return false }
                i += 1
            }
            return i == segments.count
        }
    }
}

/// How many connections the server holds and how long it waits for them: idle clients cannot take every
/// file descriptor, and a connection that sends nothing (or half a request) is closed.
public struct ConnectionLimits: Sendable, Equatable {
    /// Connections open at once; beyond it the server accepts no more until one closes (the kernel queues
    /// them), so it never runs out of file descriptors (the usual limit is 1,024).
    public var maxConnections: Int
    /// A connection with no request under way for this long is closed: an idle keep-alive connection, and
    /// one that has sent part of a request head (or body) and stopped.
    public var idleTimeout: Duration

    public static let `default` = ConnectionLimits(maxConnections: 512, idleTimeout: .seconds(30))

    public init(maxConnections: Int, idleTimeout: Duration) {
        self.maxConnections = maxConnections
        self.idleTimeout = idleTimeout
    }
}

extension DNSWatchServer {
    /// The HTTP server (a swift-service-lifecycle `Service`: run it in a `ServiceGroup`, which ends it
    /// gracefully on a signal). `onRunning` is told the port it listens on.
    public static func application(_ deps: ServeDependencies, listen: ListenAddress, auth: AuthPolicy, limits: ConnectionLimits = .default,
                                   logger: Logger,
                                   onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol & Service {
        let idle = limits.idleTimeout.components
        return Application(
            router: router(deps, auth: auth, logger: logger),
            server: .http1(configuration: .init(
                idleTimeout: .nanoseconds(idle.seconds * 1_000_000_000 + idle.attoseconds / 1_000_000_000))),
            configuration: .init(address: .hostname(listen.host, port: listen.port), serverName: "dnswatch",
                                 availableConnectionsDelegate: MaximumAvailableConnections(limits.maxConnections, logger: logger)),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? listen.port) },
            logger: logger)
    }
}
