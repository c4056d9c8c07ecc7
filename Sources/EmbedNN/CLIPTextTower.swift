/// CLIP's text tower as `transformers`' `CLIPTextModel` + `text_projection` run it: token and
/// position embeddings, a causal pre-norm encoder, the final layer norm, the hidden state at
/// the end-of-text token, and the projection (no bias) into the shared space.
///
/// Not thread-safe: the owner calls it from one compute thread at a time.
final class CLIPTextTower: @unchecked Sendable {
    // Invariant: weights immutable; buffers and primitive caches touched only by `embed`.
    let config: CLIPConfig
    private let tokenEmbedding: FloatStorage
    private let positionEmbedding: FloatStorage
    private let encoder: PreNormEncoder
    private let finalNorm: (gamma: FloatStorage, beta: FloatStorage)
    private let projection: Linear
    private var pooled: [Float] = []

    init(config c: CLIPConfig, weights: SafeTensorsFile, context: ComputeContext, precision: Precision,
         parallel: ParallelFor) throws(NNError) {
        config = c
        let h = c.text.hiddenSize
        tokenEmbedding = try weights.floats("text_model.embeddings.token_embedding.weight", shape: [c.vocabularySize, h])
        positionEmbedding = try weights.floats("text_model.embeddings.position_embedding.weight", shape: [c.maxPositions, h])
        encoder = try PreNormEncoder(weights: weights, shape: c.text.shape, causal: true,
                                     layerNames: { .init(clipPrefix: "text_model.", layer: $0) },
                                     context: context, precision: precision, parallel: parallel)
        finalNorm = (try weights.floats("text_model.final_layer_norm.weight", shape: [h]),
                     try weights.floats("text_model.final_layer_norm.bias", shape: [h]))
        projection = try CLIPProjection.load(weights, "text_projection.weight", out: c.projectionSize, inp: h, context: context)
    }

    /// Compiles the encoder's matmuls for `rows` token rows (call on the compute thread).
    func prepare(rows: [Int]) throws(NNError) {
        try encoder.prepare(rows: rows)
        try projection.prepare(rows: 1...4)
    }

    /// The row `transformers` pools for one sequence: with the legacy `eos_token_id` 2 the
    /// first position of the largest id (the end token is the largest in CLIP's vocabulary),
    /// otherwise the first `eos_token_id` (position 0 when there is none, as argmax gives).
    static func poolingIndex(_ ids: [Int32], eosTokenID: Int) -> Int {
        if eosTokenID == 2 {
            var best = 0
            for (i, id) in ids.enumerated() where id > ids[best] { best = i }
            return best
        }
        return ids.firstIndex(of: Int32(eosTokenID)) ?? 0
    }

    /// Embeds token sequences (specials included, each ≤ `maxPositions`, ids < vocabulary),
    /// writing `projectionSize` floats per sequence (projected, not normalised) into `output`.
    func embed(_ sequences: [[Int32]], into output: UnsafeMutablePointer<Float>, cancelled: () -> Bool) throws {
        guard !sequences.isEmpty else { return }
        let h = config.text.hiddenSize
        var spans: [(start: Int, length: Int)] = []
        var total = 0
        for s in sequences {
            precondition(!s.isEmpty && s.count <= config.maxPositions, "token sequence length outside 1…max_position_embeddings")
            spans.append((total, s.count))
            total += s.count
        }
        let n = sequences.count
        let rows = Linear.bucket(n)
        if pooled.count < rows * h { pooled = [Float](repeating: 0, count: rows * h) }
        let (tokens, positions, vocabulary) = (tokenEmbedding.pointer, positionEmbedding.pointer, config.vocabularySize)
        let eos = config.eosTokenID
        try pooled.withUnsafeMutableBufferPointer { pool in
            let pool = pool.baseAddress!
            try encoder.forward(spans: spans, cancelled: cancelled, embed: { hidden in
                for (s, span) in zip(sequences, spans) {
                    for (t, id) in s.enumerated() {
                        precondition(id >= 0 && Int(id) < vocabulary, "token id outside the vocabulary")
                        let row = hidden + (span.start + t) * h
                        let w = tokens + Int(id) * h
                        let p = positions + t * h
                        for c in 0..<h { row[c] = w[c] + p[c] }
                    }
                }
            }) { last in
                // Only the pooled rows need the final layer norm (it works row by row).
                for (k, (s, span)) in zip(sequences, spans).enumerated() {
                    let row = span.start + Self.poolingIndex(s, eosTokenID: eos)
                    (pool + k * h).update(from: last + row * h, count: h)
                }
            }
            VectorMath.layerNorm(pool, rows: n, width: h, gamma: finalNorm.gamma.pointer,
                                 beta: finalNorm.beta.pointer, eps: config.text.layerNormEps)
            try CLIPProjection.run(projection, rows: n, source: pool, into: output)
        }
    }
}

/// The towers' projections into the shared space: bias-free `[projection_dim, hidden]`
/// matrices, run as fp32 `Linear`s with a zero bias (a few rows per call; bf16 would buy
/// nothing there).
enum CLIPProjection {
    static func load(_ weights: SafeTensorsFile, _ name: String, out: Int, inp: Int,
                     context: ComputeContext) throws(NNError) -> Linear {
        let w = try weights.floats(name, shape: [out, inp])
        let zero = [Float](repeating: 0, count: out)
        return try zero.withUnsafeBufferPointer { b throws(NNError) in
            try Linear(context: context, weight: w.pointer, bias: b.baseAddress!, outFeatures: out, inFeatures: inp,
                       precision: .fp32, epilogue: .none)
        }
    }

    /// `source` holds `Linear.bucket(rows)` rows; writes exactly `rows` rows to `output`.
    static func run(_ projection: Linear, rows: Int, source: UnsafePointer<Float>,
                    into output: UnsafeMutablePointer<Float>) throws(NNError) {
        let padded = Linear.bucket(rows)
        if padded == rows {
            try projection.forward(rows: rows, source: source, destination: output)
            return
        }
        var tmp = [Float](repeating: 0, count: padded * projection.outFeatures)
        try tmp.withUnsafeMutableBufferPointer { t throws(NNError) in
            try projection.forward(rows: rows, source: source, destination: t.baseAddress!)
            output.update(from: t.baseAddress!, count: rows * projection.outFeatures)
        }
    }
}
