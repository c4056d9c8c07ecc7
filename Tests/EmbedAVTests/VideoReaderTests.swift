import EmbedAV
import EmbedSys
import Testing

/// Every clip and real video against the ffmpeg command line: the headers as ffprobe shows them,
/// and each sampled frame byte for byte equal to `ffmpeg -ss T -i FILE -frames:v 1 -pix_fmt rgb24`.
@Suite(.enabled(if: VideoFixtures.available, VideoFixtures.skipReason))
struct VideoReaderTests {
    /// Six frames spread over each clip (seeking), each equal to the command line's: to its decode
    /// from the start (`-i FILE -ss T`) always, and to its own seek (`-ss T -i FILE`) in the
    /// containers that index their keyframes. In MPEG-TS and MPEG-PS the command line's seek
    /// lands past the keyframe before T and answers a frame up to a keyframe spacing late (or
    /// none); EmbedAV seeks again, further back.
    @Test(arguments: VideoFixtures.clips)
    func framesEqualTheCommandLine(_ clip: VideoFixtures.Clip) throws {
        let bytes = VideoFixtures.bytes(clip.name)
        try #require(!bytes.isEmpty, "tools/make-test-video could not make \(clip.name): see \(VideoFixtures.dir)/make-test-video.log")
        let reader = try VideoReader(.bytes(bytes))
        #expect(reader.info.container == clip.container)
        #expect(reader.info.codec == clip.codec)
        #expect(reader.info.hasAudio == clip.hasAudio)
        // FLV declares no stream duration: the container's counts from its sound's first packet to its end.
        #expect(abs(reader.info.duration - (clip.name == "scenes.mp4" ? 3 : 2)) < 0.25, "duration \(reader.info.duration)")
        #expect(reader.info.frameRate == 10)
        let times = try #require(reader.plannedTimes(.uniform(count: 6)))
        let frames = try VideoFixtures.frames(reader, .uniform(count: 6))
        try #require(frames.count == times.count)
        let indexed = !["MPEG-TS", "MPEG-PS"].contains(clip.container)
        let timeline = try #require(VideoFixtures.timeline(clip.name))
        for (t, frame) in zip(times, frames) {
            #expect(frame.width == reader.info.width && frame.height == reader.info.height)
            #expect(frame.rgb.count == frame.width * frame.height * 3)
            try Self.expectCommandLine(clip.name, t, frame, seeking: indexed, timeline: timeline)
        }
    }

    /// `frame`, sampled at `t`, is the frame the -ss rule picks (re-derived from ffprobe's list of
    /// the frames' timestamps) and equals that frame of the command line's decode from the start;
    /// with `seeking`, it also equals what `ffmpeg -ss T -i FILE` writes.
    static func expectCommandLine(_ name: String, _ t: Double, _ frame: VideoFrame, seeking: Bool,
                                  timeline: VideoFixtures.Timeline) throws {
        let index = try #require(timeline.index(for: t))
        let time = try #require(timeline.time(index))
        #expect(abs(frame.time - time) < 1e-6, "\(name): frame at \(frame.time) for t = \(t); the rule picks frame \(index) at \(time)")
        let decoded = try #require(VideoFixtures.reference(name, frame: index), "ffmpeg wrote no frame \(index)")
        let d = VideoFixtures.difference(frame.rgb, decoded)
        #expect(d.count == 0, "\(name) at \(t): \(d.count) bytes differ from frame \(index) of the decode from the start, by up to \(d.max)")
        if seeking, time >= t - 0.05 {  // past the last frame the command line writes nothing
            let sought = try #require(VideoFixtures.reference(name, at: t), "ffmpeg -ss wrote no frame at \(t)")
            #expect(frame.rgb == sought, "\(name) at \(t): differs from ffmpeg -ss")
        }
    }

    /// python3-imageio's real videos, by their recorded SHA-256: 4:4:4 H.264 with MP3 sound
    /// (cockatoo.mp4) and H.264 with AAC at 29.97 fps (realshort.mp4). Against the command line's
    /// decode from the start: cockatoo.mp4 flags pictures as keyframes that are not clean entry
    /// points, and the command line's own `-ss` shows damage there (differently from run to run
    /// with frame threads), which EmbedAV avoids by seeking a keyframe further back.
    @Test(.enabled(if: VideoFixtures.realAvailable, VideoFixtures.realSkipReason),
          arguments: VideoFixtures.realVideos.map(\.name))
    func realVideosEqualTheCommandLine(_ name: String) throws {
        let path = VideoFixtures.imageio + name
        let expected = try #require(VideoFixtures.realVideos.first { $0.name == name }).sha256
        #expect(VideoFixtures.sha256(path) == expected)
        let reader = try VideoReader(.bytes(try FileSystem.readFile(path)), mimeType: "video/mp4")
        #expect(reader.info.codec == "h264" && reader.info.hasAudio && reader.info.container == "MP4")
        let times = try #require(reader.plannedTimes(.uniform(count: 5)))
        let frames = try VideoFixtures.frames(reader, .uniform(count: 5))
        try #require(frames.count == 5)
        let timeline = try #require(VideoFixtures.timeline(path))
        for (t, frame) in zip(times, frames) {
            try Self.expectCommandLine(path, t, frame, seeking: name == "realshort.mp4", timeline: timeline)
        }
    }

    /// Samples closer than the keyframe spacing are decoded forward, not sought: the frames are
    /// the command line's all the same (every 0.15 s of a clip with a keyframe a second).
    @Test(arguments: ["h264-aac.mp4", "h264-aac.ts", "vp9-opus.webm", "mpeg4.avi"])
    func denseSamplesEqualTheCommandLine(_ name: String) throws {
        let reader = try VideoReader(.bytes(VideoFixtures.bytes(name)))
        let times = try #require(reader.plannedTimes(.interval(seconds: 0.15)))
        let frames = try VideoFixtures.frames(reader, .interval(seconds: 0.15))
        try #require(frames.count == times.count)
        let timeline = try #require(VideoFixtures.timeline(name))
        for (t, frame) in zip(times, frames) { try Self.expectCommandLine(name, t, frame, seeking: false, timeline: timeline) }
    }

    /// The display matrix turns the picture as autorotate does, and the sizes say so.
    @Test func rotationTurnsThePicture() throws {
        for (name, degrees) in [("rotate90.mp4", 90), ("rotate180.mp4", 180), ("rotate270.mp4", 270), ("h264-aac.mp4", 0)] {
            let reader = try VideoReader(.bytes(VideoFixtures.bytes(name)))
            #expect(reader.info.rotation == degrees, "\(name)")
            let turned = degrees == 90 || degrees == 270
            #expect(reader.info.width == (turned ? 120 : 160) && reader.info.height == (turned ? 160 : 120), "\(name)")
        }
    }

    /// A 4:2:2 picture turned by 90°: FFmpeg's transpose filter does not take 4:2:2, so the
    /// command line's format negotiation converts to the output's RGB24 before it turns; so
    /// does EmbedAV, and the pixels are the same.
    @Test func rotationOf422() throws {
        let reader = try VideoReader(.bytes(VideoFixtures.bytes("rotate90-mjpeg.mov")))
        #expect(reader.info.rotation == 90 && reader.info.width == 120 && reader.info.height == 160)
        let times = try #require(reader.plannedTimes(.uniform(count: 3)))
        let frames = try VideoFixtures.frames(reader, .uniform(count: 3))
        try #require(frames.count == 3)
        for (t, frame) in zip(times, frames) {
            #expect(frame.width == 120 && frame.height == 160)
            #expect(frame.rgb == VideoFixtures.reference("rotate90-mjpeg.mov", at: t), "at \(t)")
        }
    }

    /// A non-square pixel aspect ratio is not rescaled (nor by the command line).
    @Test func pixelAspectIsKept() throws {
        let reader = try VideoReader(.bytes(VideoFixtures.bytes("sar.mp4")))
        let frames = try VideoFixtures.frames(reader, .uniform(count: 1))
        #expect(reader.info.width == 160 && frames.first?.width == 160 && frames.first?.height == 120)
    }

    /// Times are on the -ss clock: an MPEG-TS's start time (1.4 s and more) is its zero, and a
    /// frame time is the frame's own presentation time.
    @Test func timesStartAtTheContainersStart() throws {
        let reader = try VideoReader(.bytes(VideoFixtures.bytes("h264-aac.ts")))
        let frames = try VideoFixtures.frames(reader, .interval(seconds: 0.04))
        let first = try #require(frames.first)
        // The video's first frame comes 21.3 ms after the sound's first packet (ffprobe: start_time),
        // the first at or after 0.02 s.
        #expect(abs(first.time - 0.021333) < 1e-5, "first frame at \(first.time)")
        for (a, b) in zip(frames, frames.dropFirst()) { #expect(b.time >= a.time) }
    }

    /// A descriptor decodes to the same frames as the bytes, and is neither moved nor closed.
    @Test func descriptorEqualsBytes() throws {
        let name = "hevc.mkv"
        let fd = try FileDescriptor.open(VideoFixtures.path(name), .readOnly)
        defer { try? fd.close() }
        let size = try FileSystem.identity(of: VideoFixtures.path(name)).size
        let fromFile = try VideoFixtures.frames(try VideoReader(.descriptor(fd: fd.rawValue, size: size)), .uniform(count: 4))
        let fromBytes = try VideoFixtures.frames(try VideoReader(.bytes(VideoFixtures.bytes(name))), .uniform(count: 4))
        #expect(fromFile.count == 4 && fromFile == fromBytes)
        var one = [UInt8](repeating: 0, count: 4)
        let read = try one.withUnsafeMutableBytes { try fd.read(into: $0) }  // still open, offset still 0
        #expect(read == 4 && one == Array(VideoFixtures.bytes(name).prefix(4)))
    }

    /// A reader may be asked twice, and with a decoder on the calling thread only.
    @Test func framesTwiceAndSingleThreaded() throws {
        let bytes = VideoFixtures.bytes("h264-aac.mp4")
        let reader = try VideoReader(.bytes(bytes), threads: 1)
        let first = try VideoFixtures.frames(reader, .uniform(count: 3))
        let scenes = try VideoFixtures.frames(reader, .scenes(threshold: 0.5, maxFrames: 4))
        let again = try VideoFixtures.frames(reader, .uniform(count: 3))
        #expect(first == again && first.count == 3)
        #expect(scenes.first?.time == 0)
        let threaded = try VideoFixtures.frames(try VideoReader(.bytes(bytes), threads: 4), .uniform(count: 3))
        #expect(threaded == first)
    }
}
