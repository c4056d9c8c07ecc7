import EmbedJSON

/// The shape of a BERT-family encoder, read from the model folder's `config.json`.
public struct EncoderConfig: Sendable, Equatable {
    /// Which architecture's weights and position scheme to use.
    public enum Architecture: String, Sendable {
        /// BERT and its descendants (MiniLM, bge, e5, gte): absolute positions, token types.
        case bert
        /// MPNet: absolute positions offset by the pad id plus a relative position bias.
        case mpnet
    }

    public var architecture: Architecture
    public var hiddenSize: Int
    public var layers: Int
    public var heads: Int
    public var intermediateSize: Int
    public var maxPositions: Int
    public var typeVocabularySize: Int
    public var vocabularySize: Int
    public var layerNormEps: Float
    public var padTokenID: Int
    public var relativeAttentionBuckets: Int

    /// Size of one attention head.
    public var headSize: Int { hiddenSize / heads }

    /// Parses `config.json` at `path`.
    public init(json: JSONValue, path: String) throws(NNError) {
        let type = json["model_type"]?.string ?? ""
        switch type {
        case "bert": architecture = .bert
        case "mpnet": architecture = .mpnet
        case "": throw NNError.file(path, "missing \"model_type\"")
        default: throw NNError.file(path, "model_type \"\(type)\" is not supported (bert or mpnet)")
        }
        hiddenSize = try ModelFolder.int(json, "hidden_size", path)
        layers = try ModelFolder.int(json, "num_hidden_layers", path)
        heads = try ModelFolder.int(json, "num_attention_heads", path)
        intermediateSize = try ModelFolder.int(json, "intermediate_size", path)
        maxPositions = try ModelFolder.int(json, "max_position_embeddings", path)
        typeVocabularySize = try ModelFolder.int(json, "type_vocab_size", path, default: architecture == .bert ? 2 : 0)
        vocabularySize = try ModelFolder.int(json, "vocab_size", path)
        padTokenID = try ModelFolder.int(json, "pad_token_id", path, default: architecture == .mpnet ? 1 : 0)
        relativeAttentionBuckets = try ModelFolder.int(json, "relative_attention_num_buckets", path, default: 32)
        let eps = json["layer_norm_eps"]?.double ?? (architecture == .mpnet ? 1e-5 : 1e-12)
        layerNormEps = Float(eps)
        let act = json["hidden_act"]?.string ?? "gelu"
        guard act == "gelu" else { throw NNError.file(path, "hidden_act \"\(act)\" is not supported (gelu)") }
        if let pe = json["position_embedding_type"]?.string, pe != "absolute" {
            throw NNError.file(path, "position_embedding_type \"\(pe)\" is not supported (absolute)")
        }
        guard hiddenSize > 0, layers > 0, heads > 0, hiddenSize % heads == 0 else {
            throw NNError.file(path, "hidden_size \(hiddenSize) must be a positive multiple of num_attention_heads \(heads)")
        }
        // The vectorised kernels work in 16-float lanes.
        guard headSize % 16 == 0, intermediateSize > 0 else {
            throw NNError.file(path, "attention head size \(headSize) (hidden_size / num_attention_heads) must be a multiple of 16")
        }
        guard maxPositions > 0, vocabularySize > 0 else {
            throw NNError.file(path, "max_position_embeddings and vocab_size must be positive")
        }
    }
}
