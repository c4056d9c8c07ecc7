@testable import EmbedAudio
import EmbedSys
import Testing

/// EmbedAudio's log-mel features against transformers' `WhisperFeatureExtractor` computed in
/// float64 (tools/make-golden-audio.py) on real 16-kHz speech, 8-kHz speech resampled once by the
/// script, a synthetic chirp, a 30.5-s input (trimmed) and no input at all.
struct GoldenFeatureTests {
    static let tolerance: Float = 1e-4

    @Test(arguments: AudioFixtures.cases)
    func featuresMatchTransformers(_ c: AudioFixtures.Case) throws {
        var config = WhisperFeatureConfig()
        config.featureSize = c.melCount
        let extractor = WhisperFeatureExtractor(config: config)
        let samples = try AudioFixtures.samples(c)
        #expect(samples.count == c.sampleCount)
        let got = try extractor.features(samples: samples)
        let frames = extractor.frameCount
        #expect(got.count == c.melCount * 3000 && frames == 3000)

        let want = try AudioFixtures.floats(c.features)
        try #require(want.count == c.melCount * c.framesStored)
        var worst: Float = 0, at = (0, 0), identical = 0
        for m in 0..<c.melCount {
            for f in 0..<c.framesStored {
                let d = abs(got[m * frames + f] - want[m * c.framesStored + f])
                if !(d <= worst) { worst = d; at = (m, f) }
                if d == 0 { identical += 1 }
            }
        }
        // The frames past those stored are pure padding: each equals the script's one value.
        var worstPadding: Float = 0
        if let pad = c.paddingFrameValue {
            for m in 0..<c.melCount {
                for f in c.framesStored..<frames { worstPadding = max(worstPadding, abs(got[m * frames + f] - pad)) }
            }
        } else {
            #expect(c.framesStored == frames, "\(c): no padding value, so every frame is stored")
        }
        print("EmbedAudio features \(c): max |embedd - transformers (float64)| = \(worst) over \(c.framesStored) frames "
              + "(at mel \(at.0), frame \(at.1); \(identical) of \(want.count) values bit-identical, range "
              + "\(want.min()!)...\(want.max()!)); padding frames \(worstPadding)")
        #expect(worst <= Self.tolerance, "\(c): max abs diff \(worst) at mel \(at.0), frame \(at.1)")
        #expect(worstPadding <= Self.tolerance, "\(c): padding frames differ by \(worstPadding)")
    }

    /// No samples at all: every frame is padding, whose power is 0 → the floor 1e-10 → log10 −10,
    /// the maximum too, so nothing is clamped: (−10 + 4) / 4 = −1.5 everywhere.
    @Test func silenceIsMinusOnePointFive() throws {
        let out = try WhisperFeatureExtractor(config: WhisperFeatureConfig()).features(samples: [])
        #expect(out.allSatisfy { $0 == -1.5 })
    }

    /// Samples past 30 s do not change anything (transformers truncates them).
    @Test func samplesPastTheWindowAreIgnored() throws {
        let c = try #require(AudioFixtures.cases.first { $0.name == "full-30s" })
        let samples = try AudioFixtures.samples(c)
        let extractor = WhisperFeatureExtractor(config: WhisperFeatureConfig())
        let a = try extractor.features(samples: samples)
        let b = try extractor.features(samples: Array(samples.prefix(480000)))
        var c2 = samples
        for i in 480000..<c2.count { c2[i] = Float.nan }
        let d = try extractor.features(samples: c2)
        #expect(a == b && a == d)
    }

    /// A NaN or infinite sample inside the window is refused, naming its index.
    @Test func nonFiniteSamplesAreRefused() {
        let extractor = WhisperFeatureExtractor(config: WhisperFeatureConfig())
        for bad in [Float.nan, .infinity, -.infinity] {
            var samples = [Float](repeating: 0.1, count: 16003)
            samples[16001] = bad
            #expect(throws: FeatureError("sample 16001 is \(bad), not a finite number")) {
                _ = try extractor.features(samples: samples)
            }
        }
    }

    /// The padding shortcut (one padding frame computed, the rest copied) against computing
    /// every frame: a nonzero padding value makes the padding frames differ from silence.
    @Test func paddingShortcutEqualsFullComputation() throws {
        var config = WhisperFeatureConfig()
        config.paddingValue = 0.25
        let extractor = WhisperFeatureExtractor(config: config)
        let c = try #require(AudioFixtures.cases.first { $0.name == "cards-001" })
        var samples = try AudioFixtures.samples(c)
        let short = try extractor.features(samples: samples)
        #expect(extractor.computedFrames(sampleCount: samples.count) < 200)
        // The same window written out in full: no padding left, so every frame is computed.
        samples += [Float](repeating: 0.25, count: 480000 - samples.count)
        #expect(extractor.computedFrames(sampleCount: samples.count) == 3000)
        let full = try extractor.features(samples: samples)
        #expect(short == full)
    }

    /// One extractor, many threads at once: every thread gets the single-thread result.
    @Test func concurrentCallsAgree() throws {
        let extractor = WhisperFeatureExtractor(config: WhisperFeatureConfig())
        let c = try #require(AudioFixtures.cases.first { $0.name == "sense-0880" })
        let samples = try AudioFixtures.samples(c)
        let expected = try extractor.features(samples: samples)
        let results = Results(count: 4)
        let threads = try (0..<4).map { i in
            try OSThread { results.set(i, (0..<3).allSatisfy { _ in (try? extractor.features(samples: samples)) == expected }) }
        }
        for t in threads { t.join() }
        #expect(results.all)
    }
}

/// One flag per thread. Invariant: thread i writes only slot i, and the flags are read only
/// after every thread has been joined.
private final class Results: @unchecked Sendable {
    private let flags: UnsafeMutablePointer<Bool>
    private let count: Int
    init(count: Int) {
        self.count = count
        flags = .allocate(capacity: count)
        flags.initialize(repeating: false, count: count)
    }
    deinit { flags.deallocate() }
    func set(_ i: Int, _ v: Bool) { flags[i] = v }
    var all: Bool { (0..<count).allSatisfy { flags[$0] } }
}
