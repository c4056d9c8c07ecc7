import EmbedAV
import EmbedSys
import Testing

/// The sound track of a video through `AudioDecoder`, from a descriptor (read in place) and from
/// memory alike, against the ffmpeg command line's decode with the same resampler; and videos
/// without sound.
@Suite(.enabled(if: VideoFixtures.available, VideoFixtures.skipReason))
struct VideoSoundTests {
    /// `AudioDecoder.decode` of the file through its descriptor.
    static func decodeFile(_ path: String, mimeType: String? = nil) throws -> DecodedAudio {
        let fd = try FileDescriptor.open(path, .readOnly)
        defer { try? fd.close() }
        let size = try FileSystem.identity(of: path).size
        return try AudioDecoder.decode(.descriptor(fd: fd.rawValue, size: size), mimeType: mimeType)
    }

    /// The ffmpeg command line's decode of the file's sound: float, the channels' mean, soxr to 16 kHz.
    static func reference(_ path: String, channels: Int) -> [Float] {
        var filters = ["aformat=sample_fmts=flt"]
        if channels > 1 {
            filters.append("pan=mono|c0=" + (0..<channels).map { "\(1.0 / Double(channels))*c\($0)" }.joined(separator: "+"))
        }
        filters.append("aresample=resampler=soxr:precision=\(Int(AudioFixtures.referencePrecision)):osr=16000")
        let out = VideoFixtures.dir + "/sound-\(path.split(separator: "/").last!).f32"
        defer { try? FileSystem.unlink(out) }
        guard VideoFixtures.run(VideoFixtures.ffmpeg, ["-nostdin", "-loglevel", "error", "-y", "-i", path, "-vn",
                                                       "-af", filters.joined(separator: ","), "-f", "f32le", out],
                                log: out + ".log"),
              let raw = try? FileSystem.readFile(out) else { return [] }
        return raw.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }

    static let withSound: [(name: String, container: String, codec: String)] = [
        ("h264-aac.mp4", "MP4", "aac"), ("vp9-opus.webm", "Matroska", "opus"), ("h264-aac.ts", "MPEG-TS", "aac"),
        ("h264-aac.flv", "FLV", "aac"), ("mpeg2.mpg", "MPEG-PS", "mp2"), ("theora-vorbis.ogv", "Ogg", "vorbis"),
    ]

    @Test(arguments: withSound.map(\.name))
    func soundTrackFromADescriptor(_ name: String) throws {
        let expected = try #require(Self.withSound.first { $0.name == name })
        let fromFile = try Self.decodeFile(VideoFixtures.path(name))
        let fromBytes = try AudioDecoder.decode(bytes: VideoFixtures.bytes(name))
        #expect(fromFile == fromBytes)
        #expect(fromFile.container == expected.container && fromFile.codec == expected.codec)
        #expect(abs(fromFile.seconds - 2) < 0.1, "\(fromFile.seconds) s")
        let reference = Self.reference(VideoFixtures.path(name), channels: fromFile.sourceChannels)
        let d = AudioFixtures.deviation(fromFile.samples, reference)
        #expect(fromFile.samples.count == reference.count && d.maxAbs <= 1e-6, "\(name): \(d)")
    }

    /// python3-imageio's videos: MP3 in MP4 (cockatoo.mp4), AAC (realshort.mp4).
    @Test(.enabled(if: VideoFixtures.realAvailable, VideoFixtures.realSkipReason))
    func realVideosSound() throws {
        for (name, codec) in [("cockatoo.mp4", "mp3"), ("realshort.mp4", "aac")] {
            let path = VideoFixtures.imageio + name
            let decoded = try Self.decodeFile(path, mimeType: "video/mp4")
            #expect(decoded.codec == codec && decoded.container == "MP4")
            let reference = Self.reference(path, channels: decoded.sourceChannels)
            let d = AudioFixtures.deviation(decoded.samples, reference)
            #expect(decoded.samples.count == reference.count && d.maxAbs <= 1e-6, "\(name): \(d)")
        }
    }

    /// A video without sound is its own error (the caller says "no sound"), whatever the container.
    @Test func videosWithoutSound() throws {
        for (name, container) in [("mpeg4.avi", "AVI"), ("hevc.mkv", "Matroska"), ("rotate90.mp4", "MP4")] {
            #expect(throws: AudioError.noAudioStream(container: container)) { try Self.decodeFile(VideoFixtures.path(name)) }
            let reader = try VideoReader(.bytes(VideoFixtures.bytes(name)))
            #expect(!reader.info.hasAudio)
        }
    }

    /// A sound-only file is not a video; a descriptor that cannot be read is said so.
    @Test func soundOnlyAndUnreadable() throws {
        #expect(throws: VideoError.noVideoStream(container: "MP4", hasAudio: true)) {
            try VideoReader(.bytes(VideoFixtures.bytes("audio.m4a")))
        }
        #expect(try AudioDecoder.decode(.bytes(VideoFixtures.bytes("audio.m4a"))).codec == "aac")
        let fd = try FileDescriptor.open(VideoFixtures.dir, [.readOnly, .directory])  // pread fails: EISDIR
        defer { try? fd.close() }
        #expect {
            try AudioDecoder.decode(.descriptor(fd: fd.rawValue, size: 1000))
        } throws: { error in
            guard case AudioError.unreadable = error else { return false }
            return true
        }
        #expect {
            try VideoReader(.descriptor(fd: fd.rawValue, size: 1000))
        } throws: { error in
            guard case VideoError.unreadable = error else { return false }
            return "\(error)".hasPrefix("the video file could not be read")
        }
    }

    /// The byte limit bounds a descriptor's size as it does an array's.
    @Test func byteLimitOnDescriptors() throws {
        #expect(throws: AudioError.tooManyBytes(count: 1 << 40, limit: 64 << 20)) {
            try AudioDecoder.decode(.descriptor(fd: 0, size: 1 << 40))
        }
        #expect(throws: AudioError.emptyInput) { try AudioDecoder.decode(.descriptor(fd: 0, size: 0)) }
    }
}
