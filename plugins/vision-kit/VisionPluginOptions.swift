import EmbedMedia
import EmbedNN

/// The load options every picture-taking plugin (image, clip) shares (`options:` of a model in
/// embedd.yaml), parsed in one place so both refuse bad values in the same words. Unknown keys
/// are refused, naming the plugin's own key list.
///
/// | key | values | default |
/// |---|---|---|
/// | `precision` | `auto` (bf16 where the CPU has AMX or AVX-512 BF16, else fp32), `fp32`, `bf16` (falls back to fp32 with a warning) | `auto` |
/// | `threads` | OpenMP threads for this model, 0 = all cores / `OMP_NUM_THREADS` | `0` |
/// | `max_pixels` | largest width × height decoded, checked from the file's header before any pixel is allocated | `50000000` |
/// | `max_input_bytes` | largest accepted input (encoded file, pixel buffer or text) in bytes | `67108864` (64 MiB) |
/// | `max_batch` | largest batch accepted in one call | `64` |
/// | `preferred_batch` | batch size the host should aim for | `8` |
/// | `forward_batch` | most images per forward pass (bounds activation memory) | `16` |
package struct VisionPluginOptions: Sendable {
    package var precision: Precision = .automatic
    /// `precision` was `auto` (or not given): the CPU chose it.
    package var precisionIsAuto = true
    package var threads = 0
    package var limits = ImageLimits()
    package var maxBatch = 64
    package var preferredBatch = 8
    package var forwardBatch = 16

    package static let keys = ["precision", "threads", "max_pixels", "max_input_bytes", "max_batch", "preferred_batch", "forward_batch"]

    /// Parses `pairs`; `plugin` names the plugin in the unknown-key error.
    package init(_ pairs: [(String, String)], plugin: String) throws(NNError) {
        for (key, value) in pairs {
            let option = ModelOption(key: key, value: value)
            func int(_ range: ClosedRange<Int>) throws(NNError) -> Int { try option.int(range) }
            switch key {
            case "precision": (precision, precisionIsAuto) = try option.precision()
            case "threads": threads = try int(0...1024)
            case "max_pixels": limits.maxPixels = try int(1...1 << 40)
            case "max_input_bytes": limits.maxBytes = try int(1...1 << 30)
            case "max_batch": maxBatch = try int(1...4096)
            case "preferred_batch": preferredBatch = try int(1...4096)
            case "forward_batch": forwardBatch = try int(1...1024)
            default:
                throw NNError("unknown option '\(key)' (\(plugin) plugin options: \(Self.keys.joined(separator: ", ")))")
            }
        }
        guard preferredBatch <= maxBatch else {
            throw NNError("option preferred_batch \(preferredBatch) is larger than max_batch \(maxBatch)")
        }
    }
}
