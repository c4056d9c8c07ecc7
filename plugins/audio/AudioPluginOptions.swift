import EmbedNN

/// The audio plugin's load options (`options:` of a model in embedd.yaml). Unknown keys are
/// refused, naming the list.
///
/// | key | values | default |
/// |---|---|---|
/// | `precision` | `auto` (bf16 where the CPU has AMX or AVX-512 BF16, else fp32), `fp32`, `bf16` | `auto` |
/// | `threads` | OpenMP threads for this model, 0 = all cores / `OMP_NUM_THREADS` | `0` |
/// | `max_seconds` | longest recording accepted, checked from the container's header where it has a duration, else while decoding | `14400` (4 h) |
/// | `max_input_bytes` | largest accepted input (encoded file or PCM buffer) in bytes | `536870912` (512 MiB) |
/// | `window_overlap` | seconds by which consecutive 30-s windows of a long recording overlap (0 ≤ overlap ≤ 25) | `0` |
/// | `max_batch` | largest batch of inputs accepted in one call | `32` |
/// | `preferred_batch` | batch size the host should aim for | `4` |
/// | `forward_batch` | most 30-s windows per encoder pass: one window is already 1500 rows per matmul, and 1–2 per pass measured at least as fast as 8 (larger passes push activations out of L3; bench/NOTES.md, issue 21) | `2` |
struct AudioPluginOptions: Sendable {
    var precision: Precision = .automatic
    var precisionIsAuto = true
    var threads = 0
    var maxSeconds: Double = 14_400
    var maxInputBytes = 512 << 20
    var windowOverlap: Double = 0
    var maxBatch = 32
    var preferredBatch = 4
    var forwardBatch = 2

    static let keys = ["precision", "threads", "max_seconds", "max_input_bytes", "window_overlap", "max_batch",
                       "preferred_batch", "forward_batch"]

    init(_ pairs: [(String, String)]) throws(NNError) {
        for (key, value) in pairs {
            let option = ModelOption(key: key, value: value)
            func int(_ range: ClosedRange<Int>) throws(NNError) -> Int { try option.int(range) }
            func seconds(_ range: ClosedRange<Double>) throws(NNError) -> Double {
                guard let v = Double(value), v.isFinite, range.contains(v) else {
                    throw NNError("option \(key): '\(value)' is not a number of seconds in \(range.lowerBound)...\(range.upperBound)")
                }
                return v
            }
            switch key {
            case "precision": (precision, precisionIsAuto) = try option.precision()
            case "threads": threads = try int(0...1024)
            case "max_seconds": maxSeconds = try seconds(1...1_000_000)
            case "max_input_bytes": maxInputBytes = try int(1...1 << 34)
            case "window_overlap": windowOverlap = try seconds(0...25)
            case "max_batch": maxBatch = try int(1...4096)
            case "preferred_batch": preferredBatch = try int(1...4096)
            case "forward_batch": forwardBatch = try int(1...256)
            default:
                throw NNError("unknown option '\(key)' (audio plugin options: \(Self.keys.joined(separator: ", ")))")
            }
        }
        guard preferredBatch <= maxBatch else {
            throw NNError("option preferred_batch \(preferredBatch) is larger than max_batch \(maxBatch)")
        }
    }
}
