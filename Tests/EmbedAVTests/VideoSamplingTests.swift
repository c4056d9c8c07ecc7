import EmbedAV
import EmbedSys
import Testing

/// The documented timestamps of each sampling mode, scene detection on hard cuts, and what a
/// `frames` call promises: progress, cancellation, the frame and time limits.
@Suite(.enabled(if: VideoFixtures.available, VideoFixtures.skipReason))
struct VideoSamplingTests {
    static func reader(_ name: String, limits: VideoLimits = VideoLimits()) throws -> VideoReader {
        try VideoReader(.bytes(VideoFixtures.bytes(name)), limits: limits)
    }

    static func close(_ a: [Double]?, _ b: [Double]) -> Bool {
        guard let a, a.count == b.count else { return false }
        return zip(a, b).allSatisfy { abs($0 - $1) < 1e-9 }
    }

    /// A 2.000-s MP4: uniform is the centres of equal spans, interval the centres of spans of the
    /// given length before the end, scenes none in advance.
    @Test func plannedTimes() throws {
        let reader = try Self.reader("h264-aac.mp4")
        #expect(reader.info.duration == 2)
        #expect(Self.close(reader.plannedTimes(.uniform(count: 4)), [0.25, 0.75, 1.25, 1.75]))
        #expect(Self.close(reader.plannedTimes(.uniform(count: 1)), [1]))
        #expect(Self.close(reader.plannedTimes(.default), (0..<16).map { 2 * (Double($0) + 0.5) / 16 }))
        #expect(Self.close(reader.plannedTimes(.interval(seconds: 0.5)), [0.25, 0.75, 1.25, 1.75]))
        #expect(Self.close(reader.plannedTimes(.interval(seconds: 0.3)), [0.15, 0.45, 0.75, 1.05, 1.35, 1.65, 1.95]))
        #expect(Self.close(reader.plannedTimes(.interval(seconds: 0.8)), [0.4, 1.2]))  // 1.6-2.0 is within 0.4 s of 1.2
        #expect(Self.close(reader.plannedTimes(.interval(seconds: 5)), [1]))
        #expect(reader.plannedTimes(.scenes(threshold: 0.1, maxFrames: 8)) == nil)
        #expect(reader.plannedTimes(.uniform(count: 0)) == nil)
        #expect(reader.plannedTimes(.interval(seconds: 0.0001)) == nil)  // 20,000 frames: over the limit
    }

    /// Each planned time gets its frame, in order, with progress after each.
    @Test func framesFollowThePlan() throws {
        let reader = try Self.reader("vp9-opus.webm")
        let times = try #require(reader.plannedTimes(.interval(seconds: 0.5)))
        var frames: [VideoFrame] = []
        var fractions: [Double] = []
        try reader.frames(.interval(seconds: 0.5), progress: { fractions.append($0) }) { frames.append($0) }
        #expect(frames.count == times.count)
        for (t, frame) in zip(times, frames) {
            #expect(frame.time >= t - 0.0005 && frame.time < t + 0.1, "frame at \(frame.time) for \(t) of \(reader.info.duration) s")
        }
        #expect(fractions == (1...times.count).map { Double($0) / Double(times.count) })
    }

    /// Hard cuts at 1 s and 2 s (white, testsrc2, SMPTE bars): the first frame and each cut,
    /// and nothing within the moving testsrc2 scene at the default threshold.
    @Test func scenesFindTheCuts() throws {
        let reader = try Self.reader("scenes.mp4")
        var fractions: [Double] = []
        var frames: [VideoFrame] = []
        try reader.frames(.scenes(threshold: FrameSampling.defaultSceneThreshold, maxFrames: 10),
                          progress: { fractions.append($0) }) { frames.append($0) }
        #expect(frames.map(\.time) == [0, 1, 2])
        #expect(frames.allSatisfy { $0.width == 160 && $0.height == 120 && $0.rgb.count == 160 * 120 * 3 })
        #expect(fractions.last == 1 && zip(fractions, fractions.dropFirst()).allSatisfy { $0 <= $1 })
        // The first frame is all white; the last scene's first frame is SMPTE bars (not white).
        #expect(frames[0].rgb.allSatisfy { $0 == 255 })
        #expect(frames[2].rgb.contains { $0 < 200 })
        // maxFrames stops early; a threshold of 1 keeps only the first frame.
        #expect(try VideoFixtures.frames(reader, .scenes(threshold: 0.1, maxFrames: 2)).map(\.time) == [0, 1])
        #expect(try VideoFixtures.frames(reader, .scenes(threshold: 1, maxFrames: 10)).map(\.time) == [0])
    }

    /// The scene frames are the command line's frames too (converted the same way).
    @Test func sceneFramesEqualTheCommandLine() throws {
        let frames = try VideoFixtures.frames(try Self.reader("scenes.mp4"), .scenes(threshold: 0.1, maxFrames: 3))
        let timeline = try #require(VideoFixtures.timeline("scenes.mp4"))
        for frame in frames {
            let index = try #require(timeline.index(for: frame.time))
            #expect(frame.rgb == VideoFixtures.reference("scenes.mp4", frame: index))
        }
    }

    @Test func invalidSamplingIsRefused() throws {
        let reader = try Self.reader("h264-aac.mp4")
        for sampling: FrameSampling in [.uniform(count: 0), .uniform(count: -3), .interval(seconds: 0), .interval(seconds: -1),
                                        .interval(seconds: .nan), .interval(seconds: .infinity), .scenes(threshold: 1.5, maxFrames: 4),
                                        .scenes(threshold: .nan, maxFrames: 4), .scenes(threshold: 0.1, maxFrames: 0)] {
            #expect {
                try reader.frames(sampling) { _ in }
            } throws: { error in
                guard case VideoError.badSampling = error else { return false }
                return "\(error)".hasPrefix("invalid frame sampling")
            }
        }
    }

    @Test func frameLimit() throws {
        let reader = try Self.reader("h264-aac.mp4", limits: VideoLimits(maxFrames: 4))
        #expect(reader.plannedTimes(.uniform(count: 5)) == nil)
        #expect(throws: VideoError.tooManyFrames(requested: 5, limit: 4)) { try reader.frames(.uniform(count: 5)) { _ in } }
        #expect(throws: VideoError.tooManyFrames(requested: 8, limit: 4)) { try reader.frames(.interval(seconds: 0.25)) { _ in } }
        #expect(throws: VideoError.tooManyFrames(requested: 5, limit: 4)) { try reader.frames(.scenes(threshold: 0.1, maxFrames: 5)) { _ in } }
        #expect(try VideoFixtures.frames(reader, .uniform(count: 4)).count == 4)
    }

    /// `shouldStop` is polled between packets; `onFrame`'s own error ends decoding.
    @Test func cancellation() throws {
        let reader = try Self.reader("hevc.mkv")
        var handed = 0
        #expect(throws: VideoError.cancelled) {
            try reader.frames(.uniform(count: 8), shouldStop: { handed >= 2 }) { _ in handed += 1 }
        }
        #expect(handed == 2)
        #expect(throws: VideoError.cancelled) { try reader.frames(.scenes(threshold: 0, maxFrames: 100), shouldStop: { true }) { _ in } }
        #expect(throws: VideoError.tooLarge(width: 1, height: 1, limit: 0)) {
            try reader.frames(.uniform(count: 2)) { (_) throws(VideoError) in throw .tooLarge(width: 1, height: 1, limit: 0) }
        }
        #expect(try VideoFixtures.frames(reader, .uniform(count: 2)).count == 2)  // still usable
    }

    @Test func decodeTimeLimit() throws {
        let reader = try Self.reader("av1.mkv", limits: VideoLimits(maxDecodeSeconds: 1e-9))
        #expect {
            try reader.frames(.uniform(count: 4)) { _ in }
        } throws: { error in
            guard case VideoError.decodeTimeout(_, let limit) = error else { return false }
            return limit == 1e-9 && "\(error)".contains("the limit is 0 s")
        }
    }
}
