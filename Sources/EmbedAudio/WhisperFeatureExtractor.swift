import EmbedSys

/// Whisper's log-mel front end, identical to `transformers`' `WhisperFeatureExtractor` (its numpy
/// path, and its reference computed in float64) for the same `preprocessor_config.json`:
///
/// 1. pad with `padding_value` (on the right) or trim to `n_samples` (30 s);
/// 2. STFT: reflect-pad n_fft / 2 samples at both ends (`center=True`), frames of n_fft samples
///    every `hop_length`, times the periodic Hann window, FFT, power |X|²;
/// 3. Slaney mel filters (0 – 8000 Hz, Slaney-normalised), floor 1e-10, log10 — steps 2 and 3 in
///    float64, as transformers' numpy path; the log is rounded to float32 as it rounds it;
/// 4. drop the last frame, clamp to (the maximum over the whole window, padding included) − 8,
///    then (x + 4) / 4, in float32 as transformers does.
///
/// Four frames go through the FFT at once, one per SIMD lane. Frames that lie wholly in the
/// padding are all equal: one is computed and copied. Immutable and `Sendable`: one extractor
/// serves concurrent calls (each call allocates its own ~40 KB of scratch).
public struct WhisperFeatureExtractor: Sendable {
    typealias Lanes = SIMD4<Double>

    /// The resolved settings.
    public let config: WhisperFeatureConfig
    /// The mel filters (`transformers`' `mel_filters`, transposed and sparse).
    public let filters: MelFilterBank
    private let fft: RealFFTx4
    /// The window and the filters as the hot loop reads them.
    private let tables: Tables

    /// The mel floor before the log (`spectrogram(mel_floor=1e-10)`).
    static let melFloor = 1e-10
    /// The dynamic range kept below the window's maximum, in log10 units.
    static let dynamicRange: Float = 8

    /// An extractor for settings already resolved (`WhisperFeatureConfig` has checked them).
    public init(config: WhisperFeatureConfig) {
        self.config = config
        filters = MelFilterBank(binCount: config.frequencyBins, melCount: config.featureSize,
                                minFrequency: 0, maxFrequency: 8000, samplingRate: config.samplingRate)
        fft = RealFFTx4(length: config.nFFT)
        tables = Tables(nFFT: config.nFFT, filters: filters)
    }

    /// Reads a model folder's `preprocessor_config.json` at `path`.
    public init(configFile path: String) throws(FeatureError) {
        self.init(config: try WhisperFeatureConfig(configFile: path))
    }

    /// Mel bins: the features' first dimension.
    public var melCount: Int { config.featureSize }
    /// Frames: the features' second dimension (3000 for 30 s at hop 160).
    public var frameCount: Int { config.frameCount }
    /// Floats `features` writes: `melCount × frameCount`.
    public var outputCount: Int { melCount * frameCount }

    /// The features of one window of 16-kHz mono `samples`, as an array of `outputCount` floats.
    public func features(samples: [Float]) throws(FeatureError) -> [Float] {
        var out = [Float](repeating: 0, count: outputCount)
        try samples.withUnsafeBufferPointer { (s) throws(FeatureError) in
            try out.withUnsafeMutableBufferPointer { (o) throws(FeatureError) in try features(samples: s, into: o) }
        }
        return out
    }

    /// Writes the features of one window of 16-kHz mono `samples` to `output`: `melCount ×
    /// frameCount` floats, row-major (mel, frame) — `input_features[0]` of `transformers`.
    ///
    /// Samples past `config.sampleCount` (30 s) are ignored, as `transformers` truncates them;
    /// cutting longer audio into windows is the caller's job. Throws when a sample the window
    /// uses is NaN or infinite. `output` must hold at least `outputCount` floats.
    public func features(samples: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>) throws(FeatureError) {
        precondition(output.count >= outputCount, "features: the output holds \(output.count) floats, \(outputCount) needed")
        let count = min(samples.count, config.sampleCount)
        if count > 0, let bad = Self.firstNonFinite(samples.baseAddress!, count) {
            throw FeatureError("sample \(bad) is \(samples[bad]), not a finite number")
        }
        let frames = frameCount, computed = computedFrames(sampleCount: count)
        let out = output.baseAddress!

        // Scratch: the packed signal and a work buffer for the FFT, the power spectrum, and
        // frames that reach into the reflected or padded edges, built sample by sample.
        let half = fft.half, n = config.nFFT
        // The power spectrum has `Tables.melPad` zero lanes past its last bin: the mel sums read
        // their filters padded with zero weights up to a multiple of four bins.
        let lanes = UnsafeMutablePointer<Lanes>.allocate(capacity: 5 * half + 1 + Tables.melPad)
        defer { lanes.deallocate() }
        (lanes + 5 * half + 1).initialize(repeating: Lanes(), count: Tables.melPad)
        let (re, im, workRe, workIm, power) = (lanes, lanes + half, lanes + 2 * half, lanes + 3 * half, lanes + 4 * half)
        let edgeFrames = UnsafeMutablePointer<Float>.allocate(capacity: 4 * n)
        defer { edgeFrames.deallocate() }

        let mel = UnsafeMutablePointer<Lanes>.allocate(capacity: melCount)
        defer { mel.deallocate() }
        var peak = SIMD4<Float>(repeating: -.infinity)
        for first in stride(from: 0, to: computed, by: 4) {
            let valid = min(4, computed - first)
            // Lanes past the last computed frame repeat it (their results are not stored).
            let p0 = frameSamples(first, samples.baseAddress, count, edgeFrames)
            let p1 = frameSamples(first + min(1, valid - 1), samples.baseAddress, count, edgeFrames + n)
            let p2 = frameSamples(first + min(2, valid - 1), samples.baseAddress, count, edgeFrames + 2 * n)
            let p3 = frameSamples(first + min(3, valid - 1), samples.baseAddress, count, edgeFrames + 3 * n)
            Self.pack(p0, p1, p2, p3, tables.windowEven, tables.windowOdd, re, im, half: half)
            fft.powerSpectrum(re: re, im: im, workRe: workRe, workIm: workIm, power: power)
            melLog(power, mel, into: out + first, lanes: valid, peak: &peak)
        }

        // Clamp to max − 8 and scale, in float32 as numpy does on the float32 log spectrum.
        let floor = peak.max() - Self.dynamicRange
        for m in 0..<melCount {
            let row = out + m * frames
            for f in 0..<computed {  // a plain loop: LLVM vectorises it (SIMD8's blend compiles lane by lane)
                let x = row[f]
                row[f] = ((x < floor ? floor : x) + 4) * 0.25
            }
            if computed < frames {  // the padding frames all equal the last computed one
                (row + computed).update(repeating: row[computed - 1], count: frames - computed)
            }
        }
    }

    /// Windows the n_fft samples at p0 … p3 (one frame per lane) and packs them for the FFT:
    /// re[j] = x[2j]·w[2j], im[j] = x[2j + 1]·w[2j + 1]. Four samples of each frame are loaded
    /// at once and transposed, rather than gathered one float at a time.
    @inline(__always)
    private static func pack(_ p0: UnsafePointer<Float>, _ p1: UnsafePointer<Float>, _ p2: UnsafePointer<Float>,
                             _ p3: UnsafePointer<Float>, _ we: UnsafePointer<Double>, _ wo: UnsafePointer<Double>,
                             _ re: UnsafeMutablePointer<Lanes>, _ im: UnsafeMutablePointer<Lanes>, half: Int) {
        @inline(__always) func load(_ p: UnsafePointer<Float>) -> Lanes {
            Lanes(UnsafeRawPointer(p).loadUnaligned(as: SIMD4<Float>.self))
        }
        var j = 0
        while j + 2 <= half {
            let a = load(p0 + 2 * j), b = load(p1 + 2 * j), c = load(p2 + 2 * j), d = load(p3 + 2 * j)
            // A 4×4 transpose in two shuffle layers (unpack within 128-bit halves, then swap
            // halves), not one lane insertion per value.
            let abEven = Lanes(a[0], b[0], a[2], b[2]), abOdd = Lanes(a[1], b[1], a[3], b[3])
            let cdEven = Lanes(c[0], d[0], c[2], d[2]), cdOdd = Lanes(c[1], d[1], c[3], d[3])
            re[j] = Lanes(lowHalf: abEven.lowHalf, highHalf: cdEven.lowHalf) * Lanes(repeating: we[j])
            im[j] = Lanes(lowHalf: abOdd.lowHalf, highHalf: cdOdd.lowHalf) * Lanes(repeating: wo[j])
            re[j + 1] = Lanes(lowHalf: abEven.highHalf, highHalf: cdEven.highHalf) * Lanes(repeating: we[j + 1])
            im[j + 1] = Lanes(lowHalf: abOdd.highHalf, highHalf: cdOdd.highHalf) * Lanes(repeating: wo[j + 1])
            j += 2
        }
        if j < half {  // n_fft / 2 odd: the last pair alone
            re[j] = Lanes(Double(p0[2 * j]), Double(p1[2 * j]), Double(p2[2 * j]), Double(p3[2 * j])) * Lanes(repeating: we[j])
            im[j] = Lanes(Double(p0[2 * j + 1]), Double(p1[2 * j + 1]), Double(p2[2 * j + 1]), Double(p3[2 * j + 1]))
                * Lanes(repeating: wo[j])
        }
    }

    /// Frames [0, result) are computed; every later frame lies wholly in the padding (its window
    /// and, at the end, its reflection) and equals frame result − 1, itself all padding.
    func computedFrames(sampleCount count: Int) -> Int {
        let half = config.nFFT / 2
        guard count + half + 1 <= config.sampleCount else { return frameCount }
        let firstPadding = (count + half + config.hopLength - 1) / config.hopLength
        return min(frameCount, firstPadding + 1)
    }

    /// The n_fft samples of frame `frame` of the padded, reflected window: a pointer into the
    /// caller's samples when the frame lies inside them, else built in `scratch`.
    @inline(__always)
    private func frameSamples(_ frame: Int, _ samples: UnsafePointer<Float>?, _ count: Int,
                              _ scratch: UnsafeMutablePointer<Float>) -> UnsafePointer<Float> {
        let n = config.nFFT, start = frame * config.hopLength - n / 2  // in unpadded coordinates
        if start >= 0 && start + n <= count, let samples { return samples + start }
        let last = config.sampleCount - 1, pad = Float(config.paddingValue)
        for i in 0..<n {
            var t = start + i
            if t < 0 { t = -t }                    // np.pad(mode="reflect"): the edge is not repeated
            if t > last { t = 2 * last - t }
            scratch[i] = t < count ? samples![t] : pad
        }
        return UnsafePointer(scratch)
    }

    /// The mel projection (sparse), floor, log10 and float32 rounding of one group of four
    /// frames: writes `lanes` frames of every mel row (row stride `frameCount`) and raises `peak`.
    /// The sums go to `mel` first, so that the logs, independent of each other, run back to back.
    @inline(__always)
    private func melLog(_ power: UnsafeMutablePointer<Lanes>, _ mel: UnsafeMutablePointer<Lanes>,
                        into out: UnsafeMutablePointer<Float>, lanes: Int, peak: inout SIMD4<Float>) {
        let frames = frameCount, floor = Lanes(repeating: Self.melFloor)
        let firstBin = tables.firstBin, width = tables.paddedWidth
        var w = tables.melWeights
        for m in 0..<melCount {
            // Four independent sums, so that the fused multiply-adds do not wait on each other
            // (one chain of them made the mel sums latency-bound); the weights are zero-padded.
            var bins = power + firstBin[m]
            let end = w + width[m]
            var a0 = Lanes(), a1 = Lanes(), a2 = Lanes(), a3 = Lanes()
            while w < end {
                a0 = a0.addingProduct(Lanes(repeating: w[0]), bins[0])
                a1 = a1.addingProduct(Lanes(repeating: w[1]), bins[1])
                a2 = a2.addingProduct(Lanes(repeating: w[2]), bins[2])
                a3 = a3.addingProduct(Lanes(repeating: w[3]), bins[3])
                w += 4
                bins += 4
            }
            let acc = (a0 + a1) + (a2 + a3)
            mel[m] = acc.replacing(with: floor, where: acc .< floor)
        }
        for m in 0..<melCount {
            let y = SIMD4<Float>(VectorLog.log10(mel[m]))
            let row = out + m * frames
            if lanes == 4 {
                UnsafeMutableRawPointer(row).storeBytes(of: y, as: SIMD4<Float>.self)
                peak = peak.replacing(with: y, where: peak .< y)  // the generic pointwiseMax is a call
            } else {
                for l in 0..<lanes {
                    row[l] = y[l]
                    peak[l] = max(peak[l], y[l])
                }
            }
        }
    }

    /// The index of the first NaN or infinite sample among the first `count`, or nil.
    private static func firstNonFinite(_ samples: UnsafePointer<Float>, _ count: Int) -> Int? {
        // The largest magnitude's bit pattern: at least the exponent's all-ones for NaN and ±inf.
        // (An integer maximum, which LLVM vectorises; a float reduction it must keep in order.)
        var largest: UInt32 = 0
        UnsafeRawPointer(samples).withMemoryRebound(to: UInt32.self, capacity: count) { bits in
            for i in 0..<count { largest = max(largest, bits[i] & 0x7fff_ffff) }
        }
        guard largest >= 0x7f80_0000 else { return nil }
        return (0..<count).first { !samples[$0].isFinite }
    }
}

/// The Hann window and the mel filters, laid out for the hot loop (plain pointers, no bounds or
/// uniqueness checks). Invariant: written only by `init`, read-only afterwards, freed by
/// `deinit` — which makes sharing it between threads safe (`@unchecked Sendable`).
private final class Tables: @unchecked Sendable {
    /// The periodic Hann window's even and odd samples (the packed FFT input's real and imaginary parts).
    let windowEven: UnsafeMutablePointer<Double>, windowOdd: UnsafeMutablePointer<Double>
    /// Each filter's first nonzero bin (`MelFilterBank`'s) and width rounded up to a multiple of 4.
    let firstBin: UnsafeMutablePointer<Int>, paddedWidth: UnsafeMutablePointer<Int>
    /// The filters' nonzero weights / 4 (exact: the FFT gives 4·|X|²), each filter's followed by
    /// zeros up to its padded width.
    let melWeights: UnsafeMutablePointer<Double>
    /// The most bins a padded filter reads past its last nonzero one.
    static let melPad = 3

    init(nFFT n: Int, filters: MelFilterBank) {
        // window_function(n_fft, "hann"): np.hanning(n_fft + 1)[:-1], i.e. 0.5 + 0.5·cos(π·j / n_fft)
        // for j = -n_fft, -n_fft + 2, …, evaluated as numpy evaluates it.
        let window = (0..<n).map { i -> Double in
            let j = Double(1 - (n + 1) + 2 * i)
            return 0.5 + 0.5 * FloatMath.cos(Double.pi * j / Double(n))
        }
        windowEven = Self.copy(stride(from: 0, to: n, by: 2).map { window[$0] })
        windowOdd = Self.copy(stride(from: 1, to: n, by: 2).map { window[$0] })
        firstBin = Self.copy(filters.firstBin)
        let padded = filters.width.map { ($0 + 3) / 4 * 4 }
        paddedWidth = Self.copy(padded)
        var weights: [Double] = []
        for m in 0..<filters.melCount {
            weights += filters.weights[filters.offset[m]..<filters.offset[m] + filters.width[m]].map { $0 * 0.25 }
            weights += [Double](repeating: 0, count: padded[m] - filters.width[m])
        }
        melWeights = Self.copy(weights)
    }

    deinit {
        windowEven.deallocate()
        windowOdd.deallocate()
        firstBin.deallocate()
        paddedWidth.deallocate()
        melWeights.deallocate()
    }

    private static func copy<T>(_ values: [T]) -> UnsafeMutablePointer<T> {
        let p = UnsafeMutablePointer<T>.allocate(capacity: max(1, values.count))
        p.initialize(from: values, count: values.count)
        return p
    }
}
