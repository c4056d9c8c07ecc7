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
    /// Optional additive bias by relative position, `[heads][biasStride(span)]`, indexed by
    /// `(key − query) + span + 16` (MPNet). Shared by all layers. The 16-entry margins let the
    /// kernel read whole 16-lane vectors past the last key.
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
        forward(qkv: qkv, context: context, sequences: sequences, scratch: scratch, heads: 0..<heads, step: 1)
    }

    /// The heads `first, first + step, …` of every sequence (one share of a parallel run).
    func forward(qkv: UnsafePointer<Float>, context: UnsafeMutablePointer<Float>,
                 sequences: [(start: Int, length: Int)], scratch: UnsafeMutablePointer<Float>,
                 heads headRange: Range<Int>, step: Int) {
        let hidden = heads * headSize
        let rowStride = 3 * hidden
        let d = headSize
        let scale = 1 / Float(d).squareRoot()
        for (start, length) in sequences where length > 0 {
            let lp = (length + 15) / 16 * 16
            let kt = scratch                     // [d][lp]: keys transposed, so scores vectorise over keys
            let scores = scratch + d * lp        // [lp]
            for h in stride(from: headRange.lowerBound, to: headRange.upperBound, by: step) {
                let kOffset = hidden + h * d
                let vOffset = 2 * hidden + h * d
                for j in 0..<length {
                    let k = qkv + (start + j) * rowStride + kOffset
                    for c in 0..<d { kt[c * lp + j] = k[c] }
                }
                if lp > length { for c in 0..<d { for j in length..<lp { kt[c * lp + j] = 0 } } }
                let bias = relativeBias.map { $0.pointer + h * Self.biasStride(span: span) + span + 16 }
                for i in 0..<length {
                    let q = qkv + (start + i) * rowStride + h * d
                    // scores[j] = q·k_j · scale (+ bias): accumulate 16 keys at a time in a register.
                    var jc = 0
                    while jc < lp {
                        var acc = VectorMath.V()
                        for c in 0..<d { acc += q[c] * VectorMath.load(kt + c * lp + jc) }
                        acc *= scale
                        if let bias { acc += VectorMath.load(bias - i + jc) }
                        VectorMath.store(acc, scores + jc)
                        jc += 16
                    }
                    VectorMath.softmax(scores, count: length)
                    // context_i = Σ_j p_j · v_j, 16 features at a time in a register.
                    let out = context + (start + i) * hidden + h * d
                    let v0 = qkv + start * rowStride + vOffset
                    var c = 0
                    while c < d {
                        var acc = VectorMath.V()
                        for j in 0..<length { acc += scores[j] * VectorMath.load(v0 + j * rowStride + c) }
                        VectorMath.store(acc, out + c)
                        c += 16
                    }
                }
            }
        }
    }

    /// Row length of the relative-bias table for sequences up to `span` tokens.
    public static func biasStride(span: Int) -> Int { 2 * span + 32 }

    /// Floats of scratch `forward` needs for sequences up to `maxLength` tokens.
    public func scratchCount(maxLength: Int) -> Int {
        let lp = (maxLength + 15) / 16 * 16
        return (headSize + 1) * lp + 16
    }
}
