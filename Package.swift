// swift-tools-version: 6.1
// ViTLens: see what a Vision Transformer attends to, from Swift, the command line or a browser.
import PackageDescription

// Dependencies run one way: Core -> Checkpoint/Image/Text -> Models -> ONNX; Core -> Analysis/Render; all -> ViTLens -> vitlens.
let package = Package(
    name: "ViTLens",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "ViTLens", targets: ["ViTLens"]),
        .executable(name: "vitlens", targets: ["vitlens"]),
        // The HTML report and the explorer page's assets; the explorer server (Hummingbird 2).
        .library(name: "ViTLensWeb", targets: ["ViTLensWeb"]),
        .library(name: "ViTLensServer", targets: ["ViTLensServer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // System libraries (Debian: libturbojpeg0-dev, libpng-dev; see scripts/setup.sh).
        .systemLibrary(name: "CTurboJPEG", path: "Sources/CTurboJPEG"),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG"),
        // PNG decoding through libpng's low-level API (setjmp stays in C); see Sources/CViTLensPNG.
        .target(name: "CViTLensPNG", dependencies: ["CPNG"], linkerSettings: [.linkedLibrary("png16")]),

        // System calls Swift's Glibc module lacks (atomic folder exchange for output folders).
        .target(name: "CViTLensSystem"),
        // OpenBLAS loaded at first use, after choosing its kernels from the CPU's features (see the .c file).
        .target(name: "CViTLensBLAS"),
        // The attention products with keys and values packed once per head (AVX-512, chosen at run time).
        .target(name: "CViTLensKernels"),
        // Tensors, BLAS, kernels, NumPy files, token layout, the attention-observer seam, output folders, limits.
        .target(name: "ViTLensCore", dependencies: [
            "CViTLensSystem",
            .target(name: "CViTLensBLAS", condition: .when(platforms: [.linux])),
        ]),
        // safetensors, config.json / preprocessor_config.json, weight store, model resolution (Hub cache).
        .target(name: "ViTLensCheckpoint", dependencies: ["ViTLensCore"]),
        // JPEG/PNG decode and encode, Pillow-exact resampling, Hugging Face image processors.
        .target(name: "ViTLensImage", dependencies: ["ViTLensCore", "CTurboJPEG", "CPNG", "CViTLensPNG"]),
        // WordPiece tokenizer (BERT family).
        .target(name: "ViTLensText", dependencies: ["ViTLensCore"]),
        // Shared encoder and the model families (ViT, DeiT, DINOv2, CLIP vision, BERT).
        .target(name: "ViTLensModels", dependencies: ["ViTLensCore", "ViTLensCheckpoint", "CViTLensKernels"]),
        // ONNX graph -> Hugging Face folder import (key tables and width rule from Models, processor defaults from Image).
        .target(name: "ViTLensONNX", dependencies: ["ViTLensCore", "ViTLensCheckpoint", "ViTLensImage", "ViTLensModels"]),
        // Analyses as attention observers: head fusion, rollout, DINO masks, mean attention distance, flow.
        .target(name: "ViTLensAnalysis", dependencies: ["ViTLensCore", "CViTLensKernels"]),
        // Colormaps, overlays, SVG/PNG plots.
        .target(name: "ViTLensRender", dependencies: ["ViTLensCore"]),
        // Umbrella module: re-exports everything and adds the high-level inspection API.
        .target(name: "ViTLens", dependencies: [
            "ViTLensCore", "ViTLensCheckpoint", "ViTLensImage", "ViTLensText", "ViTLensModels",
            "ViTLensONNX", "ViTLensAnalysis", "ViTLensRender",
        ]),
        // The explorer page, the report and their assets, embedded in the binary (no network, no npm).
        .target(name: "ViTLensWeb", dependencies: ["ViTLens"], resources: ViTLensWebAssets.resources),
        // `vitlens serve`: the HTTP API and the explorer page (Hummingbird 2).
        .target(name: "ViTLensServer", dependencies: [
            "ViTLens", "ViTLensWeb",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "vitlens", dependencies: [
            "ViTLens", "ViTLensWeb", "ViTLensServer",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // Shared test helpers: fixture paths, expectClose with named tolerances.
        .target(name: "ViTLensTestSupport", dependencies: ["ViTLensCore"], path: "Sources/ViTLensTestSupport"),
        .testTarget(name: "ViTLensCoreTests", dependencies: ["ViTLensCore", "ViTLensTestSupport"]),
        .testTarget(name: "ViTLensCheckpointTests", dependencies: ["ViTLensCheckpoint", "ViTLensCore", "ViTLensTestSupport"]),
        .testTarget(name: "ViTLensImageTests", dependencies: ["ViTLensImage", "ViTLensCore", "ViTLensTestSupport"]),
        .testTarget(name: "ViTLensTextTests", dependencies: ["ViTLensText", "ViTLensTestSupport"]),
        .testTarget(name: "ViTLensModelsTests", dependencies: ["ViTLens", "ViTLensModels", "ViTLensTestSupport"]),
        .testTarget(name: "ViTLensONNXTests", dependencies: ["ViTLens", "ViTLensONNX", "ViTLensCore", "ViTLensTestSupport"]),
        .testTarget(name: "ViTLensAnalysisTests", dependencies: ["ViTLensAnalysis", "ViTLensCore", "ViTLensTestSupport"]),
        .testTarget(name: "ViTLensRenderTests", dependencies: ["ViTLensRender", "ViTLensCore", "ViTLensTestSupport"]),
        .testTarget(name: "ViTLensWebTests", dependencies: ["ViTLensWeb", "ViTLens", "ViTLensTestSupport"]),
        .testTarget(name: "ViTLensServerTests", dependencies: [
            "ViTLensServer", "ViTLensWeb", "ViTLens", "ViTLensTestSupport",
            .product(name: "HummingbirdTesting", package: "hummingbird"),
        ]),
        .testTarget(name: "ViTLensCLITests", dependencies: ["ViTLens", "ViTLensTestSupport"], exclude: ["Snapshots"]),
    ],
    swiftLanguageModes: [.v6]
)

/// The web assets compiled into the binary as byte arrays (`PackageResources.<name>`; see ViTLensWeb's
/// WebAssets.swift). One line per file: a new asset is listed here and in `WebAssets.all`.
enum ViTLensWebAssets {
    static let files = ["index.html", "style.css", "app.js", "render.js", "api.js", "image.js", "text.js", "explain.js"]
    static var resources: [Resource] { files.map { .embedInCode("Resources/\($0)") } }
}

// libFuzzer targets for the file parsers (Fuzz/<Name>/, see scripts/fuzz.sh and `make fuzz`). They exist only when
// VITLENS_FUZZ=1, so `swift build`, `swift test` and CI never see them; the script builds them with
// `--sanitize fuzzer --sanitize address` into a separate scratch path.
if Context.environment["VITLENS_FUZZ"] == "1" {
    let fuzzTargets: [(name: String, dependencies: [Target.Dependency])] = [
        ("FuzzSafeTensors", ["ViTLensCheckpoint"]),
        ("FuzzNPY", ["ViTLensCore"]),
        ("FuzzConfig", ["ViTLensModels", "ViTLensCheckpoint", "ViTLensImage"]),
        ("FuzzONNX", ["ViTLensONNX"]),
        ("FuzzTokenizer", ["ViTLensText"]),
        ("FuzzImage", ["ViTLensImage", "ViTLensCore"]),
        ("FuzzTorch", ["ViTLensCheckpoint"]),
    ]
    for target in fuzzTargets {
        package.products.append(.executable(name: target.name, targets: [target.name]))
        // One source file that is not main.swift: SwiftPM compiles it with -parse-as-library, so the
        // only `main` is libFuzzer's, which calls LLVMFuzzerTestOneInput.
        package.targets.append(.executableTarget(
            name: target.name, dependencies: target.dependencies + ["FuzzSupport"],
            path: "Fuzz/\(target.name.dropFirst(4))", exclude: ["\(target.name.dropFirst(4)).dict"]))
    }
    package.targets.append(.target(name: "FuzzSupport", path: "Fuzz/Support"))
}
