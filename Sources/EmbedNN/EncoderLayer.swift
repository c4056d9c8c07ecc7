/// One transformer block's weights: fused QKV projection, output projection (residual add
/// fused), two LayerNorms and the feed-forward pair (activation fused). BERT and MPNet run it
/// post-norm (`TransformerEncoder`), CLIP and Whisper pre-norm (`PreNormEncoder`); the weights
/// are the same.
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
        /// Whether the key projection has a bias. Whisper's has none (`k_proj` is built with
        /// `bias=False`: a bias on the keys adds the same amount to every score of a query,
        /// which the softmax cancels); its part of the fused QKV bias is then zero.
        var keyHasBias = true

        /// CLIP's text and vision encoders (`text_model.` / `vision_model.` prefix):
        /// `layer_norm1` comes before attention, `layer_norm2` before the MLP.
        init(clipPrefix prefix: String, layer i: Int) {
            let l = "\(prefix)encoder.layers.\(i)."
            q = l + "self_attn.q_proj"; k = l + "self_attn.k_proj"; v = l + "self_attn.v_proj"
            o = l + "self_attn.out_proj"; attentionNorm = l + "layer_norm1"
            intermediate = l + "mlp.fc1"; output = l + "mlp.fc2"; outputNorm = l + "layer_norm2"
        }

        /// Whisper's encoder (`encoder.` in a `WhisperModel` save, `model.encoder.` in a
        /// `WhisperForConditionalGeneration` one): `self_attn_layer_norm` before attention,
        /// `final_layer_norm` before the MLP.
        init(whisperPrefix prefix: String, layer i: Int) {
            let l = "\(prefix)layers.\(i)."
            q = l + "self_attn.q_proj"; k = l + "self_attn.k_proj"; v = l + "self_attn.v_proj"
            o = l + "self_attn.out_proj"; attentionNorm = l + "self_attn_layer_norm"
            intermediate = l + "fc1"; output = l + "fc2"; outputNorm = l + "final_layer_norm"
            keyHasBias = false
        }

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

    /// Loads one layer of `hidden` features with a feed-forward of `intermediate` and the
    /// given activation fused into its first matmul (`smallRows`: see `Linear.init`).
    init(weights: SafeTensorsFile, names n: Names, hidden h: Int, intermediate i: Int, activation: Linear.Epilogue,
         context: ComputeContext, precision: Precision, exactRowCounts: Bool = false,
         smallRows: Bool = true) throws(NNError) {
        // Fuse Q, K and V into one [3h, h] matmul: one pass over the activations instead of three.
        let fusedW = UnsafeMutableBufferPointer<Float>.allocate(capacity: 3 * h * h)
        defer { fusedW.deallocate() }
        var fusedB = [Float](repeating: 0, count: 3 * h)
        for (part, name) in [n.q, n.k, n.v].enumerated() {
            let w = try weights.floats(name + ".weight", shape: [h, h])
            (fusedW.baseAddress! + part * h * h).update(from: w.pointer, count: h * h)
            // A bias-free key projection keeps its zeros (a stray `.bias` tensor is ignored, as
            // transformers ignores unexpected keys).
            if part == 1 && !n.keyHasBias { continue }
            let b = try weights.floats(name + ".bias", shape: [h])
            for j in 0..<h { fusedB[part * h + j] = b.pointer[j] }
        }
        qkv = try fusedB.withUnsafeBufferPointer { b throws(NNError) in
            try Linear(context: context, weight: fusedW.baseAddress!, bias: b.baseAddress!, outFeatures: 3 * h,
                       inFeatures: h, precision: precision, epilogue: .none, exactRowCounts: exactRowCounts,
                       smallRows: smallRows)
        }
        func linear(_ name: String, out: Int, inp: Int, _ e: Linear.Epilogue, dst: Precision = .fp32) throws(NNError) -> Linear {
            let w = try weights.floats(name + ".weight", shape: [out, inp])
            let b = try weights.floats(name + ".bias", shape: [out])
            return try Linear(context: context, weight: w.pointer, bias: b.pointer, outFeatures: out, inFeatures: inp,
                              precision: precision, epilogue: e, destination: dst, exactRowCounts: exactRowCounts,
                              smallRows: smallRows)
        }
        output = try linear(n.o, out: h, inp: h, .residualAdd)
        // In bf16 mode the GELU output feeds the next matmul directly as bf16.
        feedForwardIn = try linear(n.intermediate, out: i, inp: h, activation, dst: precision)
        feedForwardOut = try linear(n.output, out: h, inp: i, .residualAdd)
        attentionNorm = (try weights.floats(n.attentionNorm + ".weight", shape: [h]), try weights.floats(n.attentionNorm + ".bias", shape: [h]))
        outputNorm = (try weights.floats(n.outputNorm + ".weight", shape: [h]), try weights.floats(n.outputNorm + ".bias", shape: [h]))
    }
}
