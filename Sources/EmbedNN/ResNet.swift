import CDNNL

/// A ResNet (Hugging Face `ResNetModel`) on oneDNN, returning `pooler_output`: the global
/// average of the last stage, `hidden_sizes.last` values per image (2048 for ResNet-50).
///
/// Stem: 7×7/2 convolution + batch norm + ReLU, 3×3/2 max pool; then the stages of residual
/// blocks; then the global average pool. Batch norms are folded into the convolutions at load
/// and activations stay in oneDNN's blocked layouts from the stem to the pool. Forward passes
/// run through `NetworkPlan`s, compiled per input shape and cached.
public final class ResNet: @unchecked Sendable {
    // Invariant: layers are immutable after init; `plans` and `buffers` are mutated only by
    // `forward`/`prepare`, which the owner calls from one compute thread at a time.
    public let config: ResNetConfig
    public let precision: Precision
    let context: ComputeContext
    private let stem: Conv2D
    private let stemPool = Pool2D(.max(kernel: 3, stride: 2, padding: 1))
    private let blocks: [ResidualBlock]
    private let globalPool = Pool2D(.globalAverage)
    private var plans: [Shape: NetworkPlan] = [:]
    private let buffers = PlanBuffers()

    /// The input a plan is compiled for.
    public struct Shape: Hashable, Sendable {
        public var batch: Int
        public var height: Int
        public var width: Int
        public init(batch: Int, height: Int, width: Int) {
            self.batch = batch
            self.height = height
            self.width = width
        }
    }

    /// The input the weights' layouts are chosen for (the ResNet pre-processors' crop).
    static let reference = Shape(batch: 8, height: 224, width: 224)
    /// Plans kept (each holds ~60 primitives; activation memory is shared).
    static let maxPlans = 48
    /// The activation buffers a plan rotates through; buffer 3 also stages the input when the stem
    /// wants another layout or element type (bf16).
    private static let slotCount = 4

    /// The layers of the stages, with the tensor names of `ResNetModel` (optionally under
    /// `resnet.`, as `ResNetForImageClassification` checkpoints such as microsoft/resnet-50
    /// store them; `classifier.*` is ignored).
    public init(config c: ResNetConfig, weights: SafeTensorsFile, context: ComputeContext,
                precision: Precision) throws(NNError) {
        config = c
        self.precision = precision
        self.context = context
        let prefix = ["resnet.", ""].first { weights.contains($0 + "embedder.embedder.convolution.weight") } ?? ""
        let r = Self.reference
        // The stem reads whichever input layout it prefers (`steps(input:…)` reorders to it).
        var map = FeatureMap(desc: try DNNL.anyDesc([r.batch, c.channels, r.height, r.width], Conv2D.dataType(precision)),
                             batch: r.batch, channels: c.channels, height: r.height, width: r.width, slot: .input)
        stem = try ResidualBlock.convolution(weights: weights, prefix: prefix + "embedder.embedder",
                                             geometry: .init(inChannels: c.channels, outChannels: c.embeddingSize, kernel: 7, stride: 2),
                                             epilogue: .relu, eps: c.batchNormEps, context: context, precision: precision,
                                             reference: map)
        map = try stemPool.output(context, source: stem.referenceOutput, slot: .input)
        var built: [ResidualBlock] = []
        var inChannels = c.embeddingSize
        for (stage, (width, depth)) in zip(c.hiddenSizes, c.depths).enumerated() {
            let stride = stage == 0 && !c.downsampleInFirstStage ? 1 : 2
            for layer in 0..<depth {
                let block = try ResidualBlock(weights: weights, prefix: prefix + "encoder.stages.\(stage).layers.\(layer)",
                                              config: c, inChannels: layer == 0 ? inChannels : width, outChannels: width,
                                              stride: layer == 0 ? stride : 1, context: context, precision: precision,
                                              reference: map)
                built.append(block)
                map = block.referenceOutput
            }
            inChannels = width
        }
        blocks = built
    }

    /// The oneDNN implementation of every convolution for the reference input, stem first.
    public var implementations: [String] {
        [stem.implementation] + blocks.flatMap { b in (b.shortcut.map { [$0] } ?? []) + b.main }.map(\.implementation)
    }

    /// Floating-point operations of one image's forward pass at `height`×`width` (multiply and
    /// add counted apart; the convolutions only, as the usual "4.1 GFLOP" for ResNet-50 does).
    public func flops(height: Int, width: Int) -> Double {
        var total = 0.0
        func conv(_ g: Conv2D.Geometry, _ h: Int, _ w: Int) -> (Int, Int) {
            let (oh, ow) = (g.outputSize(h), g.outputSize(w))
            total += 2 * Double(oh * ow) * Double(g.outChannels * g.inChannels * g.kernel * g.kernel)
            return (oh, ow)
        }
        var (h, w) = conv(stem.geometry, height, width)
        (h, w) = stemPool.outputSize(height: h, width: w)
        for b in blocks {
            if let s = b.shortcut { _ = conv(s.geometry, h, w) }
            var (mh, mw) = (h, w)
            for c in b.main { (mh, mw) = conv(c.geometry, mh, mw) }
            (h, w) = (mh, mw)
        }
        return total
    }

    /// Compiles the forward pass for `shape`: input plain NCHW fp32 (`.input`), output `[N, C]`
    /// fp32 (`.output`), activations in buffers 0–3.
    private func makePlan(_ shape: Shape) throws(NNError) -> NetworkPlan {
        var plan = NetworkPlan.Builder(buffers: Self.slotCount)
        var x = try FeatureMap.plain(batch: shape.batch, channels: config.channels, height: shape.height, width: shape.width,
                                     type: dnnl_f32, slot: .input)
        for s in try stem.steps(input: x, staging: .buffer(3), into: .buffer(0)) { x = plan.add(s) }
        x = plan.add(try stemPool.step(context, source: x, into: .buffer(1)))
        let slots = Array(0..<Self.slotCount)
        for b in blocks { x = try b.steps(source: x, slots: slots, into: &plan) }
        let free = slots.first { .buffer($0) != x.slot } ?? 0
        x = plan.add(try globalPool.step(context, source: x, into: .buffer(free)))
        let out = try DNNL.plainDesc([shape.batch, config.dimension, 1, 1], dnnl_f32)
        _ = plan.add(try PlanStep.reorder(context, source: x, to: out, into: .output))
        return plan.plan()
    }

    /// The cached plan for `shape`, compiled on first use (on the calling thread, which must be
    /// the compute thread: primitives keep the OpenMP thread count they were created with).
    private func plan(_ shape: Shape) throws(NNError) -> NetworkPlan {
        if let p = plans[shape] { return p }
        if plans.count >= Self.maxPlans { plans.remove(at: plans.startIndex) }
        let p = try makePlan(shape)
        plans[shape] = p
        return p
    }

    /// Compiles the plans for `shapes` now, so the first calls of those shapes do not pay for
    /// the primitives (tens of milliseconds for a ResNet-50); call it on the compute thread.
    public func prepare(_ shapes: [Shape]) throws(NNError) {
        context.enterComputeThread()
        for s in shapes { _ = try plan(s) }
    }

    /// Runs the network on `shape.batch` images of `config.channels`×`height`×`width` (plain
    /// NCHW fp32, normalised as the pre-processor does) and writes `config.dimension` floats per
    /// image to `output`. `cancelled` is polled between layers (`TransformerEncoder.Cancelled`).
    public func forward(_ pixels: UnsafePointer<Float>, shape: Shape, into output: UnsafeMutablePointer<Float>,
                        cancelled: () -> Bool = { false }) throws {
        context.enterComputeThread()
        try plan(shape).run(input: UnsafeRawPointer(pixels), output: UnsafeMutableRawPointer(output),
                            buffers: buffers, stream: context.stream, cancelled: cancelled)
    }
}
