import EmbedSys

/// Triangular mel filters computed exactly as `transformers.audio_utils.mel_filter_bank(...,
/// norm="slaney", mel_scale="slaney")` computes them (float64, the same operations in the same
/// order), stored sparsely: a filter is nonzero on a few consecutive FFT bins only.
public struct MelFilterBank: Sendable, Equatable {
    /// The number of filters (mel bins).
    public let melCount: Int
    /// The number of FFT bins each filter spans (`1 + n_fft / 2`).
    public let binCount: Int
    /// Filter `m` is nonzero on bins `firstBin[m] ..< firstBin[m] + width[m]` (zero everywhere
    /// else; an all-zero filter has width 0).
    public let firstBin: [Int]
    /// See `firstBin`.
    public let width: [Int]
    /// Where filter `m`'s weights start in `weights`.
    let offset: [Int]
    /// Every filter's nonzero span, one after another.
    public let weights: [Double]

    /// Slaney-scale, Slaney-normalised filters from `minFrequency` to `maxFrequency` Hz over the
    /// bins of a one-sided spectrum at `samplingRate`.
    public init(binCount: Int, melCount: Int, minFrequency: Double, maxFrequency: Double, samplingRate: Int) {
        precondition(binCount >= 2 && melCount >= 1 && minFrequency <= maxFrequency)
        self.binCount = binCount
        self.melCount = melCount
        // Centres of the triangles: mel_min … mel_max in melCount + 2 steps (np.linspace), in Hz.
        let melMin = Self.hertzToMel(minFrequency), melMax = Self.hertzToMel(maxFrequency)
        let step = (melMax - melMin) / Double(melCount + 1)
        var centres = (0..<(melCount + 2)).map { Self.melToHertz(Double($0) * step + melMin) }
        centres[melCount + 1] = Self.melToHertz(melMax)  // linspace sets the endpoint exactly
        // FFT bin frequencies: np.linspace(0, sampling_rate // 2, binCount).
        let binStep = Double(samplingRate / 2) / Double(binCount - 1)
        let binHz = (0..<binCount).map { $0 == binCount - 1 ? Double(samplingRate / 2) : Double($0) * binStep }

        var first: [Int] = [], widths: [Int] = [], offsets: [Int] = [], weights: [Double] = []
        for m in 0..<melCount {
            let lower = centres[m + 1] - centres[m], upper = centres[m + 2] - centres[m + 1]
            let enorm = 2.0 / (centres[m + 2] - centres[m])
            var row = [Double](repeating: 0, count: binCount)
            for k in 0..<binCount {
                let down = -(centres[m] - binHz[k]) / lower
                let up = (centres[m + 2] - binHz[k]) / upper
                row[k] = max(0.0, min(down, up)) * enorm
            }
            let lo = row.firstIndex { $0 != 0 } ?? 0
            let hi = (row.lastIndex { $0 != 0 } ?? -1) + 1
            first.append(lo)
            widths.append(max(0, hi - lo))
            offsets.append(weights.count)
            if hi > lo { weights += row[lo..<hi] }
        }
        firstBin = first
        width = widths
        offset = offsets
        self.weights = weights
    }

    /// Filter `m`'s weight for bin `k` (zero outside its span).
    public func weight(mel m: Int, bin k: Int) -> Double {
        let i = k - firstBin[m]
        return i >= 0 && i < width[m] ? weights[offset[m] + i] : 0
    }

    /// Hz → mel on the Slaney scale (linear below 1 kHz, logarithmic above), as `hertz_to_mel`.
    static func hertzToMel(_ hz: Double) -> Double {
        if hz >= 1000 { return 15.0 + FloatMath.log(hz / 1000.0) * (27.0 / FloatMath.log(6.4)) }
        return 3.0 * hz / 200.0
    }

    /// mel → Hz on the Slaney scale, as `mel_to_hertz`.
    static func melToHertz(_ mel: Double) -> Double {
        if mel >= 15 { return 1000.0 * FloatMath.exp((FloatMath.log(6.4) / 27.0) * (mel - 15.0)) }
        return 200.0 * mel / 3.0
    }
}
