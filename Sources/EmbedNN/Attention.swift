/// Multi-head self-attention over packed, unpadded sequences, in vectorised Swift.
///
/// Input is the fused QKV projection `[tokens, 3·hidden]` (q | k | v per row); each sequence
/// attends only to its own tokens, so no padding or mask is needed and a sequence's result does
/// not depend on what else is in the batch. `causal` (CLIP's text encoder) lets token i see only
/// tokens 0…i.
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
    /// Whether a token attends only to itself and the tokens before it.
    public let causal: Bool

    public init(heads: Int, headSize: Int, relativeBias: FloatStorage? = nil, span: Int = 0, causal: Bool = false) {
        self.heads = heads
        self.headSize = headSize
        self.relativeBias = relativeBias
        self.span = span
        self.causal = causal
    }

    /// Computes the attention context for `sequences` (start row, length) into `context`
    /// (`[tokens, hidden]`). `scratch` must hold `scratchCount(maxLength:)` floats.
    public func forward(qkv: UnsafePointer<Float>, context: UnsafeMutablePointer<Float>,
                        sequences: [(start: Int, length: Int)], scratch: UnsafeMutablePointer<Float>) {
        forward(qkv: qkv, context: context, sequences: sequences, scratch: scratch, heads: 0..<heads, step: 1)
    }

    /// The heads `first, first + step, …` of every sequence (one share of a parallel run).
    ///
    /// Queries go four at a time: the four score rows share each load of the transposed keys,
    /// and the four context rows share each load of the values, so the adds form four
    /// independent chains instead of one (a single accumulator waits on its own previous add).
    /// Each query's arithmetic, and so its result, is the same as when it goes alone.
    func forward(qkv: UnsafePointer<Float>, context: UnsafeMutablePointer<Float>,
                 sequences: [(start: Int, length: Int)], scratch: UnsafeMutablePointer<Float>,
                 heads headRange: Range<Int>, step: Int) {
        let hidden = heads * headSize
        let rowStride = 3 * hidden
        let d = headSize
        for (start, length) in sequences where length > 0 {
            if usesLongPath(length) {
                for h in stride(from: headRange.lowerBound, to: headRange.upperBound, by: step) {
                    longHead(qkv: qkv, context: context, start: start, length: length, h: h, scratch: scratch)
                }
                continue
            }
            let lp = (length + 15) / 16 * 16
            let kt = scratch                     // [d][lp]: keys transposed, so scores vectorise over keys
            let scores = scratch + d * lp        // [4][lp]
            for h in stride(from: headRange.lowerBound, to: headRange.upperBound, by: step) {
                let kOffset = hidden + h * d
                for j in 0..<length {
                    let k = qkv + (start + j) * rowStride + kOffset
                    for c in 0..<d { kt[c * lp + j] = k[c] }
                }
                if lp > length { for c in 0..<d { for j in length..<lp { kt[c * lp + j] = 0 } } }
                let head = Head(qkv: qkv, context: context, kt: kt, scores: scores, start: start, length: length,
                                lp: lp, d: d, rowStride: rowStride, hidden: hidden, h: h,
                                scale: 1 / Float(d).squareRoot(),
                                bias: relativeBias.map { $0.pointer + h * Self.biasStride(span: span) + span + 16 },
                                causal: causal)
                var i = 0
                while i + 4 <= length { head.attend4(i); i += 4 }
                while i < length { head.attend1(i); i += 1 }
            }
        }
    }

    /// One head of one sequence, its keys already transposed into `kt`.
    private struct Head {
        let qkv: UnsafePointer<Float>
        let context: UnsafeMutablePointer<Float>
        let kt: UnsafeMutablePointer<Float>
        let scores: UnsafeMutablePointer<Float>  // 4 rows of lp
        let start: Int, length: Int, lp: Int, d: Int, rowStride: Int, hidden: Int, h: Int
        let scale: Float
        let bias: UnsafePointer<Float>?
        let causal: Bool

        @inline(__always) private func query(_ i: Int) -> UnsafePointer<Float> { qkv + (start + i) * rowStride + h * d }
        @inline(__always) private func output(_ i: Int) -> UnsafeMutablePointer<Float> { context + (start + i) * hidden + h * d }
        private var values: UnsafePointer<Float> { qkv + start * rowStride + 2 * hidden + h * d }

        /// scores = q·k_j · scale (+ bias), 16 keys at a time.
        @inline(__always) private func finish(_ acc: VectorMath.V, query i: Int, at jc: Int, into row: UnsafeMutablePointer<Float>) {
            var a = acc * scale
            if let bias { a += VectorMath.load(bias - i + jc) }
            VectorMath.store(a, row + jc)
        }

        /// Queries i ..< i + 4. Causal: they see keys up to i + 3 at most, so only those are
        /// scored, and each row's keys past its own query get probability 0.
        func attend4(_ i: Int) {
            let q0 = query(i), q1 = query(i + 1), q2 = query(i + 2), q3 = query(i + 3)
            let s0 = scores, s1 = scores + lp, s2 = scores + 2 * lp, s3 = scores + 3 * lp
            let keys = causal ? i + 4 : length
            let keyEnd = (keys + 15) / 16 * 16
            var jc = 0
            while jc < keyEnd {
                var a0 = VectorMath.V(), a1 = VectorMath.V(), a2 = VectorMath.V(), a3 = VectorMath.V()
                for c in 0..<d {
                    let k = VectorMath.load(kt + c * lp + jc)
                    a0 += q0[c] * k
                    a1 += q1[c] * k
                    a2 += q2[c] * k
                    a3 += q3[c] * k
                }
                finish(a0, query: i, at: jc, into: s0)
                finish(a1, query: i + 1, at: jc, into: s1)
                finish(a2, query: i + 2, at: jc, into: s2)
                finish(a3, query: i + 3, at: jc, into: s3)
                jc += 16
            }
            if causal {
                for (r, row) in [s0, s1, s2, s3].enumerated() {
                    VectorMath.softmax(row, count: i + r + 1)
                    for j in (i + r + 1)..<keys { row[j] = 0 }
                }
            } else {
                VectorMath.softmax(s0, count: length)
                VectorMath.softmax(s1, count: length)
                VectorMath.softmax(s2, count: length)
                VectorMath.softmax(s3, count: length)
            }
            // context_i = Σ_j p_j · v_j, 16 features at a time.
            let v0 = values
            let o0 = output(i), o1 = output(i + 1), o2 = output(i + 2), o3 = output(i + 3)
            var c = 0
            while c < d {
                var a0 = VectorMath.V(), a1 = VectorMath.V(), a2 = VectorMath.V(), a3 = VectorMath.V()
                for j in 0..<keys {
                    let v = VectorMath.load(v0 + j * rowStride + c)
                    a0 += s0[j] * v
                    a1 += s1[j] * v
                    a2 += s2[j] * v
                    a3 += s3[j] * v
                }
                VectorMath.store(a0, o0 + c)
                VectorMath.store(a1, o1 + c)
                VectorMath.store(a2, o2 + c)
                VectorMath.store(a3, o3 + c)
                c += 16
            }
        }

        /// Query i alone (the last length % 4 queries).
        func attend1(_ i: Int) {
            let q = query(i)
            let keys = causal ? i + 1 : length
            let keyEnd = (keys + 15) / 16 * 16
            var jc = 0
            while jc < keyEnd {
                var acc = VectorMath.V()
                for c in 0..<d { acc += q[c] * VectorMath.load(kt + c * lp + jc) }
                finish(acc, query: i, at: jc, into: scores)
                jc += 16
            }
            VectorMath.softmax(scores, count: keys)
            let v0 = values
            let out = output(i)
            var c = 0
            while c < d {
                var acc = VectorMath.V()
                for j in 0..<keys { acc += scores[j] * VectorMath.load(v0 + j * rowStride + c) }
                VectorMath.store(acc, out + c)
                c += 16
            }
        }
    }

    /// Attention for all sequences, split by head over `parallel` when there is enough work
    /// (`work`: Σ length², at least about 4k query·key pairs per layer; below that the hand-off
    /// costs more than it saves). `scratch` holds `perShare` floats per share.
    func forward(qkv: UnsafePointer<Float>, context: UnsafeMutablePointer<Float>,
                 sequences spans: [(start: Int, length: Int)], scratch: UnsafeMutablePointer<Float>,
                 perShare: Int, work: Int, parallel: ParallelFor) {
        let width = parallel.width
        guard width > 1 && work >= 4_096 else {
            forward(qkv: qkv, context: context, sequences: spans, scratch: scratch)
            return
        }
        let attention = self
        parallel.run { share in
            guard share < attention.heads else { return }  // more threads than heads: the rest idle
            attention.forward(qkv: qkv, context: context, sequences: spans, scratch: scratch + share * perShare,
                              heads: share..<attention.heads, step: width)
        }
    }

    /// Row length of the relative-bias table for sequences up to `span` tokens.
    public static func biasStride(span: Int) -> Int { 2 * span + 32 }

    /// Floats of scratch `forward` needs for sequences up to `maxLength` tokens.
    public func scratchCount(maxLength: Int) -> Int {
        let lp = (maxLength + 15) / 16 * 16
        let short = (headSize + 4) * lp + 16
        return usesLongPath(maxLength) ? max(short, longScratchCount(maxLength)) : short
    }
}
