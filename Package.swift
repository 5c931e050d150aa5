// swift-tools-version:6.1
import PackageDescription

// Data flows one way:
// watchlist files → Watchlists → Poller → Resolver (only importer of CLDNS) → observations →
// Classification → Detection → a write plan through Store's protocols → Alerting. `dnswatch` is a thin CLI
// on top; DNSWatchApp, its composition root, is the one library that reaches a backend (SQLiteStore: GRDB;
// PostgresStore: postgres-nio; neither depends on the other).
//
// Platform: Linux (Debian 12 and like, glibc): the resolver drives sockets with recvmmsg/sendmmsg and
// the CLI imports Glibc. No Apple platform is declared because none builds.
//
// Each target declares exactly the modules it imports; these settings make that (and the layering)
// checked by the compiler: an import is internal unless written `public import`, a member is visible
// only where its module is imported, and existentials are written `any`.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "dnswatch",
    products: [
        .executable(name: "dnswatch", targets: ["dnswatch"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-async-algorithms", from: "1.1.4"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        // libldns, wrapped like GRDBSQLite: a module map and a shim header. Imported by Resolver only.
        .systemLibrary(
            name: "CLDNS",
            pkgConfig: "ldns",
            providers: [.apt(["libldns-dev"])]
        ),
        // Value types every layer shares: names, record types, outcomes, classes, durations.
        .target(name: "DNSWatchModel"),
        // Watchlist files → normalised domain entries (pure parsing, no I/O beyond reading files).
        .target(name: "Watchlists", dependencies: ["DNSWatchModel"]),
        // DNS engine: packets built/parsed by ldns, non-blocking UDP (TCP on truncation).
        // Deque and Heap (swift-collections) hold its queues and retransmission timers; swift-log its one
        // warning (a resolver set aside).
        .target(
            name: "Resolver",
            dependencies: [
                "DNSWatchModel", "CLDNS",
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // Provider fingerprints (embedded data file) and the address / name-server classifier.
        .target(
            name: "Classification",
            dependencies: ["DNSWatchModel"],
            resources: [.embedInCode("fingerprints.tsv"), .embedInCode("warninglist-actions.tsv")]  // links to data/
        ),
        // The storage interfaces (async protocols) and their plain records: what the poll, the investigation,
        // serve and the watch commands need of a store. Neither GRDB nor PostgresNIO: both backends implement it.
        .target(name: "Store", dependencies: ["DNSWatchModel"]),
        // The SQLite backend (GRDB, WAL, migrations embedded from migrations/*.sql); GRDB conformances of Store's
        // records live here as extensions.
        .target(
            name: "SQLiteStore",
            // GRDBSQLite: sqlite3_file_control, for SQLITE_FCNTL_PERSIST_WAL (SQLiteStore.keepWALFiles).
            dependencies: ["DNSWatchModel", "Store", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "GRDBSQLite", package: "GRDB.swift")],
            resources: [.embedInCode("migrations")]
        ),
        // The PostgreSQL backend (postgres-nio): migrations of its own (migrations/postgresql/*.sql, embedded)
        // under an advisory lock, leased due work with FOR UPDATE SKIP LOCKED, fenced batch commits, bulk
        // writes with UNNEST, the shared outbox, `pollers` and the copy of `migrate --from` (from any Store
        // ExportSource). Implements Store's protocols; SQL for PostgreSQL lives here only. Not SQLiteStore.
        .target(
            name: "PostgresStore",
            dependencies: [
                "DNSWatchModel", "Store",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [.embedInCode("migrations")]  // links to migrations/postgresql
        ),
        // The composition root: `--db` (a SQLite path or a postgresql:// URL) → a store, handed to a command as
        // Store's protocols for reading, investigating, writing or polling (the SQLite poll lock held here), and
        // `migrate --from` wired from SQLite's export to PostgreSQL's copy. The only library that reaches a backend.
        .target(
            name: "DNSWatchApp",
            dependencies: [
                "DNSWatchModel", "Store", "SQLiteStore", "PostgresStore",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Domain state, transitions, alert typing and severity (pure logic).
        .target(name: "Detection", dependencies: ["DNSWatchModel"]),
        // Alert sinks and the delivery of the outbox.
        .target(
            name: "Alerting",
            dependencies: [
                "DNSWatchModel",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // The investigator's queries: which watched domains resolved into an address, and the triage verdict.
        .target(name: "Investigation", dependencies: ["DNSWatchModel", "Store", "Classification", "Detection"]),
        // One poll end to end, the scheduler, and the daemon service.
        .target(
            name: "Poller",
            dependencies: [
                "DNSWatchModel", "Resolver", "Classification", "Store", "Detection", "Alerting",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncAlgorithms", package: "swift-async-algorithms"),
            ]
        ),
        // `dnswatch serve`: the history over HTTP (Hummingbird 2) for passive-DNS clients (DNSDB API v2, CIRCL
        // COF), dnswatch's own API, the web page and Prometheus metrics. Reads the store only.
        .target(
            name: "Serve",
            dependencies: [
                "DNSWatchModel", "Store", "Classification", "Investigation", "Detection",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            // The OpenAPI document of /api/v1, served from the binary itself.
            resources: [.embedInCode("openapi.json")]
        ),
        // The TOML config file: typed, checked, every error naming its key.
        .target(
            name: "DNSWatchConfig",
            dependencies: [
                "DNSWatchModel", "Alerting", "Classification", "Detection", "Resolver",
                .product(name: "TOMLKit", package: "TOMLKit"),
            ]
        ),
        .executableTarget(
            name: "dnswatch",
            dependencies: [
                "DNSWatchModel", "Watchlists", "Resolver", "Classification", "Store", "DNSWatchApp", "Detection", "Alerting",
                "Poller", "Investigation", "DNSWatchConfig", "Serve",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            // BuildInfo.swift: the version (VERSION file) and git commit `dnswatch --version` prints.
            plugins: ["BuildInfo"]
        ),
        // Writes BuildInfo.swift at build time (Plugins/BuildInfo): VERSION and `git rev-parse --short HEAD`.
        .plugin(name: "BuildInfo", capability: .buildTool()),
        // Test-only helpers: a real Unbound on a free loopback port, a scripted UDP server.
        .target(
            name: "TestSupport",
            dependencies: ["DNSWatchModel", .product(name: "Logging", package: "swift-log")],
            path: "Tests/TestSupport"),
        // The tests' one scripted DNS world (SedoWorld: Unbound, a fresh store, a poller wired like the CLI's)
        // and the sink that records alerts (CaptureSink), shared by IntegrationTests, ServeTests and StoreContractTests.
        // A library like any other: it sees the store through Store's protocols and reaches no backend (the
        // test targets that subclass SedoWorld open the store and give the lock).
        .target(
            name: "TestWorlds",
            dependencies: [
                "Poller", "Store", "Resolver", "Classification", "Alerting", "DNSWatchModel", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/TestWorlds"),
        .testTarget(name: "ModelTests", dependencies: ["DNSWatchModel"]),
        .testTarget(name: "WatchlistsTests", dependencies: ["Watchlists", "DNSWatchModel", "TestSupport"]),
        .testTarget(name: "ConfigParsingTests", dependencies: ["DNSWatchConfig", "DNSWatchModel", "Detection", "TestSupport"]),
        .testTarget(
            name: "ResolverTests",
            dependencies: ["Resolver", "DNSWatchModel", "TestSupport", .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "ClassificationTests", dependencies: ["Classification", "DNSWatchModel"]),
        // SQLite-only behaviour (files, migrations, WAL, query plans); what the store does for its callers is in
        // StoreContractTests.
        .testTarget(name: "SQLiteStoreTests", dependencies: ["SQLiteStore", "Store", "DNSWatchModel", "TestSupport", .product(name: "GRDB", package: "GRDB.swift")]),
        // The store's contract, every case on both backends (SQLite and a throwaway PostgreSQL): watchlists, a
        // poll written through the Poller's writer (a scripted resolver), lookups, triage reads, alerts.
        .testTarget(
            name: "StoreContractTests",
            dependencies: [
                "Store", "SQLiteStore", "PostgresStore", "Poller", "Classification", "Alerting", "DNSWatchModel", "TestSupport",
                "TestWorlds", .product(name: "Logging", package: "swift-log"),
            ]),
        .testTarget(name: "DetectionTests", dependencies: ["Detection", "DNSWatchModel"]),
        // The poll's rules as a pure plan (PollPlanner): answers and stored heads in, a WritePlan out; no database.
        .testTarget(name: "PollerTests", dependencies: ["Poller", "Store", "Classification", "Detection", "DNSWatchModel"]),
        .testTarget(name: "AlertingTests", dependencies: ["Alerting", "TestSupport"]),
        .testTarget(
            name: "ServeTests",
            dependencies: [
                "Serve", "Poller", "Store", "SQLiteStore", "Resolver", "Classification", "Investigation", "DNSWatchModel", "TestSupport", "TestWorlds",
                "Alerting", "Detection",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "Poller", "Store", "SQLiteStore", "PostgresStore", "Resolver", "Classification", "Alerting", "Investigation", "DNSWatchModel",
                "TestSupport", "TestWorlds",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ]
)

for target in package.targets where target.type != .system && target.type != .plugin {
    target.swiftSettings = (target.swiftSettings ?? []) + swiftSettings
}

// libFuzzer targets (Fuzz/, docs/fuzzing.md), only when asked: `make fuzz` builds them with DNSWATCH_FUZZ=1
// into .build-fuzz, every Swift module compiled with -sanitize=fuzzer,address. FuzzerEntry gives each its
// `<Target>_main` (see Fuzz/FuzzerEntry/FuzzerEntry.c).
if Context.environment["DNSWATCH_FUZZ"] != nil {
    let fuzzSettings: [SwiftSetting] = [.unsafeFlags(["-parse-as-library"])]
    func fuzzTarget(_ name: String, _ dependencies: [Target.Dependency]) -> Target {
        .executableTarget(name: name, dependencies: dependencies + ["FuzzerEntry", "FuzzSupport"], path: "Fuzz/\(name)",
                          swiftSettings: fuzzSettings)
    }
    package.targets += [
        .target(name: "FuzzerEntry", path: "Fuzz/FuzzerEntry"),
        // The checks the targets share (a message holds no raw control character, a stored name is normalised).
        .target(name: "FuzzSupport", dependencies: ["DNSWatchModel"], path: "Fuzz/FuzzSupport"),
        fuzzTarget("FuzzWatchlist", ["Watchlists", "DNSWatchModel"]),
        fuzzTarget("FuzzDuration", ["DNSWatchModel"]),
        fuzzTarget("FuzzConfig", ["DNSWatchConfig", "DNSWatchModel"]),
        fuzzTarget("FuzzReply", ["Resolver"]),
        fuzzTarget("FuzzWarningList", ["Classification", "DNSWatchModel"]),
        fuzzTarget("FuzzCOF", ["Poller", "Store", "DNSWatchModel"]),
        fuzzTarget("FuzzHTTP", ["Serve", "DNSWatchModel"]),
    ]
}
