import EmbedSys

/// A Whisper model's encoder loaded from a Hugging Face folder (`config.json` +
/// `model.safetensors`, a `WhisperModel` or `WhisperForConditionalGeneration` save, tiny …
/// large-v3) as an audio embedder: one vector per 30-s window of log-mel features, the mean of
/// the encoder frames that cover real audio, L2-normalised.
///
/// Features arrive computed (`[melBins, inputFrames]` fp32 per window, as
/// `WhisperFeatureExtractor` makes them, padded to 30 s); decoding, resampling and the log-mel
/// front end live elsewhere.
///
/// Not thread-safe: the owner calls it from one compute thread at a time (oneDNN's OpenMP
/// threads and the attention helpers do the parallel work inside).
public final class WhisperEmbedder: @unchecked Sendable {
    // Invariant: immutable after init except the encoder's buffers (compute thread only).

    /// Load-time options (the audio plugin's option strings map onto these).
    public struct Options: Sendable {
        /// Requested precision; `effectivePrecision` says what the CPU allows.
        public var precision: Precision = .fp32
        /// OpenMP threads (0: runtime default, i.e. all cores or OMP_NUM_THREADS).
        public var threads = 0
        /// Most windows per forward pass; larger calls are split. One window is already 1500
        /// rows per matmul, so more per pass gain nothing measurable and push the activations
        /// (~25 MB per window for whisper-base in fp32, 5 × that for large) out of the L3 cache
        /// (bench/NOTES.md, Whisper encoder).
        public var maxBatch = 1
        public init() {}
    }

    /// The folder it was loaded from.
    public let folder: String
    /// The parsed `config.json`.
    public let config: WhisperConfig
    /// Output dimension (`d_model`: 512 for whisper-base).
    public var dimension: Int { config.hiddenSize }
    /// Log-mel bins per frame the model takes (80, or 128 for large-v3).
    public var melBins: Int { config.melBins }
    /// Log-mel frames per window (3000: 30 s).
    public var inputFrames: Int { config.inputFrames }
    /// Encoder frames per window (1500: 50 per second); the most `frames` may ask to pool.
    public var maxFrames: Int { config.maxSourcePositions }
    /// Floats per input window (`melBins × inputFrames`).
    public var featuresPerWindow: Int { config.melBins * config.inputFrames }
    /// The precision in use after the CPU check.
    public let effectivePrecision: Precision
    /// The options it was loaded with.
    public let options: Options

    private let encoder: WhisperEncoder

    /// Loads and validates a model folder; every problem is an `NNError` naming the file.
    public init(folder: String, options: Options = Options()) throws(NNError) {
        self.folder = folder
        self.options = options
        guard FileSystem.isDirectory(folder) else { throw NNError.file(folder, "not a directory") }
        let configPath = folder + "/config.json"
        config = try WhisperConfig(json: try ModelFolder.readJSON(configPath), path: configPath)
        let weightsPath = try ModelFolder.safetensorsPath(folder)
        guard options.maxBatch > 0 else { throw NNError("maxBatch must be positive") }
        let weights = try SafeTensorsFile(path: weightsPath)
        effectivePrecision = Precision.effective(options.precision)
        let context = try ComputeContext(threads: options.threads)
        // The attention helpers: one per extra core of the model's OpenMP team.
        let parallel = ParallelFor(helpers: (context.threads > 0 ? context.threads : ComputeContext.currentThreadCount) - 1)
        encoder = try WhisperEncoder(config: config, weights: weights, context: context, precision: effectivePrecision,
                                     parallel: parallel)
    }

    /// Compiles the forward passes for `batch` windows at a time now (clamped to `maxBatch`;
    /// milliseconds each); call it on the compute thread.
    public func prepare(batch: ClosedRange<Int>) throws(NNError) {
        let upper = max(1, min(batch.upperBound, options.maxBatch))
        try encoder.prepare(windows: min(max(1, batch.lowerBound), upper)...upper)
    }

    /// Embeds `count` windows of log-mel features (`featuresPerWindow` floats each, row-major
    /// mel then frame, exactly `WhisperFeatureExtractor`'s `input_features`), writing
    /// `dimension` floats per window into `output`: the mean of the window's first `frames[i]`
    /// encoder frames (1 ≤ frames[i] ≤ `maxFrames`; `ceil(seconds × 50)` for the audio the
    /// window holds), L2-normalised. Windows go through in passes of at most `maxBatch`; each
    /// window's vector is that of the window alone up to float rounding (its attention sees
    /// only its own frames). `cancelled` is polled between layers
    /// (`TransformerEncoder.Cancelled`).
    public func embed(features: UnsafePointer<Float>, count: Int, frames: [Int], into output: UnsafeMutablePointer<Float>,
                      cancelled: () -> Bool = { false }) throws {
        guard count >= 0, frames.count == count else {
            throw NNError("\(frames.count) frame counts for \(count) windows (one per window)")
        }
        for (i, f) in frames.enumerated() where !(1...maxFrames).contains(f) {
            throw NNError("window \(i): frame count \(f) is outside 1…\(maxFrames)")
        }
        var start = 0
        while start < count {
            let n = min(options.maxBatch, count - start)
            try encoder.pool(features: features + start * featuresPerWindow, frames: Array(frames[start..<(start + n)]),
                             into: output + start * dimension, cancelled: cancelled)
            start += n
        }
        for i in 0..<count { VectorMath.normalize(output + i * dimension, count: dimension) }
    }

    /// Convenience: one normalised vector per window of `features`.
    public func embed(features: [Float], frames: [Int]) throws -> [[Float]] {
        guard features.count == frames.count * featuresPerWindow else {
            throw NNError("\(features.count) feature values do not make \(frames.count) windows of \(melBins)×\(inputFrames)")
        }
        guard !frames.isEmpty else { return [] }
        var out = [Float](repeating: 0, count: frames.count * dimension)
        try features.withUnsafeBufferPointer { f in
            try out.withUnsafeMutableBufferPointer { o in
                try embed(features: f.baseAddress!, count: frames.count, frames: frames, into: o.baseAddress!)
            }
        }
        return (0..<frames.count).map { Array(out[($0 * dimension)..<(($0 + 1) * dimension)]) }
    }

    /// The encoder's output (`last_hidden_state`, after the final layer norm) for `count`
    /// windows: `maxFrames × dimension` floats per window. For checks against a reference and
    /// for callers that pool differently.
    public func hiddenStates(features: UnsafePointer<Float>, count: Int,
                             cancelled: () -> Bool = { false }) throws -> [Float] {
        guard count > 0 else { return [] }
        guard count <= options.maxBatch else { throw NNError("\(count) windows are more than maxBatch \(options.maxBatch)") }
        var out = [Float](repeating: 0, count: count * maxFrames * dimension)
        try out.withUnsafeMutableBufferPointer { o in
            try encoder.forward(features: features, count: count, cancelled: cancelled) { last in
                encoder.finalNormalize(last, into: o.baseAddress!, rows: count * maxFrames)
            }
        }
        return out
    }
}
