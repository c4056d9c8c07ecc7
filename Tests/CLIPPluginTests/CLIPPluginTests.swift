import EmbedJSON
import EmbedPluginCheck
import EmbedPluginHost
import EmbedSys
import Foundation
import PluginTestSupport
import Testing

/// The real libembedd-clip.so (built next to this test binary) driven through the plugin host,
/// with the tiny seeded CLIPs committed in Tests/Fixtures/clip and their golden vectors from
/// transformers (tools/make-golden-clip.py): texts through the tokenizer and the text tower,
/// whole picture files through decoding, CLIP's pre-processing and the vision tower.
enum CLIPPluginFixtures {
    static var plugin: String { PluginTestSupport.plugin("libembedd-clip.so") }
    static let repo = PluginTestSupport.repo
    static let fixtures = repo + "/Tests/Fixtures/clip"
    static let tiny = fixtures + "/clip-tiny-quickgelu"
    static let tinyModels = ["clip-tiny-quickgelu", "clip-tiny-gelu"]
    /// The full-size seeded ViT-B/32 (tools/make-golden-clip.py full), when made.
    static let full = PluginTestSupport.modelsDir + "/clip-vit-base-patch32-random"

    static func load(_ folder: String = tiny, options: [String: String] = ["precision": "fp32"]) throws -> (PluginHost, LoadedModel) {
        try PluginTestSupport.load(plugin: plugin, folder: folder, name: "clip", options: options)
    }

    static func mime(_ path: String) -> String {
        if path.hasSuffix(".png") { return "image/png" }
        if path.hasSuffix(".webp") { return "image/webp" }
        return "image/jpeg"
    }

    static func cosine(_ a: [Float], _ b: [Float]) -> Double { PluginTestSupport.cosine(a, b) }

    /// A model folder's golden index (make-golden-clip.py's format 1) and its vectors.
    struct Golden {
        let folder: String
        let index: JSONValue
        let dimension: Int
        init(_ folder: String) throws {
            self.folder = folder
            index = try JSONValue.parse(try FileSystem.readFile(folder + "/golden/index.json", limit: 1 << 26))
            dimension = index["projection_dim"]?.int ?? 0
        }
        var texts: [(text: String, ids: [Int], truncated: Bool)] {
            (index["texts"]?.array ?? []).map { t in
                (t["text"]?.string ?? "", (t["ids"]?.array ?? []).compactMap(\.int), t["truncated"]?.bool ?? false)
            }
        }
        /// Picture files (relative to the repository unless absolute).
        var images: [String] {
            let root = index["images"]?["root"]?.string ?? ""
            let dir = root.hasPrefix("/") ? root : CLIPPluginFixtures.repo + "/" + root
            return (index["images"]?["files"]?.array ?? []).compactMap { $0["file"]?.string.map { dir + "/" + $0 } }
        }
        func vectors(of kind: String) throws -> [[Float]] {
            guard let out = (index["outputs"]?.array ?? []).first(where: { $0["of"]?.string == kind && $0["batch"]?.int == 1 }),
                  let file = out["file"]?.string else { throw TestFailure("\(folder): no golden \(kind)") }
            let bytes = try FileSystem.readFile(folder + "/golden/" + file, limit: 1 << 28)
            let floats = bytes.withUnsafeBytes { raw in
                (0..<(bytes.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
            }
            return stride(from: 0, to: floats.count, by: dimension).map { Array(floats[$0..<($0 + dimension)]) }
        }
    }
}

@Suite(.serialized) struct CLIPPluginTests {
    @Test func exportsOnlyTheEntrySymbol() throws {
        let lib = try DynamicLibrary.open(CLIPPluginFixtures.plugin)
        defer { lib.leak() }
        #expect(lib.symbol(named: "embedd_plugin_entry") != nil)
    }

    @Test func passesConformanceKit() throws {
        let report = ConformanceKit.run(pluginPath: CLIPPluginFixtures.plugin, modelDirectory: CLIPPluginFixtures.tiny,
                                        options: ["precision": "fp32"], concurrencyCalls: 10)
        print(report.renderText())
        #expect(report.passed, "\(report.renderText())")
    }

    @Test func describesOneModelOfTwoModalitiesInOneSpace() throws {
        let (host, m) = try CLIPPluginFixtures.load()
        defer { m.dispose(); host.shutdown() }
        #expect(m.info.dimension == 16 && m.info.metric == .cosine && m.info.normalized)
        #expect(Set(m.info.modalities.names) == ["text", "image"])
        #expect(m.info.inputKinds.contains(.text) && m.info.inputKinds.contains(.encoded) && m.info.inputKinds.contains(.rgb8))
        #expect(Set(m.info.mimeTypes) == ["image/jpeg", "image/png", "image/webp"])
        #expect(m.info.maxTokens == 77 && m.info.maxPixels == 50_000_000)
        #expect(m.info.embeddingSpace == "clip@" + m.info.version && m.info.version.hasPrefix("fnv64:"))
    }

    /// Texts through the tokenizer and the text tower, and picture files through decoding,
    /// CLIP's pre-processing and the vision tower, against transformers (`get_text_features`,
    /// `get_image_features` after `AutoTokenizer` / `AutoImageProcessor` from the folder).
    @Test(arguments: CLIPPluginFixtures.tinyModels)
    func textsAndFilesMatchTransformers(model: String) throws {
        try Self.compare(CLIPPluginFixtures.fixtures + "/" + model, minimumImages: 15)
    }

    @Test(.enabled(if: FileSystem.isRegularFile(CLIPPluginFixtures.full + "/golden/index.json"),
                   "make the full-size model with tools/make-golden-clip.py full (photos: tools/fetch-test-media)"),
          arguments: ["fp32", "bf16"])
    func fullSizeViTB32MatchesTransformers(precision: String) throws {
        try Self.compare(CLIPPluginFixtures.full, minimumImages: 1, options: ["precision": precision],
                         minimumCosine: precision == "bf16" ? 0.999 : 0.999999)
    }

    /// tools/check-clip-model: a user's CLIP folder (a real openai/clip-vit-*) against references
    /// made for it on the spot.
    @Test(.enabled(if: Environment.get("EMBEDD_CLIP_MODEL") != nil, "set EMBEDD_CLIP_MODEL (tools/check-clip-model does)"))
    func namedModelMatchesTransformers() throws {
        let precision = Environment.get("EMBEDD_CLIP_PRECISION") ?? "fp32"
        try Self.compare(Environment.get("EMBEDD_CLIP_MODEL")!, minimumImages: 1, options: ["precision": precision],
                         minimumCosine: precision == "bf16" ? 0.999 : 0.999999)
    }

    /// fp32 lands at 1 − 1e-11; 1e-6 still catches quick_gelu swapped for gelu (≈ 1e-4).
    static func compare(_ folder: String, minimumImages: Int, options: [String: String] = ["precision": "fp32"],
                        minimumCosine: Double = 0.999999) throws {
        let golden = try CLIPPluginFixtures.Golden(folder)
        let (host, m) = try CLIPPluginFixtures.load(folder, options: options)
        defer { m.dispose(); host.shutdown() }
        let texts = golden.texts
        let wantTexts = try golden.vectors(of: "texts")
        let out = try m.embed(texts.map { .text($0.text) })
        var worst = 1.0, checked = 0
        for (k, t) in texts.enumerated() {
            if t.text.allSatisfy(\.isWhitespace) {
                #expect(out.failures[k]?.code == .invalidInput, "empty text \(k) was not refused")
                continue
            }
            #expect(out.failures[k] == nil, "text \(k): \(String(describing: out.failures[k]))")
            let c = CLIPPluginFixtures.cosine(out.vector(at: k), wantTexts[k])
            worst = min(worst, c)
            #expect(c >= minimumCosine, "text \(k) \"\(t.text.prefix(40))\": cosine \(c)")
            // Token counts: the reference's ids are the cut ones; a cut text reports more.
            let u = out.usage[k]
            #expect(u.used == t.ids.count && u.truncated == t.truncated && (t.truncated ? u.tokens > 77 : u.tokens == t.ids.count),
                    "text \(k): usage \(u), reference \(t.ids.count) ids, truncated \(t.truncated)")
            checked += 1
        }
        let wantImages = try golden.vectors(of: "images")
        var images = 0
        for (k, path) in golden.images.enumerated() where FileSystem.isRegularFile(path) {
            let bytes = try FileSystem.readFile(path, limit: 1 << 26)
            let r = try m.embed([.encoded(bytes: bytes, mimeType: CLIPPluginFixtures.mime(path))])
            #expect(r.failures[0] == nil, "\(path): \(String(describing: r.failures[0]))")
            let c = CLIPPluginFixtures.cosine(r.vector(at: 0), wantImages[k])
            worst = min(worst, c)
            #expect(c >= minimumCosine, "\(path): cosine \(c)")
            images += 1
        }
        print("clip plugin: \(folder): \(checked) texts and \(images) files against transformers; lowest cosine \(worst)")
        #expect(images >= minimumImages, "only \(images) golden picture files found")
    }

    /// Texts and pictures in one call give the vectors they get alone; a bad input among them
    /// fails alone with its reason.
    @Test func mixedCallsAndBadInputs() throws {
        let (host, m) = try CLIPPluginFixtures.load()
        defer { m.dispose(); host.shutdown() }
        let png = try FileSystem.readFile(CLIPPluginFixtures.repo + "/Tests/Fixtures/media/rgb.png", limit: 1 << 24)
        let jpeg = try FileSystem.readFile(CLIPPluginFixtures.repo + "/Tests/Fixtures/media/q75-444.jpg", limit: 1 << 24)
        let inputs: [EmbedInput] = [
            .text("a photo of a cat"), .encoded(bytes: png, mimeType: "image/png"), .text("a diagram of a coffee cup"),
            .encoded(bytes: Array(jpeg.prefix(jpeg.count / 2)), mimeType: "image/jpeg"), .text("   "),
            .text(String(repeating: "long ", count: 400)), .encoded(bytes: jpeg, mimeType: "image/jpeg"),
        ]
        let together = try m.embed(inputs)
        #expect(together.failures[3]?.code == .invalidInput && together.failures[3]?.message.contains("JPEG") == true,
                "\(String(describing: together.failures[3]))")
        #expect(together.failures[4]?.code == .invalidInput && together.failures[4]?.message.contains("empty") == true)
        for i in [0, 1, 2, 5, 6] {
            #expect(together.failures[i] == nil, "input \(i): \(String(describing: together.failures[i]))")
            let alone = try m.embed([inputs[i]]).vector(at: 0)
            let diff = zip(alone, together.vector(at: i)).map { abs($0 - $1) }.max() ?? 1
            #expect(diff <= 1e-5, "input \(i): alone vs mixed differ by \(diff)")
        }
        #expect(together.usage[5].truncated && together.usage[5].used == 77 && together.usage[5].tokens == 402)
        #expect(together.usage[1].tokens == 0, "a picture has no token counts")
    }

    /// Broken model folders name the file and the problem.
    @Test func malformedModelFoldersNameTheFile() throws {
        let dir = try FileSystem.makeTemporaryDirectory(template: "/tmp/embedd-clip-model.XXXXXX")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let files = ["config.json", "model.safetensors", "preprocessor_config.json", "vocab.json", "merges.txt",
                     "tokenizer_config.json", "special_tokens_map.json"]
        func copyTiny(_ to: String, except: String? = nil) throws {
            try FileSystem.makeDirectory(to)
            for f in files where f != except { try FileSystem.copyFile(from: CLIPPluginFixtures.tiny + "/" + f, to: to + "/" + f) }
        }
        func loadError(_ folder: String) -> String {
            do {
                let (host, m) = try CLIPPluginFixtures.load(folder)
                m.dispose(); host.shutdown()
                return ""
            } catch { return "\(error)" }
        }
        for missing in ["preprocessor_config.json", "model.safetensors", "vocab.json", "merges.txt", "config.json"] {
            try copyTiny(dir + "/no-" + missing, except: missing)
            let e = loadError(dir + "/no-" + missing)
            #expect(e.contains(missing), "without \(missing): \(e)")
        }
        try copyTiny(dir + "/resnet-config")
        try FileSystem.copyFile(from: CLIPPluginFixtures.repo + "/Tests/Fixtures/image/resnet-tiny-basic/config.json",
                                to: dir + "/resnet-config/config.json")
        #expect(loadError(dir + "/resnet-config").contains("not a CLIP model"))
        try copyTiny(dir + "/other-crop")
        try #"{"crop_size": 32, "do_center_crop": true, "do_normalize": true, "do_resize": true, "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5], "image_processor_type": "CLIPImageProcessor", "resample": 3, "size": 32}"#
            .write(toFile: dir + "/other-crop/preprocessor_config.json", atomically: true, encoding: .utf8)
        let crop = loadError(dir + "/other-crop")
        #expect(crop.contains("preprocessor_config.json") && crop.contains("64"), "\(crop)")
        try copyTiny(dir + "/wrong-shape")
        try #"{"text_config": {"hidden_size": 48, "num_attention_heads": 3}, "vision_config": {}, "model_type": "clip", "projection_dim": 16}"#
            .write(toFile: dir + "/wrong-shape/config.json", atomically: true, encoding: .utf8)
        #expect(loadError(dir + "/wrong-shape").contains("model.safetensors"))
    }
}
