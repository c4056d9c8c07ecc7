/// One transformer block (post-norm, as BERT and MPNet): fused QKV projection, attention,
/// output projection + residual + LayerNorm, GELU feed-forward + residual + LayerNorm.
final class EncoderLayer: @unchecked Sendable {
    // Invariant: immutable after init apart from the Linears' primitive caches (compute thread only).
    let qkv: Linear
    let output: Linear
    let feedForwardIn: Linear
    let feedForwardOut: Linear
    let attentionNorm: (gamma: FloatStorage, beta: FloatStorage)
    let outputNorm: (gamma: FloatStorage, beta: FloatStorage)

    /// Tensor names of one layer, per architecture.
    struct Names {
        let q, k, v, o, attentionNorm, intermediate, output, outputNorm: String

        init(_ arch: EncoderConfig.Architecture, prefix: String, layer i: Int) {
            let l = "\(prefix)encoder.layer.\(i)."
            switch arch {
            case .bert:
                q = l + "attention.self.query"; k = l + "attention.self.key"; v = l + "attention.self.value"
                o = l + "attention.output.dense"; attentionNorm = l + "attention.output.LayerNorm"
            case .mpnet:
                q = l + "attention.attn.q"; k = l + "attention.attn.k"; v = l + "attention.attn.v"
                o = l + "attention.attn.o"; attentionNorm = l + "attention.LayerNorm"
            }
            intermediate = l + "intermediate.dense"; output = l + "output.dense"; outputNorm = l + "output.LayerNorm"
        }
    }

    init(weights: SafeTensorsFile, names n: Names, config c: EncoderConfig, context: ComputeContext,
         precision: Precision) throws(NNError) {
        let h = c.hiddenSize
        let i = c.intermediateSize
        // Fuse Q, K and V into one [3h, h] matmul: one pass over the activations instead of three.
        let fusedW = UnsafeMutableBufferPointer<Float>.allocate(capacity: 3 * h * h)
        defer { fusedW.deallocate() }
        var fusedB = [Float](repeating: 0, count: 3 * h)
        for (part, name) in [n.q, n.k, n.v].enumerated() {
            let w = try weights.floats(name + ".weight", shape: [h, h])
            let b = try weights.floats(name + ".bias", shape: [h])
            (fusedW.baseAddress! + part * h * h).update(from: w.pointer, count: h * h)
            for j in 0..<h { fusedB[part * h + j] = b.pointer[j] }
        }
        qkv = try fusedB.withUnsafeBufferPointer { b throws(NNError) in
            try Linear(context: context, weight: fusedW.baseAddress!, bias: b.baseAddress!, outFeatures: 3 * h,
                       inFeatures: h, precision: precision, epilogue: .none)
        }
        func linear(_ name: String, out: Int, inp: Int, _ e: Linear.Epilogue, dst: Precision = .fp32) throws(NNError) -> Linear {
            let w = try weights.floats(name + ".weight", shape: [out, inp])
            let b = try weights.floats(name + ".bias", shape: [out])
            return try Linear(context: context, weight: w.pointer, bias: b.pointer, outFeatures: out, inFeatures: inp,
                              precision: precision, epilogue: e, destination: dst)
        }
        output = try linear(n.o, out: h, inp: h, .residualAdd)
        // In bf16 mode the GELU output feeds the next matmul directly as bf16.
        feedForwardIn = try linear(n.intermediate, out: i, inp: h, .gelu, dst: precision)
        feedForwardOut = try linear(n.output, out: h, inp: i, .residualAdd)
        attentionNorm = (try weights.floats(n.attentionNorm + ".weight", shape: [h]), try weights.floats(n.attentionNorm + ".bias", shape: [h]))
        outputNorm = (try weights.floats(n.outputNorm + ".weight", shape: [h]), try weights.floats(n.outputNorm + ".bias", shape: [h]))
    }
}
