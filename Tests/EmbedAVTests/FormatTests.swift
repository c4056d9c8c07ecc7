import EmbedAV
import EmbedSys
import Testing

/// Every format EmbedAV opens, from three real-speech sources, against the ffmpeg command line's
/// decode with the same down-mix (`pan`, the mean) and resampler (swresample's soxr engine).
@Suite(.enabled(if: AudioFixtures.available, AudioFixtures.skipReason))
struct FormatTests {
    @Test(arguments: AudioFixtures.files)
    func matchesTheCommandLine(_ file: AudioFixtures.File) throws {
        let bytes = AudioFixtures.bytes(file.name)
        try #require(!bytes.isEmpty, "ffmpeg could not make \(file.name): see \(AudioFixtures.dir)/ffmpeg.log")
        let decoded = try AudioDecoder.decode(bytes: bytes)
        let reference = AudioFixtures.reference(file.name, channels: file.channels)
        try #require(!reference.isEmpty)
        let d = AudioFixtures.deviation(decoded.samples, reference)
        print("\(file.name): \(decoded.container)/\(decoded.codec) \(decoded.sourceSampleRate) Hz × \(decoded.sourceChannels): \(d)")
        #expect(decoded.samples.count == reference.count)
        #expect(decoded.sourceChannels == file.channels)
        #expect(d.maxAbs <= 1e-6)  // measured: 0 for every file (the same libavcodec, libswresample, libsoxr)
    }

    /// A 16-bit PCM WAV whose data is really MP3 frames (S/PDIF-style wrapping): FFmpeg probes
    /// the stream's data and switches to the MP3 decoder, on EmbedAV's list, as the command line
    /// does. (Bare frames: an ID3 tag inside the data would be a packet the decoder rejects.)
    @Test func wavWrappingMP3() throws {
        let wav = AudioFixtures.bytes("m16.s16.wav"), mp3 = AudioFixtures.bytes("m16.frames.mp3")
        let data = try #require((0..<(wav.count - 4)).first { wav[$0..<($0 + 4)].elementsEqual("data".utf8) })
        func le32(_ v: Int) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
        var wrapped = Array(wav[..<data]) + Array("data".utf8) + le32(mp3.count) + mp3
        wrapped.replaceSubrange(4..<8, with: le32(wrapped.count - 8))
        let name = "mp3-in-pcm.wav"
        try AudioFixtures.write(name, wrapped)
        let decoded = try AudioDecoder.decode(bytes: wrapped, mimeType: "audio/wav")
        #expect(decoded.codec == "mp3" && decoded.container == "WAV")
        let reference = AudioFixtures.reference(name, channels: 1)
        #expect(decoded.samples.count == reference.count)
        #expect(AudioFixtures.deviation(decoded.samples, reference).maxAbs == 0)
    }

    /// The lossless 16-kHz mono files decode to exactly the 16-bit samples of the source WAV
    /// (x / 32768), independently of the command line.
    @Test(arguments: ["m16.s16.wav", "m16.s24.wav", "m16.s32.wav", "m16.f32.wav", "m16.flac", "m16.flac.oga",
                      "m16.aiff", "m16.alac.m4a"])
    func losslessEqualsTheSource(_ name: String) throws {
        let wav = AudioFixtures.bytes("m16.wav")
        let data = try #require((0..<(wav.count - 4)).first { wav[$0..<($0 + 4)].elementsEqual("data".utf8) })
        let pcm = stride(from: data + 8, to: wav.count - 1, by: 2).map { Float(Int16(bitPattern: UInt16(wav[$0]) | UInt16(wav[$0 + 1]) << 8)) / 32_768 }
        let decoded = try AudioDecoder.decode(bytes: AudioFixtures.bytes(name))
        #expect(decoded.samples == pcm)
        #expect(decoded.sourceSampleRate == 16_000 && decoded.sourceChannels == 1)
    }
}
