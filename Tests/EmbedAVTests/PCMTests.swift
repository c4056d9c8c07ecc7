import EmbedAV
import EmbedSys
import Testing

/// `AudioResampler`: raw interleaved float32 PCM (a plugin's PCM_F32 inputs) through the same
/// down-mix and resampler as decoded files.
@Suite(.enabled(if: AudioFixtures.available, AudioFixtures.skipReason))
struct PCMTests {
    /// The samples of a float WAV, interleaved as they are in the file (after its header).
    func interleaved(_ name: String) throws -> [Float] {
        let b = AudioFixtures.bytes(name)
        var at = 12  // RIFF chunks after "RIFF" size "WAVE"
        while at + 8 <= b.count {
            let size = Int(b[at + 4]) | Int(b[at + 5]) << 8 | Int(b[at + 6]) << 16 | Int(b[at + 7]) << 24
            if b[at] == 0x64, b[at + 1] == 0x61, b[at + 2] == 0x74, b[at + 3] == 0x61 {  // "data"
                return b[(at + 8)..<min(b.count, at + 8 + size)].withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
            }
            at += 8 + size + (size & 1)
        }
        throw AudioError.corrupt(container: "WAV", detail: "no data chunk in the test file")
    }

    /// Stereo 44.1 kHz and mono 48 kHz raw PCM give what the command line gives for the same
    /// samples read as raw f32le, and what the decoder gives for the float WAV holding them.
    @Test(arguments: [("s44.f32.wav", 44_100, 2), ("m48.f32.wav", 48_000, 1), ("m16.f32.wav", 16_000, 1)])
    func matchesTheCommandLineAndTheDecoder(_ name: String, _ rate: Int, _ channels: Int) throws {
        let pcm = try interleaved(name)
        let mono = try AudioResampler.mono(interleaved: pcm, sampleRate: rate, channels: channels)
        let reference = AudioFixtures.reference(name, channels: channels)
        let d = AudioFixtures.deviation(mono, reference)
        print("PCM \(name): \(d)")
        #expect(mono.count == reference.count)
        #expect(d.maxAbs <= 1e-6)  // measured: 0 (the same libswresample and libsoxr)
        #expect(try AudioDecoder.decode(bytes: AudioFixtures.bytes(name)).samples == mono)
    }

    /// Raw bytes at an odd address (the ABI gives no alignment) resample the same.
    @Test func unalignedBytes() throws {
        let pcm = try interleaved("s44.f32.wav")
        let aligned = try AudioResampler.mono(interleaved: pcm, sampleRate: 44_100, channels: 2)
        let shifted: [UInt8] = [0] + pcm.withUnsafeBytes { Array($0) }
        let fromBytes = try shifted.withUnsafeBytes { raw in
            try AudioResampler.mono(pcmF32: UnsafeRawBufferPointer(rebasing: raw[1...]), sampleRate: 44_100, channels: 2)
        }
        #expect(fromBytes == aligned)
    }

    /// Five channels: the mean, not FFmpeg's surround down-mix weights.
    @Test func meanOfManyChannels() throws {
        var pcm: [Float] = []
        for i in 0..<1_000 { for c in 0..<5 { pcm.append(Float(c + 1) * 0.01 * Float(i % 7)) } }
        let mono = try AudioResampler.mono(interleaved: pcm, sampleRate: 16_000, channels: 5)
        for i in 0..<1_000 { #expect(mono[i] == (pcm[5 * i] + pcm[5 * i + 1] + pcm[5 * i + 2] + pcm[5 * i + 3] + pcm[5 * i + 4]) / 5) }
    }

    @Test func refusals() {
        func refusal(_ pcm: [Float], _ rate: Int, _ channels: Int, _ limits: AudioLimits = AudioLimits()) -> AudioError? {
            do { _ = try AudioResampler.mono(interleaved: pcm, sampleRate: rate, channels: channels, limits: limits); return nil }
            catch { return error }
        }
        #expect(refusal([], 16_000, 1) == .emptyInput)
        #expect(refusal([0, 0, 0], 16_000, 2) == .invalidPCM("12 bytes is not a whole number of 2-channel float32 frames (8 bytes each)"))
        #expect(refusal([0, 0], 0, 1) == .badSampleRate(container: "PCM", rate: 0))
        #expect(refusal([0, 0], 800_000, 1) == .badSampleRate(container: "PCM", rate: 800_000))
        #expect(refusal([0, 0], 16_000, 0) == .badChannelCount(container: "PCM", count: 0))
        #expect(refusal([0, 0, .nan, 0], 16_000, 2) == .invalidPCM("sample 2 (frame 1, channel 0) is NaN"))
        #expect(refusal([0, -.infinity], 16_000, 1) == .invalidPCM("sample 1 (frame 1, channel 0) is infinite"))
        #expect(refusal([Float](repeating: 0, count: 32_000), 16_000, 1, AudioLimits(maxSeconds: 1.5))
                == .tooLong(seconds: 2, limit: 1.5, declared: true))
        #expect(refusal([Float](repeating: 0, count: 300), 16_000, 1, AudioLimits(maxInputBytes: 1_000))
                == .tooManyBytes(count: 1_200, limit: 1_000))
    }

    /// The extremes of `AudioLimits.sampleRates` resample (1 Hz upward by 16,000×).
    @Test func extremeRates() throws {
        #expect(try AudioResampler.mono(interleaved: [0.5, -0.5, 0.25], sampleRate: 1, channels: 1).count == 48_000)
        let high = [Float](repeating: 0.1, count: 768_000)
        #expect(try AudioResampler.mono(interleaved: high, sampleRate: 768_000, channels: 1).count == 16_000)
    }
}
