// swift-tools-version:6.0
import PackageDescription

/// gtl: Guided Transfer Learning as a distributed scout cluster.
/// Modules point down this list only: GTLCLI -> ScoutCluster -> ScoutWire/GTL -> GTLEngine -> C shims.
let package = Package(
    name: "gtl",
    products: [
        .executable(name: "gtl", targets: ["GTLCLI"]),
        .library(name: "GTLEngine", targets: ["GTLEngine"]),
        .library(name: "GTL", targets: ["GTL"]),
    ],
    targets: [
        // System libraries: a module map and a one-line shim each (Debian's -dev packages).
        .systemLibrary(name: "CBlas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CZmq", providers: [.apt(["libzmq3-dev"])]),
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CCrypto", providers: [.apt(["libssl-dev"])]),

        // The engine: tensors on BLAS, layers, losses, optimisers, PRNG, safetensors.
        .target(name: "GTLEngine", dependencies: ["CBlas"]),
        // Generated protobuf-c code for Protos/gtl.proto (scripts/gen-protos; CI runs scripts/check-protos).
        .target(name: "CWire", linkerSettings: [.linkedLibrary("protobuf-c")]),
        // The cluster wire format: Swift value types over CWire, strict decoding, SHA-256 content addresses.
        .target(name: "ScoutWire", dependencies: ["CWire", "CCrypto"]),
        // The method: data, scouting plans, scouts, the guide reducer, guided fine-tuning, evaluation.
        .target(name: "GTL", dependencies: ["GTLEngine", "CZlib"], resources: [.copy("Resources")]),
        // The cluster: the coordinator's pure state machine, the worker loop, the journal, and the
        // ZeroMQ/CURVE shell that drives them.
        .target(name: "ScoutCluster", dependencies: ["ScoutWire", "GTL", "GTLEngine", "CZmq"]),
        // The command-line tool.
        .executableTarget(name: "GTLCLI", dependencies: ["GTL", "GTLEngine", "ScoutCluster"]),

        .testTarget(name: "GTLEngineTests", dependencies: ["GTLEngine"]),
        .testTarget(name: "GTLTests", dependencies: ["GTL", "GTLEngine"]),
        .testTarget(name: "ScoutWireTests", dependencies: ["ScoutWire"]),
        .testTarget(name: "ScoutClusterTests", dependencies: ["ScoutCluster", "ScoutWire", "GTL", "GTLEngine"]),
        // Slow integration tests: real `gtl` processes (built by `swift build`) killed and restarted.
        .testTarget(name: "GTLIntegrationTests", dependencies: ["ScoutCluster", "ScoutWire", "GTL", "GTLEngine"]),
    ]
)
