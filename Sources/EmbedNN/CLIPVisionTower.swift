/// CLIP's vision tower as `transformers`' `CLIPVisionModel` + `visual_projection` run it:
/// the patch convolution, the class token, position embeddings, `pre_layrnorm`, the pre-norm
/// encoder, `post_layernorm` on the class token, and the projection (no bias).
///
/// The patch convolution has stride = kernel = patch size and no bias, so it is exactly a
/// matmul of the image's non-overlapping patches (each flattened channel, row, column, as the
/// kernel is stored) by the `[hidden, 3·p·p]` kernel: one `Linear` over all patches of the
/// batch, which oneDNN runs far better than a convolution of that shape.
///
/// Not thread-safe: the owner calls it from one compute thread at a time.
final class CLIPVisionTower: @unchecked Sendable {
    // Invariant: weights immutable; buffers and primitive caches touched only by `embed`.
    let config: CLIPConfig
    private let patchEmbedding: Linear
    private let classEmbedding: FloatStorage
    private let positionEmbedding: FloatStorage
    private let preNorm: (gamma: FloatStorage, beta: FloatStorage)
    private let encoder: PreNormEncoder
    private let postNorm: (gamma: FloatStorage, beta: FloatStorage)
    private let projection: Linear
    private let precision: Precision
    /// Patch rows `[bucket(n·P), 3·p·p]` (fp32, and bf16 in bf16 mode) and the patch matmul's output.
    private var patches: [Float] = []
    private var patchesHalf: [UInt16] = []
    private var patchOut: [Float] = []
    private var pooled: [Float] = []

    init(config c: CLIPConfig, weights: SafeTensorsFile, context: ComputeContext, precision: Precision,
         parallel: ParallelFor) throws(NNError) {
        config = c
        self.precision = precision
        let h = c.vision.hiddenSize
        let p = c.patchSize
        let k = c.channels * p * p
        let kernel = try weights.floats("vision_model.embeddings.patch_embedding.weight", shape: [h, c.channels, p, p])
        let zero = [Float](repeating: 0, count: h)
        patchEmbedding = try zero.withUnsafeBufferPointer { b throws(NNError) in
            try Linear(context: context, weight: kernel.pointer, bias: b.baseAddress!, outFeatures: h, inFeatures: k,
                       precision: precision, epilogue: .none, exactRowCounts: true)
        }
        classEmbedding = try weights.floats("vision_model.embeddings.class_embedding", shape: [h])
        positionEmbedding = try weights.floats("vision_model.embeddings.position_embedding.weight", shape: [c.patchCount + 1, h])
        // "pre_layrnorm" is transformers' spelling.
        preNorm = (try weights.floats("vision_model.pre_layrnorm.weight", shape: [h]),
                   try weights.floats("vision_model.pre_layrnorm.bias", shape: [h]))
        // A batch of n images is always n × (patches + 1) rows: exact primitives, no padding rows
        // (one image's 50 rows would otherwise run as 64).
        encoder = try PreNormEncoder(weights: weights, shape: c.vision.shape, causal: false,
                                     layerNames: { .init(clipPrefix: "vision_model.", layer: $0) },
                                     context: context, precision: precision, parallel: parallel, exactRowCounts: true)
        postNorm = (try weights.floats("vision_model.post_layernorm.weight", shape: [h]),
                    try weights.floats("vision_model.post_layernorm.bias", shape: [h]))
        projection = try CLIPProjection.load(weights, "visual_projection.weight", out: c.projectionSize, inp: h, context: context)
    }

    /// Tokens per image: the patches and the class token.
    var tokensPerImage: Int { config.patchCount + 1 }

    /// Compiles the matmuls for batches of `images` pictures (call on the compute thread).
    func prepare(images: ClosedRange<Int>) throws(NNError) {
        try encoder.prepare(rows: images.map { $0 * tokensPerImage })
        for n in images { try patchEmbedding.prepare(rows: (n * config.patchCount)...(n * config.patchCount)) }
        try projection.prepare(rows: images)
    }

    /// Embeds `count` images of `3 × imageSize × imageSize` floats each (plain NCHW, already
    /// resized, cropped and normalised by the processor), writing `projectionSize` floats per
    /// image (projected, not normalised) into `output`.
    func embed(pixels: UnsafePointer<Float>, count n: Int, into output: UnsafeMutablePointer<Float>,
               cancelled: () -> Bool) throws {
        guard n > 0 else { return }
        let c = config
        let h = c.vision.hiddenSize
        let (p, side, grid, per) = (c.patchSize, c.imageSize, c.imageSize / c.patchSize, c.patchCount)
        let k = c.channels * p * p
        let patchRows = n * per
        let padded = Linear.bucket(patchRows)
        if patches.count < padded * k { patches = [Float](repeating: 0, count: padded * k) }
        if patchOut.count < padded * h { patchOut = [Float](repeating: 0, count: padded * h) }
        let rows = Linear.bucket(n)
        if pooled.count < rows * h { pooled = [Float](repeating: 0, count: rows * h) }

        // Im2col of non-overlapping patches: row (image, patch), column (channel, y, x).
        patches.withUnsafeMutableBufferPointer { dst in
            let dst = dst.baseAddress!
            for image in 0..<n {
                for channel in 0..<c.channels {
                    let plane = pixels + (image * c.channels + channel) * side * side
                    for py in 0..<grid {
                        for y in 0..<p {
                            let line = plane + (py * p + y) * side
                            for px in 0..<grid {
                                let row = dst + (image * per + py * grid + px) * k + (channel * p + y) * p
                                row.update(from: line + px * p, count: p)
                            }
                        }
                    }
                }
            }
        }
        if precision == .bf16 {
            if patchesHalf.count < padded * k { patchesHalf = [UInt16](repeating: 0, count: padded * k) }
            patches.withUnsafeBufferPointer { s in
                patchesHalf.withUnsafeMutableBufferPointer { d in
                    VectorMath.toBF16(s.baseAddress!, d.baseAddress!, count: padded * k)
                }
            }
            try patchesHalf.withUnsafeBufferPointer { s in
                try patchOut.withUnsafeMutableBufferPointer { d in
                    try patchEmbedding.forward(rows: patchRows, source: s.baseAddress!, destination: d.baseAddress!)
                }
            }
        } else {
            try patches.withUnsafeBufferPointer { s in
                try patchOut.withUnsafeMutableBufferPointer { d in
                    try patchEmbedding.forward(rows: patchRows, source: s.baseAddress!, destination: d.baseAddress!)
                }
            }
        }

        let tokens = tokensPerImage
        let spans = (0..<n).map { (start: $0 * tokens, length: tokens) }
        let (cls, positions) = (classEmbedding.pointer, positionEmbedding.pointer)
        let (gamma, beta, eps) = (preNorm.gamma.pointer, preNorm.beta.pointer, c.vision.layerNormEps)
        try patchOut.withUnsafeBufferPointer { patchOut in
            let patchOut = patchOut.baseAddress!
            try pooled.withUnsafeMutableBufferPointer { pool in
                let pool = pool.baseAddress!
                try encoder.forward(spans: spans, cancelled: cancelled, embed: { hidden in
                    for image in 0..<n {
                        let first = hidden + image * tokens * h
                        for ch in 0..<h { first[ch] = cls[ch] + positions[ch] }
                        for t in 1..<tokens {
                            let row = first + t * h
                            let patch = patchOut + (image * per + t - 1) * h
                            let position = positions + t * h
                            for ch in 0..<h { row[ch] = patch[ch] + position[ch] }
                        }
                    }
                    VectorMath.layerNorm(hidden, rows: n * tokens, width: h, gamma: gamma, beta: beta, eps: eps)
                }) { last in
                    for image in 0..<n { (pool + image * h).update(from: last + image * tokens * h, count: h) }
                }
                VectorMath.layerNorm(pool, rows: n, width: h, gamma: postNorm.gamma.pointer, beta: postNorm.beta.pointer, eps: eps)
                try CLIPProjection.run(projection, rows: n, source: pool, into: output)
            }
        }
    }
}
