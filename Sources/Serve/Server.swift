public import Classification
public import DNSWatchModel
public import HistoryStore
public import Hummingbird
import HTTPTypes
public import Investigation
public import Logging
import DNSWatchModel
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

    public init(store: any ServeReading, classifier: Classifier, intervals: PollInterval.Defaults = .init()) {
        self.store = store
        self.intervals = intervals
        investigator = Investigator(store: store, classifier: classifier, asns: Investigator.cachedASNs(store))
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

/// Why a `--listen` value cannot be used.
public struct ListenAddressError: Error, Sendable, CustomStringConvertible {
    public let description: String
}

/// Where the server listens: `HOST:PORT` with an IPv4 literal or `localhost`, or `[IPv6]:PORT`
/// (port 0: the kernel picks one).
public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    public let host: String
    public let port: Int

    public static let `default` = ListenAddress(host: "127.0.0.1", port: 8053)

    init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public init(_ text: String) throws(ListenAddressError) {
        let hostPart: Substring, portPart: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw ListenAddressError(description: "'\(text)' is not [IPV6]:PORT")
            }
            hostPart = text[text.index(after: text.startIndex)..<close]
            portPart = text[text.index(close, offsetBy: 2)...]
            guard let ip = IPAddress(String(hostPart)), ip.bytes.count == 16 else {
                throw ListenAddressError(description: "'\(hostPart)' is not an IPv6 address")
            }
        } else {
            guard let colon = text.lastIndex(of: ":") else {
                throw ListenAddressError(description: "'\(text)' is not HOST:PORT (e.g. 127.0.0.1:8053 or [::1]:8053)")
            }
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
            guard hostPart == "localhost" || IPAddress(String(hostPart)).map({ $0.bytes.count == 4 }) == true else {
                throw ListenAddressError(description: "'\(hostPart)' is not an IPv4 address or localhost (write IPv6 as [ADDRESS]:PORT)")
            }
        }
        guard let port = Int(portPart), (0...65535).contains(port), portPart.allSatisfy(\.isNumber) else {
            throw ListenAddressError(description: "'\(portPart)' is not a port (0 to 65535)")
        }
        self.host = String(hostPart)
        self.port = port
    }

    /// 127.0.0.0/8, ::1 or localhost: only this machine can connect.
    public var isLoopback: Bool {
        if host == "localhost" { return true }
        guard let ip = IPAddress(host) else { return false }
        if ip.bytes.count == 4 { return ip.bytes[0] == 127 }
        return ip.bytes == Array(repeating: 0, count: 15) + [1]
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

extension DNSWatchServer {
    /// The HTTP server (a swift-service-lifecycle `Service`: run it in a `ServiceGroup`, which ends it
    /// gracefully on a signal). `onRunning` is told the port it listens on.
    public static func application(_ deps: ServeDependencies, listen: ListenAddress, auth: AuthPolicy, logger: Logger,
                                   onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol & Service {
        Application(
            router: router(deps, auth: auth, logger: logger),
            configuration: .init(address: .hostname(listen.host, port: listen.port), serverName: "dnswatch"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? listen.port) },
            logger: logger)
    }
}
