import EmbedJSON
import EmbedNN
import EmbedSys
import Testing

/// CLIP's towers against transformers (PyTorch fp32), from token ids and from normalised pixels
/// (tools/make-golden-clip.py): the committed tiny models always, the full-size seeded
/// ViT-B/32 when its folder exists (skipped otherwise). Decoding, pre-processing and the
/// tokenizer are checked through the plugin (Tests/CLIPPluginTests) and on their own.
@Suite(.serialized) struct GoldenCLIPTests {
    static let fixtures: String = {
        var parts = String(#filePath).split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(2)
        return parts.joined(separator: "/") + "/Fixtures/clip"
    }()
    static let tinyModels = ["clip-tiny-quickgelu", "clip-tiny-gelu"]
    static let fullModel = TextFixtures.modelsDir + "/clip-vit-base-patch32-random"
    static var hasFullModel: Bool { FileSystem.isRegularFile(fullModel + "/golden/index.json") }
    static let clipMean: [Float] = [0.48145466, 0.4578275, 0.40821073]
    static let clipStd: [Float] = [0.26862954, 0.26130258, 0.27577711]

    /// The golden index of one model folder.
    struct Golden {
        let folder: String
        let index: JSONValue
        init(_ folder: String) throws {
            self.folder = folder
            index = try JSONValue.parse(try FileSystem.readFile(folder + "/golden/index.json", limit: 1 << 26))
        }
        var texts: [(text: String, ids: [Int32])] {
            (index["texts"]?.array ?? []).map { t in
                (t["text"]?.string ?? "", (t["ids"]?.array ?? []).compactMap { $0.int.map(Int32.init) })
            }
        }
        /// Output entries of one kind with batch 1 (the reference run one input at a time).
        func outputs(of kind: String) -> [JSONValue] {
            (index["outputs"]?.array ?? []).filter { $0["of"]?.string == kind && $0["batch"]?.int == 1 }
        }
        func vectors(_ file: String, dimension: Int) throws -> [[Float]] {
            try ImageFixtures.vectors(folder + "/golden/" + file, dimension: dimension)
        }
    }

    func check(_ folder: String, precision: Precision = .fp32) throws {
        var options = CLIPEmbedder.Options()
        options.precision = precision
        let e = try CLIPEmbedder(folder: folder, options: options)
        let golden = try Golden(folder)
        let bf16 = e.effectivePrecision == .bf16
        // fp32 lands at 1 − 1e-11; 1e-6 still catches quick_gelu swapped for gelu (≈ 1e-4).
        let minimum = bf16 ? 0.999 : 0.999999
        let texts = golden.texts
        let wantTexts = try golden.vectors(try #require(golden.outputs(of: "texts").first?["file"]?.string), dimension: e.dimension)
        try #require(wantTexts.count == texts.count)
        let gotTexts = try e.embed(tokenIDs: texts.map(\.ids))
        var worst = 1.0
        for (k, (g, w)) in zip(gotTexts, wantTexts).enumerated() {
            let c = TextFixtures.cosine(g, w)
            worst = min(worst, c)
            #expect(c >= minimum, "\(folder): text \(k) \"\(texts[k].text.prefix(40))\": cosine \(c)")
        }
        print("clip \(folder.split(separator: "/").last!) \(e.effectivePrecision.rawValue): \(texts.count) texts, lowest cosine \(worst)")
        for out in golden.outputs(of: "pixels") {
            let p = try #require(out["pixels"])
            let c = ImageFixtures.Case(height: p["height"]!.int!, width: p["width"]!.int!, count: p["count"]!.int!,
                                       seed: UInt32(p["seed"]!.int!))
            let want = try golden.vectors(out["file"]!.string!, dimension: e.dimension)
            let got = try e.embed(pixels: ImageFixtures.pixels(c, mean: Self.clipMean, std: Self.clipStd), count: c.count)
            let lowest = zip(got, want).map { TextFixtures.cosine($0, $1) }.min() ?? 0
            #expect(lowest >= minimum, "\(folder): pixels \(c): lowest cosine \(lowest)")
            print("clip \(folder.split(separator: "/").last!) \(e.effectivePrecision.rawValue): pixels \(c), lowest cosine \(lowest)")
        }
    }

    @Test(arguments: tinyModels)
    func tinyModelsMatchTransformers(model: String) throws {
        try check(Self.fixtures + "/" + model)
    }

    @Test(.enabled(if: GoldenCLIPTests.hasFullModel, "make it with tools/make-golden-clip.py full"), arguments: [Precision.fp32, .bf16])
    func fullSizeViTB32MatchesTransformers(precision: Precision) throws {
        try check(Self.fullModel, precision: precision)
    }

    /// ViT-B/16 and ViT-L/14 (openai's configurations, seeded weights; `tools/make-golden-clip.py
    /// configs DIR`) load and match too: 196 and 256 patches, 16 heads, projection 768.
    @Test(arguments: ["clip-vit-base-patch16-random", "clip-vit-large-patch14-random"])
    func otherConfigurationsMatchTransformers(model: String) throws {
        let folder = TextFixtures.modelsDir + "/" + model
        guard FileSystem.isRegularFile(folder + "/golden/index.json") else {
            print("skipped: \(folder) not made (tools/make-golden-clip.py configs DIR)")
            return
        }
        try check(folder)
    }

    /// A text or picture alone gives the vector it gets inside a batch (different row counts
    /// pick other matmul kernels: within 1e-5 after normalisation).
    @Test(arguments: tinyModels)
    func batchInvariance(model: String) throws {
        let e = try CLIPEmbedder(folder: Self.fixtures + "/" + model)
        let golden = try Golden(Self.fixtures + "/" + model)
        let ids = golden.texts.map(\.ids)
        let together = try e.embed(tokenIDs: ids)
        for k in [0, ids.count / 2, ids.count - 1] {
            let alone = try e.embed(tokenIDs: [ids[k]])[0]
            let diff = zip(alone, together[k]).map { abs($0 - $1) }.max() ?? 0
            #expect(diff <= 1e-5, "text \(k): alone vs in a batch of \(ids.count) differ by \(diff)")
        }
        let c = ImageFixtures.Case(height: e.imageSize, width: e.imageSize, count: 16, seed: 9)
        let pixels = ImageFixtures.pixels(c, mean: Self.clipMean, std: Self.clipStd)
        let batch = try e.embed(pixels: pixels, count: 16)
        let per = 3 * e.imageSize * e.imageSize
        for k in [0, 7, 15] {
            let alone = try e.embed(pixels: Array(pixels[(k * per)..<((k + 1) * per)]), count: 1)[0]
            let diff = zip(alone, batch[k]).map { abs($0 - $1) }.max() ?? 0
            #expect(diff <= 1e-5, "image \(k): alone vs in a batch of 16 differ by \(diff)")
        }
    }

    /// Vectors are unit length; the projection size is the dimension.
    @Test func vectorsAreNormalised() throws {
        let e = try CLIPEmbedder(folder: Self.fixtures + "/clip-tiny-gelu")
        #expect(e.dimension == 16 && e.maxTokens == 77)
        for v in try e.embed(tokenIDs: try Golden(Self.fixtures + "/clip-tiny-gelu").texts.prefix(4).map(\.ids)) {
            let n = v.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot()
            #expect(abs(n - 1) < 1e-5)
        }
    }
}
