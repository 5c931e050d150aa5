import Hummingbird

enum MetricsRoutes {
    static func register(on router: Router<ServeContext>, _ deps: ServeDependencies) {}
}
