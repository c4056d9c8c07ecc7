import CDNNL
import CNNKernels

/// A fully connected layer `y = x·Wᵀ + b` (PyTorch's `nn.Linear`) on a oneDNN matmul, with the
/// weights reordered once at load into the layout the kernel prefers ("prepacked": plain
/// layouts run several times slower, bench/NOTES.md) and optional fused epilogues: GELU(erf),
/// quick GELU and a residual add.
///
/// Primitives are cached per row-count bucket (`Linear.bucket`): creating one costs far more
/// than a cache hit (DESIGN §4). Callers size their buffers for the bucketed row count; rows
/// past the real count are computed on scratch data and ignored. Up to `exactRows` rows (one or
/// two short sentences) the bucket is the row count itself: there the matmuls are bound by
/// arithmetic, so padding 12 rows to 16 cost about a sixth more time (figures: bench/NOTES.md, "Figures moved out of code comments").
///
/// fp32 calls skip oneDNN where it keeps fp32 weights plain (AVX2-only CPUs: `gemm:jit` re-packs
/// them on every call, so a text query's few rows stream the weights at a fraction of the
/// memory's speed, and mid-size calls lose a quarter to the packing). CNNKernels' AVX2 kernel
/// reads them from panels packed once at load (16 columns each, K-contiguous, in the model's
/// huge-page arena), with the same fused epilogues, on the same OpenMP team, in passes of
/// `panelPassRows` rows (bench/NOTES.md, stop 19). Where oneDNN prepacks fp32 weights itself
/// (AVX-512 CPUs), every call stays on oneDNN: nothing was measured there. A layer with panels
/// holds its fp32 weights once (oneDNN's copy is only made, from the panels, if a call ever
/// needs it).
public final class Linear: @unchecked Sendable {
    // Invariant: used from one compute thread at a time (the owning model serialises calls);
    // the cache, the memory objects' data handles and the lazily made oneDNN weights are
    // mutated only there.

    /// Epilogue fused into the matmul.
    public enum Epilogue: Sendable {
        /// `y = xWᵀ + b`
        case none
        /// `y = gelu_erf(xWᵀ + b)` (BERT's "gelu")
        case gelu
        /// `y = z · sigmoid(1.702 z)` with `z = xWᵀ + b` (OpenAI CLIP's "quick_gelu"; oneDNN's
        /// swish with α = 1.702 is that formula exactly)
        case quickGELU
        /// `y += xWᵀ + b` (residual connection: `y` holds the residual on entry)
        case residualAdd
    }

    /// Input features (K).
    public let inFeatures: Int
    /// Output features (N).
    public let outFeatures: Int
    /// Element type of the input rows (fp32, or bf16 in bf16 mode).
    public let sourcePrecision: Precision
    /// Element type written (fp32 unless the next layer consumes bf16 directly).
    public let destinationPrecision: Precision
    /// The fused epilogue.
    public let epilogue: Epilogue
    /// Each row count gets its own primitive instead of its bucket's: for callers whose row
    /// counts come from a short fixed list (a vision transformer: images × tokens per image),
    /// where padding 50 rows to 64 would cost a quarter more arithmetic.
    public let exactRowCounts: Bool
    /// The oneDNN implementation chosen for the reference shape (for logs and benchmarks).
    public private(set) var implementation: String = ""

    private let context: ComputeContext
    private var packedDesc: dnnl_memory_desc_t
    /// oneDNN's copy of the weights (nil until a call of more than `exactRows` rows when the
    /// panels exist).
    private var weights: DNNLMemory?
    private let bias: DNNLMemory
    /// The weights and bias packed for the small-row kernel (nil: every call goes through oneDNN).
    private let panels: (weights: UnsafePointer<Float>, bias: UnsafePointer<Float>)?
    private var cache: [Int: Entry] = [:]

    /// One bucket's kernel and the memory objects its calls point at their buffers. Every
    /// oneDNN object is held by an owner that destroys it, so no failure path leaks one.
    private struct Entry {
        let primitive: DNNLPrimitive
        let src: DNNLMemory
        let dst: DNNLMemory
    }

    /// Row counts up to this are their own bucket (no padding rows).
    public static let exactRows = 32

    /// bf16 buckets up to this many rows get single-threaded primitives on CPUs without AMX.
    static let singleThreadRows = 32

    /// Whether small bf16 matmuls run on one thread here (see `entry(rows:)`).
    static let smallBF16SingleThreaded = !DNNL.hasAMX

    /// Row count the weights layout is chosen for (a typical batch of short sentences).
    static let referenceRows = 256

    /// Rounds a row count up to its cache bucket: itself up to `exactRows`, multiples of 16 up to
    /// 256, then steps of one sixteenth of the next power of two (≤ 6.25% padding, a logarithmic
    /// number of primitives).
    public static func bucket(_ rows: Int) -> Int {
        if rows <= exactRows { return max(1, rows) }
        if rows <= 256 { return (rows + 15) / 16 * 16 }
        var p = 1
        while p < rows { p <<= 1 }
        let step = p / 16
        return (rows + step - 1) / step * step
    }

    /// Whether this CPU runs the small-row kernel (AVX2+FMA; its portable fallback would be
    /// slower than oneDNN).
    static let smallRowKernelAvailable = String(cString: enk_kernel_name()) == "avx2"

    /// Prepacks `weight` (`[outFeatures, inFeatures]`, row-major, as PyTorch stores it) and `bias`.
    /// `smallRows`: whether an fp32 layer packs its weights for CNNKernels' panel kernel where
    /// oneDNN keeps them plain (true everywhere in EmbedNN; false keeps oneDNN alone, which the
    /// tests use to compare the two).
    public init(context: ComputeContext, weight: UnsafePointer<Float>, bias biasValues: UnsafePointer<Float>,
                outFeatures: Int, inFeatures: Int, precision: Precision, epilogue: Epilogue,
                destination: Precision = .fp32, exactRowCounts: Bool = false, smallRows: Bool = true) throws(NNError) {
        self.context = context
        self.exactRowCounts = exactRowCounts
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        self.sourcePrecision = precision
        self.destinationPrecision = destination
        self.epilogue = epilogue
        let wType = precision == .bf16 ? dnnl_bf16 : dnnl_f32

        // Reference primitive with format_tag_any weights: oneDNN picks the packed layout.
        let pd = try Self.makeDescriptor(context: context, rows: Self.referenceRows, inFeatures: inFeatures,
                                         outFeatures: outFeatures, source: precision, destination: destination,
                                         weightsDesc: try DNNL.anyDesc([inFeatures, outFeatures], wType), epilogue: epilogue)
        packedDesc = try pd.query(dnnl_query_weights_md, "weights (\(inFeatures)×\(outFeatures) matmul)").pointee
        implementation = DNNL.implementationName(pd.handle)

        var plainWT = try DNNL.plainDesc([inFeatures, outFeatures], dnnl_f32)
        let oneDNNKeepsPlain = dnnl_memory_desc_equal(&packedDesc, &plainWT) != 0
        if smallRows && precision == .fp32 && destination == .fp32 && oneDNNKeepsPlain && Self.smallRowKernelAvailable {
            // In the model's huge-page arena (it lives as long as `context`, which this layer
            // holds), zeroed, so the last panel's padding columns and bias are 0.
            let w = try context.weightArena.allocate(enk_packed_count(outFeatures, inFeatures) * 4)
                .bindMemory(to: Float.self, capacity: enk_packed_count(outFeatures, inFeatures))
            enk_pack(weight, outFeatures, inFeatures, w)
            let paddedBias = (outFeatures + Int(ENK_PANEL) - 1) / Int(ENK_PANEL) * Int(ENK_PANEL)
            let b = try context.weightArena.allocate(paddedBias * 4).bindMemory(to: Float.self, capacity: paddedBias)
            b.update(from: biasValues, count: outFeatures)
            panels = (UnsafePointer(w), UnsafePointer(b))
            weights = nil
        } else {
            // Reorder the plain [N, K] fp32 weights (a [K, N] tensor with strides {1, K}) once.
            var plain = try DNNL.stridedDesc([inFeatures, outFeatures], strides: [1, inFeatures], dnnl_f32)
            weights = try Self.packForOneDNN(context: context, plain: weight, plainDesc: &plain, packedDesc: &packedDesc)
            panels = nil
        }
        var bDesc = try DNNL.plainDesc([1, outFeatures], dnnl_f32)
        bias = try DNNLMemory(&bDesc, engine: context.engine, data: DNNL.allocate, "bias")
        guard let handle = bias.data else { throw NNError("oneDNN: the bias memory has no buffer") }
        handle.copyMemory(from: biasValues, byteCount: outFeatures * 4)
    }

    /// oneDNN's copy of `plain` (described by `plainDesc`) in `packedDesc`'s layout, in the
    /// model's arena.
    private static func packForOneDNN(context: ComputeContext, plain: UnsafePointer<Float>, plainDesc: inout dnnl_memory_desc_t,
                                      packedDesc: inout dnnl_memory_desc_t) throws(NNError) -> DNNLMemory {
        let plainMem = try DNNLMemory(&plainDesc, engine: context.engine, data: UnsafeMutableRawPointer(mutating: plain), "weights")
        let packed = try context.weightArena.allocate(dnnl_memory_desc_get_size(&packedDesc))
        let weights = try DNNLMemory(&packedDesc, engine: context.engine, data: packed, "packed weights")
        try reorder(context: context, from: plainMem, fromDesc: &plainDesc, to: weights, toDesc: &packedDesc)
        return weights
    }

    /// oneDNN's weights, made from the panels by the first call that needs them.
    private func oneDNNWeights() throws(NNError) -> DNNLMemory {
        if let weights { return weights }
        guard let panels else { throw NNError("oneDNN: a Linear has neither packed weights nor panels") }
        // wᵀ: [K, N] row-major, oneDNN's plain `ab`.
        let plain = UnsafeMutableBufferPointer<Float>.allocate(capacity: inFeatures * outFeatures)
        defer { plain.deallocate() }
        enk_unpack_transposed(panels.weights, outFeatures, inFeatures, plain.baseAddress!)
        var plainDesc = try DNNL.plainDesc([inFeatures, outFeatures], dnnl_f32)
        let made = try Self.packForOneDNN(context: context, plain: plain.baseAddress!, plainDesc: &plainDesc, packedDesc: &packedDesc)
        weights = made
        return made
    }

    private static func reorder(context: ComputeContext, from: DNNLMemory, fromDesc: inout dnnl_memory_desc_t,
                                to: DNNLMemory, toDesc: inout dnnl_memory_desc_t) throws(NNError) {
        var rpd: dnnl_primitive_desc_t? = nil
        try DNNL.check(dnnl_reorder_primitive_desc_create(&rpd, &fromDesc, context.engine, &toDesc, context.engine, nil), "reorder_primitive_desc_create")
        guard let rpd else { throw NNError("oneDNN: reorder_primitive_desc_create returned no descriptor") }
        let prim = try DNNLPrimitive(DNNLPrimitiveDescriptor(taking: rpd), "reorder")
        var args = [dnnl_exec_arg_t(arg: DNNL.argFrom, memory: from.handle), dnnl_exec_arg_t(arg: DNNL.argTo, memory: to.handle)]
        try DNNL.check(dnnl_primitive_execute(prim.handle, context.stream, 2, &args), "reorder execute")
        try DNNL.check(dnnl_stream_wait(context.stream), "stream_wait")
    }

    private static func makeDescriptor(context: ComputeContext, rows: Int, inFeatures: Int, outFeatures: Int,
                                       source: Precision, destination: Precision, weightsDesc: dnnl_memory_desc_t,
                                       epilogue: Epilogue) throws(NNError) -> DNNLPrimitiveDescriptor {
        var src = try DNNL.plainDesc([rows, inFeatures], source == .bf16 ? dnnl_bf16 : dnnl_f32)
        var wts = weightsDesc
        var b = try DNNL.plainDesc([1, outFeatures], dnnl_f32)
        var dst = try DNNL.plainDesc([rows, outFeatures], destination == .bf16 ? dnnl_bf16 : dnnl_f32)
        var desc = dnnl_matmul_desc_t()
        try DNNL.check(dnnl_matmul_desc_init(&desc, &src, &wts, &b, &dst), "matmul_desc_init")
        var attr: dnnl_primitive_attr_t? = nil
        try DNNL.check(dnnl_primitive_attr_create(&attr), "primitive_attr_create")
        defer { dnnl_primitive_attr_destroy(attr) }
        if case .none = epilogue {} else {
            var ops: dnnl_post_ops_t? = nil
            try DNNL.check(dnnl_post_ops_create(&ops), "post_ops_create")
            defer { dnnl_post_ops_destroy(ops) }
            switch epilogue {
            case .gelu: try DNNL.check(dnnl_post_ops_append_eltwise(ops, 1, dnnl_eltwise_gelu_erf, 0, 0), "append gelu")
            case .quickGELU: try DNNL.check(dnnl_post_ops_append_eltwise(ops, 1, dnnl_eltwise_swish, 1.702, 0), "append swish")
            case .residualAdd: try DNNL.check(dnnl_post_ops_append_sum(ops, 1), "append sum")
            case .none: break
            }
            try DNNL.check(dnnl_primitive_attr_set_post_ops(attr, ops), "set_post_ops")
        }
        var pd: dnnl_primitive_desc_t? = nil
        try DNNL.check(withUnsafePointer(to: &desc) { dnnl_primitive_desc_create(&pd, $0, attr, context.engine, nil) },
                       "matmul primitive for \(rows)×\(inFeatures)×\(outFeatures)")
        guard let pd else { throw NNError("oneDNN: no matmul primitive for \(rows)×\(inFeatures)×\(outFeatures)") }
        return DNNLPrimitiveDescriptor(taking: pd)
    }

    private func entry(rows: Int) throws(NNError) -> Entry {
        let m = exactRowCounts ? max(1, rows) : Self.bucket(rows)
        if let e = cache[m] { return e }
        // Without AMX (AVX-512 BF16 dot products), a bf16 matmul on a few rows is bound by
        // arithmetic, and splitting it over a second OpenMP thread lost its fork and join to the
        // wake-up. With AMX the arithmetic is cheap and streaming the weights dominates, which two
        // cores do twice as fast; fp32 gains from the split everywhere (bench/NOTES.md, stop 15,
        // and "Figures moved out of code comments"). oneDNN fixes a primitive's thread count
        // when it is created.
        let single = m <= Self.singleThreadRows && sourcePrecision == .bf16 && Self.smallBF16SingleThreaded
        let previousThreads = omp_get_max_threads()
        if single { omp_set_num_threads(1) }
        defer { if single { omp_set_num_threads(previousThreads) } }
        let pd = try Self.makeDescriptor(context: context, rows: m, inFeatures: inFeatures, outFeatures: outFeatures,
                                         source: sourcePrecision, destination: destinationPrecision,
                                         weightsDesc: packedDesc, epilogue: epilogue)
        let prim = try DNNLPrimitive(pd, "matmul \(m)×\(inFeatures)×\(outFeatures)")
        let src = try DNNLMemory(pd.query(dnnl_query_src_md, "source"), engine: context.engine, data: nil, "src")
        let dst = try DNNLMemory(pd.query(dnnl_query_dst_md, "destination"), engine: context.engine, data: nil, "dst")
        let e = Entry(primitive: prim, src: src, dst: dst)
        cache[m] = e
        return e
    }

    /// Creates the primitives for every bucket in `rows` now, so the first call of each size
    /// does not pay a primitive's creation (milliseconds per new row count for a 6-layer model). Run it
    /// on the compute thread: primitives take their thread count from the creating thread.
    public func prepare(rows: ClosedRange<Int>) throws(NNError) {
        for r in rows where !smallRowCall(r) { _ = try entry(rows: r) }
    }

    /// Whether calls of up to `exactRows` rows run on the small-row kernel (fp32 `smallRows`
    /// layers on CPUs where oneDNN keeps fp32 weights plain).
    var usesSmallRowKernel: Bool { panels != nil }

    /// Whether a call of `rows` rows runs on the small-row kernel.
    /// Every row count, once the panels exist: on AVX2 the panel kernel also beats oneDNN's
    /// `gemm:jit` at larger counts (CLIP image tower, 100–200 rows: 157 against 120 GFLOP/s),
    /// and the weights are then held once (bench/NOTES.md, stop 19).
    private func smallRowCall(_ rows: Int) -> Bool { panels != nil }

    /// Rows per pass of the panel kernel: larger calls run in passes, so that the rows a pass
    /// reuses each weight chunk for stay in cache (800 rows in one pass ran at 107 GFLOP/s,
    /// 400 at 150–165).
    static let panelPassRows = 400

    private var epilogueCode: Int32 {
        switch epilogue {
        case .none: Int32(ENK_NONE)
        case .gelu: Int32(ENK_GELU)
        case .quickGELU: Int32(ENK_QUICK_GELU)
        case .residualAdd: Int32(ENK_RESIDUAL)
        }
    }

    /// Computes `rows` rows: `source` holds `bucket(rows) × inFeatures` elements of the source
    /// precision, `destination` `bucket(rows) × outFeatures` of the destination precision.
    public func forward(rows: Int, source: UnsafeRawPointer, destination: UnsafeMutableRawPointer) throws(NNError) {
        if smallRowCall(rows), let panels {
            // On the calling thread's OpenMP team (its size is ComputeContext.threads).
            var start = 0
            repeat {
                let n = min(Self.panelPassRows, rows - start)
                var job = enk_linear(x: source.assumingMemoryBound(to: Float.self) + start * inFeatures, panels: panels.weights,
                                     bias: panels.bias, y: destination.assumingMemoryBound(to: Float.self) + start * outFeatures,
                                     rows: Int32(max(0, n)), n: Int32(outFeatures), k: Int32(inFeatures), epilogue: epilogueCode)
                enk_linear_run(&job, 0)
                start += n
            } while start < rows
            return
        }
        let weights = try oneDNNWeights()
        let e = try entry(rows: rows)
        e.src.setData(UnsafeMutableRawPointer(mutating: source))
        e.dst.setData(destination)
        var args = [
            dnnl_exec_arg_t(arg: DNNL.argSrc, memory: e.src.handle),
            dnnl_exec_arg_t(arg: DNNL.argWeights, memory: weights.handle),
            dnnl_exec_arg_t(arg: DNNL.argBias, memory: bias.handle),
            dnnl_exec_arg_t(arg: DNNL.argDst, memory: e.dst.handle),
        ]
        try DNNL.check(dnnl_primitive_execute(e.primitive.handle, context.stream, 4, &args), "matmul execute")
        try DNNL.check(dnnl_stream_wait(context.stream), "stream_wait")
    }
}
