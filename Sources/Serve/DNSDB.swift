import Hummingbird

enum DNSDBRoutes {
    static func register(on router: Router<ServeContext>, _ deps: ServeDependencies) {}
}
