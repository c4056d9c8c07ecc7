import EmbedNN
import EmbedSys
import Testing

/// ResNet vectors against transformers (PyTorch fp32): the committed tiny models always, the
/// full-size random ResNet-50 when its folder exists (skipped otherwise).
@Suite(.serialized) struct GoldenImageTests {
    func check(_ embedder: ImageEmbedder, golden: String, _ c: ImageFixtures.Case, label: String) throws {
        let want = try ImageFixtures.vectors(golden, dimension: embedder.dimension)
        try #require(want.count == c.count, "\(golden) holds \(want.count) vectors, expected \(c.count)")
        let got = try embedder.embed(pixels: ImageFixtures.pixels(c), count: c.count, height: c.height, width: c.width)
        let (cosine, relative, deviation) = ImageFixtures.compare(got, want)
        let bf16 = embedder.effectivePrecision == .bf16
        #expect(cosine >= (bf16 ? 0.999 : 0.9999), "\(label) \(c): cosine \(cosine)")
        if !bf16 {
            #expect(relative <= 1e-4, "\(label) \(c): max abs error \(relative) of the largest value")
            #expect(deviation >= 0.9999, "\(label) \(c): cosine of deviations from image 0 \(deviation)")
        }
        print("\(label) \(embedder.effectivePrecision.rawValue) \(c): cosine \(cosine), max error / max \(relative), deviation cosine \(deviation)")
    }

    @Test(arguments: ImageFixtures.tinyModels)
    func tinyModelsMatchReference(model: String) throws {
        let embedder = try ImageEmbedder(folder: ImageFixtures.fixtureDir + "/" + model)
        for c in ImageFixtures.tinyCases {
            try check(embedder, golden: ImageFixtures.fixtureDir + "/\(model).\(c.fileSuffix)", c, label: model)
        }
    }

    /// One image alone gives the vector it gets inside a batch of 16 (and inside the batch of 4).
    @Test(arguments: ImageFixtures.tinyModels)
    func batchInvariance(model: String) throws {
        let embedder = try ImageEmbedder(folder: ImageFixtures.fixtureDir + "/" + model)
        try expectBatchInvariance(embedder, label: model)
    }

    func expectBatchInvariance(_ embedder: ImageEmbedder, label: String) throws {
        let c = ImageFixtures.tinyCases[3]
        let pixels = ImageFixtures.pixels(c)
        let together = try embedder.embed(pixels: pixels, count: c.count, height: c.height, width: c.width)
        let per = 3 * c.height * c.width
        var worst: Float = 0
        for i in [0, 5, 15] {
            let alone = try embedder.embed(pixels: Array(pixels[(i * per)..<((i + 1) * per)]), count: 1, height: c.height, width: c.width)[0]
            let four = try embedder.embed(pixels: Array(pixels[(max(0, i - 3) * per)..<((max(0, i - 3) + 4) * per)]), count: 4,
                                          height: c.height, width: c.width)[i - max(0, i - 3)]
            for k in alone.indices { worst = max(worst, abs(alone[k] - together[i][k]), abs(four[k] - together[i][k])) }
        }
        let scale = together.flatMap { $0 }.map { abs($0) }.max()!
        #expect(worst <= 1e-5 * max(1, scale), "\(label): alone vs batch of 16 differ by \(worst) (largest value \(scale))")
        print("\(label): batch invariance max abs difference \(worst) (largest value \(scale))")
    }

    @Test(.enabled(if: ImageFixtures.hasFullModel, "the full-size ResNet-50 is absent: tools/make-golden-image.py full"),
          arguments: [Precision.fp32, .bf16])
    func fullResNet50MatchesReference(precision: Precision) throws {
        var options = ImageEmbedder.Options()
        options.precision = precision
        let embedder = try ImageEmbedder(folder: ImageFixtures.fullModel, options: options)
        #expect(embedder.dimension == 2048)
        for c in ImageFixtures.fullCases {
            try check(embedder, golden: ImageFixtures.fullModel + "/golden/" + c.fileSuffix, c, label: "resnet-50-random")
        }
    }

    @Test(.enabled(if: ImageFixtures.hasFullModel, "the full-size ResNet-50 is absent: tools/make-golden-image.py full"))
    func fullResNet50BatchInvariance() throws {
        try expectBatchInvariance(try ImageEmbedder(folder: ImageFixtures.fullModel), label: "resnet-50-random")
    }
}
