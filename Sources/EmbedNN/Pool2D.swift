import CDNNL

/// A 2-D pooling layer on oneDNN: max pooling (PyTorch's `nn.MaxPool2d`, padding counts as −∞)
/// or a global average (`nn.AdaptiveAvgPool2d((1, 1))`: the mean over all positions, output
/// `[N, C, 1, 1]`). The output keeps the input's layout (a pooling kernel works in one layout).
public struct Pool2D: Sendable {
    /// What the window computes.
    public enum Kind: Sendable, Equatable {
        /// Maximum over a `kernel`×`kernel` window.
        case max(kernel: Int, stride: Int, padding: Int)
        /// Mean over the whole spatial extent.
        case globalAverage
    }

    public let kind: Kind

    public init(_ kind: Kind) { self.kind = kind }

    /// The window, stride and padding for an input of `height`×`width`.
    private func window(height: Int, width: Int) -> (kernel: [Int64], stride: [Int64], padding: [Int64]) {
        switch kind {
        case .max(let k, let s, let p): return ([Int64(k), Int64(k)], [Int64(s), Int64(s)], [Int64(p), Int64(p)])
        case .globalAverage: return ([Int64(height), Int64(width)], [1, 1], [0, 0])
        }
    }

    /// Output length of the two spatial axes.
    public func outputSize(height: Int, width: Int) -> (height: Int, width: Int) {
        switch kind {
        case .max(let k, let s, let p): return ((height + 2 * p - k) / s + 1, (width + 2 * p - k) / s + 1)
        case .globalAverage: return (1, 1)
        }
    }

    private func descriptor(_ context: ComputeContext, source: FeatureMap) throws(NNError) -> DNNLPrimitiveDescriptor {
        let (h, w) = outputSize(height: source.height, width: source.width)
        var src = source.desc
        var dst = try DNNL.anyDesc([source.batch, source.channels, h, w], source.desc.data_type)
        let (kernel, stride, padding) = window(height: source.height, width: source.width)
        let dilation: [Int64] = [0, 0]
        var desc = dnnl_pooling_v2_desc_t()
        let alg = kind == .globalAverage ? dnnl_pooling_avg_exclude_padding : dnnl_pooling_max
        try DNNL.check(dnnl_pooling_v2_forward_desc_init(&desc, dnnl_forward_inference, alg, &src, &dst,
                                                         stride, kernel, dilation, padding, padding),
                       "pooling_v2_forward_desc_init \(kind)")
        return try DNNL.primitiveDescriptor(&desc, engine: context.engine, "pooling \(kind) on \(source.height)×\(source.width)")
    }

    /// The output `source` gives (its layout, without creating a primitive).
    func output(_ context: ComputeContext, source: FeatureMap, slot: PlanSlot) throws(NNError) -> FeatureMap {
        let pd = try descriptor(context, source: source)
        let (h, w) = outputSize(height: source.height, width: source.width)
        return FeatureMap(desc: try pd.query(dnnl_query_dst_md, "destination").pointee, batch: source.batch,
                          channels: source.channels, height: h, width: w, slot: slot)
    }

    /// The step pooling `source` into a new tensor in `slot`.
    func step(_ context: ComputeContext, source: FeatureMap, into slot: PlanSlot) throws(NNError) -> (PlanStep, FeatureMap) {
        let pd = try descriptor(context, source: source)
        let primitive = try DNNLPrimitive(pd, "pooling")
        let src = try DNNLMemory(pd.query(dnnl_query_src_md, "source"), engine: context.engine, data: nil, "pool src")
        let dstDesc = try pd.query(dnnl_query_dst_md, "destination")
        let dst = try DNNLMemory(dstDesc, engine: context.engine, data: nil, "pool dst")
        let (h, w) = outputSize(height: source.height, width: source.width)
        let out = FeatureMap(desc: dstDesc.pointee, batch: source.batch, channels: source.channels, height: h, width: w, slot: slot)
        return (PlanStep(primitive, fixed: [], slots: [(DNNL.argSrc, src, source.slot), (DNNL.argDst, dst, slot)]), out)
    }
}
