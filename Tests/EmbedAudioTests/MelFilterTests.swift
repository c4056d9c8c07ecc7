@testable import EmbedAudio
import EmbedSys
import Testing

/// The mel filters against openai-whisper's `mel_filters.npz` (librosa's filters, float32), and
/// the FFT and log against plain float64 arithmetic.
struct MelFilterTests {
    /// openai-whisper's filters are transformers' (float64) rounded to float32 (librosa computes
    /// in float32): they differ by at most 8.3e-8 of a filter's peak (features.json records it).
    /// 2e-7 of the peak is about two float32 ulps.
    static let relativeTolerance = 2e-7

    @Test(arguments: [80, 128])
    func filtersMatchWhisperAssets(_ mels: Int) throws {
        let entry = try #require(AudioFixtures.index["whisper_mel_filters"]?[String(mels)])
        let spans = try #require(entry["spans"]?.array).map { ($0.array![0].int!, $0.array![1].int!) }
        let values = try AudioFixtures.floats(entry["file"]!.string!)
        var config = WhisperFeatureConfig()
        config.featureSize = mels
        let bank = WhisperFeatureExtractor(config: config).filters
        #expect(bank.melCount == mels && bank.binCount == 201 && spans.count == mels)
        var offset = 0, worst = 0.0
        for (m, (first, width)) in spans.enumerated() {
            // The same nonzero bins exactly.
            #expect(bank.firstBin[m] == first && bank.width[m] == width, "mel \(m)")
            let peak = (0..<201).map { bank.weight(mel: m, bin: $0) }.max()!
            for k in 0..<201 {
                let theirs = k >= first && k < first + width ? Double(values[offset + k - first]) : 0
                worst = max(worst, abs(bank.weight(mel: m, bin: k) - theirs) / peak)
            }
            offset += width
        }
        #expect(offset == values.count)
        print("EmbedAudio mel_\(mels): max |embedd - whisper mel_filters.npz| = \(worst) of a filter's peak")
        #expect(worst <= Self.relativeTolerance)
    }

    /// Power spectra of four random signals at once against a direct float64 DFT, for lengths
    /// that use every radix (400 = 2·4·2·5·5, 24 = 2·4·3, 60 = 2·2·3·5, 16 = 2·4·2).
    @Test(arguments: [400, 24, 60, 16, 2])
    func fftMatchesDirectDFT(_ n: Int) {
        let fft = RealFFTx4(length: n)
        var rng = SplitMix(seed: UInt64(n))
        let signals = (0..<4).map { _ in (0..<n).map { _ in rng.uniform() - 0.5 } }
        let half = n / 2
        let buf = UnsafeMutablePointer<SIMD4<Double>>.allocate(capacity: 5 * half + 1)
        defer { buf.deallocate() }
        for j in 0..<half {
            buf[j] = SIMD4(signals[0][2 * j], signals[1][2 * j], signals[2][2 * j], signals[3][2 * j])
            buf[half + j] = SIMD4(signals[0][2 * j + 1], signals[1][2 * j + 1], signals[2][2 * j + 1], signals[3][2 * j + 1])
        }
        fft.powerSpectrum(re: buf, im: buf + half, workRe: buf + 2 * half, workIm: buf + 3 * half, power: buf + 4 * half)
        var worst = 0.0
        for lane in 0..<4 {
            for k in 0...half {
                var re = 0.0, im = 0.0
                for t in 0..<n {
                    let a = 2 * Double.pi * Double((k * t) % n) / Double(n)
                    re += signals[lane][t] * FloatMath.cos(a)
                    im -= signals[lane][t] * FloatMath.sin(a)
                }
                let direct = re * re + im * im  // powerSpectrum gives 4·|X|²
                worst = max(worst, abs(buf[4 * half + k][lane] / 4 - direct) / max(direct, 1e-3))
            }
        }
        #expect(worst < 1e-12, "n \(n): relative error \(worst)")
        #expect(!RealFFTx4.supports(length: 14) && !RealFFTx4.supports(length: 401) && RealFFTx4.supports(length: 512))
    }

    /// The vectorised log10 against libm's log / ln 10 from the mel floor up.
    @Test func vectorLogMatchesLibm() {
        var rng = SplitMix(seed: 7)
        var worst = 0.0
        for _ in 0..<20000 {
            let xs = SIMD4<Double>((0..<4).map { _ in FloatMath.exp(rng.uniform() * 80 - 23.1) })
            let got = VectorLog.log10(xs)
            for l in 0..<4 {
                let want = FloatMath.log(xs[l]) / FloatMath.log(10.0)
                worst = max(worst, abs(got[l] - want) / max(abs(want), 1e-300))
            }
        }
        for x in [1e-10, 1.0, 10.0, 0.5, 2.0, 0.7071067811865476, 1.4142135623730951, 1e30] {
            let got = VectorLog.log10(SIMD4(repeating: x))[0], want = FloatMath.log(x) / FloatMath.log(10.0)
            worst = max(worst, abs(got - want) / max(abs(want), 1e-300))
            if x == 1 { #expect(got == 0) }
        }
        #expect(worst < 1e-15, "relative error \(worst)")
    }
}

/// splitmix64, for deterministic test signals.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    mutating func uniform() -> Double { Double(next() >> 11) * 0x1p-53 }
}
