import Hummingbird

enum UIRoutes {
    static func register(on router: Router<ServeContext>, _ deps: ServeDependencies) {}
}
