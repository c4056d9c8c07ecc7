/// A pre-norm transformer stack (CLIP's text and vision encoders, Whisper's encoder) on packed
/// sequences: per layer `x += attention(LN₁(x))`, then `x += MLP(LN₂(x))`. The caller fills the
/// input embeddings and reads the last hidden state; the blocks reuse `EncoderLayer`,
/// `Attention` and `Linear` exactly as the post-norm BERT encoder does.
///
/// Not thread-safe: one forward at a time, on the model's compute thread.
final class PreNormEncoder: @unchecked Sendable {
    // Invariant: weights immutable; `workspace` and the Linears' caches are mutated only by
    // `forward`, called from one thread at a time.
    let hiddenSize: Int
    let precision: Precision
    private let layers: [EncoderLayer]
    private let attention: Attention
    private let eps: Float
    private let workspace: Workspace
    private let parallel: ParallelFor
    private let context: ComputeContext

    /// Loads `shape.layers` layers, layer i's tensors named by `layerNames(i)` (each model's
    /// Hugging Face names). `parallel` is shared with the model's other parts (one set of helper
    /// threads). `exactRowCounts`: every row count gets its own matmul primitives (`Linear`);
    /// `smallRows`: see `Linear.init`.
    init(weights: SafeTensorsFile, shape: TransformerShape, causal: Bool, layerNames: (Int) -> EncoderLayer.Names,
         context: ComputeContext, precision: Precision, parallel: ParallelFor, exactRowCounts: Bool = false,
         smallRows: Bool = true) throws(NNError) {
        hiddenSize = shape.hiddenSize
        self.precision = precision
        self.context = context
        self.parallel = parallel
        eps = shape.layerNormEps
        var built: [EncoderLayer] = []
        for i in 0..<shape.layers {
            built.append(try EncoderLayer(weights: weights, names: layerNames(i),
                                          hidden: shape.hiddenSize, intermediate: shape.intermediateSize,
                                          activation: shape.activation, context: context, precision: precision,
                                          exactRowCounts: exactRowCounts, smallRows: smallRows))
        }
        layers = built
        attention = Attention(heads: shape.heads, headSize: shape.headSize, causal: causal)
        workspace = Workspace(hiddenSize: shape.hiddenSize, intermediateSize: shape.intermediateSize)
    }

    /// Creates the matmul primitives for the given row counts now (call on the compute thread).
    func prepare(rows: [Int]) throws(NNError) {
        context.enterComputeThread()
        for layer in layers {
            for linear in [layer.qkv, layer.output, layer.feedForwardIn, layer.feedForwardOut] {
                for r in rows { try linear.prepare(rows: r...r) }
            }
        }
    }

    /// Runs the stack on `spans` (start row, length; back to back from row 0). `embed` writes
    /// the input rows into the buffer it is given (`total × hiddenSize` floats); `body` reads
    /// the last hidden state before the buffers are reused (an error `embed` throws ends the
    /// pass). `cancelled` is polled between layers (`TransformerEncoder.Cancelled`).
    func forward<R>(spans: [(start: Int, length: Int)], cancelled: () -> Bool,
                    embed: (UnsafeMutablePointer<Float>) throws -> Void,
                    _ body: (UnsafePointer<Float>) -> R) throws -> R {
        context.enterComputeThread()
        let h = hiddenSize
        let total = spans.last.map { $0.start + $0.length } ?? 0
        let longest = spans.map(\.length).max() ?? 0
        let rows = Linear.bucket(total)
        let ws = workspace
        let perShare = attention.scratchCount(maxLength: longest)
        ws.reserve(rows: rows, scratch: perShare * parallel.width)
        let work = spans.reduce(0) { $0 + $1.length * $1.length }
        let hidden = ws.hidden
        try embed(hidden)
        (hidden + total * h).update(repeating: 0, count: (rows - total) * h)
        let bf16 = precision == .bf16

        /// LN(hidden) → the matmul's source: fp32 in `ws.context`, or bf16 in `ws.half`.
        func normalised(_ norm: (gamma: FloatStorage, beta: FloatStorage)) -> UnsafeRawPointer {
            VectorMath.layerNorm(hidden, into: ws.context, rows: total, width: h, gamma: norm.gamma.pointer,
                                 beta: norm.beta.pointer, eps: eps)
            if bf16 {
                VectorMath.toBF16(ws.context, ws.half, count: rows * h)
                return UnsafeRawPointer(ws.half)
            }
            return UnsafeRawPointer(ws.context)
        }

        for layer in layers {
            if cancelled() { throw TransformerEncoder.Cancelled() }
            try layer.qkv.forward(rows: total, source: normalised(layer.attentionNorm), destination: ws.qkv)
            attention.forward(qkv: ws.qkv, context: ws.context, sequences: spans, scratch: ws.scratch,
                              perShare: perShare, work: work, parallel: parallel)
            if bf16 {
                VectorMath.toBF16(ws.context, ws.half, count: rows * h)
                try layer.output.forward(rows: total, source: ws.half, destination: hidden)
            } else {
                try layer.output.forward(rows: total, source: ws.context, destination: hidden)
            }
            try layer.feedForwardIn.forward(rows: total, source: normalised(layer.outputNorm), destination: ws.intermediate)
            try layer.feedForwardOut.forward(rows: total, source: ws.intermediate, destination: hidden)
        }
        return body(hidden)
    }
}
