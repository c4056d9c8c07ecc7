import EmbedNN
import EmbedSys
import Testing

/// Broken model folders fail with an error that names the file and the problem — never a crash.
struct MalformedModelTests {
    /// Loads and expects an NNError whose message contains every needle.
    func expectFailure(_ folder: String, _ needles: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try TextEmbedder(folder: folder)
            Issue.record("loading \(folder) succeeded; expected an error containing \(needles)", sourceLocation: sourceLocation)
        } catch {
            for n in needles {
                #expect(error.message.contains(n), "error '\(error.message)' lacks '\(n)'", sourceLocation: sourceLocation)
            }
        }
    }

    @Test func tinyModelLoadsAndEmbeds() throws {
        let d = TinyModel.make("ok")
        let e = try TextEmbedder(folder: d)
        #expect(e.dimension == 32)
        #expect(e.tokenIDs("The cats sat.") == [2, 5, 6, 10, 7, 11, 3])
        #expect(e.tokenIDs("zebra") == [2, 1, 3])
        let v = try e.embed(["the cat sat on the mat", "a dog"]).map { try $0.get() }
        #expect(v.allSatisfy { abs($0.reduce(0) { $0 + $1 * $1 } - 1) < 1e-5 })
        #expect(v[0] != v[1])
    }

    @Test func missingFiles() {
        let d = TinyModel.make("missing")
        try? FileSystem.unlink(d + "/config.json")
        expectFailure(d, [d + "/config.json", "missing file"])
        let d2 = TinyModel.make("noweights")
        try? FileSystem.unlink(d2 + "/model.safetensors")
        expectFailure(d2, [d2 + "/model.safetensors", "missing file"])
        let d3 = TinyModel.make("notokenizer")
        try? FileSystem.unlink(d3 + "/vocab.txt")
        expectFailure(d3, [d3, "no tokenizer"])
        let d4 = TinyModel.make("nopooling")
        try? FileSystem.unlink(d4 + "/1_Pooling/config.json")
        expectFailure(d4, [d4 + "/1_Pooling/config.json", "missing file"])
        expectFailure("/nonexistent/model", ["/nonexistent/model", "not a directory"])
    }

    @Test func badJSON() {
        let d = TinyModel.make("badjson")
        TinyModel.write(d + "/config.json", #"{"model_type": "bert", "hidden_size": 32,"#)
        expectFailure(d, [d + "/config.json", "invalid JSON", "at byte"])
        let d2 = TinyModel.make("badmodules")
        TinyModel.write(d2 + "/modules.json", #"{"not": "a list"}"#)
        expectFailure(d2, [d2 + "/modules.json", "must be a JSON array"])
        let d3 = TinyModel.make("dense")
        TinyModel.write(d3 + "/modules.json", #"[{"type": "sentence_transformers.models.Transformer", "path": ""}, {"type": "sentence_transformers.models.Dense", "path": "2_Dense"}]"#)
        expectFailure(d3, [d3 + "/modules.json", "Dense", "not supported"])
        let d4 = TinyModel.make("arch")
        TinyModel.write(d4 + "/config.json", #"{"model_type": "gpt2"}"#)
        expectFailure(d4, [d4 + "/config.json", "gpt2", "not supported"])
        let d5 = TinyModel.make("nohidden")
        TinyModel.write(d5 + "/config.json", #"{"model_type": "bert", "num_hidden_layers": 2}"#)
        expectFailure(d5, [d5 + "/config.json", "missing \"hidden_size\""])
    }

    /// Token ids in tokenizer.json are checked, not converted blindly: ids beyond Int32 (a trap
    /// before) and ids beyond the model's vocab_size from added tokens and the post-processor
    /// template (not checked before; they would index past the embedding table) name the file.
    @Test func hostileTokenIDs() {
        let vocab = TinyModel.vocab.enumerated().map { "\"\($0.element)\": \($0.offset)" }.joined(separator: ", ")
        func tokenizer(added: String = "[]", post: String = "null") -> String {
            #"{"model": {"type": "WordPiece", "unk_token": "[UNK]", "vocab": {"# + vocab + #"}}, "added_tokens": "# + added
                + #", "normalizer": null, "pre_tokenizer": null, "post_processor": "# + post + "}"
        }
        let cases: [(String, String, [String])] = [
            ("hugeadded", tokenizer(added: #"[{"id": 99999999999, "content": "[MASK]"}]"#), ["added token '[MASK]'", "no valid token id"]),
            ("negadded", tokenizer(added: #"[{"id": -3, "content": "zz"}]"#), ["added token 'zz'", "no valid token id"]),
            ("bigadded", tokenizer(added: #"[{"id": 40, "content": "[MASK]"}]"#), ["token id 40", "vocab_size 15"]),
            ("hugecls", tokenizer(post: #"{"type": "BertProcessing", "cls": ["[CLS]", 4294967296], "sep": ["[SEP]", 3]}"#),
             ["post_processor cls", "no valid token id"]),
            ("bigtemplate", tokenizer(post: #"{"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "[CLS]"}}, {"Sequence": {"id": "A"}}], "special_tokens": {"[CLS]": {"ids": [77]}}}"#),
             ["token id 77", "vocab_size 15"]),
        ]
        for (name, json, needles) in cases {
            let d = TinyModel.make(name)
            TinyModel.write(d + "/tokenizer.json", json)
            expectFailure(d, [d + "/tokenizer.json"] + needles)
        }
    }

    @Test func wrongShapes() {
        let d = TinyModel.make("shapes")
        TinyModel.write(d + "/config.json", TinyModel.config(hidden: 64))
        expectFailure(d, [d + "/model.safetensors", "embeddings.word_embeddings.weight", "shape [15, 32], expected [15, 64]"])
        // A tensor missing from the file.
        let d2 = TinyModel.make("missingtensor")
        TinyModel.write(d2 + "/model.safetensors", TinyModel.safetensors(TinyModel.tensors.filter { $0.0 != "encoder.layer.1.output.dense.bias" }))
        expectFailure(d2, [d2 + "/model.safetensors", "missing tensor 'encoder.layer.1.output.dense.bias'"])
    }

    @Test func truncatedAndHostileSafetensors() throws {
        let d = TinyModel.make("trunc")
        let full = TinyModel.safetensors(TinyModel.tensors)
        let headerLength = Int(full.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        // Cut inside the data section, inside the header, and inside the length field.
        TinyModel.write(d + "/model.safetensors", Array(full.prefix(full.count - 100)))
        expectFailure(d, [d + "/model.safetensors", "outside the", "truncated file"])
        TinyModel.write(d + "/model.safetensors", Array(full.prefix(8 + headerLength / 2)))
        expectFailure(d, [d + "/model.safetensors", "truncated safetensors file: header says"])
        TinyModel.write(d + "/model.safetensors", Array(full.prefix(5)))
        expectFailure(d, [d + "/model.safetensors", "less than the 8-byte header length"])
        TinyModel.write(d + "/model.safetensors", [])
        expectFailure(d, [d + "/model.safetensors", "truncated"])
        // Hostile headers: absurd length, offsets past the end, wrong byte count, overlaps, bad dtype.
        var huge = full
        huge.replaceSubrange(0..<8, with: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F])
        TinyModel.write(d + "/model.safetensors", huge)
        expectFailure(d, ["larger than the 100 MB limit"])
        for (header, needle) in [
            (#"{"x": {"dtype": "F32", "shape": [4], "data_offsets": [0, 1000000]}}"#, "outside the"),
            (#"{"x": {"dtype": "F32", "shape": [4], "data_offsets": [0, 12]}}"#, "needs 16"),
            (#"{"x": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "y": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}"#, "overlap"),
            (#"{"x": {"dtype": "Q4", "shape": [2], "data_offsets": [0, 8]}}"#, "unsupported dtype Q4"),
            (#"{"x": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}}"#, "negative"),
            (#"{"x": {"dtype": "F32", "shape": [4611686018427387904, 4], "data_offsets": [0, 8]}}"#, "overflows"),
            (#"[1, 2, 3]"#, "not a JSON object"),
            (#"{"x": "#, "invalid JSON"),
        ] {
            var bytes: [UInt8] = []
            withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { bytes += $0 }
            bytes += Array(header.utf8) + [UInt8](repeating: 0, count: 16)
            let path = d + "/model.safetensors"
            TinyModel.write(path, bytes)
            #expect(throws: NNError.self) { _ = try SafeTensorsFile(path: path) }
            do { _ = try SafeTensorsFile(path: path) } catch {
                #expect(error.message.contains(needle), "'\(error.message)' lacks '\(needle)'")
                #expect(error.message.contains(path))
            }
        }
    }

    @Test func f16AndBF16WeightsAreWidened() throws {
        let d = TinyModel.scratch("dtypes")
        let header = #"{"h": {"dtype": "F16", "shape": [2], "data_offsets": [0, 4]}, "b": {"dtype": "BF16", "shape": [2], "data_offsets": [4, 8]}, "i": {"dtype": "I64", "shape": [1], "data_offsets": [8, 16]}}"#
        var bytes: [UInt8] = []
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { bytes += $0 }
        bytes += Array(header.utf8)
        bytes += [0x00, 0x3C, 0x00, 0xC0]  // f16 1.0, -2.0
        bytes += [0x80, 0x3F, 0x40, 0x40]  // bf16 1.0, 3.0
        bytes += [UInt8](repeating: 0, count: 8)
        TinyModel.write(d + "/w.safetensors", bytes)
        let f = try SafeTensorsFile(path: d + "/w.safetensors")
        #expect(try f.floats("h").values == [1, -2])
        #expect(try f.floats("b").values == [1, 3])
        #expect(throws: NNError.self) { _ = try f.floats("i") }
        #expect(throws: NNError.self) { _ = try f.floats("h", shape: [3]) }
    }
}
