import CNNKernels

/// Attention for one head of a long sequence (Whisper's 1500 frames) as two matmuls on
/// CNNKernels' panel kernel — scores = (q·scale)·Kᵀ, then context = softmax(scores)·V — in
/// blocks of `longBlockRows` queries.
///
/// Why: the four-query kernel (`Attention.Head`) re-reads a head's transposed keys from L2 for
/// every four queries (385 KB at 1500 × 64), and its SIMD16 sums leave half of the 16 AVX2
/// registers idle; the panel kernel's 6 × 16 tiles keep twelve accumulators busy on 4 KB of keys
/// in L1 (bench/NOTES.md, Whisper). q is scaled before the product, as transformers' Whisper
/// and CLIP attention do.
extension Attention {
    /// Queries per block: the scores (`longBlockRows × length`) stay in L2 between the two
    /// matmuls.
    static let longBlockRows = 32

    /// Shortest sequence that takes the blocked path. Short ones (sentences, CLIP's 50 and 77
    /// tokens) keep the four-query kernel: their keys fit in L1 anyway.
    static let longMinimumLength = 256

    /// Whether a sequence of `length` tokens takes the blocked path: non-causal, no relative
    /// bias, and the AVX2 panel kernel (its portable fallback would be slower).
    func usesLongPath(_ length: Int) -> Bool {
        !causal && relativeBias == nil && length >= Self.longMinimumLength && Linear.smallRowKernelAvailable
    }

    /// Floats of scratch `longHead` needs for `length` tokens: the key and value panels, a zero
    /// bias, and one block's queries, scores, context and softmax sums (each part but the last
    /// a multiple of 16 floats, so the matmuls' operands stay 64-byte aligned in an aligned
    /// scratch).
    func longScratchCount(_ length: Int) -> Int {
        let lp = (length + 15) / 16 * 16
        let b = Self.longBlockRows
        // Rounded to 16 floats: the next share's scratch starts 64-byte aligned too.
        return (2 * lp * headSize + lp + 2 * b * headSize + b * lp + b + 15) / 16 * 16
    }

    /// Head `h` of the sequence at rows `start ..< start + length` into `context`.
    func longHead(qkv: UnsafePointer<Float>, context: UnsafeMutablePointer<Float>, start: Int, length: Int, h: Int,
                  scratch: UnsafeMutablePointer<Float>) {
        let d = headSize
        let hidden = heads * d
        let rowStride = 3 * hidden
        let lp = (length + 15) / 16 * 16
        let b = Self.longBlockRows
        let keyPanels = scratch                // lp / 16 panels of d × 16: keys 16p … 16p + 15, feature by feature
        let valuePanels = keyPanels + lp * d   // d / 16 panels of lp × 16: features 16p … 16p + 15, key by key
        let zeros = valuePanels + lp * d       // the matmuls' bias
        let queries = zeros + lp
        let scores = queries + b * d
        let out = scores + b * lp
        let sums = out + b * d                 // 1 / each block row's softmax denominator
        zeros.update(repeating: 0, count: lp)
        for j in 0..<lp {
            let panel = keyPanels + (j / 16) * d * 16 + j % 16
            if j < length {
                let k = qkv + (start + j) * rowStride + hidden + h * d
                for c in 0..<d { panel[c * 16] = k[c] }
            } else {
                for c in 0..<d { panel[c * 16] = 0 }  // padding keys score 0, then get probability 0
            }
        }
        for p in 0..<(d / 16) {
            let panel = valuePanels + p * lp * 16
            for j in 0..<length { (panel + j * 16).update(from: qkv + (start + j) * rowStride + 2 * hidden + h * d + p * 16, count: 16) }
            (panel + length * 16).update(repeating: 0, count: (lp - length) * 16)
        }
        let scale = 1 / Float(d).squareRoot()
        var i = 0
        while i < length {
            let rows = min(b, length - i)
            for r in 0..<rows {
                let q = qkv + (start + i + r) * rowStride + h * d
                for c in 0..<d { queries[r * d + c] = q[c] * scale }
            }
            var job = enk_linear(x: queries, panels: keyPanels, bias: zeros, y: scores, rows: Int32(rows), n: Int32(lp),
                                 k: Int32(d), epilogue: Int32(ENK_NONE))
            enk_linear_share(&job, 0, 1)
            // Unnormalised: each context row is divided by its sum after the product.
            for r in 0..<rows { sums[r] = 1 / VectorMath.softmaxNumerators(scores + r * lp, count: length) }
            job = enk_linear(x: scores, panels: valuePanels, bias: zeros, y: out, rows: Int32(rows), n: Int32(d),
                             k: Int32(lp), epilogue: Int32(ENK_NONE))
            enk_linear_share(&job, 0, 1)
            for r in 0..<rows {
                let (src, dst, inv) = (out + r * d, context + (start + i + r) * hidden + h * d, sums[r])
                var c = 0
                while c < d { VectorMath.store(VectorMath.load(src + c) * inv, dst + c); c += 16 }
            }
            i += rows
        }
    }
}
