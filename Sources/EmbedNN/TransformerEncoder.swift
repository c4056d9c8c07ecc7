import EmbedSys

/// A BERT or MPNet encoder: embeddings, N post-norm transformer layers, on packed sequences.
///
/// `forward` takes token sequences, runs them as one packed batch (no padding: rows of all
/// sequences back to back; only attention looks at sequence boundaries) and returns the last
/// hidden state rows. Matmuls go through oneDNN (`Linear`), the rest is vectorised Swift.
public final class TransformerEncoder: @unchecked Sendable {
    // Invariant: weights are immutable; `workspace` and the Linears' caches are mutated only by
    // `forward`, which the owner calls from one thread at a time.
    public let config: EncoderConfig
    public let precision: Precision
    let context: ComputeContext
    private let wordEmbeddings: FloatStorage
    private let positionEmbeddings: FloatStorage
    private let tokenTypeEmbeddings: FloatStorage?
    private let embeddingNorm: (gamma: FloatStorage, beta: FloatStorage)
    private let layers: [EncoderLayer]
    private let attention: Attention
    private let workspace: Workspace
    private let parallel: ParallelFor
    /// Longest sequence (tokens, specials included) the position embeddings allow.
    public let maxSequenceLength: Int

    /// Thrown by `forward` when the cancellation check returns true (between layers).
    public struct Cancelled: Error {}

    /// Loads weights from `weights` according to `config`.
    public init(config c: EncoderConfig, weights: SafeTensorsFile, context: ComputeContext,
                precision: Precision) throws(NNError) {
        config = c
        self.precision = precision
        self.context = context
        let h = c.hiddenSize
        // Checkpoints saved from a task model carry the base model's prefix.
        let prefix = ["", "bert.", "mpnet.", "model."].first { weights.contains($0 + "embeddings.word_embeddings.weight") } ?? ""
        wordEmbeddings = try weights.floats(prefix + "embeddings.word_embeddings.weight", shape: [c.vocabularySize, h])
        positionEmbeddings = try weights.floats(prefix + "embeddings.position_embeddings.weight", shape: [c.maxPositions, h])
        if c.architecture == .bert && c.typeVocabularySize > 0 {
            tokenTypeEmbeddings = try weights.floats(prefix + "embeddings.token_type_embeddings.weight", shape: [c.typeVocabularySize, h])
        } else {
            tokenTypeEmbeddings = nil
        }
        embeddingNorm = (try weights.floats(prefix + "embeddings.LayerNorm.weight", shape: [h]),
                         try weights.floats(prefix + "embeddings.LayerNorm.bias", shape: [h]))
        var built: [EncoderLayer] = []
        for i in 0..<c.layers {
            built.append(try EncoderLayer(weights: weights, names: .init(c.architecture, prefix: prefix, layer: i),
                                          hidden: h, intermediate: c.intermediateSize, activation: .gelu,
                                          context: context, precision: precision))
        }
        layers = built
        switch c.architecture {
        case .bert:
            maxSequenceLength = c.maxPositions
            attention = Attention(heads: c.heads, headSize: c.headSize)
        case .mpnet:
            // Positions start after the pad id (RoBERTa style), so pad + 1 of them are unusable.
            maxSequenceLength = c.maxPositions - c.padTokenID - 1
            let table = try weights.floats(prefix + "encoder.relative_attention_bias.weight", shape: [c.relativeAttentionBuckets, c.heads])
            let span = maxSequenceLength
            let stride = Attention.biasStride(span: span)
            var bias = [Float](repeating: 0, count: c.heads * stride)
            for rel in -(span - 1)...(span - 1) {
                let bucket = Self.relativePositionBucket(rel, buckets: c.relativeAttentionBuckets, maxDistance: 128)
                for head in 0..<c.heads { bias[head * stride + rel + span + 16] = table.pointer[bucket * c.heads + head] }
            }
            attention = Attention(heads: c.heads, headSize: c.headSize,
                                  relativeBias: FloatStorage(copying: bias, shape: [c.heads, stride]), span: span)
        }
        guard maxSequenceLength > 2 else { throw NNError("config: max_position_embeddings \(c.maxPositions) is too small") }
        workspace = Workspace(hiddenSize: h, intermediateSize: c.intermediateSize)
        // One helper per extra core the model may use (its OpenMP team size).
        parallel = ParallelFor(helpers: (context.threads > 0 ? context.threads : ComputeContext.currentThreadCount) - 1)
    }

    /// MPNet's (T5-style) bucket for relative position `key − query`, computed in Float32 as
    /// PyTorch does so bucket boundaries agree with the reference exactly.
    static func relativePositionBucket(_ relative: Int, buckets: Int, maxDistance: Int) -> Int {
        let half = buckets / 2
        var n = -relative
        var ret = 0
        if n < 0 { ret += half; n = -n }
        let maxExact = half / 2
        if n < maxExact { return ret + n }
        let ratio = FloatMath.log(Float(n) / Float(maxExact)) / Float(FloatMath.log(Double(maxDistance) / Double(maxExact)))
        let large = maxExact + Int(ratio * Float(half - maxExact))
        return ret + min(large, half - 1)
    }

    /// Position id of each token of one sequence.
    private func positionIDs(_ ids: [Int32]) -> [Int] {
        switch config.architecture {
        case .bert: return Array(0..<ids.count)
        case .mpnet:
            // create_position_ids_from_input_ids: pad tokens get the pad id, others count up after it.
            var count = 0
            return ids.map { id in
                if Int(id) == config.padTokenID { return config.padTokenID }
                count += 1
                return config.padTokenID + count
            }
        }
    }

    /// Creates the matmul primitives of every exact-size bucket (1…`Linear.exactRows` rows) so
    /// that no short request pays their creation; call it on the compute thread after loading
    /// (tens of milliseconds for a 6-layer model).
    public func prepareSmallBatches() throws(NNError) {
        context.enterComputeThread()
        for layer in layers {
            for linear in [layer.qkv, layer.output, layer.feedForwardIn, layer.feedForwardOut] {
                try linear.prepare(rows: 1...Linear.exactRows)
            }
        }
    }

    /// Runs the encoder on `sequences` (token ids, specials included, each ≤ maxSequenceLength,
    /// ids < vocabulary size) and calls `body` with the last hidden state rows (packed, one row
    /// per token, sequences in order) before the buffers are reused. `cancelled` is polled
    /// between layers; when it returns true `Cancelled` is thrown.
    public func forward<R>(_ sequences: [[Int32]], cancelled: () -> Bool = { false },
                           _ body: (UnsafePointer<Float>, [(start: Int, length: Int)]) -> R) throws -> R {
        context.enterComputeThread()
        let h = config.hiddenSize
        var spans: [(start: Int, length: Int)] = []
        var total = 0
        var longest = 0
        for s in sequences {
            precondition(s.count <= maxSequenceLength, "sequence longer than the model's limit")
            spans.append((total, s.count))
            total += s.count
            longest = max(longest, s.count)
        }
        let rows = Linear.bucket(total)
        let ws = workspace
        let scratchPerShare = attention.scratchCount(maxLength: longest)
        ws.reserve(rows: rows, scratch: scratchPerShare * parallel.width)
        let work = spans.reduce(0) { $0 + $1.length * $1.length }

        // Embeddings: word + position (+ token type 0), then LayerNorm.
        let hidden = ws.hidden
        for (s, span) in zip(sequences, spans) {
            let positions = positionIDs(s)
            for (t, id) in s.enumerated() {
                let row = hidden + (span.start + t) * h
                let w = wordEmbeddings.pointer + Int(id) * h
                let p = positionEmbeddings.pointer + positions[t] * h
                if let types = tokenTypeEmbeddings {
                    for c in 0..<h { row[c] = w[c] + p[c] + types.pointer[c] }
                } else {
                    for c in 0..<h { row[c] = w[c] + p[c] }
                }
            }
        }
        (hidden + total * h).update(repeating: 0, count: (rows - total) * h)
        VectorMath.layerNorm(hidden, rows: total, width: h, gamma: embeddingNorm.gamma.pointer,
                             beta: embeddingNorm.beta.pointer, eps: config.layerNormEps)

        let bf16 = precision == .bf16
        for layer in layers {
            if cancelled() { throw Cancelled() }
            if bf16 {
                VectorMath.toBF16(hidden, ws.half, count: rows * h)
                try layer.qkv.forward(rows: total, source: ws.half, destination: ws.qkv)
            } else {
                try layer.qkv.forward(rows: total, source: hidden, destination: ws.qkv)
            }
            attention.forward(qkv: ws.qkv, context: ws.context, sequences: spans, scratch: ws.scratch,
                              perShare: scratchPerShare, work: work, parallel: parallel)
            if bf16 {
                VectorMath.toBF16(ws.context, ws.half, count: rows * h)
                try layer.output.forward(rows: total, source: ws.half, destination: hidden)
            } else {
                try layer.output.forward(rows: total, source: ws.context, destination: hidden)
            }
            VectorMath.layerNorm(hidden, rows: total, width: h, gamma: layer.attentionNorm.gamma.pointer,
                                 beta: layer.attentionNorm.beta.pointer, eps: config.layerNormEps)
            if bf16 {
                VectorMath.toBF16(hidden, ws.half, count: rows * h)
                try layer.feedForwardIn.forward(rows: total, source: ws.half, destination: ws.intermediate)
            } else {
                try layer.feedForwardIn.forward(rows: total, source: hidden, destination: ws.intermediate)
            }
            try layer.feedForwardOut.forward(rows: total, source: ws.intermediate, destination: hidden)
            VectorMath.layerNorm(hidden, rows: total, width: h, gamma: layer.outputNorm.gamma.pointer,
                                 beta: layer.outputNorm.beta.pointer, eps: config.layerNormEps)
        }
        return body(hidden, spans)
    }
}
