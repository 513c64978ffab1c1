// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "unbindcheck",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "unbindcheck", targets: ["unbindcheck"]),
        .library(name: "UnbindCheck", targets: ["UnbindCheck"]),
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
        // Front end, index, analyses, checks and reporters. No CLI dependency.
        .target(
            name: "UnbindCheck",
            dependencies: [
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // The command line; the only target that imports ArgumentParser.
        .executableTarget(
            name: "unbindcheck",
            dependencies: [
                "UnbindCheck",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Subprocess", package: "swift-subprocess"),
            ]
        ),
        .testTarget(
            name: "UnbindCheckTests",
            dependencies: ["UnbindCheck", .product(name: "GRDB", package: "GRDB.swift")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
