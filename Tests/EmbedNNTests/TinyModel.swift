import EmbedNN
import EmbedSys

/// Writes a small but complete BERT sentence-transformers folder (random weights, tiny vocab)
/// so loading and error paths are tested without downloaded models.
enum TinyModel {
    static let hidden = 32, heads = 2, intermediate = 64, layers = 2, positions = 64
    static let vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "sat", "on", "mat", "##s", ".", ",", "a", "dog"]

    /// A scratch directory unique to this process and call.
    static func scratch(_ name: String) -> String {
        let d = "/tmp/embedd-nn-test-\(Clock.monotonicNanoseconds())-\(name)"
        try! FileSystem.makeDirectories(d)
        return d
    }

    static func write(_ path: String, _ text: String) { write(path, Array(text.utf8)) }

    static func write(_ path: String, _ bytes: [UInt8]) {
        let fd = try! FileDescriptor.open(path, [.writeOnly, .create, .truncate])
        try! fd.writeAll(bytes)
        try! fd.close()
    }

    static func config(hidden: Int = hidden) -> String {
        """
        {"model_type": "bert", "hidden_size": \(hidden), "num_hidden_layers": \(layers), "num_attention_heads": \(heads),
         "intermediate_size": \(intermediate), "max_position_embeddings": \(positions), "type_vocab_size": 2,
         "vocab_size": \(vocab.count), "layer_norm_eps": 1e-12, "hidden_act": "gelu", "pad_token_id": 0}
        """
    }

    /// The tensors of the tiny BERT: (name, shape).
    static var tensors: [(String, [Int])] {
        var t: [(String, [Int])] = [
            ("embeddings.word_embeddings.weight", [vocab.count, hidden]),
            ("embeddings.position_embeddings.weight", [positions, hidden]),
            ("embeddings.token_type_embeddings.weight", [2, hidden]),
            ("embeddings.LayerNorm.weight", [hidden]), ("embeddings.LayerNorm.bias", [hidden]),
        ]
        for l in 0..<layers {
            let p = "encoder.layer.\(l)."
            for n in ["attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"] {
                t += [(p + n + ".weight", [hidden, hidden]), (p + n + ".bias", [hidden])]
            }
            t += [(p + "intermediate.dense.weight", [intermediate, hidden]), (p + "intermediate.dense.bias", [intermediate]),
                  (p + "output.dense.weight", [hidden, intermediate]), (p + "output.dense.bias", [hidden])]
            for n in ["attention.output.LayerNorm", "output.LayerNorm"] {
                t += [(p + n + ".weight", [hidden]), (p + n + ".bias", [hidden])]
            }
        }
        return t
    }

    /// A safetensors file with deterministic pseudo-random F32 data for `tensors`.
    static func safetensors(_ tensors: [(String, [Int])]) -> [UInt8] {
        var header = "{\"__metadata__\": {\"format\": \"pt\"}"
        var data: [UInt8] = []
        var seed: UInt32 = 12345
        for (name, shape) in tensors {
            let n = shape.reduce(1, *)
            let begin = data.count
            for _ in 0..<n {
                seed = seed &* 1664525 &+ 1013904223
                let v = name.hasSuffix("LayerNorm.weight") ? 1 + Float(Int(seed >> 9) % 100) / 1000 : (Float(Int(seed >> 9) % 2001) - 1000) / 10000
                withUnsafeBytes(of: v.bitPattern.littleEndian) { data += $0 }
            }
            header += ", \"\(name)\": {\"dtype\": \"F32\", \"shape\": \(shape), \"data_offsets\": [\(begin), \(data.count)]}"
        }
        header += "}"
        while (header.utf8.count + 8) % 8 != 0 { header += " " }
        var out: [UInt8] = []
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { out += $0 }
        return out + Array(header.utf8) + data
    }

    /// Writes the whole folder and returns its path.
    static func make(_ name: String) -> String {
        let d = scratch(name)
        write(d + "/config.json", config())
        write(d + "/model.safetensors", safetensors(tensors))
        write(d + "/vocab.txt", vocab.joined(separator: "\n") + "\n")
        write(d + "/tokenizer_config.json", #"{"do_lower_case": true, "tokenizer_class": "BertTokenizer"}"#)
        write(d + "/modules.json", #"[{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"}, {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}, {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}]"#)
        try! FileSystem.makeDirectories(d + "/1_Pooling")
        write(d + "/1_Pooling/config.json", #"{"word_embedding_dimension": 32, "pooling_mode_mean_tokens": true}"#)
        write(d + "/sentence_bert_config.json", #"{"max_seq_length": 32, "do_lower_case": false}"#)
        return d
    }
}
