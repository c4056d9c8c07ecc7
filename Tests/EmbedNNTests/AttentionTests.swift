@testable import EmbedNN
import EmbedSys
import Testing

/// The vectorised attention kernel against a plain Double-precision reference.
struct AttentionTests {
    /// Deterministic values in [-2, 2).
    private static func values(_ n: Int, seed: UInt64) -> [Float] {
        var x = seed
        return (0..<n).map { _ in
            x = x &* 6364136223846793005 &+ 1442695040888963407
            return Float(Double(x >> 40) / Double(1 << 24) * 4 - 2)
        }
    }

    private static func reference(qkv: [Float], heads: Int, headSize d: Int, spans: [(start: Int, length: Int)],
                                  bias: [Float]?, span: Int, causal: Bool = false) -> [Float] {
        let hidden = heads * d
        var out = [Float](repeating: 0, count: (qkv.count / (3 * hidden)) * hidden)
        for (start, length) in spans {
            for h in 0..<heads {
                for i in 0..<length {
                    // Causal: keys after the query are left out entirely.
                    let keys = causal ? i + 1 : length
                    var s = [Double](repeating: 0, count: keys)
                    for j in 0..<keys {
                        var dot = 0.0
                        let q: Int = (start + i) * 3 * hidden + h * d
                        let k: Int = (start + j) * 3 * hidden + hidden + h * d
                        for c in 0..<d { dot += Double(qkv[q + c]) * Double(qkv[k + c]) }
                        s[j] = dot / Double(d).squareRoot()
                        if let bias { s[j] += Double(bias[h * Attention.biasStride(span: span) + (j - i) + span + 16]) }
                    }
                    let m = s.max()!
                    let e = s.map { FloatMath.exp($0 - m) }
                    let total = e.reduce(0, +)
                    for c in 0..<d {
                        var acc = 0.0
                        for j in 0..<keys {
                            let v: Int = (start + j) * 3 * hidden + 2 * hidden + h * d + c
                            acc += e[j] / total * Double(qkv[v])
                        }
                        let o: Int = (start + i) * hidden + h * d + c
                        out[o] = Float(acc)
                    }
                }
            }
        }
        return out
    }

    private static func run(_ attention: Attention, qkv: [Float], spans: [(start: Int, length: Int)], rows: Int,
                            heads: Range<Int>? = nil, step: Int = 1, into out: inout [Float]) {
        let longest = spans.map(\.length).max() ?? 1
        // 64-byte aligned, as the Workspace's (the long path's panels are read with aligned loads).
        let count = attention.scratchCount(maxLength: longest)
        let scratch = UnsafeMutableRawPointer.allocate(byteCount: count * 4, alignment: 64).bindMemory(to: Float.self, capacity: count)
        scratch.initialize(repeating: .nan, count: count)
        defer { scratch.deallocate() }
        qkv.withUnsafeBufferPointer { q in
            out.withUnsafeMutableBufferPointer { o in
                attention.forward(qkv: q.baseAddress!, context: o.baseAddress!, sequences: spans, scratch: scratch,
                                  heads: heads ?? 0..<attention.heads, step: step)
            }
        }
    }

    /// Sequences of `longMinimumLength` tokens and more (Whisper's 1500 frames) go through the
    /// blocked matmul path: against the reference, beside short ones in the same batch, with
    /// every remainder of the 32-query blocks and of the 16-key panels, and split over threads.
    @Test func longSequencesMatchReference() {
        let heads = 2, d = 32, hidden = heads * d
        let lengths = [5, Attention.longMinimumLength, 301, 17, 333]
        var spans: [(start: Int, length: Int)] = []
        var rows = 0
        for l in lengths { spans.append((rows, l)); rows += l }
        let qkv = Self.values(rows * 3 * hidden, seed: 13)
        let attention = Attention(heads: heads, headSize: d)
        #expect(!attention.usesLongPath(255) && attention.usesLongPath(256) == Linear.smallRowKernelAvailable)
        var got = [Float](repeating: .nan, count: rows * hidden)
        Self.run(attention, qkv: qkv, spans: spans, rows: rows, into: &got)
        let want = Self.reference(qkv: qkv, heads: heads, headSize: d, spans: spans, bias: nil, span: 0)
        var worst: Float = 0
        for (g, w) in zip(got, want) { worst = max(worst, abs(g - w)) }
        #expect(worst < 2e-5, "largest difference to the reference: \(worst)")
        var split = [Float](repeating: .nan, count: rows * hidden)
        for share in 0..<2 { Self.run(attention, qkv: qkv, spans: spans, rows: rows, heads: share..<heads, step: 2, into: &split) }
        #expect(split == got)
    }

    @Test(arguments: [false, true])
    func matchesReference(withBias: Bool) {
        let heads = 3, d = 32, hidden = heads * d, span = 40
        // Every remainder of the four-query groups, one-token and padded-to-16 lengths.
        let lengths = [1, 2, 3, 4, 5, 7, 8, 16, 17, 33]
        var spans: [(start: Int, length: Int)] = []
        var rows = 0
        for l in lengths { spans.append((rows, l)); rows += l }
        let qkv = Self.values(rows * 3 * hidden, seed: 7)
        let biasValues = withBias ? Self.values(heads * Attention.biasStride(span: span), seed: 11) : nil
        let attention = Attention(heads: heads, headSize: d,
                                  relativeBias: biasValues.map { FloatStorage(copying: $0, shape: [heads, Attention.biasStride(span: span)]) },
                                  span: withBias ? span : 0)
        var got = [Float](repeating: .nan, count: rows * hidden)
        Self.run(attention, qkv: qkv, spans: spans, rows: rows, into: &got)
        let want = Self.reference(qkv: qkv, heads: heads, headSize: d, spans: spans, bias: biasValues, span: span)
        var worst: Float = 0
        for (g, w) in zip(got, want) { worst = max(worst, abs(g - w)) }
        #expect(worst < 2e-5, "largest difference to the reference: \(worst)")
    }

    /// CLIP's text encoder: token i sees tokens 0…i only, in every remainder of the
    /// four-query groups and across the 16-key blocks.
    @Test func causalMatchesReference() {
        let heads = 2, d = 16, hidden = heads * d
        let lengths = [1, 2, 3, 4, 5, 15, 16, 17, 19, 77]
        var spans: [(start: Int, length: Int)] = []
        var rows = 0
        for l in lengths { spans.append((rows, l)); rows += l }
        let qkv = Self.values(rows * 3 * hidden, seed: 5)
        let attention = Attention(heads: heads, headSize: d, causal: true)
        var got = [Float](repeating: .nan, count: rows * hidden)
        Self.run(attention, qkv: qkv, spans: spans, rows: rows, into: &got)
        let want = Self.reference(qkv: qkv, heads: heads, headSize: d, spans: spans, bias: nil, span: 0, causal: true)
        var worst: Float = 0
        for (g, w) in zip(got, want) { worst = max(worst, abs(g - w)) }
        #expect(worst < 2e-5, "largest difference to the causal reference: \(worst)")
        // A prefix's context does not change when tokens are appended (what causal means).
        var prefix = [Float](repeating: .nan, count: 10 * hidden)
        Self.run(attention, qkv: Array(qkv[(spans[9].start * 3 * hidden)..<((spans[9].start + 10) * 3 * hidden)]),
                 spans: [(0, 10)], rows: 10, into: &prefix)
        #expect(prefix == Array(got[(spans[9].start * hidden)..<((spans[9].start + 10) * hidden)]))
    }

    /// A query's context does not depend on the other sequences of the batch or on how heads
    /// are split over threads: bit for bit.
    @Test func independentOfBatchAndSplit() {
        let heads = 2, d = 32, hidden = heads * d
        let lengths = [6, 13, 1, 9]
        var spans: [(start: Int, length: Int)] = []
        var rows = 0
        for l in lengths { spans.append((rows, l)); rows += l }
        let qkv = Self.values(rows * 3 * hidden, seed: 3)
        let attention = Attention(heads: heads, headSize: d)
        var packed = [Float](repeating: .nan, count: rows * hidden)
        Self.run(attention, qkv: qkv, spans: spans, rows: rows, into: &packed)

        var split = [Float](repeating: .nan, count: rows * hidden)
        for share in 0..<2 { Self.run(attention, qkv: qkv, spans: spans, rows: rows, heads: share..<heads, step: 2, into: &split) }
        #expect(split == packed)

        for (start, length) in spans {
            // The sequence alone, at row 0.
            let alone = Array(qkv[(start * 3 * hidden)..<((start + length) * 3 * hidden)])
            var out = [Float](repeating: .nan, count: length * hidden)
            Self.run(attention, qkv: alone, spans: [(0, length)], rows: length, into: &out)
            #expect(out == Array(packed[(start * hidden)..<((start + length) * hidden)]), "sequence at \(start) alone")
        }
    }
}
