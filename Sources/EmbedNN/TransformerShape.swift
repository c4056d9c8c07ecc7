/// The shape of one pre-norm transformer stack as `PreNormEncoder` builds it. CLIP's towers
/// (`CLIPConfig.Tower`) and Whisper's encoder (`WhisperConfig`) each describe theirs with it, so
/// the stack does not depend on either model's configuration type.
struct TransformerShape: Sendable, Equatable {
    var hiddenSize: Int
    var layers: Int
    var heads: Int
    var intermediateSize: Int
    var layerNormEps: Float
    /// The feed-forward activation, fused into the first feed-forward matmul.
    var activation: Linear.Epilogue
    var headSize: Int { hiddenSize / heads }
}
