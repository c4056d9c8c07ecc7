/// One residual block of a ResNet stage — `ResNetBasicLayer` (two 3×3 convolutions) or
/// `ResNetBottleNeckLayer` (1×1 reduce, 3×3, 1×1 expand) — with every batch norm folded into
/// its convolution, ReLUs fused, and the residual add + ReLU fused into the last convolution,
/// which accumulates into the shortcut's output (or, for an identity shortcut, into the block's
/// input, which nothing reads afterwards).
final class ResidualBlock {
    // Invariant: immutable after init.
    /// The main path; the last one has the `.residualAddReLU` epilogue.
    let main: [Conv2D]
    /// The projection shortcut (1×1, strided) where channels or resolution change.
    let shortcut: Conv2D?
    /// The output for the network's reference input.
    let referenceOutput: FeatureMap

    /// Loads the block whose tensors start with `prefix` ("…encoder.stages.1.layers.0").
    init(weights: SafeTensorsFile, prefix: String, config: ResNetConfig, inChannels: Int, outChannels: Int,
         stride: Int, context: ComputeContext, precision: Precision, reference: FeatureMap) throws(NNError) {
        func conv(_ name: String, _ g: Conv2D.Geometry, _ epilogue: Conv2D.Epilogue, _ source: FeatureMap,
                  residual: FeatureMap? = nil) throws(NNError) -> Conv2D {
            try Self.convolution(weights: weights, prefix: prefix + name, geometry: g, epilogue: epilogue,
                                 eps: config.batchNormEps, context: context, precision: precision,
                                 reference: source, residual: residual)
        }
        if inChannels != outChannels || stride != 1 {
            let s = try conv(".shortcut", .init(inChannels: inChannels, outChannels: outChannels, kernel: 1, stride: stride, padding: 0),
                             .none, reference)
            shortcut = s
        } else {
            shortcut = nil
        }
        let residual = shortcut?.referenceOutput ?? reference
        var layers: [Conv2D] = []
        switch config.layerType {
        case .basic:
            layers.append(try conv(".layer.0", .init(inChannels: inChannels, outChannels: outChannels, kernel: 3, stride: stride),
                                   .relu, reference))
            layers.append(try conv(".layer.1", .init(inChannels: outChannels, outChannels: outChannels, kernel: 3),
                                   .residualAddReLU, layers[0].referenceOutput, residual: residual))
        case .bottleneck:
            let reduced = outChannels / ResNetConfig.bottleneckReduction
            // transformers ≥ 4.30: `downsample_in_bottleneck` moves the stride to the first 1×1.
            let first = config.downsampleInBottleneck ? stride : 1
            layers.append(try conv(".layer.0", .init(inChannels: inChannels, outChannels: reduced, kernel: 1, stride: first),
                                   .relu, reference))
            layers.append(try conv(".layer.1", .init(inChannels: reduced, outChannels: reduced, kernel: 3, stride: stride / first),
                                   .relu, layers[0].referenceOutput))
            layers.append(try conv(".layer.2", .init(inChannels: reduced, outChannels: outChannels, kernel: 1),
                                   .residualAddReLU, layers[1].referenceOutput, residual: residual))
        }
        main = layers
        referenceOutput = layers[layers.count - 1].referenceOutput
    }

    /// A `ResNetConvLayer` (or `ResNetShortCut`): `prefix.convolution.weight` with the batch norm
    /// `prefix.normalization.*` folded in.
    static func convolution(weights: SafeTensorsFile, prefix: String, geometry g: Conv2D.Geometry,
                            epilogue: Conv2D.Epilogue, eps: Float, context: ComputeContext, precision: Precision,
                            reference: FeatureMap, residual: FeatureMap? = nil) throws(NNError) -> Conv2D {
        let w = try weights.floats(prefix + ".convolution.weight", shape: [g.outChannels, g.inChannels, g.kernel, g.kernel])
        let bn = try BatchNorm(weights, prefix: prefix + ".normalization", channels: g.outChannels, eps: eps)
        let folded = withExtendedLifetime(w) { bn.fold(w.pointer, perChannel: g.inChannels * g.kernel * g.kernel) }
        return try folded.weight.withUnsafeBufferPointer { (wp) throws(NNError) in
            try folded.bias.withUnsafeBufferPointer { (bp) throws(NNError) in
                try Conv2D(context: context, weight: wp.baseAddress!, bias: bp.baseAddress!, geometry: g, epilogue: epilogue,
                           precision: precision, reference: reference, referenceResidual: residual)
            }
        }
    }

    /// Adds the block's steps for `source` to `plan`, using the buffers of `slots` that do not
    /// hold `source` for intermediates, and returns the output.
    func steps(source: FeatureMap, slots: [Int], into plan: inout NetworkPlan.Builder) throws(NNError) -> FeatureMap {
        var free = slots.map { PlanSlot.buffer($0) }.filter { $0 != source.slot }
        var residual = source
        if let shortcut {
            residual = plan.add(try shortcut.step(source: source, into: free.removeLast()))
        }
        var x = source
        for conv in main.dropLast() {
            x = plan.add(try conv.step(source: x, into: free.removeFirst()))
        }
        return plan.add(try main[main.count - 1].step(source: x, accumulatingInto: residual))
    }
}
