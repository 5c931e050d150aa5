import Hummingbird

enum APIRoutes {
    static func register(on router: Router<ServeContext>, _ deps: ServeDependencies) {}
}
