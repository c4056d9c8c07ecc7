import EmbedJSON

/// The shape of a Whisper model's encoder, read from `config.json` as Hugging Face writes it
/// (`model_type: "whisper"`; tiny … large-v3). Keys the file leaves out take `transformers`'
/// `WhisperConfig` defaults (which are whisper-tiny's), as `from_pretrained` does. The decoder's
/// keys are not read: only the encoder runs.
public struct WhisperConfig: Sendable, Equatable {
    /// Log-mel bins per frame (`num_mel_bins`: 80, or 128 for large-v3).
    public var melBins: Int
    /// Width of the encoder (`d_model`), also the output dimension.
    public var hiddenSize: Int
    /// `encoder_layers`.
    public var layers: Int
    /// `encoder_attention_heads`.
    public var heads: Int
    /// `encoder_ffn_dim`.
    public var intermediateSize: Int
    /// Encoder output frames per window (`max_source_positions`, 1500: 30 s at 50 frames/s).
    public var maxSourcePositions: Int
    /// The feed-forward activation (`activation_function`).
    public var activation: Activation

    /// Feed-forward activations supported (every released Whisper uses `gelu`).
    public enum Activation: String, Sendable {
        /// The exact (erf) GELU; transformers' "gelu" and "gelu_python" compute the same function.
        case gelu
        /// `x · sigmoid(1.702 x)`.
        case quickGELU = "quick_gelu"
    }

    /// Log-mel frames per input window: the two convolutions' strides (1 and 2) map
    /// `2 × maxSourcePositions` frames (3000: 30 s at hop 160, 16 kHz) to `maxSourcePositions`.
    public var inputFrames: Int { 2 * maxSourcePositions }
    /// Attention head size.
    public var headSize: Int { hiddenSize / heads }
    /// Whisper's layer norms are PyTorch's default `nn.LayerNorm` (the config has no eps key).
    public var layerNormEps: Float { 1e-5 }

    /// The stack `PreNormEncoder` builds.
    var shape: TransformerShape {
        TransformerShape(hiddenSize: hiddenSize, layers: layers, heads: heads, intermediateSize: intermediateSize,
                         layerNormEps: layerNormEps, activation: activation == .gelu ? .gelu : .quickGELU)
    }

    /// Parses `config.json` at `path`.
    public init(json: JSONValue, path: String) throws(NNError) {
        let type = json["model_type"]?.string ?? ""
        guard type == "whisper" else {
            throw NNError.file(path, type.isEmpty ? "missing \"model_type\" (a Whisper folder has \"whisper\")"
                                                  : "model_type \"\(type)\" is not a Whisper model (\"whisper\")")
        }
        melBins = try ModelFolder.int(json, "num_mel_bins", path, default: 80)
        hiddenSize = try ModelFolder.int(json, "d_model", path, default: 384)
        layers = try ModelFolder.int(json, "encoder_layers", path, default: 4)
        heads = try ModelFolder.int(json, "encoder_attention_heads", path, default: 6)
        intermediateSize = try ModelFolder.int(json, "encoder_ffn_dim", path, default: 1536)
        maxSourcePositions = try ModelFolder.int(json, "max_source_positions", path, default: 1500)
        let act = json["activation_function"]?.string ?? "gelu"
        switch act {
        case "gelu", "gelu_python": activation = .gelu
        case "quick_gelu": activation = .quickGELU
        default:
            throw NNError.file(path, "activation_function \"\(act)\" is not supported (gelu, gelu_python or quick_gelu)")
        }
        guard melBins > 0, layers > 0, intermediateSize > 0 else {
            throw NNError.file(path, "num_mel_bins \(melBins), encoder_layers \(layers) and encoder_ffn_dim \(intermediateSize) must be positive")
        }
        guard (1...1 << 16).contains(maxSourcePositions) else {
            throw NNError.file(path, "max_source_positions \(maxSourcePositions) is outside 1…65536")
        }
        guard hiddenSize > 0, heads > 0, hiddenSize % heads == 0 else {
            throw NNError.file(path, "d_model \(hiddenSize) must be a positive multiple of encoder_attention_heads \(heads)")
        }
        // The vectorised kernels (layer norm, attention) work in 16-float lanes.
        guard headSize % 16 == 0 else {
            throw NNError.file(path, "attention head size \(headSize) (d_model / encoder_attention_heads) must be a multiple of 16")
        }
    }
}
