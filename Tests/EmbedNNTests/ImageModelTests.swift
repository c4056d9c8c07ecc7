import EmbedJSON
import EmbedNN
import EmbedSys
import Testing

/// ResNet folders: configs of every released size parse, and broken folders fail with an error
/// that names the file (or tensor) and the problem — never a crash.
struct ImageModelTests {
    func expectFailure(_ folder: String, _ needles: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try ImageEmbedder(folder: folder)
            Issue.record("loading \(folder) succeeded; expected an error containing \(needles)", sourceLocation: sourceLocation)
        } catch {
            for n in needles {
                #expect(error.message.contains(n), "error '\(error.message)' lacks '\(n)'", sourceLocation: sourceLocation)
            }
        }
    }

    static func config(_ text: String) throws(NNError) -> ResNetConfig {
        try ResNetConfig(json: try JSONValue.parse(Array(text.utf8), name: "config.json"), path: "config.json")
    }

    /// microsoft/resnet-18/34/50/101/152 as their config.json files state them (labels left out).
    @Test func releasedConfigsParse() throws {
        let sizes: [(String, [Int], [Int], String, Int)] = [
            ("18", [2, 2, 2, 2], [64, 128, 256, 512], "basic", 512), ("34", [3, 4, 6, 3], [64, 128, 256, 512], "basic", 512),
            ("50", [3, 4, 6, 3], [256, 512, 1024, 2048], "bottleneck", 2048),
            ("101", [3, 4, 23, 3], [256, 512, 1024, 2048], "bottleneck", 2048),
            ("152", [3, 8, 36, 3], [256, 512, 1024, 2048], "bottleneck", 2048),
        ]
        for (name, depths, widths, type, dim) in sizes {
            let c = try Self.config("""
                {"architectures": ["ResNetForImageClassification"], "depths": \(depths), "downsample_in_first_stage": false,
                 "embedding_size": 64, "hidden_act": "relu", "hidden_sizes": \(widths), "layer_type": "\(type)",
                 "model_type": "resnet", "num_channels": 3, "torch_dtype": "float32", "transformers_version": "4.18.0.dev0"}
                """)
            #expect(c.depths == depths && c.hiddenSizes == widths && c.layerType.rawValue == type, "resnet-\(name)")
            #expect(c.dimension == dim && !c.downsampleInBottleneck && !c.downsampleInFirstStage && c.embeddingSize == 64)
        }
        // Every key missing: transformers' defaults (a ResNet-50).
        let d = try Self.config("{}")
        #expect(d.depths == [3, 4, 6, 3] && d.hiddenSizes == [256, 512, 1024, 2048] && d.layerType == .bottleneck && d.channels == 3)
        #expect(try Self.config(#"{"downsample_in_bottleneck": true}"#).downsampleInBottleneck)
    }

    @Test func badConfigs() {
        let cases: [(String, String)] = [
            (#"{"model_type": "vit"}"#, "model_type \"vit\" is not supported"),
            (#"{"layer_type": "preactivation"}"#, "layer_type \"preactivation\" is not supported"),
            (#"{"hidden_act": "gelu"}"#, "hidden_act \"gelu\" is not supported"),
            (#"{"depths": [3, 4], "hidden_sizes": [256, 512, 1024]}"#, "equal length"),
            (#"{"depths": "3,4,6,3"}"#, "\"depths\" must be a list of integers"),
            (#"{"depths": [3, 0, 6, 3]}"#, "must be positive"),
            (#"{"hidden_sizes": [256, 510, 1024, 2048]}"#, "not a multiple of the bottleneck reduction"),
            (#"{"downsample_in_first_stage": "yes"}"#, "must be true or false"),
            (#"[1, 2]"#, "must be a JSON object"),
        ]
        for (text, needle) in cases {
            do throws(NNError) {
                _ = try Self.config(text)
                Issue.record("\(text) parsed; expected '\(needle)'")
            } catch {
                #expect(error.message.contains(needle) && error.message.contains("config.json"), "\(text): \(error.message)")
            }
        }
    }

    @Test func malformedFolders() throws {
        let model = ImageFixtures.tinyModels[0]
        let d1 = ImageFixtures.copy(model, "img-noconfig")
        try FileSystem.unlink(d1 + "/config.json")
        expectFailure(d1, [d1 + "/config.json", "missing file"])
        let d2 = ImageFixtures.copy(model, "img-noweights")
        try FileSystem.unlink(d2 + "/model.safetensors")
        expectFailure(d2, [d2 + "/model.safetensors", "missing file"])
        let d3 = ImageFixtures.copy(model, "img-badjson")
        TinyModel.write(d3 + "/config.json", #"{"model_type": "resnet", "depths": [2, 1,"#)
        expectFailure(d3, [d3 + "/config.json", "invalid JSON"])
        expectFailure("/nonexistent/resnet", ["/nonexistent/resnet", "not a directory"])
        // A config that does not match the weights: the first tensor of the wrong shape is named.
        let d4 = ImageFixtures.copy(model, "img-wrongshape")
        TinyModel.write(d4 + "/config.json", #"{"model_type": "resnet", "embedding_size": 16, "hidden_sizes": [8, 16, 16, 32], "depths": [2, 1, 2, 1]}"#)
        expectFailure(d4, [d4 + "/model.safetensors", "resnet.embedder.embedder.convolution.weight", "has shape [8, 3, 7, 7], expected [16, 3, 7, 7]"])
        // More blocks than the weights hold: the missing tensor is named.
        let d5 = ImageFixtures.copy(model, "img-missing")
        TinyModel.write(d5 + "/config.json", #"{"model_type": "resnet", "embedding_size": 8, "hidden_sizes": [8, 16, 16, 32], "depths": [3, 1, 2, 1]}"#)
        expectFailure(d5, [d5 + "/model.safetensors", "missing tensor 'resnet.encoder.stages.0.layers.2.layer.0.convolution.weight'"])
        // A truncated weights file.
        let d6 = ImageFixtures.copy(model, "img-truncated")
        let bytes = try FileSystem.readFile(d6 + "/model.safetensors")
        TinyModel.write(d6 + "/model.safetensors", Array(bytes.prefix(bytes.count / 2)))
        expectFailure(d6, [d6 + "/model.safetensors", "truncated"])
    }

    /// Weights without the `resnet.` prefix (a `ResNetModel` checkpoint) load too, and a negative
    /// running variance is refused by name.
    @Test func bareModelWeightsAndBadStatistics() throws {
        let folder = ImageFixtures.fixtureDir + "/" + ImageFixtures.tinyModels[0]
        let file = try SafeTensorsFile(path: folder + "/model.safetensors")
        var tensors: [(String, [Int], [Float])] = []
        for (name, info) in file.tensors.sorted(by: { $0.key < $1.key }) where name.hasPrefix("resnet.") && info.dtype == .f32 {
            tensors.append((String(name.dropFirst("resnet.".count)), info.shape, try file.floats(name).values))
        }
        let bare = TinyModel.scratch("img-bare")
        TinyModel.write(bare + "/config.json", try FileSystem.readFile(folder + "/config.json"))
        TinyModel.write(bare + "/model.safetensors", Self.safetensors(tensors))
        let a = try ImageEmbedder(folder: folder), b = try ImageEmbedder(folder: bare)
        let c = ImageFixtures.tinyCases[2]
        let pixels = ImageFixtures.pixels(c)
        #expect(try a.embed(pixels: pixels, count: c.count, height: c.height, width: c.width)
                == b.embed(pixels: pixels, count: c.count, height: c.height, width: c.width))

        let broken = TinyModel.scratch("img-negvar")
        TinyModel.write(broken + "/config.json", try FileSystem.readFile(folder + "/config.json"))
        TinyModel.write(broken + "/model.safetensors", Self.safetensors(tensors.map { t in
            t.0 == "encoder.stages.1.layers.0.layer.1.normalization.running_var" ? (t.0, t.1, t.2.map { -$0 }) : t
        }))
        expectFailure(broken, [broken + "/model.safetensors", "encoder.stages.1.layers.0.layer.1.normalization.running_var", "invalid variance"])
    }

    @Test func badCallArguments() throws {
        let e = try ImageEmbedder(folder: ImageFixtures.fixtureDir + "/" + ImageFixtures.tinyModels[1])
        #expect(throws: NNError.self) { try e.embed(pixels: [Float](repeating: 0, count: 10), count: 1, height: 2, width: 2) }
        #expect(throws: NNError.self) { try e.embed(pixels: [], count: 1, height: 0, width: 5) }
        #expect(try e.embed(pixels: [], count: 0, height: 8, width: 8).isEmpty)
        // The smallest image still runs (every stride-2 layer keeps at least one position).
        let one = try e.embed(pixels: [0.5, -0.5, 1], count: 1, height: 1, width: 1)
        #expect(one.count == 1 && one[0].count == 32 && one[0].allSatisfy(\.isFinite))
    }

    /// A safetensors file of F32 tensors.
    static func safetensors(_ tensors: [(String, [Int], [Float])]) -> [UInt8] {
        var header = "{"
        var data: [UInt8] = []
        for (i, (name, shape, values)) in tensors.enumerated() {
            let begin = data.count
            for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { data += $0 } }
            header += (i > 0 ? ", " : "") + "\"\(name)\": {\"dtype\": \"F32\", \"shape\": \(shape), \"data_offsets\": [\(begin), \(data.count)]}"
        }
        header += "}"
        while header.utf8.count % 8 != 0 { header += " " }
        var out: [UInt8] = []
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { out += $0 }
        return out + Array(header.utf8) + data
    }
}
