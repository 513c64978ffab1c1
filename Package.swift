// swift-tools-version: 6.0
import PackageDescription

// One-way layers, lowest first. A target imports only targets listed before it here;
// `scripts/check-layers` fails the build on a backward import.
//
//   Facts ← CFrontend ← Indexing ← Analysis ← Findings ← Checks ← Reporting ← Pipeline ← unbindcheck (CLI)
// Profile-guided optimization of the project's own modules (`scripts/build-release`), at
// LLVM's IR level (Swift 6.3's own SIL-level profile use stops on an optimizer assertion):
// with UNBINDCHECK_PGO=generate they count what a run executes; with
// UNBINDCHECK_PGO=FILE.profdata the optimizer inlines and lays out code by those counts.
// Dependencies build as usual. Unset (tests, CI): a plain build.
let pgo = Context.environment["UNBINDCHECK_PGO"].flatMap { $0.isEmpty ? nil : $0 }
let pgoSwift: [SwiftSetting] = pgo.map { [.unsafeFlags(["-Xfrontend", $0 == "generate" ? "-ir-profile-generate" : "-ir-profile-use=\($0)"])] } ?? []
let pgoLink: [LinkerSetting] = pgo == "generate" ? [.unsafeFlags(["-profile-generate"])] : []

let package = Package(
    name: "unbindcheck",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "unbindcheck", targets: ["unbindcheck"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // Runs git for `scan --since` (executable target only).
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
        // The persistent index (SQLite, system libsqlite3-dev) and its content hashes.
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // Plain per-file values the front end produces and every later layer reads.
        .target(name: "Facts"),
        // Lexer, conditional compilation and parser: bytes of one C file → `FileFacts`.
        .target(name: "CFrontend", dependencies: ["Facts"]),
        // Discovery, parallel parsing, the merged index and name resolution.
        // The persistent, content-addressed fact store (GRDB over the system SQLite) is here.
        .target(name: "Indexing", dependencies: [
            "Facts", "CFrontend",
            .product(name: "GRDB", package: "GRDB.swift"),
            // SQLite's C API, to bind a bulk insert's values without boxing them.
            .product(name: "GRDBSQLite", package: "GRDB.swift"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // The analysis passes: embeddings, allocations, effect summaries, subsystems, provider ops.
        .target(name: "Analysis", dependencies: ["Facts", "Indexing"]),
        // The finding model: severity, evidence, fingerprints, baselines, comparisons.
        .target(name: "Findings", dependencies: ["Facts", "Indexing"]),
        // One check per file, each with its examples.
        .target(name: "Checks", dependencies: ["Facts", "Indexing", "Analysis", "Findings"]),
        // Text, JSON, SARIF, HTML and the listings.
        .target(name: "Reporting", dependencies: ["Facts", "Indexing", "Analysis", "Findings", "Checks"]),
        // A scan session end to end, triage of crash logs, patch files, the fuzz harness.
        .target(name: "Pipeline", dependencies: ["Facts", "CFrontend", "Indexing", "Analysis", "Findings", "Checks", "Reporting"]),
        // The command line; the only target that imports ArgumentParser.
        .executableTarget(
            name: "unbindcheck",
            dependencies: [
                "Facts", "Indexing", "Analysis", "Findings", "Checks", "Reporting", "Pipeline",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Subprocess", package: "swift-subprocess"),
            ]
        ),
        .testTarget(
            name: "UnbindCheckTests",
            dependencies: ["Facts", "CFrontend", "Indexing", "Analysis", "Findings", "Checks", "Reporting", "Pipeline",
                           .product(name: "GRDB", package: "GRDB.swift")]
        ),
    ],
    swiftLanguageModes: [.v6]
)

// Every target but the tests gets the profile settings; the executable links the counters'
// runtime when they are generated.
for target in package.targets where target.type != .test {
    target.swiftSettings = (target.swiftSettings ?? []) + pgoSwift
    if target.type == .executable { target.linkerSettings = (target.linkerSettings ?? []) + pgoLink }
}
