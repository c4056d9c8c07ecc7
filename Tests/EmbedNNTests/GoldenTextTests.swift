import EmbedNN
import EmbedSys
import Testing

/// Token ids and vectors against the reference (sentence-transformers + tokenizers, fp32).
@Suite(.serialized) struct GoldenTextTests {
    @Test(arguments: TextFixtures.modelNames)
    func tokenIDsMatchReference(model: String) throws {
        let folder = try TextFixtures.requireModel(model)
        let embedder = try TextEmbedder(folder: folder)
        let golden = TextFixtures.ids(model)
        let corpus = TextFixtures.corpus
        try #require(golden.count == corpus.count, "golden ids and corpus differ in length")
        #expect(corpus.count >= 200)
        var mismatches = 0
        for (text, want) in zip(corpus, golden) {
            let got = embedder.tokenIDs(text)
            if got != want {
                mismatches += 1
                Issue.record("\(model): ids differ for \(String(reflecting: text.prefix(80))):\n got  \(got.prefix(40))\n want \(want.prefix(40))")
            }
        }
        #expect(mismatches == 0)
    }

    @Test(arguments: TextFixtures.modelNames, [Precision.fp32, .bf16])
    func vectorsMatchReference(model: String, precision: Precision) throws {
        let folder = try TextFixtures.requireModel(model)
        var options = TextEmbedder.Options()
        options.precision = precision
        let embedder = try TextEmbedder(folder: folder, options: options)
        let golden = TextFixtures.vectors(model, dimension: embedder.dimension)
        let corpus = TextFixtures.corpus
        try #require(golden.count == corpus.count)
        let results = try embedder.embed(corpus)
        let bound = embedder.effectivePrecision == .bf16 ? 0.999 : 0.99999
        var worst = 1.0
        for (i, r) in results.enumerated() {
            let v = try r.get()
            let c = TextFixtures.cosine(v, golden[i])
            worst = min(worst, c)
            #expect(c >= bound, "\(model) \(embedder.effectivePrecision): input \(i) \(String(reflecting: corpus[i].prefix(60))) cosine \(c)")
            if embedder.normalizes {
                let norm = v.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot()
                #expect(abs(norm - 1) < 1e-5, "input \(i) has norm \(norm)")
            }
        }
        print("\(model) \(embedder.effectivePrecision.rawValue) (requested \(precision.rawValue), CPU: \(Precision.cpuDescription)): worst cosine \(worst)")
    }

    @Test(arguments: TextFixtures.modelNames)
    func batchInvariance(model: String) throws {
        let folder = try TextFixtures.requireModel(model)
        let embedder = try TextEmbedder(folder: folder)
        // 64 inputs of mixed lengths, from the corpus (short, long, over-long).
        let corpus = TextFixtures.corpus
        let batch = (0..<64).map { corpus[($0 * 7) % corpus.count] }
        let together = try embedder.embed(batch)
        var worst: Float = 0
        for (i, text) in batch.enumerated() {
            let alone = try embedder.embed([text])[0].get()
            let inBatch = try together[i].get()
            for c in alone.indices { worst = max(worst, abs(alone[c] - inBatch[c])) }
        }
        #expect(worst <= 1e-5, "\(model): max abs difference alone vs batch of 64 is \(worst)")
    }
}

extension GoldenTextTests {
    /// Inputs over 2048 characters are tokenised in pieces; untruncated ids must still equal the
    /// reference's for the whole text (what chunk_mean embeds).
    @Test(arguments: TextFixtures.modelNames)
    func longInputIDsMatchReference(model: String) throws {
        let embedder = try TextEmbedder(folder: try TextFixtures.requireModel(model))
        let bytes = try FileSystem.readFile(TextFixtures.fixtureDir + "/\(model).long.ids")
        let lines = bytes.split(separator: UInt8(ascii: "\n"))
        #expect(lines.count >= 2)
        for line in lines {
            let numbers = line.split(separator: UInt8(ascii: " ")).map { Int(String(decoding: $0, as: UTF8.self))! }
            let text = TextFixtures.corpus[numbers[0]]
            let want = numbers.dropFirst().map { Int32($0) }
            #expect(want.count > 1000)
            #expect(embedder.tokenizer.contentIDs(text) == Array(want), "\(model): input \(numbers[0])")
            // The limited form stops early but agrees on the prefix.
            let limited = embedder.tokenizer.contentIDs(text, limit: 300)
            #expect(limited.count >= 300 && limited.count < want.count)
            #expect(Array(want.prefix(limited.count)) == limited)
        }
    }
}
