/// Whisper's audio encoder as `transformers`' `WhisperEncoder` runs it: two 1-D convolutions
/// with GELU (k = 3, padding 1; the second of stride 2), the stored position embeddings, the
/// pre-norm transformer stack, and the final layer norm — `[n_mels, 3000]` log-mel features in,
/// `[1500, d_model]` frames out per 30-s window.
///
/// Each convolution runs as one `Linear` (GELU fused) over im2col rows. The kernels are
/// reordered at load from PyTorch's `[out, in, 3]` to `[out, 3, in]`, so a column row is three
/// consecutive input frames side by side: for the second convolution, whose input is the
/// first's output (one frame per row), a row is a single contiguous copy of three rows.
///
/// Not thread-safe: the owner calls it from one compute thread at a time.
final class WhisperEncoder: @unchecked Sendable {
    // Invariant: weights immutable; the buffers and the Linears' primitive caches are touched
    // only by `forward`, on the compute thread.
    let config: WhisperConfig
    let precision: Precision
    private let conv1: Linear
    private let conv2: Linear
    private let positions: FloatStorage
    private let encoder: PreNormEncoder
    private let finalNorm: (gamma: FloatStorage, beta: FloatStorage)
    /// The first convolution's im2col rows in fp32; in bf16 mode also their bf16 copy.
    private let columns = ScratchBuffer()
    private let columnsHalf = ScratchBuffer()
    /// The first convolution's output (precision's element type) with a zero frame before and
    /// after it: the second convolution's padding.
    private let between = ScratchBuffer()
    /// The second convolution's im2col rows (precision's element type).
    private let columns2 = ScratchBuffer()

    /// Tensor name prefixes of the encoder: a `WhisperModel` save, then a
    /// `WhisperForConditionalGeneration` one.
    static let prefixes = ["encoder.", "model.encoder."]

    init(config c: WhisperConfig, weights: SafeTensorsFile, context: ComputeContext, precision: Precision,
         parallel: ParallelFor) throws(NNError) {
        config = c
        self.precision = precision
        guard let prefix = Self.prefixes.first(where: { weights.contains($0 + "conv1.weight") }) else {
            throw NNError.file(weights.path, "missing tensor 'encoder.conv1.weight' (or 'model.encoder.conv1.weight'): not a Whisper model save")
        }
        let d = c.hiddenSize
        conv1 = try Self.convolution(weights, prefix + "conv1", out: d, in: c.melBins, context: context,
                                     precision: precision, destination: precision)
        conv2 = try Self.convolution(weights, prefix + "conv2", out: d, in: d, context: context,
                                     precision: precision, destination: .fp32)
        positions = try weights.floats(prefix + "embed_positions.weight", shape: [c.maxSourcePositions, d])
        // A batch of n windows is always n × 1500 rows: exact primitives, no padding rows.
        encoder = try PreNormEncoder(weights: weights, shape: c.shape, causal: false,
                                     layerNames: { .init(whisperPrefix: prefix, layer: $0) },
                                     context: context, precision: precision, parallel: parallel, exactRowCounts: true)
        finalNorm = (try weights.floats(prefix + "layer_norm.weight", shape: [d]),
                     try weights.floats(prefix + "layer_norm.bias", shape: [d]))
    }

    /// A k = 3 `Conv1d` (`name.weight` `[out, in, 3]`, `name.bias` `[out]`) as a `Linear` over
    /// im2col rows laid out tap by tap (`[out, 3, in]`), GELU fused.
    private static func convolution(_ weights: SafeTensorsFile, _ name: String, out: Int, in inp: Int,
                                    context: ComputeContext, precision: Precision,
                                    destination: Precision) throws(NNError) -> Linear {
        let w = try weights.floats(name + ".weight", shape: [out, inp, 3])
        let b = try weights.floats(name + ".bias", shape: [out])
        let k = 3 * inp
        let reordered = UnsafeMutableBufferPointer<Float>.allocate(capacity: out * k)
        defer { reordered.deallocate() }
        for o in 0..<out {
            let src = w.pointer + o * k
            let dst = reordered.baseAddress! + o * k
            for i in 0..<inp {
                for tap in 0..<3 { dst[tap * inp + i] = src[i * 3 + tap] }
            }
        }
        return try Linear(context: context, weight: reordered.baseAddress!, bias: b.pointer, outFeatures: out,
                          inFeatures: k, precision: precision, epilogue: .gelu, destination: destination,
                          exactRowCounts: true)
    }

    /// Input floats per window (`melBins × inputFrames`).
    var featuresPerWindow: Int { config.melBins * config.inputFrames }

    /// Creates the matmul primitives for passes of `windows` windows now (call on the compute thread).
    func prepare(windows: ClosedRange<Int>) throws(NNError) {
        try encoder.prepare(rows: windows.map { $0 * config.maxSourcePositions })
        try conv1.prepare(rows: config.inputFrames...config.inputFrames)
        try conv2.prepare(rows: config.maxSourcePositions...config.maxSourcePositions)
    }

    /// Runs the encoder on `count` windows of `melBins × inputFrames` floats each (row-major
    /// mel, frame: `WhisperFeatureExtractor`'s `input_features`). `body` reads the last hidden
    /// state before the final layer norm (`finalNormalize` applies it), window w in rows
    /// `w·P ..< (w+1)·P` of `d_model` floats, P = `maxSourcePositions`. `cancelled` is polled
    /// between layers (`TransformerEncoder.Cancelled`).
    func forward<R>(features: UnsafePointer<Float>, count n: Int, cancelled: () -> Bool,
                    _ body: (UnsafePointer<Float>) -> R) throws -> R {
        let p = config.maxSourcePositions
        let spans = (0..<n).map { (start: $0 * p, length: p) }
        return try encoder.forward(spans: spans, cancelled: cancelled, embed: { hidden in
            for w in 0..<n {
                if cancelled() { throw TransformerEncoder.Cancelled() }
                try embed(features + w * featuresPerWindow, into: hidden + w * p * config.hiddenSize)
            }
        }, body)
    }

    /// One window's input rows: GELU(conv2(GELU(conv1(x)))) + positions, `P × d_model` floats.
    private func embed(_ x: UnsafePointer<Float>, into hidden: UnsafeMutablePointer<Float>) throws(NNError) {
        let (m, t, p, d) = (config.melBins, config.inputFrames, config.maxSourcePositions, config.hiddenSize)
        let element = precision == .bf16 ? 2 : 4

        // conv1's im2col: row τ, column tap·M + mel = x[mel][τ − 1 + tap] (0 outside the window).
        let k1 = 3 * m
        let cols = columns.reserve(t * k1 * 4).bindMemory(to: Float.self, capacity: t * k1)
        for mel in 0..<m {
            let line = x + mel * t
            cols[mel] = 0
            cols[(t - 1) * k1 + 2 * m + mel] = 0
            for tau in 0..<t {
                let row = cols + tau * k1 + mel
                if tau > 0 { row[0] = line[tau - 1] }
                row[m] = line[tau]
                if tau + 1 < t { row[2 * m] = line[tau + 1] }
            }
        }
        var source = UnsafeRawPointer(cols)
        if precision == .bf16 {
            let half = columnsHalf.reserve(t * k1 * 2).bindMemory(to: UInt16.self, capacity: t * k1)
            VectorMath.toBF16(cols, half, count: t * k1)
            source = UnsafeRawPointer(half)
        }
        let rowBytes = d * element
        let mid = between.reserve((t + 2) * rowBytes)
        mid.initializeMemory(as: UInt8.self, repeating: 0, count: rowBytes)
        (mid + (t + 1) * rowBytes).initializeMemory(as: UInt8.self, repeating: 0, count: rowBytes)
        try conv1.forward(rows: t, source: source, destination: mid + rowBytes)

        // conv2's im2col (stride 2): row τ′ is padded frames 2τ′ … 2τ′ + 2, contiguous in `mid`.
        let cols2 = columns2.reserve(p * 3 * rowBytes)
        for tau in 0..<p {
            (cols2 + tau * 3 * rowBytes).copyMemory(from: mid + 2 * tau * rowBytes, byteCount: 3 * rowBytes)
        }
        try conv2.forward(rows: p, source: cols2, destination: hidden)
        let pos = positions.pointer
        var i = 0
        while i < p * d {
            VectorMath.store(VectorMath.load(hidden + i) + VectorMath.load(pos + i), hidden + i)
            i += 16
        }
    }

    /// The final layer norm of `rows` rows of `source` into `destination`.
    func finalNormalize(_ source: UnsafePointer<Float>, into destination: UnsafeMutablePointer<Float>, rows: Int) {
        VectorMath.layerNorm(source, into: destination, rows: rows, width: config.hiddenSize,
                             gamma: finalNorm.gamma.pointer, beta: finalNorm.beta.pointer, eps: config.layerNormEps)
    }

    /// Per window, the mean of its first `frames[w]` output frames (after the final layer norm;
    /// 1 ≤ frames[w] ≤ P), `d_model` floats per window into `output` (not normalised).
    func pool(features: UnsafePointer<Float>, frames: [Int], into output: UnsafeMutablePointer<Float>,
              cancelled: () -> Bool) throws {
        let (p, d) = (config.maxSourcePositions, config.hiddenSize)
        let row = UnsafeMutablePointer<Float>.allocate(capacity: d)
        defer { row.deallocate() }
        var sum = [Double](repeating: 0, count: d)
        try forward(features: features, count: frames.count, cancelled: cancelled) { last in
            for (w, f) in frames.enumerated() {
                precondition((1...p).contains(f), "pooled frame count outside 1…max_source_positions")
                for c in 0..<d { sum[c] = 0 }
                // Summed in double: up to 1500 frames, so the mean does not depend on their order.
                for r in 0..<f {
                    finalNormalize(last + (w * p + r) * d, into: row, rows: 1)
                    for c in 0..<d { sum[c] += Double(row[c]) }
                }
                let out = output + w * d
                for c in 0..<d { out[c] = Float(sum[c] / Double(f)) }
            }
        }
    }
}
