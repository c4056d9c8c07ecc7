/// The fixed-point weights of one resampling pass of Pillow's separable filter, for a range of
/// output positions along one axis (Pillow's `precompute_coeffs` + `normalize_coeffs_8bpc`).
///
/// Output position `i` reads `count(i)` input pixels from `first(i)` on, with the weights
/// `weights[(i - outputs.lowerBound) * stride ..< + count(i)]`. Each position's weights depend
/// only on the position, so computing a sub-range (the part a centre crop keeps) gives the same
/// numbers as computing them all.
struct ResampleWeights {
    /// Pillow's `PRECISION_BITS` (32 - 8 - 2): 8 bits for the result, 2 for negative lobes and
    /// overshoot, the rest for the fraction.
    static let precisionBits = 22

    /// The output positions these weights are for.
    let outputs: Range<Int>
    /// Weights per output position (Pillow's `ksize`, an upper bound on `count`).
    let stride: Int
    /// First input pixel of each output position.
    private(set) var firsts: [Int32]
    /// Number of input pixels of each output position.
    private(set) var counts: [Int32]
    /// Fixed-point weights, `stride` per output position, zero past `count`.
    private(set) var weights: [Int32]

    /// - Parameters:
    ///   - inputSize: pixels along this axis in the source.
    ///   - outputSize: pixels along this axis in the full resized image.
    ///   - outputs: the output positions wanted (a sub-range of `0..<outputSize`).
    ///   - filter: any filter but `.nearest`.
    init(inputSize: Int, outputSize: Int, outputs: Range<Int>, filter: ResamplingFilter) {
        precondition(filter != .nearest && inputSize > 0 && outputSize > 0)
        self.outputs = outputs
        // Pillow receives the box as C floats; the span is subtracted in single precision.
        let in0: Float = 0
        let in1 = Float(inputSize)
        let scale = Double(in1 - in0) / Double(outputSize)
        let filterScale = max(scale, 1.0)  // downscaling widens the kernel (antialiasing)
        let support = filter.support * filterScale
        let stride = Int(support.rounded(.up)) * 2 + 1
        self.stride = stride
        let invFilterScale = 1.0 / filterScale

        firsts = [Int32](repeating: 0, count: outputs.count)
        counts = [Int32](repeating: 0, count: outputs.count)
        weights = [Int32](repeating: 0, count: outputs.count * stride)
        var k = [Double](repeating: 0, count: stride)
        for (slot, xx) in outputs.enumerated() {
            let center = Double(in0) + (Double(xx) + 0.5) * scale
            // C's (int) truncates toward zero; the clamps follow.
            let xmin = max(Int(center - support + 0.5), 0)
            let xmax = min(Int(center + support + 0.5), inputSize) - xmin
            var total = 0.0
            for x in 0..<max(xmax, 0) {
                let w = filter.weight((Double(x + xmin) - center + 0.5) * invFilterScale)
                k[x] = w
                total += w
            }
            if total != 0 {
                for x in 0..<max(xmax, 0) { k[x] /= total }
            }
            firsts[slot] = Int32(xmin)
            counts[slot] = Int32(max(xmax, 0))
            let scaleUp = Double(1 << Self.precisionBits)
            for x in 0..<max(xmax, 0) {
                // Pillow rounds half away from zero, then truncates (`(int)(±0.5 + w * 2^22)`).
                let v = k[x] < 0 ? -0.5 + k[x] * scaleUp : 0.5 + k[x] * scaleUp
                weights[slot * stride + x] = Int32(v)
            }
        }
    }

    /// The input pixels rows/columns that `positions` read, as one range.
    func inputSpan(of positions: Range<Int>) -> Range<Int> {
        guard !positions.isEmpty else { return 0..<0 }
        let a = positions.lowerBound - outputs.lowerBound, b = positions.upperBound - 1 - outputs.lowerBound
        return Int(firsts[a])..<Int(firsts[b] + counts[b])
    }
}
