import EmbedJSON
import EmbedNN
import EmbedSys
import Testing

/// Whisper's encoder against transformers (PyTorch fp32, `tools/make-golden-whisper.py golden`)
/// on synthetic log-mel features rebuilt here bit for bit: pooled vectors over 1500, 873 and 1
/// frames, raw `last_hidden_state` rows, and a batch of two windows. The committed tiny random
/// model always; the real whisper-base (`models/whisper-base`, converted from CTranslate2 by
/// `tools/convert-ct2-whisper`) when its folder exists, skipped otherwise.
@Suite(.serialized) struct GoldenWhisperTests {
    static let fixtures: String = {
        var parts = String(#filePath).split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(2)
        return parts.joined(separator: "/") + "/Fixtures/audio"
    }()
    static let tinyModel = fixtures + "/whisper-tiny"
    static let baseModel = TextFixtures.modelsDir + "/whisper-base"
    static var hasBaseModel: Bool { FileSystem.isRegularFile(baseModel + "/model.safetensors") }

    /// make-golden-whisper.py's `synthetic_features`: `x[m][t]` in double, then rounded to
    /// float; `reversed` takes frame 2999 − t.
    static func features(melBins: Int, frames: Int = 3000, reversed: Bool = false) -> [Float] {
        var x = [Float](repeating: 0, count: melBins * frames)
        for m in 0..<melBins {
            for t in 0..<frames {
                let (dm, dt) = (Double(m), Double(t))
                let v = 0.6 * FloatMath.sin(0.013 * (dt + 1) * (dm + 1)) + 0.25 * FloatMath.cos(0.7 * dm + 0.002 * dt) - 0.1
                x[m * frames + (reversed ? frames - 1 - t : t)] = Float(v)
            }
        }
        return x
    }

    /// One golden item: its features' name, the pooled vectors by frame count, the raw rows.
    struct Item {
        let features: String
        let pooled: [(frames: Int, vector: [Float])]
        let rows: [(row: Int, values: [Float])]
    }

    /// The golden file's inputs: (batch, items).
    static func golden(_ path: String) throws -> [(batch: Int, items: [Item])] {
        let doc = try JSONValue.parse(try FileSystem.readFile(path, limit: 1 << 24))
        func floats(_ v: JSONValue?) -> [Float] { (v?.array ?? []).map { Float($0.double ?? .nan) } }
        return (doc["inputs"]?.array ?? []).map { input in
            let items = (input["items"]?.array ?? []).map { item in
                Item(features: item["features"]?.string ?? "",
                     pooled: (item["pooled"]?.array ?? []).map { ($0["frames"]?.int ?? 0, floats($0["vector"])) },
                     rows: (item["rows"]?.members ?? []).map { (Int($0.0) ?? -1, floats($0.1)) })
            }
            return (input["batch"]?.int ?? 0, items)
        }
    }

    static func maxAbsDiff(_ a: ArraySlice<Float>, _ b: [Float]) -> Float {
        zip(a, b).map { abs($0 - $1) }.max() ?? .infinity
    }

    /// Compares every pooled vector and raw row of the golden file with `folder`'s encoder.
    /// Returns the lowest cosine.
    @discardableResult
    func check(_ folder: String, golden path: String, precision: Precision = .fp32, minimum: Double,
               rowTolerance: Float) throws -> Double {
        var options = WhisperEmbedder.Options()
        options.precision = precision
        options.maxBatch = 2  // the golden's batch of two runs as one pass
        let e = try WhisperEmbedder(folder: folder, options: options)
        let inputs = try Self.golden(path)
        try #require(inputs.count == 2 && inputs.map(\.batch) == [1, 2])
        let x = Self.features(melBins: e.melBins)
        let xr = Self.features(melBins: e.melBins, reversed: true)
        var worst = 1.0, worstRow: Float = 0
        for (batch, items) in inputs {
            try #require(items.count == batch)
            let features = items.flatMap { $0.features == "synthetic-reversed" ? xr : x }
            // Every pooled length, the batch's windows in one call.
            for k in items[0].pooled.indices {
                let frames = items.map { $0.pooled[k].frames }
                let got = try e.embed(features: features, frames: frames)
                for (i, item) in items.enumerated() {
                    let c = TextFixtures.cosine(got[i], item.pooled[k].vector)
                    worst = min(worst, c)
                    #expect(c >= minimum, "\(folder) batch \(batch) item \(i) (\(item.features)) over \(frames[i]) frames: cosine \(c)")
                }
            }
            let hidden = try features.withUnsafeBufferPointer { try e.hiddenStates(features: $0.baseAddress!, count: batch) }
            for (i, item) in items.enumerated() {
                for (row, want) in item.rows {
                    let start = (i * e.maxFrames + row) * e.dimension
                    let diff = Self.maxAbsDiff(hidden[start..<(start + e.dimension)], want)
                    worstRow = max(worstRow, diff)
                    #expect(diff <= rowTolerance, "\(folder) batch \(batch) item \(i) row \(row): max |Δ| \(diff)")
                }
            }
        }
        print("whisper \(folder.split(separator: "/").last!) \(e.effectivePrecision.rawValue): lowest cosine \(worst), rows max |Δ| \(worstRow)")
        return worst
    }

    @Test func tinyModelMatchesTransformers() throws {
        try check(Self.tinyModel, golden: Self.fixtures + "/whisper-tiny-golden.json", minimum: 0.99999, rowTolerance: 1e-4)
    }

    @Test func tinyModelInBF16() throws {
        guard Precision.effective(.bf16) == .bf16 else {
            print("skipped: this CPU has no native bf16 (\(Precision.cpuDescription)); the bf16 path runs where it has")
            return
        }
        try check(Self.tinyModel, golden: Self.fixtures + "/whisper-tiny-golden.json", precision: .bf16,
                  minimum: 0.999, rowTolerance: 0.1)
    }

    /// The real whisper-base (converted from CTranslate2's fp16 file), golden from
    /// `tools/make-golden-whisper.py golden models/whisper-base Tests/Fixtures/audio/whisper-base-golden.json`.
    @Test(.enabled(if: GoldenWhisperTests.hasBaseModel, "models/whisper-base not made (tools/fetch-models, tools/convert-ct2-whisper)"),
          arguments: [Precision.fp32, .bf16])
    func whisperBaseMatchesTransformers(precision: Precision) throws {
        guard Precision.effective(precision) == precision else {
            print("skipped: this CPU has no native bf16 (\(Precision.cpuDescription))")
            return
        }
        let bf16 = precision == .bf16
        try check(Self.baseModel, golden: Self.fixtures + "/whisper-base-golden.json", precision: precision,
                  minimum: bf16 ? 0.999 : 0.9999, rowTolerance: bf16 ? 1.0 : 2e-3)
    }

    /// A window alone gives the vector it gets in a batch (its attention sees only its own
    /// frames; other row counts may pick other matmul kernels: within 1e-5 after normalising).
    @Test func batchInvariance() throws {
        var options = WhisperEmbedder.Options()
        options.maxBatch = 3
        let e = try WhisperEmbedder(folder: Self.tinyModel, options: options)
        let x = Self.features(melBins: e.melBins), xr = Self.features(melBins: e.melBins, reversed: true)
        let frames = [1500, 17, 873, 1, 640]
        let inputs = [x, xr, xr, x, xr]
        // Five windows with maxBatch 3: passes of 3 and 2.
        // Ranges past maxBatch are clamped to it.
        try e.prepare(batch: 2...8)
        try e.prepare(batch: 5...9)
        let together = try e.embed(features: inputs.flatMap { $0 }, frames: frames)
        for k in frames.indices {
            let alone = try e.embed(features: inputs[k], frames: [frames[k]])[0]
            let diff = Self.maxAbsDiff(alone[...], together[k])
            #expect(diff <= 1e-5, "window \(k): alone vs in a batch differ by \(diff)")
            let norm = alone.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot()
            #expect(abs(norm - 1) < 1e-5)
        }
    }

    /// A `WhisperForConditionalGeneration` save names the encoder `model.encoder.…`: the same
    /// weights under that prefix give the same vectors.
    @Test func conditionalGenerationPrefix() throws {
        let folder = TinyModel.scratch("whisper-prefixed")
        let config = try FileSystem.readFile(Self.tinyModel + "/config.json")
        TinyModel.write(folder + "/config.json", config)
        TinyModel.write(folder + "/model.safetensors", try Self.renamed(Self.tinyModel + "/model.safetensors") { "model." + $0 })
        let a = try WhisperEmbedder(folder: Self.tinyModel), b = try WhisperEmbedder(folder: folder)
        let x = Self.features(melBins: a.melBins)
        #expect(try a.embed(features: x, frames: [873]) == b.embed(features: x, frames: [873]))
    }

    /// A copy of a safetensors file with every tensor renamed (offsets are relative to the data
    /// section, so only the header changes).
    static func renamed(_ path: String, _ rename: (String) -> String) throws -> [UInt8] {
        let bytes = try FileSystem.readFile(path)
        let n = bytes.withUnsafeBytes { Int(UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self))) }
        let header = try JSONValue.parse(Array(bytes[8..<(8 + n)]))
        let members = header.members!.map { ($0.0 == "__metadata__" ? $0.0 : rename($0.0), $0.1) }
        var text = Array(JSONWriter.compact(.object(members)).utf8)
        while text.count % 8 != 0 { text.append(UInt8(ascii: " ")) }
        var length = UInt64(text.count).littleEndian
        return withUnsafeBytes(of: &length) { Array($0) } + text + bytes[(8 + n)...]
    }

    /// Folder problems are refused with the file and the reason.
    @Test func refusesWhatItCannotRun() throws {
        let weights = try FileSystem.readFile(Self.tinyModel + "/model.safetensors")
        let config = String(decoding: try FileSystem.readFile(Self.tinyModel + "/config.json"), as: UTF8.self)
        func load(_ json: String, weights w: [UInt8] = weights) -> String {
            let folder = TinyModel.scratch("whisper-bad")
            TinyModel.write(folder + "/config.json", json)
            TinyModel.write(folder + "/model.safetensors", w)
            do { _ = try WhisperEmbedder(folder: folder); return "loaded" } catch { return "\(error)" }
        }
        func replacing(_ a: String, _ b: String) -> String {
            let r = config.split(separator: a, omittingEmptySubsequences: false).joined(separator: b)
            #expect(r != config, "fixture config.json has no \(a)")
            return r
        }
        #expect(load(replacing(#""activation_function": "gelu""#, #""activation_function": "relu""#))
            .contains("activation_function \"relu\" is not supported"))
        #expect(load(replacing(#""model_type": "whisper""#, #""model_type": "clip""#)).contains("not a Whisper model"))
        #expect(load(replacing(#""encoder_attention_heads": 4"#, #""encoder_attention_heads": 8"#)).contains("multiple of 16"))
        // A config that disagrees with the weights: the tensor and both shapes are named.
        #expect(load(replacing(#""num_mel_bins": 80"#, #""num_mel_bins": 128"#)).contains("conv1.weight' has shape [64, 80, 3], expected [64, 128, 3]"))
        // Not a Whisper save at all.
        let renamed = try Self.renamed(Self.tinyModel + "/model.safetensors") { "whisper." + $0 }
        #expect(load(config, weights: renamed).contains("missing tensor 'encoder.conv1.weight'"))
    }

    /// Frame counts and input sizes are checked before any work.
    @Test func refusesBadFrameCounts() throws {
        let e = try WhisperEmbedder(folder: Self.tinyModel)
        #expect(e.dimension == 64 && e.melBins == 80 && e.inputFrames == 3000 && e.maxFrames == 1500)
        let x = Self.features(melBins: e.melBins)
        for frames in [[0], [1501], [1, 1]] {
            #expect(throws: NNError.self) { try e.embed(features: x, frames: frames) }
        }
        #expect(throws: NNError.self) { try e.embed(features: Array(x.dropLast()), frames: [1500]) }
        #expect(try e.embed(features: [], frames: []).isEmpty)
    }
}
