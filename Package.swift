// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Overcast",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "overcast", targets: ["overcast"]),
        .executable(name: "overcast-bench", targets: ["overcast-bench"]),
        .executable(name: "overcast-demo", targets: ["overcast-demo"]),
        .library(name: "VRRP", targets: ["VRRP"]),
    ],
    // Exact versions: a daemon's builds must be reproducible, and Package.resolved is not
    // committed (the package mirrors here carry other commit ids). Raise them on purpose.
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", exact: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", exact: "2.4.1"),
        .package(url: "https://github.com/apple/swift-crypto", exact: "4.5.2"),
    ],
    targets: [
        // C libraries, found by pkg-config. Shim headers hold static inline wrappers only.
        .systemLibrary(name: "CNetlink", pkgConfig: "libnl-genl-3.0",
                       providers: [.apt(["libnl-3-dev", "libnl-genl-3-dev", "libnl-route-3-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CLinux"),
        .systemLibrary(name: "CPcap", pkgConfig: "libpcap", providers: [.apt(["libpcap-dev"])]),
        .systemLibrary(name: "CPCRE2", pkgConfig: "libpcre2-8", providers: [.apt(["libpcre2-dev"])]),
        .systemLibrary(name: "CNftables", pkgConfig: "libnftables", providers: [.apt(["libnftables-dev"])]),

        // Values every layer shares (addresses, transport kinds): below VRRP, LinuxNet and Config.
        .target(name: "NetworkTypes"),
        // The pure protocol core: Swift standard library only.
        .target(name: "VRRP", dependencies: ["NetworkTypes"]),
        // Authenticated advertisements (`auth_type HMAC_SHA256`): the HMAC trailer behind the
        // core's AdvertisementAuthenticator, on swift-crypto (docs/hmac-trailer.md).
        .target(name: "VRRPAuthentication", dependencies: ["NetworkTypes", "VRRP", .product(name: "Crypto", package: "swift-crypto")]),
        // Deterministic clusters of VRRP routers on an in-memory network with a virtual clock.
        .target(name: "VRRPSimulation", dependencies: ["NetworkTypes", "VRRP"]),
        // keepalived.conf: lexer, parser, keyword registry, typed model, validation.
        // HTTP_GET's body `regex`, on libpcre2 as in keepalived: compiled when the
        // configuration is read (errors at the pattern), matched by the checker.
        .target(name: "PCRE", dependencies: ["CPCRE2"]),
        .target(name: "Config", dependencies: ["NetworkTypes", "PCRE"]),
        // A vrrp_instance of the configuration as the instance core's settings (no host needed).
        .target(name: "InstanceConfiguration", dependencies: ["NetworkTypes", "Config", "VRRP"]),
        // Typed Swift over the C libraries (one small wrapper each).
        .target(name: "LinuxNet", dependencies: ["CNetlink", "CLinux", "NetworkTypes"]),
        // Accept Mode off (`no_accept`, strict mode): keepalived's nftables table as nft
        // commands (pure) and libnftables to run them (docs/accept-mode.md).
        .target(name: "Nftables", dependencies: ["CNftables", "NetworkTypes"]),
        // VRRP transports behind one protocol: unicast, multicast (GRE overlay), replicate.
        .target(name: "Transports", dependencies: ["VRRP", "LinuxNet", "PacketCapture", "CLinux", "NetworkTypes", "MonotonicTime"]),
        // The GRE overlay: plan (pure) and apply (netlink), for `overcast overlay` and the daemon.
        .target(name: "Overlay", dependencies: ["NetworkTypes", "Config", "LinuxNet", "VRRP"]),
        // IPVS: the table as values and the reconciler (pure); the netlink client comes with it.
        .target(name: "IPVS", dependencies: ["Config", "LinuxNet"]),
        // Health checks of real servers: the configuration's checks as a plan, the checkers'
        // policy and state (pure), HTTP/TCP checks on the engine's sockets and libcurl multi.
        .target(name: "HealthChecks", dependencies: [
            "CCurl", "Config", "HTTPClient", "LinuxNet", "PCRE", .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // The daemon: one service per VRRP instance plus the shared ones.
        .target(name: "OvercastDaemon", dependencies: [
            "NetworkTypes", "VRRP", "VRRPAuthentication", "Config", "InstanceConfiguration", "Transports", "LinuxNet", "ChildProcesses",
            "CLinux", "Overlay", "IPVS", "HealthChecks", "EC2", "CloudRoutes", "OvercommitExecutor", "Mailer", "Nftables", "MonotonicTime",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ]),
        .target(name: "HTTPClient", dependencies: ["CCurl"]),
        // keepalived's alert e-mails: the messages (pure) and libcurl's SMTP to send them.
        .target(name: "Mailer", dependencies: ["CCurl", "HTTPClient"]),
        // EC2 route-table failover: the Query API over libcurl SigV4, XML answers, IMDSv2,
        // the credential chain, retries, and making a VIP's /32 route point at this node.
        .target(name: "EC2", dependencies: ["HTTPClient"]),
        // The route worker beside the EC2 client: an instance's `ec2_route_failover` as
        // settings, and the thread that keeps the VIP routes pointing here while MASTER.
        .target(name: "CloudRoutes", dependencies: [
            "Config", "EC2", "LinuxNet", "NetworkTypes", "MonotonicTime", .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "PacketCapture", dependencies: ["CPcap"]),
        // `overcast doctor`: checks a real account for what failover needs (pure checks on
        // value facts; a gatherer over EC2Client/IMDS and /proc, /sys; text and JSON).
        .target(name: "Doctor", dependencies: ["NetworkTypes", "Config", "EC2", "HTTPClient", "VRRP"]),
        // `overcast simulate`'s cluster check: the nodes' files compared as one cluster
        // (VRIDs, priorities, peers, authentication, transports, route tables), pure.
        .target(name: "ClusterCheck", dependencies: ["NetworkTypes", "Config"]),
        // Swift Concurrency's default executor on a serial dispatch queue (libdispatch's
        // overcommit pool, off its 1 Hz monitor), through the runtime's executor factory.
        .target(name: "OvercommitExecutor"),

        // Starting, watching and stopping child processes (scripts, test-bed programs).
        .target(name: "ChildProcesses", dependencies: ["MonotonicTime"]),
        // CLOCK_MONOTONIC for every deadline, and a condition variable that waits on it.
        .target(name: "MonotonicTime"),
        // Test beds: network namespaces, child processes, prerequisites. For tests, the
        // demo and the benchmarks; never linked into the daemon.
        .target(name: "Lab", dependencies: ["NetworkTypes", "ChildProcesses", "CLinux", "VRRP", "LinuxNet", "OvercastDaemon", "EC2", "HTTPClient", "TestSupport", "MonotonicTime"]),
        // What pure unit tests share, on the standard library and libc alone so that they
        // link none of the daemon: a seeded generator, the rule for tests that need the machine.
        .target(name: "TestSupport"),

        .executableTarget(name: "overcast", dependencies: [
            "VRRP", "VRRPSimulation", "Config", "OvercastDaemon", "Overlay", "Transports", "LinuxNet", "HTTPClient", "PacketCapture",
            "HealthChecks", "CloudRoutes", "OvercommitExecutor", "Doctor", "InstanceConfiguration", "ClusterCheck", "NetworkTypes",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
        ]),

        // The comparison benchmarks: labs, runs, statistics, tables.
        .executableTarget(name: "overcast-bench", dependencies: [
            "Lab", "EC2", "LinuxNet", "VRRP", "NetworkTypes", "PacketCapture", "IPVS", "Config", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // What comes from outside (advertisements, configuration text, EC2 answers) as
        // functions of bytes, for libFuzzer (overcast-fuzz, scripts/fuzz.sh) and the tests.
        .target(name: "FuzzTargets", dependencies: ["NetworkTypes", "VRRP", "VRRPAuthentication", "Config", "EC2", "HealthChecks"]),
        .executableTarget(name: "overcast-fuzz", dependencies: ["FuzzTargets"]),

        // The article's whole setup as a narrated demonstration (the main command).
        .executableTarget(name: "overcast-demo", dependencies: [
            "Lab", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        .testTarget(name: "VRRPTests", dependencies: ["NetworkTypes", "VRRP", "TestSupport"]),
        .testTarget(name: "VRRPAuthenticationTests", dependencies: ["NetworkTypes", "VRRPAuthentication", "VRRP"]),
        .testTarget(name: "VRRPSimulationTests", dependencies: ["NetworkTypes", "VRRPSimulation"]),
        .testTarget(name: "ConfigTests", dependencies: ["Config", "TestSupport"]),
        .testTarget(name: "NftablesTests", dependencies: ["Nftables", "NetworkTypes"]),
        .testTarget(name: "OvercastDaemonTests", dependencies: [
            "OvercastDaemon", "VRRP", "EC2", "CloudRoutes", "HealthChecks", "Config", "LinuxNet", "NetworkTypes", "Mailer",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "HealthChecksTests", dependencies: ["HealthChecks", "Config", "PCRE"]),
        .testTarget(name: "EC2Tests", dependencies: ["EC2"]),
        .testTarget(name: "CloudRoutesTests", dependencies: ["CloudRoutes", "Config", "NetworkTypes"]),
        .testTarget(name: "LabTests", dependencies: ["NetworkTypes", "Lab", "EC2", "VRRP", "Config"]),
        .testTarget(name: "TransportsTests", dependencies: ["NetworkTypes", "Transports", "VRRP", "VRRPAuthentication"]),
        .testTarget(name: "DoctorTests", dependencies: ["Doctor", "EC2", "Config"]),
        .testTarget(name: "ClusterCheckTests", dependencies: ["ClusterCheck", "Config"]),
        .testTarget(name: "FuzzTargetsTests", dependencies: ["FuzzTargets", "TestSupport"]),
        .testTarget(name: "IPVSTests", dependencies: ["IPVS", "Config"]),
        .testTarget(name: "OverlayTests", dependencies: ["NetworkTypes", "Overlay", "Config", "LinuxNet", "VRRP"]),
        .testTarget(name: "SystemLibraryTests", dependencies: ["Transports", "NetworkTypes", "LinuxNet", "CLinux", "HTTPClient", "PacketCapture", "Lab", "VRRP", "OvercommitExecutor"]),
        .testTarget(name: "IntegrationTests", dependencies: ["NetworkTypes", "LinuxNet", "VRRP", "VRRPAuthentication", "Lab", "PacketCapture", "HealthChecks", "HTTPClient", "EC2", "Mailer", "Nftables"]),
        .testTarget(name: "KernelTests", dependencies: ["LinuxNet", "Lab", "IPVS", "Config", "HTTPClient"]),
    ]
)
