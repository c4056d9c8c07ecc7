import EmbedMedia
import EmbedNN

/// The image plugin's load options (`options:` of a model in embedd.yaml). Unknown keys and bad
/// values are refused with EMBEDD_ERR_OPTIONS, naming the key.
///
/// | key | values | default |
/// |---|---|---|
/// | `precision` | `auto` (bf16 where the CPU has AMX or AVX-512 BF16, else fp32), `fp32`, `bf16` (falls back to fp32 with a warning) | `auto` |
/// | `threads` | OpenMP threads for this model, 0 = all cores / `OMP_NUM_THREADS` | `0` |
/// | `max_pixels` | largest width × height decoded, checked from the file's header before any pixel is allocated | `50000000` |
/// | `max_input_bytes` | largest accepted encoded file or pixel buffer in bytes | `67108864` (64 MiB) |
/// | `max_batch` | largest batch accepted in one call | `64` |
/// | `preferred_batch` | batch size the host should aim for | `8` |
/// | `forward_batch` | most images per forward pass (bounds activation memory, ≈ 13 MB per image for ResNet-50) | `16` |
struct ImagePluginOptions {
    var embedder = ImageEmbedder.Options()
    /// `precision` was `auto` (or not given): the CPU chose it.
    var precisionIsAuto = true
    var limits = ImageLimits()
    var maxBatch = 64
    var preferredBatch = 8

    static let keys = ["precision", "threads", "max_pixels", "max_input_bytes", "max_batch", "preferred_batch", "forward_batch"]

    init(_ pairs: [(String, String)]) throws(NNError) {
        embedder.precision = .automatic
        for (key, value) in pairs {
            let option = ModelOption(key: key, value: value)
            func int(_ range: ClosedRange<Int>) throws(NNError) -> Int { try option.int(range) }
            switch key {
            case "precision": (embedder.precision, precisionIsAuto) = try option.precision()
            case "threads": embedder.threads = try int(0...1024)
            case "max_pixels": limits.maxPixels = try int(1...1 << 40)
            case "max_input_bytes": limits.maxBytes = try int(1...1 << 30)
            case "max_batch": maxBatch = try int(1...4096)
            case "preferred_batch": preferredBatch = try int(1...4096)
            case "forward_batch": embedder.maxBatch = try int(1...1024)
            default:
                throw NNError("unknown option '\(key)' (image plugin options: \(Self.keys.joined(separator: ", ")))")
            }
        }
        guard preferredBatch <= maxBatch else {
            throw NNError("option preferred_batch \(preferredBatch) is larger than max_batch \(maxBatch)")
        }
    }
}
