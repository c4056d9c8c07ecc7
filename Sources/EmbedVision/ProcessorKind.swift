/// The `transformers` image processor classes whose Pillow-backend rules EmbedVision reproduces.
public enum ProcessorKind: String, Sendable, CaseIterable {
    /// `ConvNextImageProcessor` (ResNet, RegNet, ConvNeXt): resize the shortest edge to
    /// `shortest_edge / crop_pct` and centre-crop `shortest_edge`², or warp to a square from 384 up.
    case convNext = "ConvNextImageProcessor"
    /// `CLIPImageProcessor`: resize the shortest edge, centre-crop `crop_size`.
    case clip = "CLIPImageProcessor"

    /// The kind a `image_processor_type` / `feature_extractor_type` value names: the class, its
    /// `…Pil` and `…Fast` variants and the legacy `…FeatureExtractor` name (all the same rules here:
    /// embedd always follows the Pillow backend).
    init?(typeName: String) {
        for kind in ProcessorKind.allCases {
            let stem = kind == .convNext ? "ConvNext" : "CLIP"
            if [kind.rawValue, kind.rawValue + "Pil", kind.rawValue + "Fast", stem + "FeatureExtractor"].contains(typeName) {
                self = kind
                return
            }
        }
        return nil
    }

    /// The kind `AutoImageProcessor` picks for a `config.json` `model_type` when the
    /// pre-processing file names no class.
    public init?(modelType: String) {
        switch modelType {
        case "resnet", "regnet", "convnext", "convnextv2": self = .convNext
        case "clip", "clip_vision_model": self = .clip
        default: return nil
        }
    }
}
