import EmbedNN

/// The text plugin's load options (`options:` of a model in embedd.yaml). Unknown keys and bad
/// values are refused with EMBEDD_ERR_OPTIONS, naming the key.
///
/// | key | values | default |
/// |---|---|---|
/// | `precision` | `auto` (bf16 where the CPU has AMX or AVX-512 BF16, else fp32), `fp32`, `bf16` (falls back to fp32 with a warning) | `auto` |
/// | `threads` | OpenMP threads for this model, 0 = all cores / `OMP_NUM_THREADS` | `0` |
/// | `long_input` | `truncate`, `chunk_mean`, `reject` | `truncate` |
/// | `max_seq_length` | tokens per window incl. specials, ≤ the model's | from sentence_bert_config.json |
/// | `max_batch_tokens` | tokens per forward pass (bounds memory) | `4096` |
/// | `max_input_bytes` | largest accepted text in bytes | `1048576` |
/// | `max_batch` | largest batch accepted in one call | `1024` |
/// | `preferred_batch` | batch size the host should aim for | `32` |
struct TextPluginOptions {
    var embedder = TextEmbedder.Options()
    /// `precision` was `auto` (or not given): the CPU chose it.
    var precisionIsAuto = true
    var maxInputBytes = 1 << 20
    var maxBatch = 1024
    var preferredBatch = 32

    static let keys = ["precision", "threads", "long_input", "max_seq_length", "max_batch_tokens",
                       "max_input_bytes", "max_batch", "preferred_batch"]

    init(_ pairs: [(String, String)]) throws(NNError) {
        embedder.precision = .automatic
        for (key, value) in pairs {
            let option = ModelOption(key: key, value: value)
            func int(_ range: ClosedRange<Int>) throws(NNError) -> Int { try option.int(range) }
            switch key {
            case "precision": (embedder.precision, precisionIsAuto) = try option.precision()
            case "threads": embedder.threads = try int(0...1024)
            case "long_input":
                guard let l = LongInputPolicy(rawValue: value) else {
                    throw NNError("option long_input: '\(value)' is not truncate, chunk_mean or reject")
                }
                embedder.longInput = l
            case "max_seq_length": embedder.maxSequenceLength = try int(3...65536)
            case "max_batch_tokens": embedder.maxBatchTokens = try int(16...1 << 22)
            case "max_input_bytes": maxInputBytes = try int(1...1 << 30)
            case "max_batch": maxBatch = try int(1...1 << 20)
            case "preferred_batch": preferredBatch = try int(1...1 << 20)
            default:
                throw NNError("unknown option '\(key)' (text plugin options: \(Self.keys.joined(separator: ", ")))")
            }
        }
        guard preferredBatch <= maxBatch else {
            throw NNError("option preferred_batch \(preferredBatch) is larger than max_batch \(maxBatch)")
        }
    }
}
