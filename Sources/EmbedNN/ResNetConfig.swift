import EmbedJSON

/// The shape of a ResNet (Hugging Face `ResNetConfig`), read from the model folder's `config.json`.
///
/// Missing keys take `transformers`' defaults (a ResNet-50), as `ResNetConfig.from_pretrained`
/// does, so a folder written by any version of `transformers` loads.
public struct ResNetConfig: Sendable, Equatable {
    /// Residual block kind.
    public enum LayerType: String, Sendable {
        /// Two 3×3 convolutions (ResNet-18/34).
        case basic
        /// 1×1 reduce, 3×3, 1×1 expand by 4 (ResNet-50/101/152).
        case bottleneck
    }

    /// Input channels (3 for RGB).
    public var channels: Int
    /// Channels after the 7×7 stem convolution.
    public var embeddingSize: Int
    /// Output channels of each stage; the last is the embedding dimension.
    public var hiddenSizes: [Int]
    /// Residual blocks per stage.
    public var depths: [Int]
    public var layerType: LayerType
    /// Whether the first stage's first block has stride 2 (false in every released ResNet).
    public var downsampleInFirstStage: Bool
    /// Whether a bottleneck's stride sits in its first 1×1 convolution (the original paper,
    /// "ResNet v1") rather than in its 3×3 one (torchvision's "v1.5", the default).
    public var downsampleInBottleneck: Bool
    /// `nn.BatchNorm2d`'s default; `ResNetConvLayer` and `ResNetShortCut` do not change it.
    public var batchNormEps: Float = 1e-5

    /// The bottleneck's channel reduction (fixed in `ResNetBottleNeckLayer`).
    public static let bottleneckReduction = 4

    /// The pooled output's dimension.
    public var dimension: Int { hiddenSizes.last ?? 0 }

    /// Parses `config.json` at `path`.
    public init(json: JSONValue, path: String) throws(NNError) {
        guard json.members != nil else { throw NNError.file(path, "must be a JSON object") }
        if let type = json["model_type"], type.string != "resnet" {
            throw NNError.file(path, "model_type \(type.string.map { "\"\($0)\"" } ?? type.typeName) is not supported (resnet)")
        }
        channels = try ModelFolder.int(json, "num_channels", path, default: 3)
        embeddingSize = try ModelFolder.int(json, "embedding_size", path, default: 64)
        hiddenSizes = try Self.ints(json, "hidden_sizes", path, default: [256, 512, 1024, 2048])
        depths = try Self.ints(json, "depths", path, default: [3, 4, 6, 3])
        let layer = try Self.string(json, "layer_type", path, default: "bottleneck")
        guard let t = LayerType(rawValue: layer) else {
            throw NNError.file(path, "layer_type \"\(layer)\" is not supported (basic or bottleneck)")
        }
        layerType = t
        let act = try Self.string(json, "hidden_act", path, default: "relu")
        guard act == "relu" else { throw NNError.file(path, "hidden_act \"\(act)\" is not supported (relu)") }
        downsampleInFirstStage = try Self.bool(json, "downsample_in_first_stage", path, default: false)
        downsampleInBottleneck = try Self.bool(json, "downsample_in_bottleneck", path, default: false)

        guard channels > 0, embeddingSize > 0 else {
            throw NNError.file(path, "num_channels and embedding_size must be positive")
        }
        guard !depths.isEmpty, depths.count == hiddenSizes.count else {
            throw NNError.file(path, "depths (\(depths.count) stages) and hidden_sizes (\(hiddenSizes.count)) must be non-empty and of equal length")
        }
        guard depths.allSatisfy({ $0 > 0 }), hiddenSizes.allSatisfy({ $0 > 0 }) else {
            throw NNError.file(path, "depths and hidden_sizes must be positive")
        }
        if layerType == .bottleneck, let bad = hiddenSizes.first(where: { $0 % Self.bottleneckReduction != 0 }) {
            throw NNError.file(path, "hidden_sizes entry \(bad) is not a multiple of the bottleneck reduction \(Self.bottleneckReduction)")
        }
        // Bounds that keep every buffer size far from overflow (ResNet-152 has 2048 channels).
        guard channels <= 64, embeddingSize <= 65_536, hiddenSizes.allSatisfy({ $0 <= 65_536 }), depths.allSatisfy({ $0 <= 1_000 }) else {
            throw NNError.file(path, "channel counts or depths are implausibly large")
        }
    }

    private static func ints(_ json: JSONValue, _ key: String, _ path: String, default value: [Int]) throws(NNError) -> [Int] {
        guard let v = json[key] else { return value }
        guard let list = v.array else { throw NNError.file(path, "\"\(key)\" must be a list of integers") }
        var out: [Int] = []
        for item in list {
            guard let i = item.int else { throw NNError.file(path, "\"\(key)\" must be a list of integers") }
            out.append(i)
        }
        return out
    }

    private static func string(_ json: JSONValue, _ key: String, _ path: String, default value: String) throws(NNError) -> String {
        guard let v = json[key] else { return value }
        guard let s = v.string else { throw NNError.file(path, "\"\(key)\" must be a string") }
        return s
    }

    private static func bool(_ json: JSONValue, _ key: String, _ path: String, default value: Bool) throws(NNError) -> Bool {
        guard let v = json[key], !v.isNull else { return value }
        guard let b = v.bool else { throw NNError.file(path, "\"\(key)\" must be true or false") }
        return b
    }
}
