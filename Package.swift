// swift-tools-version:6.0
//
// embedd — a local embedding daemon. One package, many narrow targets.
//
// Conventions this file keeps (read before adding a target):
// - No Swift package dependencies. C libraries come from Debian through system-library
//   targets (CYAML, CDNNL, CTurboJPEG, CPNG, CWebP, CFFmpeg), each imported by exactly one Swift
//   module (CYAML by EmbedConfig, CDNNL by EmbedNN, the image libraries by EmbedMedia, FFmpeg by
//   EmbedAV). The C kernel
//   targets likewise: CStoreKernels by EmbedStore, CNNKernels by EmbedNN.
// - Dependency direction: C shims → EmbedSys → {EmbedWire, EmbedConfig, EmbedStore}
//   → EmbedPluginHost → EmbedServer → embedd. Plugins see only CEmbedABI, EmbedPluginKit,
//   EmbedNN, EmbedMedia, EmbedVision, EmbedAudio and VisionPluginKit (what the picture-taking plugins share). EmbedMedia (hostile image bytes → RGBImage) depends on its C shims
//   only, so the daemon's own modules never link the media libraries. EmbedPluginKit (the C-ABI
//   glue every Swift plugin needs) sees only CEmbedABI and keeps its API `package`, never
//   `public`.
//   EmbedHTTP (the pure HTTP/1.1 codec) depends on nothing; EmbedGateway (embedd-http's routes
//   and serving, a client of the daemon) sees EmbedHTTP, EmbedJSON, EmbedClient, EmbedWire,
//   EmbedConfig and EmbedSys, and no daemon module.
//   EmbedJSON (the one JSON reader/writer) depends on nothing; EmbedStore, EmbedNN,
//   EmbedPluginCheck, EmbedVision, EmbedAudio and embedctl use it. EmbedCLI (embedctl's typed command line,
//   help and bash completion) depends on nothing either.
// - Media: EmbedMedia decodes images (the sole importer of each image C library) into its
//   `RGBImage`; EmbedVision (pure Swift: Pillow's resampling, transformers' pre-processing) sees
//   only EmbedMedia, EmbedJSON and EmbedSys. Vision plugins use both. EmbedAV (FFmpeg: sound and
//   video) is the sole importer of CFFmpeg and depends on EmbedSys only (pread, the clock): hostile
//   audio → 16-kHz mono `DecodedAudio`, hostile video → sampled RGB `VideoFrame`s. Like EmbedMedia, no daemon module depends on it. EmbedAudio
//   (pure Swift: transformers' Whisper log-mel front end) sees only EmbedJSON and EmbedSys: it
//   takes samples already decoded and resampled. The audio plugin uses EmbedAV, EmbedAudio and
//   EmbedNN's Whisper encoder.
// - Each target lists exactly the modules its files import (none reached only transitively,
//   none unused).
// - Every target gets `commonSwiftSettings` through the loop at the bottom (Swift 6 mode).
// - Plugin products are `.dynamic` libraries whose only exported symbol is the C entry point
//   (`plugins/exports.map`), so two versions of one plugin can live in one process and never
//   interpose each other's (or the daemon's) Swift symbols.
import PackageDescription

let pluginExportMap = Context.packageDirectory + "/plugins/exports.map"
let pluginLinkerSettings: [LinkerSetting] = [
    .unsafeFlags(["-Xlinker", "--version-script=\(pluginExportMap)", "-Xlinker", "-Bsymbolic"])
]

let package = Package(
    name: "embedd",
    products: [
        .executable(name: "embedd", targets: ["embedd"]),
        .executable(name: "embedctl", targets: ["embedctl"]),
        .executable(name: "embedd-mirror", targets: ["embedd-mirror"]),
        .executable(name: "embedd-http", targets: ["embedd-http"]),
        .library(name: "embedd-text", type: .dynamic, targets: ["TextPlugin"]),
        .library(name: "embedd-image", type: .dynamic, targets: ["ImagePlugin"]),
        .library(name: "embedd-clip", type: .dynamic, targets: ["CLIPPlugin"]),
        .library(name: "embedd-audio", type: .dynamic, targets: ["AudioPlugin"]),
        .library(name: "embedd-video", type: .dynamic, targets: ["VideoPlugin"]),
        // Test fixture: a plugin written in plain C that exercises every path of the ABI.
        .library(name: "embedd-fixture", type: .dynamic, targets: ["CFixturePlugin"]),
    ],
    targets: [
        // MARK: C contracts and system libraries
        .target(name: "CEmbedABI", path: "Sources/CEmbedABI"),
        .systemLibrary(name: "CYAML", path: "Sources/CYAML", pkgConfig: "yaml-0.1",
                       providers: [.apt(["libyaml-dev"])]),
        .systemLibrary(name: "CDNNL", path: "Sources/CDNNL", providers: [.apt(["libdnnl-dev"])]),
        // Media decoders, each through its API that reports errors by return value (never longjmp).
        .systemLibrary(name: "CTurboJPEG", path: "Sources/CTurboJPEG", pkgConfig: "libturbojpeg",
                       providers: [.apt(["libturbojpeg0-dev"])]),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG", pkgConfig: "libpng16",
                       providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CWebP", path: "Sources/CWebP", pkgConfig: "libwebpdemux",
                       providers: [.apt(["libwebp-dev"])]),
        // FFmpeg 5.1's libavformat, libavcodec, libavutil, libswresample (with libsoxr) and libswscale.
        .systemLibrary(name: "CFFmpeg", path: "Sources/CFFmpeg", pkgConfig: "libavformat",
                       providers: [.apt(["libavformat-dev", "libavcodec-dev", "libavutil-dev", "libswresample-dev",
                                         "libswscale-dev"])]),

        // MARK: Foundations
        .target(name: "EmbedSys"),
        .target(name: "EmbedWire"),
        .target(name: "EmbedJSON"),
        // Pure HTTP/1.1 codec (heads, Content-Length and chunked bodies, keep-alive; no I/O):
        // embedd-http serves with it, the Milvus client speaks with it.
        .target(name: "EmbedHTTP"),
        .target(name: "EmbedConfig", dependencies: ["CYAML", "EmbedSys"]),
        // Run-time dispatched AVX-512/AVX2 distance kernels and prefetch for EmbedStore's HNSW.
        .target(name: "CStoreKernels", path: "Sources/CStoreKernels"),
        .target(name: "EmbedStore", dependencies: ["EmbedSys", "EmbedJSON", "CStoreKernels"]),

        // MARK: Plugins, host side
        .target(name: "EmbedPluginHost", dependencies: ["CEmbedABI", "EmbedSys"]),
        .target(name: "EmbedPluginCheck", dependencies: ["EmbedPluginHost", "EmbedJSON", "EmbedSys"]),

        // MARK: Daemon and clients
        .target(name: "EmbedServer",
                dependencies: ["EmbedSys", "EmbedWire", "EmbedConfig", "EmbedStore", "EmbedPluginHost", "EmbedJSON"]),
        .executableTarget(name: "embedd", dependencies: ["EmbedServer"]),
        .target(name: "EmbedClient", dependencies: ["EmbedSys", "EmbedWire"]),
        // Milvus's REST API (v1 and v2): URL, key hash, row mapping, requests, retries; used by
        // `embedctl export` and the mirror.
        .target(name: "EmbedMilvus", dependencies: ["EmbedJSON", "EmbedHTTP", "EmbedSys"]),
        // The mirror process: a collection's Changes forwarded to Milvus (runs outside the daemon).
        .executableTarget(name: "embedd-mirror", dependencies: ["EmbedClient", "EmbedMilvus", "EmbedWire", "EmbedSys"]),
        // embedctl's typed command line: option tables, parser, help, bash completion (no dependencies).
        .target(name: "EmbedCLI"),
        .executableTarget(name: "embedctl",
                          dependencies: ["EmbedCLI", "EmbedClient", "EmbedWire", "EmbedJSON", "EmbedPluginCheck", "EmbedSys",
                                         "EmbedMilvus"]),

        // The HTTP gateway (OpenAI's and TEI's embedding APIs) as a client of the daemon's socket:
        // routes, JSON mapping, connection threads. A library so that its tests need no sockets.
        .target(name: "EmbedGateway",
                dependencies: ["EmbedHTTP", "EmbedJSON", "EmbedClient", "EmbedWire", "EmbedSys", "EmbedConfig"]),
        .executableTarget(name: "embedd-http", dependencies: ["EmbedGateway", "EmbedCLI", "EmbedConfig", "EmbedSys"]),

        // MARK: Inference and plugins
        // Run-time dispatched AVX2 matmuls for Linear's calls of a few rows (one text query), on
        // oneDNN's OpenMP team: libgomp, called directly (clang's OpenMP would be a second runtime).
        .target(name: "CNNKernels", path: "Sources/CNNKernels",
                linkerSettings: [.linkedLibrary("gomp"), .linkedLibrary("m")]),
        // EmbedNN's SIMD16 kernels need AVX2/FMA code generation (the x86-64 baseline is SSE2,
        // 3-4× slower here); every machine embedd targets has at least AVX2.
        .target(name: "EmbedNN", dependencies: ["CDNNL", "CNNKernels", "EmbedSys", "EmbedJSON"],
                swiftSettings: [.unsafeFlags(["-target-cpu", "haswell"])]),
        .target(name: "EmbedPluginKit", dependencies: ["CEmbedABI"]),
        // Media decoding (images now; sound and video later): the sole importer of each media C library.
        .target(name: "EmbedMedia", dependencies: ["CTurboJPEG", "CPNG", "CWebP"]),
        // Sound and video decoding through FFmpeg from memory or a descriptor (EmbedSys's pread):
        // down-mix and soxr resampling; sampled video frames to RGB by libswscale.
        .target(name: "EmbedAV", dependencies: ["CFFmpeg", "EmbedSys"]),
        // Image pre-processing identical to transformers' Pillow backend (resize, crop, normalise).
        // AVX2 for the resampler's 32-bit integer multiply-adds (SSE2 has no vector pmulld);
        // results stay bit-exact (integer sums, and Swift never contracts float math into FMA).
        .target(name: "EmbedVision", dependencies: ["EmbedMedia", "EmbedJSON", "EmbedSys"],
                swiftSettings: [.unsafeFlags(["-target-cpu", "haswell"])]),
        // Whisper's log-mel features identical to transformers' WhisperFeatureExtractor (float64 FFT).
        // AVX2 so that its four-frame SIMD4<Double> butterflies are single 256-bit instructions.
        .target(name: "EmbedAudio", dependencies: ["EmbedJSON", "EmbedSys"],
                swiftSettings: [.unsafeFlags(["-target-cpu", "haswell"])]),
        .target(name: "TextPlugin", dependencies: ["CEmbedABI", "EmbedPluginKit", "EmbedNN"], path: "plugins/text",
                linkerSettings: pluginLinkerSettings),
        // What the plugins that take pictures share: their load options, and turning a call's
        // image inputs into one pre-processed batch (a bad file fails alone).
        .target(name: "VisionPluginKit", dependencies: ["CEmbedABI", "EmbedPluginKit", "EmbedNN", "EmbedMedia", "EmbedVision"],
                path: "plugins/vision-kit"),
        .target(name: "ImagePlugin", dependencies: ["CEmbedABI", "EmbedPluginKit", "EmbedNN", "EmbedVision", "VisionPluginKit"],
                path: "plugins/image", linkerSettings: pluginLinkerSettings),
        .target(name: "CLIPPlugin", dependencies: ["CEmbedABI", "EmbedPluginKit", "EmbedNN", "EmbedVision", "VisionPluginKit"],
                path: "plugins/clip", linkerSettings: pluginLinkerSettings),
        .target(name: "AudioPlugin", dependencies: ["CEmbedABI", "EmbedPluginKit", "EmbedNN", "EmbedAV", "EmbedAudio"],
                path: "plugins/audio", linkerSettings: pluginLinkerSettings),
        // Holds no weights: frames go to a loaded CLIP model through the host (ABI 1.1 embed_with).
        .target(name: "VideoPlugin", dependencies: ["CEmbedABI", "EmbedPluginKit", "EmbedAV"],
                path: "plugins/video", linkerSettings: pluginLinkerSettings),
        .target(name: "CFixturePlugin", dependencies: ["CEmbedABI"], path: "Tests/Fixtures/CFixturePlugin",
                linkerSettings: pluginLinkerSettings + [.linkedLibrary("m")]),

        // MARK: Tests (unit tests next to each module; IntegrationTests drive real processes)
        .testTarget(name: "EmbedSysTests", dependencies: ["EmbedSys"]),
        .testTarget(name: "EmbedWireTests", dependencies: ["EmbedWire"]),
        .testTarget(name: "EmbedJSONTests", dependencies: ["EmbedJSON"]),
        .testTarget(name: "EmbedMilvusTests", dependencies: ["EmbedMilvus", "EmbedJSON"]),
        .testTarget(name: "EmbedHTTPTests", dependencies: ["EmbedHTTP"]),
        .testTarget(name: "EmbedGatewayTests", dependencies: ["EmbedGateway", "EmbedHTTP", "EmbedWire", "EmbedJSON"]),
        .testTarget(name: "EmbedConfigTests", dependencies: ["EmbedConfig", "EmbedSys"]),
        .testTarget(name: "EmbedStoreTests", dependencies: ["EmbedStore", "EmbedSys", "EmbedJSON"]),
        // The store's crash test spawns this child and SIGKILLs it (found next to the test binary).
        .executableTarget(name: "store-crasher", dependencies: ["EmbedStore", "EmbedSys"], path: "Tests/Fixtures/store-crasher"),
        // Swift side of bench/ann (EmbedStore vs hnswlib/faiss/usearch) and the ingest benchmark.
        .executableTarget(name: "embedstore-bench", dependencies: ["EmbedStore", "EmbedSys"], path: "bench/Sources/embedstore-bench"),
        // Swift side of bench/image-net (EmbedNN's ResNet alone vs PyTorch and ONNX Runtime).
        .executableTarget(name: "image-net-bench", dependencies: ["BenchSupport", "EmbedNN"], path: "bench/Sources/image-net-bench"),
        // Options, output and timing the Swift benchmarks share.
        .target(name: "BenchSupport", dependencies: ["EmbedSys"], path: "bench/Sources/BenchSupport"),
        // Swift side of `tools/make-golden-clip-tokens.py bench`: the CLIP tokenizer on its golden corpus.
        .executableTarget(name: "clip-tokenizer-bench", dependencies: ["EmbedNN", "EmbedJSON", "EmbedSys"],
                          path: "bench/Sources/clip-tokenizer-bench"),
        // Swift side of bench/clip (EmbedNN's CLIP towers alone vs PyTorch and ONNX Runtime).
        .executableTarget(name: "clip-bench", dependencies: ["BenchSupport", "EmbedNN"], path: "bench/Sources/clip-bench"),
        // Swift side of the Whisper encoder benchmark (EmbedNN's encoder alone vs PyTorch and CTranslate2).
        .executableTarget(name: "whisper-bench", dependencies: ["BenchSupport", "EmbedNN", "EmbedSys"],
                          path: "bench/Sources/whisper-bench"),
        // Swift side of bench/image-prep: decoding + pre-processing of real photos.
        .executableTarget(name: "image-prep-bench", dependencies: ["EmbedMedia", "EmbedVision", "EmbedSys"],
                          path: "bench/Sources/image-prep-bench"),
        // Swift side of bench/audio_features_bench.py (Whisper log-mel features of one 30-s window)
        // and of bench/audio's decode + features part (EmbedAV decoding of real files, timed apart).
        .executableTarget(name: "audio-features-bench", dependencies: ["BenchSupport", "EmbedAudio", "EmbedAV"],
                          path: "bench/Sources/audio-features-bench"),
        // Swift side of bench/video-decode: EmbedAV's VideoReader on a long video, one sampling per run.
        .executableTarget(name: "video-decode-bench", dependencies: ["BenchSupport", "EmbedAV", "EmbedSys"],
                          path: "bench/Sources/video-decode-bench"),
        // Swift side of bench/http: the same Embed calls through embedd-http and over the socket.
        .executableTarget(name: "http-bench", dependencies: ["BenchSupport", "EmbedClient", "EmbedHTTP", "EmbedSys", "EmbedWire"],
                          path: "bench/Sources/http-bench"),
        .testTarget(name: "EmbedPluginHostTests", dependencies: ["EmbedPluginHost", "EmbedPluginCheck", "EmbedSys"]),
        .testTarget(name: "EmbedNNTests", dependencies: ["EmbedNN", "CNNKernels", "EmbedSys", "EmbedJSON"]),
        .testTarget(name: "EmbedPluginKitTests", dependencies: ["EmbedPluginKit", "CEmbedABI"]),
        // What the plugin test targets share (the built plugin's path, loading a model, cosine).
        .target(name: "PluginTestSupport", dependencies: ["EmbedPluginHost", "EmbedSys"], path: "Tests/PluginTestSupport"),
        .testTarget(name: "TextPluginTests", dependencies: ["EmbedPluginHost", "EmbedPluginCheck", "EmbedSys", "PluginTestSupport"]),
        .testTarget(name: "AudioPluginTests", dependencies: ["EmbedPluginHost", "EmbedPluginCheck", "EmbedSys", "EmbedJSON", "PluginTestSupport"]),
        .testTarget(name: "VideoPluginTests", dependencies: ["EmbedPluginHost", "EmbedSys", "EmbedJSON", "PluginTestSupport"]),
        .testTarget(name: "CLIPPluginTests", dependencies: ["EmbedPluginHost", "EmbedPluginCheck", "EmbedSys", "EmbedJSON", "PluginTestSupport"]),
        .testTarget(name: "ImagePluginTests", dependencies: ["EmbedPluginHost", "EmbedPluginCheck", "EmbedSys", "EmbedJSON", "PluginTestSupport"]),
        .testTarget(name: "EmbedServerTests", dependencies: ["EmbedServer", "EmbedConfig", "EmbedSys", "EmbedWire"]),
        .testTarget(name: "EmbedCLITests", dependencies: ["EmbedCLI"]),
        .testTarget(name: "EmbedVisionTests", dependencies: ["EmbedVision", "EmbedMedia", "EmbedSys"]),
        .testTarget(name: "EmbedAudioTests", dependencies: ["EmbedAudio", "EmbedJSON", "EmbedSys"]),
        .testTarget(name: "EmbedMediaTests", dependencies: ["EmbedMedia", "EmbedSys"]),
        .testTarget(name: "EmbedAVTests", dependencies: ["EmbedAV", "EmbedSys"]),
        .testTarget(name: "IntegrationTests", dependencies: ["EmbedSys", "EmbedClient", "EmbedWire"]),
    ]
)

let commonSwiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

for target in package.targets where target.type != .system {
    guard target.name.first != "C" else { continue }  // C targets take no Swift settings
    target.swiftSettings = (target.swiftSettings ?? []) + commonSwiftSettings
}
