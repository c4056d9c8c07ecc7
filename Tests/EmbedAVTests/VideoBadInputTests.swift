import EmbedAV
import EmbedSys
import Testing

/// Hostile and broken video: each refused with its own typed error and a message that says what
/// is wrong, before any frame is decoded where the headers allow; and seeded random damage to
/// real clips, which must decode or throw, never trap or hang.
@Suite(.enabled(if: VideoFixtures.available, VideoFixtures.skipReason))
struct VideoBadInputTests {
    /// The reader's error, or nil when it opens and decodes 4 frames.
    static func refusal(_ bytes: [UInt8], mimeType: String? = nil, limits: VideoLimits = VideoLimits()) -> VideoError? {
        do {
            let reader = try VideoReader(.bytes(bytes), mimeType: mimeType, limits: limits)
            try reader.frames(.uniform(count: 4)) { _ in }
            return nil
        } catch {
            return error
        }
    }

    /// `bytes` with the big-endian `value` written `offset` bytes after the first `tag` that
    /// follows the first `after` (the 'avc1' sample entry inside 'stsd', not the brand in 'ftyp').
    static func patched(_ bytes: [UInt8], _ tag: String, after: String = "moov", at offset: Int, _ value: UInt32,
                        width: Int = 4) throws -> [UInt8] {
        let start = try #require(bytes.firstRange(of: Array(after.utf8)), "no \(after) box").upperBound
        let found = try #require(bytes[start...].firstRange(of: Array(tag.utf8)), "no \(tag) box")
        var b = bytes
        for i in 0..<width { b[found.lowerBound + offset + i] = UInt8(truncatingIfNeeded: value >> (8 * (width - 1 - i))) }
        return b
    }

    @Test func emptyAndTooMany() throws {
        #expect(Self.refusal([]) == .emptyInput)
        #expect(throws: VideoError.emptyInput) { try VideoReader(.descriptor(fd: 0, size: 0)) }
        let bytes = VideoFixtures.bytes("h264-aac.mp4")
        #expect(Self.refusal(bytes, limits: VideoLimits(maxInputBytes: 1000)) == .tooManyBytes(count: Int64(bytes.count), limit: 1000))
        #expect(VideoError.emptyInput.description == "empty input: zero bytes is not a video")
    }

    @Test func notAVideo() throws {
        let text = Array(String(repeating: "hello, this is not a video. ", count: 40).utf8)
        let error = try #require(Self.refusal(text, mimeType: "video/mp4"))
        #expect(error == .notAVideo(declared: "video/mp4", prefix: Array("hello, t".utf8)))
        #expect("\(error)".hasPrefix("declared video/mp4 but not a recognisable video file (starts with \"hello, t\")"))
        let picture = try #require(Self.refusal(VideoFixtures.bytes("still.png")))
        guard case .unsupportedContainer(let name, nil) = picture else { Issue.record("\(picture)"); return }
        #expect(name.contains("png") && "\(picture)".hasPrefix("unsupported video format"))
    }

    /// Sound only, subtitles only, a codec not on the list: each names what the file holds.
    @Test func noDecodableStream() throws {
        #expect(Self.refusal(VideoFixtures.bytes("audio.m4a")) == .noVideoStream(container: "MP4", hasAudio: true))
        // A WAV: a sound format, not a video container at all.
        var wav = Array("RIFF".utf8) + [0xA4, 0x0C, 0, 0] + Array("WAVEfmt ".utf8) + [16, 0, 0, 0, 1, 0, 1, 0]
        wav += [0x80, 0x3E, 0, 0, 0, 0x7D, 0, 0, 2, 0, 16, 0] + Array("data".utf8) + [0x80, 0x0C, 0, 0]
        wav += (0..<1600).flatMap { i -> [UInt8] in let v = Int16(truncatingIfNeeded: i * 37); return [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF)] }
        let sound = try #require(Self.refusal(wav))
        #expect(sound == .noVideoStream(container: "WAV", hasAudio: true))
        #expect("\(sound)" == "the WAV file has sound but no picture: it is audio, not video")
        #expect(Self.refusal(VideoFixtures.bytes("subtitles.mkv")) == .noVideoStream(container: "Matroska", hasAudio: false))
        let codec = try #require(Self.refusal(VideoFixtures.bytes("ffv1.mkv")))
        #expect(codec == .unsupportedCodec(container: "Matroska", codec: "ffv1"))
        #expect("\(codec)".hasPrefix("unsupported video codec ffv1 in the Matroska file; H.264, H.265"))
    }

    @Test func declaredTypes() throws {
        let mp4 = VideoFixtures.bytes("h264-aac.mp4")
        #expect(Self.refusal(mp4, mimeType: "video/webm") == .mislabelled(declared: "video/webm", found: "MP4"))
        #expect(Self.refusal(mp4, mimeType: "image/png") == .mislabelled(declared: "image/png", found: "MP4"))
        #expect(Self.refusal(mp4, mimeType: "audio/mpeg") == .mislabelled(declared: "audio/mpeg", found: "MP4"))
        for passing in ["video/mp4", "Video/QuickTime; codecs=avc1", "application/octet-stream", "video/*", "video/x-future", ""] {
            #expect(Self.refusal(mp4, mimeType: passing) == nil, "\(passing)")
        }
        #expect(Self.refusal(VideoFixtures.bytes("mpeg4.avi"), mimeType: "video/x-msvideo") == nil)
        #expect(Self.refusal(VideoFixtures.bytes("h264-aac.ts"), mimeType: "video/mp2t") == nil)
    }

    /// Cut files: the structure of MP4 and Matroska shows it before decoding; an AVI's frames
    /// end long before the duration its header declares.
    @Test func truncated() throws {
        for (name, container) in [("h264-aac.mp4", "MP4"), ("hevc.mkv", "Matroska"), ("mpeg4.avi", "AVI")] {
            let bytes = VideoFixtures.bytes(name)
            let refused = Self.refusal(Array(bytes.prefix(bytes.count / 2)))
            let error = try #require(refused, "\(name) cut in half decodes")
            guard case .truncated(let found, _) = error else { Issue.record("\(name): \(error)"); continue }
            #expect(found == container && "\(error)".hasPrefix("truncated \(container) file: "), "\(error)")
        }
    }

    /// A damaged index: every sample-size entry of the MP4 zeroed; a garbled codec set-up.
    @Test func corrupt() throws {
        let mp4 = VideoFixtures.bytes("h264-aac.mp4")
        let box = try #require(mp4.firstRange(of: Array("stsz".utf8)))
        var zeroed = mp4
        for i in (box.lowerBound + 16)..<min(box.lowerBound + 16 + 80, zeroed.count) { zeroed[i] = 0 }
        let error = try #require(Self.refusal(zeroed))
        guard case .corrupt(let container, _) = error else { Issue.record("\(error)"); return }
        #expect(container == "MP4" && "\(error)".hasPrefix("corrupt MP4 file: "))
    }

    /// What a header declares is checked before a frame is decoded: a 32767×32767 picture, a
    /// duration of 4.9 days.
    @Test func absurdHeaders() throws {
        let mp4 = VideoFixtures.bytes("rotate180.mp4")  // no sound: the only mdhd is the picture's
        var huge = try Self.patched(mp4, "avc1", after: "stsd", at: 28, 32767, width: 2)
        huge = try Self.patched(huge, "avc1", after: "stsd", at: 30, 32767, width: 2)
        let large = try #require(Self.refusal(huge))
        #expect(large == .tooLarge(width: 32767, height: 32767, limit: 8192 * 4320))
        #expect("\(large)" == "the video is 32767x32767 (1073676289 pixels); the limit is 35389440 pixels")
        #expect(Self.refusal(mp4, limits: VideoLimits(maxPixels: 160 * 119)) == .tooLarge(width: 160, height: 120, limit: 160 * 119))

        let long = try Self.patched(try Self.patched(mp4, "mvhd", at: 20, 0xFFFF_FFF0), "mdhd", at: 20, 0xFFFF_FFF0)
        let error = try #require(Self.refusal(long))
        guard case .tooLong(let seconds, 14_400) = error else { Issue.record("\(error)"); return }
        #expect(seconds > 400_000 && "\(error)".hasSuffix("(as its header declares); the limit is 14400 s"))
        #expect(Self.refusal(mp4, limits: VideoLimits(maxSeconds: 1)) == .tooLong(seconds: 2, limit: 1))
    }

    /// About 100 seeded random damages to real clips of five containers (bytes flipped, cut,
    /// zeroed runs, scrambled headers, junk inserted: the daemon's fuzz kinds), each opened,
    /// sampled and its sound decoded: a typed error or frames, never a trap or a hang.
    @Test func mutatedVideosNeverTrap() throws {
        var rng = SplitMix64(seed: 0x2022_0022)
        var decoded = 0, sounded = 0
        var refused: [String: Int] = [:]
        let limits = VideoLimits(maxDecodeSeconds: 20)
        for name in ["h264-aac.mp4", "vp9-opus.webm", "mpeg4.avi", "h264-aac.ts", "mjpeg.mov"] {
            let original = VideoFixtures.bytes(name)
            try #require(!original.isEmpty)
            for round in 0..<20 {
                let b = Self.mutated(original, &rng)
                do {
                    let reader = try VideoReader(.bytes(b), limits: limits, threads: 2)
                    var frames = 0
                    try reader.frames(round % 4 == 3 ? .scenes(threshold: 0.1, maxFrames: 4) : .uniform(count: 4)) { frame in
                        #expect(frame.rgb.count == frame.width * frame.height * 3)
                        frames += 1
                    }
                    #expect(frames > 0)
                    decoded += 1
                } catch {
                    refused[Self.kind(error), default: 0] += 1
                }
                if let sound = try? AudioDecoder.decode(.bytes(b), limits: AudioLimits(maxSeconds: 60)) {
                    #expect(sound.samples.allSatisfy { $0.isFinite })
                    sounded += 1
                }
            }
        }
        print("video mutations: \(decoded) decoded, refused \(refused.sorted { $0.key < $1.key }); \(sounded) sound tracks decoded")
        #expect(decoded + refused.values.reduce(0, +) == 100)
        #expect(decoded > 0 && refused.count >= 2)
    }

    /// The case's name ("truncated", "corrupt", ...).
    static func kind(_ error: VideoError) -> String {
        Mirror(reflecting: error).children.first?.label ?? "\(error)"
    }

    /// A damaged copy, one of the five kinds of IntegrationTests' `FuzzRandom.mutated`.
    static func mutated(_ base: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        var b = base
        switch rng.next() % 5 {
        case 0: for _ in 0..<(1 + rng.next() % 8) { b[Int(rng.next() % UInt64(b.count))] ^= UInt8(1 << (rng.next() % 8)) }
        case 1: b = Array(b.prefix(Int(rng.next() % UInt64(b.count))))
        case 2:
            let at = Int(rng.next() % UInt64(b.count)), n = min(Int(rng.next() % 64) + 1, b.count - at)
            for i in at..<at + n { b[i] = 0 }
        case 3: for i in 0..<min(64, b.count) where rng.next() % 4 == 0 { b[i] = UInt8(truncatingIfNeeded: rng.next()) }
        default:
            let at = Int(rng.next() % UInt64(b.count))
            b.insert(contentsOf: (0..<Int(rng.next() % 32)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, at: at)
        }
        return b
    }
}
