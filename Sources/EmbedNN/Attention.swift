/// Multi-head self-attention over packed, unpadded sequences, in vectorised Swift.
///
/// Input is the fused QKV projection `[tokens, 3·hidden]` (q | k | v per row); each sequence
/// attends only to its own tokens, so no padding or mask is needed and a sequence's result does
/// not depend on what else is in the batch.
public struct Attention: Sendable {
    /// Number of heads.
    public let heads: Int
    /// Size of one head (a multiple of 16).
    public let headSize: Int
    /// Optional additive bias by relative position, `[heads][2·span − 1]`, indexed by
    /// `(key − query) + span − 1` (MPNet). Shared by all layers.
    public let relativeBias: FloatStorage?
    /// Largest sequence length the relative bias covers.
    public let span: Int

    public init(heads: Int, headSize: Int, relativeBias: FloatStorage? = nil, span: Int = 0) {
        self.heads = heads
        self.headSize = headSize
        self.relativeBias = relativeBias
        self.span = span
    }

    /// Computes the attention context for `sequences` (start row, length) into `context`
    /// (`[tokens, hidden]`). `scratch` must hold `scratchCount(maxLength:)` floats.
    public func forward(qkv: UnsafePointer<Float>, context: UnsafeMutablePointer<Float>,
                        sequences: [(start: Int, length: Int)], scratch: UnsafeMutablePointer<Float>) {
        let hidden = heads * headSize
        let rowStride = 3 * hidden
        let d = headSize
        let scale = 1 / Float(d).squareRoot()
        for (start, length) in sequences where length > 0 {
            let lp = (length + 15) / 16 * 16
            let kt = scratch                     // [d][lp]: keys transposed, so scores vectorise over keys
            let scores = scratch + d * lp        // [lp]
            for h in 0..<heads {
                let kOffset = hidden + h * d
                let vOffset = 2 * hidden + h * d
                for j in 0..<length {
                    let k = qkv + (start + j) * rowStride + kOffset
                    for c in 0..<d { kt[c * lp + j] = k[c] }
                }
                if lp > length { for c in 0..<d { for j in length..<lp { kt[c * lp + j] = 0 } } }
                let bias = relativeBias.map { $0.pointer + h * (2 * span - 1) + span - 1 }
                for i in 0..<length {
                    let q = qkv + (start + i) * rowStride + h * d
                    for j in stride(from: 0, to: lp, by: 16) { VectorMath.store(.zero, scores + j) }
                    for c in 0..<d { VectorMath.axpy(q[c], kt + c * lp, scores, lp) }
                    if let bias {
                        let b = bias - i
                        for j in 0..<length { scores[j] = scores[j] * scale + b[j] }
                    } else {
                        for j in stride(from: 0, to: lp, by: 16) { VectorMath.store(VectorMath.load(scores + j) * scale, scores + j) }
                    }
                    VectorMath.softmax(scores, count: length)
                    let out = context + (start + i) * hidden + h * d
                    for c in stride(from: 0, to: d, by: 16) { VectorMath.store(.zero, out + c) }
                    for j in 0..<length {
                        VectorMath.axpy(scores[j], qkv + (start + j) * rowStride + vOffset, out, d)
                    }
                }
            }
        }
    }

    /// Floats of scratch `forward` needs for sequences up to `maxLength` tokens.
    public func scratchCount(maxLength: Int) -> Int {
        let lp = (maxLength + 15) / 16 * 16
        return (headSize + 1) * lp + 16
    }
}
