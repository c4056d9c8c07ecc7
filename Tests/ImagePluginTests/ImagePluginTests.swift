import EmbedJSON
import Foundation
import EmbedPluginCheck
import EmbedPluginHost
import EmbedSys
import PluginTestSupport
import Testing

/// The real libembedd-image.so (built next to this test binary) driven through the plugin host,
/// with the tiny seeded ResNets committed in Tests/Fixtures/image (made by
/// tools/make-golden-image.py) and golden vectors of whole files from the `transformers`
/// pipeline (tools/make-golden-image-files.py).
enum ImagePluginFixtures {
    static var plugin: String { PluginTestSupport.plugin("libembedd-image.so") }
    static let repo = PluginTestSupport.repo
    static let fixtures = repo + "/Tests/Fixtures/image"
    static let tiny = fixtures + "/resnet-tiny-bottleneck"
    static let media = repo + "/Tests/Fixtures/media"
    /// Real photos from Debian's opencv-doc and python3-skimage (tools/fetch-test-media).
    static let photos: String = {
        if let d = Environment.get("EMBEDD_PHOTOS_DIR"), !d.isEmpty { return d }
        return repo + "/bench/data/photos"
    }()

    static func load(_ folder: String = tiny, options: [String: String] = [:]) throws -> (PluginHost, LoadedModel) {
        try PluginTestSupport.load(plugin: plugin, folder: folder, name: "img", options: options)
    }

    static func mime(_ path: String) -> String {
        if path.hasSuffix(".png") { return "image/png" }
        if path.hasSuffix(".webp") { return "image/webp" }
        return "image/jpeg"
    }

    static func cosine(_ a: [Float], _ b: [Float]) -> Double { PluginTestSupport.cosine(a, b) }
}

@Suite(.serialized) struct ImagePluginTests {
    @Test func exportsOnlyTheEntrySymbol() throws {
        let lib = try DynamicLibrary.open(ImagePluginFixtures.plugin)
        defer { lib.leak() }
        #expect(lib.symbol(named: "embedd_plugin_entry") != nil)
    }

    @Test func passesConformanceKit() throws {
        let report = ConformanceKit.run(pluginPath: ImagePluginFixtures.plugin, modelDirectory: ImagePluginFixtures.tiny,
                                        options: ["precision": "fp32"], concurrencyCalls: 10)
        print(report.renderText())
        #expect(report.passed, "\(report.renderText())")
    }

    @Test func describesTheModel() throws {
        let (host, m) = try ImagePluginFixtures.load()
        defer { m.dispose(); host.shutdown() }
        #expect(m.info.dimension == 32 && m.info.metric == .cosine && !m.info.normalized)
        #expect(m.info.modalities.names == ["image"])
        #expect(m.info.inputKinds.contains(.encoded) && m.info.inputKinds.contains(.rgb8) && !m.info.inputKinds.contains(.text))
        #expect(Set(m.info.mimeTypes) == ["image/jpeg", "image/png", "image/webp"])
        #expect(m.info.maxPixels == 50_000_000 && m.info.embeddingSpace == "resnet@" + m.info.version && m.info.version.hasPrefix("fnv64:"))
    }

    /// Whole files, through decoding, pre-processing and the network, against the `transformers`
    /// pipeline on the same files: the committed edge cases (CMYK, EXIF rotations, 16-bit,
    /// palette, alpha, animated) always, the Debian photos when fetched.
    @Test func filesMatchTheTransformersPipeline() throws {
        try Self.compareFiles(model: ImagePluginFixtures.tiny, golden: ImagePluginFixtures.fixtures + "/files.resnet-tiny-bottleneck.json",
                              minimumFiles: 30)
    }

    /// tools/check-image-model: a user's model folder (a real microsoft/resnet-50, or the
    /// full-size seeded one) against references made for it on the spot.
    @Test(.enabled(if: Environment.get("EMBEDD_IMAGE_MODEL") != nil && Environment.get("EMBEDD_IMAGE_GOLDEN") != nil,
                   "set EMBEDD_IMAGE_MODEL and EMBEDD_IMAGE_GOLDEN (tools/check-image-model does)"))
    func namedModelMatchesTheTransformersPipeline() throws {
        try Self.compareFiles(model: Environment.get("EMBEDD_IMAGE_MODEL")!, golden: Environment.get("EMBEDD_IMAGE_GOLDEN")!,
                              minimumFiles: 1, options: ["precision": Environment.get("EMBEDD_IMAGE_PRECISION") ?? "fp32"],
                              minimumCosine: Environment.get("EMBEDD_IMAGE_PRECISION") == "bf16" ? 0.999 : 0.9999)
    }

    static func compareFiles(model folder: String, golden goldenPath: String, minimumFiles: Int,
                             options: [String: String] = ["precision": "fp32"], minimumCosine: Double = 0.9999) throws {
        let doc = try JSONValue.parse(try FileSystem.readFile(goldenPath, limit: 1 << 28))
        guard let vectors = doc["vectors"]?.members else { throw TestFailure("\(goldenPath): no vectors") }
        let (host, m) = try ImagePluginFixtures.load(folder, options: options)
        defer { m.dispose(); host.shutdown() }
        var checked = 0, worst = 1.0, worstName = ""
        for (name, value) in vectors {
            let candidates = [ImagePluginFixtures.media + "/" + name, ImagePluginFixtures.photos + "/" + name]
            guard let path = candidates.first(where: FileSystem.isRegularFile) else { continue }
            let want = (value.array ?? []).compactMap { $0.double.map(Float.init) }
            let bytes = try FileSystem.readFile(path, limit: 1 << 26)
            let out = try m.embed([.encoded(bytes: bytes, mimeType: ImagePluginFixtures.mime(name))])
            #expect(out.failures[0] == nil, "\(name): \(String(describing: out.failures[0]))")
            let c = ImagePluginFixtures.cosine(out.vector(at: 0), want)
            if c < worst { (worst, worstName) = (c, name) }
            #expect(c >= minimumCosine, "\(name): cosine \(c) against transformers")
            checked += 1
        }
        print("image plugin: \(folder): \(checked) files against transformers; lowest cosine \(worst) (\(worstName))")
        #expect(checked >= minimumFiles, "only \(checked) golden files found (fetch the photos: tools/fetch-test-media)")
    }

    /// RGB8 pixels and the same picture as a PNG give the same vector; one input alone and
    /// inside a batch of 16 mixed sizes agree within 1e-5.
    @Test func rawPixelsAndBatchInvariance() throws {
        let (host, m) = try ImagePluginFixtures.load()
        defer { m.dispose(); host.shutdown() }
        let png = try FileSystem.readFile(ImagePluginFixtures.media + "/rgb.png", limit: 1 << 24)
        let rgb = try FileSystem.readFile(ImagePluginFixtures.media + "/rgb.png.rgb", limit: 1 << 24)
        let size = try #require(Self.pngSize(png))
        let both = try m.embed([.encoded(bytes: png, mimeType: "image/png"), .rgb8(pixels: rgb, width: size.0, height: size.1)])
        #expect(both.vector(at: 0) == both.vector(at: 1))

        var inputs: [EmbedInput] = []
        for (k, (w, h)) in [(32, 32), (300, 200), (17, 400), (640, 480), (1, 1), (224, 224), (225, 223), (1000, 10)].enumerated() {
            inputs.append(.rgb8(pixels: (0..<w * h * 3).map { UInt8(truncatingIfNeeded: ($0 &* 31) ^ ($0 / 7) ^ k) }, width: w, height: h))
        }
        inputs += inputs.reversed()
        let together = try m.embed(inputs)
        for i in [0, 3, 5, 9] {
            let alone = try m.embed([inputs[i]]).vector(at: 0)
            let diff = zip(alone, together.vector(at: i)).map { abs($0 - $1) }.max() ?? 0
            #expect(diff <= 1e-5, "input \(i): alone vs in a batch of 16 differ by \(diff)")
        }
    }

    static func pngSize(_ b: [UInt8]) -> (Int, Int)? {
        guard b.count > 24 else { return nil }
        func be(_ o: Int) -> Int { Int(b[o]) << 24 | Int(b[o + 1]) << 16 | Int(b[o + 2]) << 8 | Int(b[o + 3]) }
        return (be(16), be(20))
    }

    /// Broken files fail alone, each with a message naming the problem.
    @Test func badFilesFailAloneWithTheirReason() throws {
        let (host, m) = try ImagePluginFixtures.load()
        defer { m.dispose(); host.shutdown() }
        let jpeg = try FileSystem.readFile(ImagePluginFixtures.media + "/q90-420.jpg", limit: 1 << 24)
        let png = try FileSystem.readFile(ImagePluginFixtures.media + "/rgb.png", limit: 1 << 24)
        var bomb: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13] + Array("IHDR".utf8)
        bomb += [0x00, 0x01, 0x86, 0xA0, 0x00, 0x01, 0x86, 0xA0, 8, 2, 0, 0, 0]  // 100000 × 100000, RGB8
        bomb += Self.crc(Array(bomb[12...])) + [0, 0, 0, 0] + Array("IEND".utf8) + [0xAE, 0x42, 0x60, 0x82]
        let cases: [(String, EmbedInput, EmbedStatusCode, String)] = [
            ("truncated JPEG", .encoded(bytes: Array(jpeg.prefix(jpeg.count / 2)), mimeType: "image/jpeg"), .invalidInput, "truncated JPEG"),
            ("truncated PNG", .encoded(bytes: Array(png.prefix(png.count / 2)), mimeType: "image/png"), .invalidInput, "PNG"),
            ("zero bytes", .encoded(bytes: [], mimeType: "image/jpeg"), .invalidInput, "empty input"),
            ("text named .jpg", .encoded(bytes: Array("hello world, not a picture".utf8), mimeType: "image/jpeg"), .invalidInput, "starts with \"hello wo\""),
            ("100000×100000 PNG header", .encoded(bytes: bomb, mimeType: "image/png"), .tooLarge, "100000×100000"),
            ("short RGB8", .rgb8(pixels: [1, 2, 3], width: 2, height: 2), .invalidInput, "expected 12"),
            ("text", .text("a photo of a cat"), .unsupportedInput, "accepts encoded images"),
        ]
        let good = EmbedInput.encoded(bytes: png, mimeType: "image/png")
        let alone = try m.embed([good]).vector(at: 0)
        for (name, input, code, words) in cases {
            let out = try m.embed([good, input, good])
            guard let f = out.failures[1] else {
                Issue.record("\(name) was accepted")
                continue
            }
            #expect(f.code == code && f.message.contains(words), "\(name): \(f)")
            #expect(out.failures[0] == nil && out.failures[2] == nil && out.vector(at: 0) == alone && out.vector(at: 2) == alone, "\(name)")
        }
    }

    static func crc(_ bytes: [UInt8]) -> [UInt8] {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            c ^= UInt32(b)
            for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        }
        c ^= 0xFFFF_FFFF
        return [UInt8(c >> 24), UInt8(c >> 16 & 0xFF), UInt8(c >> 8 & 0xFF), UInt8(c & 0xFF)]
    }

    /// Broken model folders name the file and the problem.
    @Test func malformedModelFoldersNameTheFile() throws {
        let dir = try FileSystem.makeTemporaryDirectory(template: "/tmp/embedd-image-model.XXXXXX")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func copyTiny(_ to: String, except: String? = nil) throws {
            try FileSystem.makeDirectory(to)
            for f in ["config.json", "model.safetensors", "preprocessor_config.json"] where f != except {
                try FileSystem.copyFile(from: ImagePluginFixtures.tiny + "/" + f, to: to + "/" + f)
            }
        }
        func loadError(_ folder: String) -> String {
            do {
                let (host, m) = try ImagePluginFixtures.load(folder)
                m.dispose(); host.shutdown()
                return ""
            } catch { return "\(error)" }
        }
        try copyTiny(dir + "/no-processor", except: "preprocessor_config.json")
        #expect(loadError(dir + "/no-processor").contains("preprocessor_config.json"))
        try copyTiny(dir + "/no-weights", except: "model.safetensors")
        #expect(loadError(dir + "/no-weights").contains("model.safetensors"))
        try copyTiny(dir + "/bad-json")
        try "{\"depths\": [1, 1,".write(toFile: dir + "/bad-json/config.json", atomically: true, encoding: .utf8)
        #expect(loadError(dir + "/bad-json").contains("config.json"))
        try copyTiny(dir + "/bad-processor")
        try "{\"resample\": 42, \"size\": 224}".write(toFile: dir + "/bad-processor/preprocessor_config.json", atomically: true, encoding: .utf8)
        #expect(loadError(dir + "/bad-processor").contains("preprocessor_config.json"))
        try copyTiny(dir + "/wrong-shape")
        let other = ImagePluginFixtures.fixtures + "/resnet-tiny-basic/model.safetensors"
        try FileSystem.copyFile(from: other, to: dir + "/wrong-shape/model.safetensors")
        #expect(loadError(dir + "/wrong-shape").contains("model.safetensors"))
    }
}
