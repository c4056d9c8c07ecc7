import EmbedJSON

/// The shape of a CLIP model, read from `config.json` as Hugging Face writes it for
/// `CLIPModel` (`model_type: "clip"`, `text_config` and `vision_config` sections). Keys a
/// section leaves out take `transformers`' defaults for `CLIPTextConfig` / `CLIPVisionConfig`
/// (which are ViT-B/32's), as `from_pretrained` does.
public struct CLIPConfig: Sendable, Equatable {
    /// One tower's transformer.
    public struct Tower: Sendable, Equatable {
        public var hiddenSize: Int
        public var layers: Int
        public var heads: Int
        public var intermediateSize: Int
        public var layerNormEps: Float
        /// The feed-forward activation (`hidden_act`: quick_gelu or gelu).
        public var activation: Activation
        /// Output size of the tower's projection.
        public var projectionSize: Int
        public var headSize: Int { hiddenSize / heads }

        /// The stack `PreNormEncoder` builds for this tower.
        var shape: TransformerShape {
            TransformerShape(hiddenSize: hiddenSize, layers: layers, heads: heads, intermediateSize: intermediateSize,
                             layerNormEps: layerNormEps, activation: activation == .gelu ? .gelu : .quickGELU)
        }
    }

    /// Feed-forward activations CLIP checkpoints use.
    public enum Activation: String, Sendable {
        /// OpenAI's `x · sigmoid(1.702 x)`.
        case quickGELU = "quick_gelu"
        /// The exact (erf) GELU (many LAION/open_clip checkpoints).
        case gelu
    }

    public var text: Tower
    public var vision: Tower
    /// Text positions (77 for every released CLIP).
    public var maxPositions: Int
    public var vocabularySize: Int
    /// `text_config.eos_token_id`. 2 is the legacy value of the first released configs:
    /// `transformers` then pools at the largest token id (the end token is the largest), else
    /// at the first `eos_token_id`.
    public var eosTokenID: Int
    /// Square input side in pixels, and the patch side.
    public var imageSize: Int
    public var patchSize: Int
    public var channels: Int
    /// The shared embedding size (`projection_dim`).
    public var projectionSize: Int

    /// Patches per image.
    public var patchCount: Int { (imageSize / patchSize) * (imageSize / patchSize) }

    /// Parses `config.json` at `path`.
    public init(json: JSONValue, path: String) throws(NNError) {
        let type = json["model_type"]?.string ?? ""
        guard type == "clip" else {
            throw NNError.file(path, type.isEmpty ? "missing \"model_type\" (a CLIP folder has \"clip\")"
                                                  : "model_type \"\(type)\" is not a CLIP model (\"clip\")")
        }
        guard let t = json["text_config"], t.members != nil else { throw NNError.file(path, "missing \"text_config\" section") }
        guard let v = json["vision_config"], v.members != nil else { throw NNError.file(path, "missing \"vision_config\" section") }
        projectionSize = try ModelFolder.int(json, "projection_dim", path, default: 512)
        text = try Self.tower(t, path: path, section: "text_config", hidden: 512, layers: 12, heads: 8,
                              intermediate: 2048, projection: projectionSize)
        vision = try Self.tower(v, path: path, section: "vision_config", hidden: 768, layers: 12, heads: 12,
                                intermediate: 3072, projection: projectionSize)
        let textPath = path + " text_config"
        maxPositions = try ModelFolder.int(t, "max_position_embeddings", textPath, default: 77)
        vocabularySize = try ModelFolder.int(t, "vocab_size", textPath, default: 49408)
        eosTokenID = try ModelFolder.int(t, "eos_token_id", textPath, default: 49407)
        let visionPath = path + " vision_config"
        imageSize = try ModelFolder.int(v, "image_size", visionPath, default: 224)
        patchSize = try ModelFolder.int(v, "patch_size", visionPath, default: 32)
        channels = try ModelFolder.int(v, "num_channels", visionPath, default: 3)
        guard maxPositions > 2, vocabularySize > 0 else {
            throw NNError.file(textPath, "max_position_embeddings \(maxPositions) and vocab_size \(vocabularySize) must be positive (and room for text)")
        }
        guard patchSize > 0, imageSize >= patchSize, imageSize % patchSize == 0 else {
            throw NNError.file(visionPath, "image_size \(imageSize) must be a positive multiple of patch_size \(patchSize)")
        }
        guard channels == 3 else { throw NNError.file(visionPath, "num_channels \(channels) is not supported (3: RGB)") }
        guard projectionSize > 0 else { throw NNError.file(path, "projection_dim must be positive") }
    }

    private static func tower(_ j: JSONValue, path: String, section: String, hidden: Int, layers: Int, heads: Int,
                              intermediate: Int, projection: Int) throws(NNError) -> Tower {
        let p = path + " " + section
        let act = j["hidden_act"]?.string ?? "quick_gelu"
        guard let activation = Activation(rawValue: act) else {
            throw NNError.file(p, "hidden_act \"\(act)\" is not supported (quick_gelu or gelu)")
        }
        let tower = Tower(hiddenSize: try ModelFolder.int(j, "hidden_size", p, default: hidden),
                          layers: try ModelFolder.int(j, "num_hidden_layers", p, default: layers),
                          heads: try ModelFolder.int(j, "num_attention_heads", p, default: heads),
                          intermediateSize: try ModelFolder.int(j, "intermediate_size", p, default: intermediate),
                          layerNormEps: Float(j["layer_norm_eps"]?.double ?? 1e-5),
                          activation: activation,
                          projectionSize: projection)
        guard tower.hiddenSize > 0, tower.layers > 0, tower.heads > 0, tower.hiddenSize % tower.heads == 0 else {
            throw NNError.file(p, "hidden_size \(tower.hiddenSize) must be a positive multiple of num_attention_heads \(tower.heads)")
        }
        // The vectorised kernels (layer norm, attention) work in 16-float lanes.
        guard tower.headSize % 16 == 0, tower.intermediateSize > 0 else {
            throw NNError.file(p, "attention head size \(tower.headSize) (hidden_size / num_attention_heads) must be a multiple of 16")
        }
        return tower
    }
}
