import EmbedAV
import EmbedSys
import Testing

/// Every way an input is refused, each with its own error and a message naming the problem.
@Suite(.enabled(if: AudioFixtures.available, AudioFixtures.skipReason))
struct BadInputTests {
    func refusal(_ bytes: [UInt8], mimeType: String? = nil, limits: AudioLimits = AudioLimits()) -> AudioError? {
        do {
            let audio = try AudioDecoder.decode(bytes: bytes, mimeType: mimeType, limits: limits)
            Issue.record("decoded \(audio.seconds) s of \(audio.container)/\(audio.codec)")
            return nil
        } catch {
            return error
        }
    }

    /// `name` with the little-endian integer at `offset` (of `width` bytes) replaced.
    func patched(_ name: String, at offset: Int, width: Int, value: UInt64) -> [UInt8] {
        var b = AudioFixtures.bytes(name)
        for i in 0..<width { b[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
        return b
    }

    @Test func zeroBytes() {
        #expect(refusal([]) == .emptyInput)
        #expect(AudioError.emptyInput.description == "empty input: zero bytes is not audio")
    }

    @Test func tooManyBytes() {
        let b = AudioFixtures.bytes("m16.s16.wav")
        let e = refusal(b, limits: AudioLimits(maxInputBytes: 1_000))
        #expect(e == .tooManyBytes(count: b.count, limit: 1_000))
        #expect(e?.description == "audio file is \(b.count) bytes; the limit is 1000")
    }

    @Test func randomBytesAndText() {
        var rng = SplitMix64(seed: 21)
        for count in [16, 4_096, 65_536] {
            let noise = (0..<count).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            #expect(refusal(noise) == .unrecognized(declared: nil, prefix: Array(noise.prefix(8))))
        }
        let text = Array("hello world, this is not audio\n".utf8)
        let e = refusal(text, mimeType: "audio/wav")
        #expect(e == .unrecognized(declared: "audio/wav", prefix: Array(text.prefix(8))))
        #expect(e?.description.hasPrefix("declared audio/wav but not a recognisable audio file (starts with \"hello wo\")") == true)
    }

    /// The first bytes' signature damaged: nothing recognisable is left.
    @Test(arguments: [("m16.s16.wav", 0), ("m16.s16.wav", 8), ("m16.flac", 3), ("m16.ogg", 0), ("m16.webm", 0)])
    func flippedSignature(_ name: String, _ offset: Int) {
        var b = AudioFixtures.bytes(name)
        b[offset] ^= 0x40
        #expect(refusal(b) == .unrecognized(declared: nil, prefix: Array(b.prefix(8))))
    }

    /// A damaged header FFmpeg still recognises, and a damaged first frame.
    @Test func corruptHeaderAndFrame() {
        var wav = AudioFixtures.bytes("m16.s16.wav")
        wav[15] = UInt8(ascii: "X")  // "fmt " → "fmX "
        let e = refusal(wav)
        #expect(e == .corrupt(container: "WAV", detail: "reading the header: no 'fmt ' or 'XMA2' tag found"))
        #expect(e?.description == "corrupt WAV file: reading the header: no 'fmt ' or 'XMA2' tag found")

        var aac = AudioFixtures.bytes("m16.aac")
        aac[0] = 0  // the first ADTS sync word broken: the parser resyncs into garbage
        guard case .corrupt(container: "AAC", let detail)? = refusal(aac) else { Issue.record("not a corrupt AAC"); return }
        #expect(detail.hasPrefix("decoding fails at 0 s: "))
    }

    /// Cut downloads of every format that can tell: WAV, AIFF and raw AAC by a packet cut short,
    /// FLAC and ADTS AAC by a last frame that does not decode, MP3 (Xing header) and WebM by the
    /// duration their header declares, MP4 by a box running past the end, Ogg by its last page.
    @Test(arguments: ["m16.s16.wav", "m16.s24.wav", "m16.f32.wav", "s44.s16.wav", "m16.flac", "m16.ogg", "m16.opus",
                      "s44.opus", "m16.flac.oga", "m16.mp3", "s44.mp3", "m16.m4a", "m16.mp4", "m16.alac.m4a",
                      "m16.aiff", "m16.webm", "m16.aac"])
    func truncated(_ name: String) {
        let b = AudioFixtures.bytes(name)
        for fraction in [0.25, 0.5, 0.75, 0.9] {
            let cut = Array(b.prefix(Int(Double(b.count) * fraction)))
            let e = refusal(cut)
            guard case .truncated(let container, let detail)? = e else {
                Issue.record("\(name) cut at \(fraction): \(e.map { "\($0)" } ?? "decoded")")
                continue
            }
            #expect(e?.description == "truncated \(container) file: \(detail)")
        }
    }

    /// An Ogg file cut exactly between two pages: every page FFmpeg sees is whole, but the
    /// last one does not carry the end-of-stream flag.
    @Test func oggCutBetweenPages() {
        let b = AudioFixtures.bytes("m16.opus")
        let pages = (0..<(b.count - 4)).filter { b[$0] == 0x4F && b[$0 + 1] == 0x67 && b[$0 + 2] == 0x67 && b[$0 + 3] == 0x53 }
        try? #require(pages.count > 4)
        let cut = Array(b.prefix(pages[pages.count / 2]))
        guard case .truncated(container: "Ogg", let detail)? = refusal(cut) else { Issue.record("not truncated"); return }
        #expect(detail.hasSuffix("does not end its stream: the data stops between pages"))
    }

    @Test func wavChannelsAndSampleRate() {
        // Bytes 22-23 of a canonical WAV header: the channel count; 24-27: the sample rate.
        #expect(refusal(patched("m16.s16.wav", at: 22, width: 2, value: 0)) == .badChannelCount(container: "WAV", count: 0))
        #expect(refusal(patched("m16.s16.wav", at: 22, width: 2, value: 65)) == .badChannelCount(container: "WAV", count: 65))
        for rate in [0, 1_000_000, 4_000_000_000] as [UInt64] {
            #expect(refusal(patched("m16.s16.wav", at: 24, width: 4, value: rate)) == .badSampleRate(container: "WAV", rate: Int(rate)))
        }
        #expect(AudioError.badChannelCount(container: "WAV", count: 0).description == "the WAV audio declares 0 channels; 1 to 64 are accepted")
        #expect(AudioError.badSampleRate(container: "WAV", rate: 4_000_000_000).description
                == "the WAV audio declares a sample rate of 4000000000 Hz; 1 to 768000 Hz are accepted")
        // 1 Hz is a rate, but then the header declares 113,600 s of audio.
        #expect(refusal(patched("m16.s16.wav", at: 24, width: 4, value: 1)) == .tooLong(seconds: 113_600, limit: 3_600, declared: true))
    }

    @Test func mislabelled() {
        let mp3 = AudioFixtures.bytes("m16.mp3")
        let e = refusal(mp3, mimeType: "audio/wav")
        #expect(e == .mislabelled(declared: "audio/wav", found: "MP3"))
        #expect(e?.description == "mislabelled audio: declared audio/wav but the bytes are MP3")
        #expect(refusal(AudioFixtures.bytes("m16.s16.wav"), mimeType: "image/png") == .mislabelled(declared: "image/png", found: "WAV"))
        #expect(refusal(AudioFixtures.bytes("m16.flac"), mimeType: "audio/mpeg") == .mislabelled(declared: "audio/mpeg", found: "FLAC"))
    }

    /// Generic, unknown and differently spelled types of the right family decode.
    @Test func declaredTypesThatPass() throws {
        let cases: [(String, String)] = [
            ("m16.mp3", "application/octet-stream"), ("m16.mp3", "Audio/MPEG; charset=binary"), ("m16.mp3", "audio/x-unknown"),
            ("m16.mp3", ""), ("m16.m4a", "audio/aac"), ("m16.m4a", "video/mp4"), ("m16.aac", "audio/aac"),
            ("m16.opus", "audio/opus"), ("m16.webm", "audio/opus"), ("m16.webm", "video/webm"), ("m16.flac.oga", "audio/ogg"),
            ("m16.s16.wav", "audio/x-wav"), ("m16.aiff", "audio/aiff"), ("m16.flac", "audio/x-flac"),
        ]
        for (name, mime) in cases {
            let audio = try AudioDecoder.decode(bytes: AudioFixtures.bytes(name), mimeType: mime)
            #expect(audio.samples.count > 100_000, "\(name) as \(mime)")
        }
    }

    @Test func tooLongByHeaderAndWhileDecoding() {
        let e = refusal(AudioFixtures.bytes("m16.s16.wav"), limits: AudioLimits(maxSeconds: 1))
        #expect(e == .tooLong(seconds: 7.1, limit: 1, declared: true))
        #expect(e?.description == "audio is 7.1 s long (as its header declares); the limit is 1 s")
        // An MP3 without a Xing header declares no duration: decoding stops at the limit.
        guard case .tooLong(let seconds, 10, false)? = refusal(AudioFixtures.bytes("long30.noxing.mp3"), limits: AudioLimits(maxSeconds: 10)) else {
            Issue.record("not refused while decoding"); return
        }
        #expect(seconds > 10 && seconds < 10.1)
    }

    @Test func noAudioStreamUnsupportedFormatAndCodec() {
        #expect(refusal(AudioFixtures.bytes("video-only.mp4")) == .noAudioStream(container: "MP4"))
        #expect(AudioError.noAudioStream(container: "MP4").description == "the MP4 file has no audio stream")
        let au = refusal(AudioFixtures.bytes("m16.au"), mimeType: "audio/basic")
        #expect(au == .unsupportedFormat("Sun AU", declared: "audio/basic"))
        #expect(au?.description.hasPrefix("unsupported audio format: the bytes are Sun AU (declared audio/basic); WAV, FLAC") == true)
        let adpcm = refusal(AudioFixtures.bytes("m16.adpcm.wav"))
        #expect(adpcm == .unsupportedCodec(container: "WAV", codec: "adpcm_ima_wav"))
        #expect(adpcm?.description.hasPrefix("unsupported audio codec adpcm_ima_wav in the WAV file; PCM") == true)
    }

    /// Float PCM can hold any bit pattern: a NaN would reach every vector through the filter.
    @Test func nanSampleInFloatWAV() {
        var b = AudioFixtures.bytes("m16.f32.wav")
        let at = b.count - 400  // a 4-byte-aligned sample near the end (the data chunk ends the file)
        b.replaceSubrange(at..<(at + 4), with: [0x00, 0x00, 0xC0, 0x7F])
        #expect(refusal(b) == .corrupt(container: "WAV", detail: "a sample near 7.04 s is NaN or infinite"))
    }

    @Test func badTargetRate() {
        #expect(throws: AudioError.badSampleRate(container: "requested", rate: 0)) {
            try AudioDecoder.decode(bytes: AudioFixtures.bytes("m16.s16.wav"), targetRate: 0)
        }
    }
}
