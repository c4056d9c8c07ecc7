import EmbedSys

/// A CLIP model loaded from its Hugging Face folder exactly as shipped
/// (`openai/clip-vit-base-patch32` and the rest of the family): `config.json`,
/// `model.safetensors`, and the tokenizer files. Texts and images map into one space; every
/// vector is L2-normalised, as CLIP's similarity (a cosine) uses them.
///
/// Images arrive pre-processed (NCHW fp32 at `imageSize`², as the folder's
/// `preprocessor_config.json` makes them; EmbedVision does that).
///
/// Not thread-safe: the owner calls it from one compute thread at a time (oneDNN's OpenMP
/// threads and the attention helpers do the parallel work inside).
public final class CLIPEmbedder: @unchecked Sendable {
    // Invariant: immutable after init except the towers' buffers (compute thread only).

    /// Load-time options (the clip plugin's option strings map onto these).
    public struct Options: Sendable {
        /// Requested precision; `effectivePrecision` says what the CPU allows.
        public var precision: Precision = .fp32
        /// OpenMP threads (0: runtime default, i.e. all cores or OMP_NUM_THREADS).
        public var threads = 0
        /// Most images per forward pass; larger calls are split (activations grow with it,
        /// speed does not past 16 on these CPUs).
        public var maxBatch = 16
        /// Most text sequences per forward pass.
        public var maxTextBatch = 64
        public init() {}
    }

    /// The folder it was loaded from.
    public let folder: String
    /// The parsed `config.json`.
    public let config: CLIPConfig
    /// Output dimension (`projection_dim`).
    public var dimension: Int { config.projectionSize }
    /// Input side in pixels (the vision config's `image_size`).
    public var imageSize: Int { config.imageSize }
    /// Tokens per text, specials included (`max_position_embeddings`).
    public var maxTokens: Int { config.maxPositions }
    /// `exp(logit_scale)`: CLIP's temperature for turning cosines into logits (100 for the
    /// released models, where training clamped it).
    public let logitScale: Float
    /// The precision in use after the CPU check.
    public let effectivePrecision: Precision
    /// The options it was loaded with.
    public let options: Options

    /// The tokenizer (`vocab.json` + `merges.txt`, or `tokenizer.json`).
    public let tokenizer: CLIPTokenizer

    private let text: CLIPTextTower
    private let vision: CLIPVisionTower

    /// Loads and validates a model folder; every problem is an `NNError` naming the file.
    public init(folder: String, options: Options = Options()) throws(NNError) {
        self.folder = folder
        self.options = options
        guard FileSystem.isDirectory(folder) else { throw NNError.file(folder, "not a directory") }
        let configPath = folder + "/config.json"
        config = try CLIPConfig(json: try ModelFolder.readJSON(configPath), path: configPath)
        let weightsPath = try ModelFolder.safetensorsPath(folder)
        guard options.maxBatch > 0, options.maxTextBatch > 0 else { throw NNError("maxBatch and maxTextBatch must be positive") }
        let weights = try SafeTensorsFile(path: weightsPath)
        if weights.contains("logit_scale") {
            let s = try weights.floats("logit_scale")
            guard s.count == 1, s.pointer[0].isFinite else { throw NNError.file(weightsPath, "tensor 'logit_scale' must be one finite number") }
            logitScale = FloatMath.exp(s.pointer[0])
        } else {
            logitScale = 100
        }
        effectivePrecision = Precision.effective(options.precision)
        let context = try ComputeContext(threads: options.threads)
        // One set of attention helper threads for both towers (one OpenMP team's worth of cores).
        let parallel = ParallelFor(helpers: (context.threads > 0 ? context.threads : ComputeContext.currentThreadCount) - 1)
        tokenizer = try CLIPTokenizer(folder: folder)
        if Int(tokenizer.largestTokenID) >= config.vocabularySize {
            throw NNError.file(folder, "the tokenizer's largest id \(tokenizer.largestTokenID) is outside the model's vocab_size \(config.vocabularySize) (config.json text_config)")
        }
        text = try CLIPTextTower(config: config, weights: weights, context: context, precision: effectivePrecision, parallel: parallel)
        vision = try CLIPVisionTower(config: config, weights: weights, context: context, precision: effectivePrecision, parallel: parallel)
    }

    /// Compiles the forward passes of short text batches and of image batches of `images`
    /// now (tens of milliseconds each); call it on the compute thread.
    public func prepare(images: ClosedRange<Int>) throws(NNError) {
        try vision.prepare(images: max(1, images.lowerBound)...min(images.upperBound, options.maxBatch))
        try text.prepare(rows: Array(2...Linear.exactRows))
    }

    /// Embeds `texts` as CLIP does: each is tokenised and cut to `maxTokens` (77) tokens, the
    /// end token kept last, as `tokenizer(text, truncation=True, max_length=77)`; writes
    /// `dimension` normalised floats per text into `output` and returns how many tokens each
    /// text has and how many the vector saw (the host reports or refuses cut texts).
    /// `cancelled` is polled between layers and every 16 texts while tokenising.
    public func embed(texts: [String], into output: UnsafeMutablePointer<Float>,
                      cancelled: () -> Bool = { false }) throws -> [TokenUsage] {
        var sequences: [[Int32]] = []
        var usage: [TokenUsage] = []
        sequences.reserveCapacity(texts.count)
        for (i, t) in texts.enumerated() {
            if i % 16 == 15, cancelled() { throw TransformerEncoder.Cancelled() }
            let (ids, tokens) = tokenizer.encode(t, maxLength: maxTokens)
            sequences.append(ids)
            usage.append(TokenUsage(tokens: tokens, used: ids.count))
        }
        try embed(tokenIDs: sequences, into: output, cancelled: cancelled)
        return usage
    }

    /// Convenience: one normalised vector per text.
    public func embed(texts: [String]) throws -> [[Float]] {
        guard !texts.isEmpty else { return [] }
        var out = [Float](repeating: 0, count: texts.count * dimension)
        _ = try out.withUnsafeMutableBufferPointer { try embed(texts: texts, into: $0.baseAddress!) }
        return (0..<texts.count).map { Array(out[($0 * dimension)..<(($0 + 1) * dimension)]) }
    }

    /// Embeds token sequences (specials included; each 1…`maxTokens` long, ids below the
    /// vocabulary size), writing `dimension` normalised floats per sequence into `output`.
    /// `cancelled` is polled between layers (`TransformerEncoder.Cancelled`).
    public func embed(tokenIDs sequences: [[Int32]], into output: UnsafeMutablePointer<Float>,
                      cancelled: () -> Bool = { false }) throws {
        for s in sequences {
            guard !s.isEmpty, s.count <= maxTokens else { throw NNError("a token sequence of \(s.count) ids is outside 1…\(maxTokens)") }
            guard s.allSatisfy({ $0 >= 0 && Int($0) < config.vocabularySize }) else {
                throw NNError("a token id is outside the vocabulary (0…\(config.vocabularySize - 1))")
            }
        }
        // Shortest first, so a pass's sequences are alike (attention cost is quadratic).
        let order = sequences.indices.sorted { sequences[$0].count < sequences[$1].count }
        var out = [Float](repeating: 0, count: min(order.count, options.maxTextBatch) * dimension)
        var start = 0
        while start < order.count {
            let part = Array(order[start..<min(start + options.maxTextBatch, order.count)])
            try out.withUnsafeMutableBufferPointer { o in
                try text.embed(part.map { sequences[$0] }, into: o.baseAddress!, cancelled: cancelled)
                for (k, i) in part.enumerated() { (output + i * dimension).update(from: o.baseAddress! + k * dimension, count: dimension) }
            }
            start += part.count
        }
        for i in sequences.indices { VectorMath.normalize(output + i * dimension, count: dimension) }
    }

    /// Embeds `count` pre-processed images (`3 × imageSize × imageSize` floats each, NCHW),
    /// writing `dimension` normalised floats per image into `output`, in passes of at most
    /// `maxBatch` images.
    public func embed(pixels: UnsafePointer<Float>, count: Int, into output: UnsafeMutablePointer<Float>,
                      cancelled: () -> Bool = { false }) throws {
        guard count >= 0 else { throw NNError("image count \(count) is negative") }
        let per = config.channels * imageSize * imageSize
        var start = 0
        while start < count {
            let n = min(options.maxBatch, count - start)
            try vision.embed(pixels: pixels + start * per, count: n, into: output + start * dimension, cancelled: cancelled)
            start += n
        }
        for i in 0..<count { VectorMath.normalize(output + i * dimension, count: dimension) }
    }

    /// Convenience: one normalised vector per image of `pixels` (NCHW).
    public func embed(pixels: [Float], count: Int) throws -> [[Float]] {
        let per = config.channels * imageSize * imageSize
        guard pixels.count == count * per else {
            throw NNError("\(pixels.count) pixel values do not make \(count) images of 3×\(imageSize)×\(imageSize)")
        }
        guard count > 0 else { return [] }
        var out = [Float](repeating: 0, count: count * dimension)
        try pixels.withUnsafeBufferPointer { p in
            try out.withUnsafeMutableBufferPointer { try embed(pixels: p.baseAddress!, count: count, into: $0.baseAddress!) }
        }
        return (0..<count).map { Array(out[($0 * dimension)..<(($0 + 1) * dimension)]) }
    }

    /// Convenience: one normalised vector per token sequence.
    public func embed(tokenIDs: [[Int32]]) throws -> [[Float]] {
        guard !tokenIDs.isEmpty else { return [] }
        var out = [Float](repeating: 0, count: tokenIDs.count * dimension)
        try out.withUnsafeMutableBufferPointer { try embed(tokenIDs: tokenIDs, into: $0.baseAddress!) }
        return (0..<tokenIDs.count).map { Array(out[($0 * dimension)..<(($0 + 1) * dimension)]) }
    }
}
