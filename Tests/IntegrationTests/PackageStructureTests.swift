import Foundation
import Testing
import TestSupport

/// The package's layering as `swift package dump-package` states it (the manifest, not the code): only
/// the SQLite backend uses GRDB and only the PostgreSQL backend PostgresNIO, neither backend depends on the
/// other, the storage interfaces on neither, and only the composition root (`DNSWatchApp`) reaches a
/// backend at all among every target that is not a test target: the helper libraries under Tests/
/// (TestWorlds, TestSupport) count like any other library. Only test targets may use anything.
@Suite struct PackageStructureTests {
    /// One target of the manifest: its name, kind and the targets and products it names.
    struct Target {
        var name: String
        var type: String
        var path: String?
        var targets: [String]
        /// (package identity, product) pairs, the identity lowercased as SwiftPM does.
        var products: [(package: String, product: String)]

        /// A test target (`.testTarget`). A library under Tests/ is not one: it is a library like any other.
        var isTest: Bool { type == "test" }
        func uses(package: String) -> Bool { products.contains { $0.package == package } }
    }

    static let sqlite = "SQLiteStore", postgres = "PostgresStore", store = "Store", root = "DNSWatchApp"

    /// The manifest's targets, read from `swift package dump-package` (a scratch directory of its own, so
    /// that it never waits for the lock of the build directory the tests run from; no network: only the
    /// manifest is evaluated).
    static func manifest() async throws -> [String: Target] {
        let scratch = try TemporaryDirectory("dnswatch-dump-package")
        let swift = URL(fileURLWithPath: "/usr/bin/env")
        let r = try await ChildProcess.run(swift, ["swift", "package", "--package-path", DNSWatchBinary.packageRoot.path,
                                                   "--scratch-path", scratch.path("scratch"), "dump-package"])
        guard r.code == 0 else { throw TestSupportError.process("swift package dump-package exited \(r.code): \(r.err)") }
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any], "not a JSON object")
        let targets = try #require(json["targets"] as? [[String: Any]], "no targets")
        var out: [String: Target] = [:]
        for t in targets {
            let name = try #require(t["name"] as? String)
            var target = Target(name: name, type: try #require(t["type"] as? String), path: t["path"] as? String, targets: [], products: [])
            for dependency in try #require(t["dependencies"] as? [[String: Any]], "\(name): no dependencies") {
                // {"byName": [name, condition]}, {"target": [name, condition]}, {"product": [name, package, moduleAliases, condition]}
                if let byName = dependency["byName"] as? [Any?] ?? dependency["target"] as? [Any?] {
                    target.targets.append(try #require(byName.first as? String, "\(name): \(dependency)"))
                } else if let product = dependency["product"] as? [Any?] {
                    let productName = try #require(product.first as? String, "\(name): \(dependency)")
                    let package = try #require(product.count > 1 ? product[1] as? String : nil, "\(name): \(dependency)")
                    target.products.append((package.lowercased(), productName))
                } else {
                    Issue.record("\(name): a dependency of an unknown form: \(dependency)")
                }
            }
            out[name] = target
        }
        return out
    }

    /// The targets `name` depends on, directly or through others.
    static func reach(_ name: String, in targets: [String: Target]) -> Set<String> {
        var seen = Set<String>(), stack = [name]
        while let next = stack.popLast() {
            for d in targets[next]?.targets ?? [] where seen.insert(d).inserted { stack.append(d) }
        }
        return seen
    }

    @Test func eachDatabaseLibraryIsUsedByItsBackendOnly() async throws {
        let targets = try await Self.manifest()
        let product = targets.values.filter { !$0.isTest }
        #expect(product.filter { $0.uses(package: "grdb.swift") }.map(\.name).sorted() == [Self.sqlite])
        #expect(product.filter { $0.uses(package: "postgres-nio") }.map(\.name).sorted() == [Self.postgres])
    }

    @Test func theBackendsAreSiblingsAndTheInterfacesKnowNeither() async throws {
        let targets = try await Self.manifest()
        for name in [Self.sqlite, Self.postgres, Self.store] { #expect(targets[name] != nil, "no target \(name)") }
        let backends: Set = [Self.sqlite, Self.postgres]
        #expect(!Self.reach(Self.sqlite, in: targets).contains(Self.postgres), "SQLiteStore reaches PostgresStore")
        #expect(!Self.reach(Self.postgres, in: targets).contains(Self.sqlite), "PostgresStore reaches SQLiteStore")
        #expect(Self.reach(Self.store, in: targets).isDisjoint(with: backends), "Store reaches a backend")
        #expect(targets[Self.store]?.products.isEmpty == true, "Store uses no package: \(targets[Self.store]?.products.map(\.product) ?? [])")
    }

    /// Only the composition root depends on a backend, and no other library reaches one through it, the
    /// test helpers' libraries (TestWorlds, TestSupport) included: the CLI reaches them through the root alone.
    @Test func onlyTheCompositionRootReachesABackend() async throws {
        let targets = try await Self.manifest()
        let backends: Set = [Self.sqlite, Self.postgres]
        let product = targets.values.filter { !$0.isTest && !backends.contains($0.name) }
        let counted = Set(product.filter { $0.type == "regular" }.map(\.name))
        #expect(counted.isSuperset(of: ["TestWorlds", "TestSupport"]), "the libraries under Tests/ are counted: \(counted.sorted())")
        let direct = product.filter { !backends.isDisjoint(with: $0.targets) }.map(\.name).sorted()
        #expect(direct == [Self.root], "depend on a backend directly")
        let libraries = product.filter { $0.type == "regular" && !Self.reach($0.name, in: targets).isDisjoint(with: backends) }
        #expect(libraries.map(\.name).sorted() == [Self.root], "libraries that reach a backend")
        #expect(targets[Self.root].map { backends.isSubset(of: Set($0.targets)) } == true, "the root opens either backend")
    }
}
