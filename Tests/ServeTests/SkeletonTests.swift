import SQLiteStore
import Store
import Hummingbird
import HummingbirdTesting
import Serve
import Classification
import Testing

@Suite struct SkeletonTests {
    @Test func anUnknownPathIs404() async throws {
        let deps = ServeDependencies(store: try SQLiteStore.empty(), classifier: Classifier(fingerprints: try .embedded()))
        let app = Application(router: DNSWatchServer.router(deps))
        try await app.test(.router) { client in
            try await client.execute(uri: "/no/such/path", method: .get) { response in
                #expect(response.status == .notFound)
            }
        }
    }
}
