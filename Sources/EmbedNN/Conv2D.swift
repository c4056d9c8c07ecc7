import CDNNL

/// A 2-D convolution (PyTorch's `nn.Conv2d`, groups 1, dilation 1, square kernel) with a bias
/// (a folded batch norm's) and fused epilogues — ReLU, or a residual add then ReLU — on oneDNN.
///
/// The weights are reordered once at load into the layout oneDNN's kernel wants (chosen with
/// `format_tag any` for a reference input); activations stay in the layouts the primitives pick
/// (blocked nChw8c/nChw16c), so a network runs without reorders between layers. Primitives
/// depend on the input shape, so the network creates one per plan (`step`), i.e. per shape.
public final class Conv2D: @unchecked Sendable {
    // Invariant: immutable after init; `step` creates new objects and is called from the model's
    // compute thread (primitives take their OpenMP thread count from the creating thread).

    /// Kernel, stride and padding (the same on both axes) and channel counts.
    public struct Geometry: Sendable, Equatable {
        public var inChannels: Int
        public var outChannels: Int
        public var kernel: Int
        public var stride: Int
        public var padding: Int

        public init(inChannels: Int, outChannels: Int, kernel: Int, stride: Int = 1, padding: Int? = nil) {
            self.inChannels = inChannels
            self.outChannels = outChannels
            self.kernel = kernel
            self.stride = stride
            self.padding = padding ?? kernel / 2
        }

        /// Output length of a spatial axis of length `n` (PyTorch's floor rule).
        public func outputSize(_ n: Int) -> Int { (n + 2 * padding - kernel) / stride + 1 }
    }

    /// Epilogue fused into the convolution.
    public enum Epilogue: Sendable {
        /// `y = conv(x) + b`
        case none
        /// `y = relu(conv(x) + b)`
        case relu
        /// `y = relu(y + conv(x) + b)`: `y` holds the residual on entry (a `sum` post-op).
        case residualAddReLU
    }

    public let geometry: Geometry
    public let epilogue: Epilogue
    /// Element type of weights and activations (bias and accumulation are fp32).
    public let precision: Precision
    /// The oneDNN implementation chosen for the reference input (for logs and benchmarks).
    public let implementation: String
    /// The output the reference input gives (its layout is what the next layer is packed for).
    let referenceOutput: FeatureMap

    private let context: ComputeContext
    private let packedDesc: dnnl_memory_desc_t
    private let weights: DNNLMemory
    private let bias: DNNLMemory

    /// Packs `weight` (`[out, in, k, k]`, as PyTorch stores it) and `bias` (`[out]`) for inputs
    /// laid out like `reference`. A `.residualAddReLU` layer writes into its residual, whose
    /// layout `referenceResidual` gives.
    init(context: ComputeContext, weight: UnsafePointer<Float>, bias biasValues: UnsafePointer<Float>,
         geometry g: Geometry, epilogue: Epilogue, precision: Precision,
         reference: FeatureMap, referenceResidual: FeatureMap? = nil) throws(NNError) {
        self.context = context
        self.geometry = g
        self.epilogue = epilogue
        self.precision = precision
        let type = Self.dataType(precision)
        let dst: dnnl_memory_desc_t
        if let referenceResidual {
            dst = referenceResidual.desc
        } else {
            dst = try DNNL.anyDesc([reference.batch, g.outChannels, g.outputSize(reference.height), g.outputSize(reference.width)], type)
        }
        let pd = try Self.descriptor(context: context, geometry: g, epilogue: epilogue, source: reference.desc,
                                     weights: try DNNL.anyDesc([g.outChannels, g.inChannels, g.kernel, g.kernel], type),
                                     destination: dst)
        implementation = DNNL.implementationName(pd.handle)
        var packed = try pd.query(dnnl_query_weights_md, "weights (\(g.kernel)×\(g.kernel) convolution)").pointee
        packedDesc = packed
        referenceOutput = FeatureMap(desc: try pd.query(dnnl_query_dst_md, "destination").pointee, batch: reference.batch,
                                     channels: g.outChannels, height: g.outputSize(reference.height),
                                     width: g.outputSize(reference.width), slot: reference.slot)

        // Reorder the plain fp32 OIHW weights once, into the model's huge-page arena.
        var plain = try DNNL.plainDesc([g.outChannels, g.inChannels, g.kernel, g.kernel], dnnl_f32)
        let plainMemory = try DNNLMemory(&plain, engine: context.engine, data: UnsafeMutableRawPointer(mutating: weight), "weights")
        let storage = try context.weightArena.allocate(dnnl_memory_desc_get_size(&packed))
        weights = try DNNLMemory(&packed, engine: context.engine, data: storage, "packed weights")
        let reorder = try DNNL.reorder(from: &plain, to: &packed, engine: context.engine)
        var args = [dnnl_exec_arg_t(arg: DNNL.argFrom, memory: plainMemory.handle),
                    dnnl_exec_arg_t(arg: DNNL.argTo, memory: weights.handle)]
        try DNNL.check(dnnl_primitive_execute(reorder.handle, context.stream, 2, &args), "weights reorder execute")
        try DNNL.check(dnnl_stream_wait(context.stream), "stream_wait")

        var biasDesc = try DNNL.plainDesc([g.outChannels], dnnl_f32)
        bias = try DNNLMemory(&biasDesc, engine: context.engine, data: DNNL.allocate, "bias")
        guard let handle = bias.data else { throw NNError("oneDNN: the bias memory has no buffer") }
        handle.copyMemory(from: biasValues, byteCount: g.outChannels * 4)
    }

    static func dataType(_ p: Precision) -> dnnl_data_type_t { p == .bf16 ? dnnl_bf16 : dnnl_f32 }

    private static func descriptor(context: ComputeContext, geometry g: Geometry, epilogue: Epilogue,
                                   source: dnnl_memory_desc_t, weights: dnnl_memory_desc_t,
                                   destination: dnnl_memory_desc_t) throws(NNError) -> DNNLPrimitiveDescriptor {
        var src = source
        var wts = weights
        var b = try DNNL.plainDesc([g.outChannels], dnnl_f32)
        var dst = destination
        let strides: [Int64] = [Int64(g.stride), Int64(g.stride)]
        // Right padding equal to the left one: oneDNN then sizes the output by the same floor
        // rule as PyTorch (the last partial window is dropped).
        let padding: [Int64] = [Int64(g.padding), Int64(g.padding)]
        var desc = dnnl_convolution_desc_t()
        // Direct, not `auto`: Winograd (AVX-512) would change the numerics.
        try DNNL.check(dnnl_convolution_forward_desc_init(&desc, dnnl_forward_inference, dnnl_convolution_direct,
                                                          &src, &wts, &b, &dst, strides, padding, padding),
                       "convolution_forward_desc_init \(g)")
        let what = "convolution \(g.inChannels)→\(g.outChannels) \(g.kernel)×\(g.kernel)/\(g.stride)"
        switch epilogue {
        case .none:
            return try DNNL.primitiveDescriptor(&desc, engine: context.engine, what)
        case .relu:
            return try DNNL.primitiveDescriptor(&desc, engine: context.engine, postOps: { (ops) throws(NNError) in
                try DNNL.check(dnnl_post_ops_append_eltwise(ops, 1, dnnl_eltwise_relu, 0, 0), "append relu")
            }, what)
        case .residualAddReLU:
            return try DNNL.primitiveDescriptor(&desc, engine: context.engine, postOps: { (ops) throws(NNError) in
                try DNNL.check(dnnl_post_ops_append_sum(ops, 1), "append sum")
                try DNNL.check(dnnl_post_ops_append_eltwise(ops, 1, dnnl_eltwise_relu, 0, 0), "append relu")
            }, what)
        }
    }

    /// The step computing this layer on `source` into a new tensor in `slot` (epilogue `.none`
    /// or `.relu`), in the layout the primitive prefers.
    func step(source: FeatureMap, into slot: PlanSlot) throws(NNError) -> (PlanStep, FeatureMap) {
        precondition(epilogue != .residualAddReLU, "a residual convolution needs its residual")
        let dst = try DNNL.anyDesc([source.batch, geometry.outChannels, geometry.outputSize(source.height),
                                    geometry.outputSize(source.width)], Self.dataType(precision))
        return try step(source: source, destination: dst, slot: slot)
    }

    /// The steps computing this layer on the caller's `input` (plain NCHW fp32): the convolution
    /// reads the layout and element type it prefers (chosen with `any`: nchw for a 3-channel
    /// stem on AVX2, bf16 in bf16 mode), so where that is not the input's, a reorder into
    /// `staging` comes first.
    func steps(input: FeatureMap, staging: PlanSlot, into slot: PlanSlot) throws(NNError) -> [(PlanStep, FeatureMap)] {
        let type = Self.dataType(precision)
        let dst = try DNNL.anyDesc([input.batch, geometry.outChannels, geometry.outputSize(input.height),
                                    geometry.outputSize(input.width)], type)
        let probe = try Self.descriptor(context: context, geometry: geometry, epilogue: epilogue,
                                        source: try DNNL.anyDesc([input.batch, input.channels, input.height, input.width], type),
                                        weights: packedDesc, destination: dst)
        let wanted = try probe.query(dnnl_query_src_md, "source").pointee
        if DNNL.equal(wanted, input.desc) { return [try step(source: input, destination: dst, slot: slot)] }
        let staged = try PlanStep.reorder(context, source: input, to: wanted, into: staging)
        return [staged, try step(source: staged.1, destination: dst, slot: slot)]
    }

    /// The step adding this layer's output to `residual` in place, then applying ReLU.
    func step(source: FeatureMap, accumulatingInto residual: FeatureMap) throws(NNError) -> (PlanStep, FeatureMap) {
        precondition(epilogue == .residualAddReLU, "only a residual convolution accumulates")
        return try step(source: source, destination: residual.desc, slot: residual.slot)
    }

    private func step(source: FeatureMap, destination: dnnl_memory_desc_t, slot: PlanSlot) throws(NNError) -> (PlanStep, FeatureMap) {
        precondition(source.channels == geometry.inChannels, "channel count mismatch")
        let pd = try Self.descriptor(context: context, geometry: geometry, epilogue: epilogue, source: source.desc,
                                     weights: packedDesc, destination: destination)
        let primitive = try DNNLPrimitive(pd, "convolution")
        let src = try DNNLMemory(pd.query(dnnl_query_src_md, "source"), engine: context.engine, data: nil, "conv src")
        let dstDesc = try pd.query(dnnl_query_dst_md, "destination")
        let dst = try DNNLMemory(dstDesc, engine: context.engine, data: nil, "conv dst")
        let out = FeatureMap(desc: dstDesc.pointee, batch: source.batch, channels: geometry.outChannels,
                             height: geometry.outputSize(source.height), width: geometry.outputSize(source.width), slot: slot)
        let step = PlanStep(primitive, fixed: [(DNNL.argWeights, weights), (DNNL.argBias, bias)],
                            slots: [(DNNL.argSrc, src, source.slot), (DNNL.argDst, dst, slot)], owner: self)
        return (step, out)
    }
}
