import Hummingbird

enum CIRCLRoutes {
    static func register(on router: Router<ServeContext>, _ deps: ServeDependencies) {}
}
