/// Which frames of a video `VideoReader.frames` decodes and hands over.
///
/// Times are seconds on the clock of the ffmpeg command line's `-ss`: 0 is the container's start
/// time (the earliest first timestamp of its streams). For a time `t`, the frame handed over is the
/// first frame whose presentation time is at or after `t` (`t` rounded to the microsecond, as `-ss`
/// parses it, then to the stream's time base): the one `ffmpeg -ss t -i FILE -frames:v 1` writes
/// (`VideoReader` says where that command's seek misses and how EmbedAV corrects it). Where the
/// video has no frame at or after `t` (a last frame shown for longer than its spacing, a container
/// that declares more than its pictures last), the last frame is handed over.
public enum FrameSampling: Sendable, Equatable {
    /// `count` frames spread evenly: `t_i = duration × (i + 0.5) / count`, the centre of each of
    /// `count` equal spans. The default, with 16.
    case uniform(count: Int)
    /// One frame per span of `seconds`, at its centre: `t = seconds/2, 3·seconds/2, …` while
    /// `t < duration` (a last span shorter than half of `seconds` has no frame of its own: the one
    /// before is nearer than `seconds/2`). A video shorter than `seconds/2` gets one frame, at
    /// `duration/2`.
    case interval(seconds: Double)
    /// The first frame, then every frame that starts a scene, at most `maxFrames` (decoding stops
    /// there). Every frame is decoded. A frame starts a scene when its score exceeds `threshold`:
    /// the score is that of FFmpeg's `scdet` and `select='gt(scene,…)'` filters,
    /// `min(MAFD, |MAFD − previous MAFD|) / 100`, where MAFD is the mean absolute difference of
    /// the luma of this frame and the one before, in percent of full scale, here computed on both
    /// frames reduced to 64 × 64 (libswscale's area average) so it costs the same at any
    /// resolution. A hard cut scores 0.2–0.6, steady motion near 0 (the difference of successive
    /// differences); `defaultSceneThreshold` is scdet's default of 10 %.
    case scenes(threshold: Double, maxFrames: Int)

    /// `uniform(count: 16)`.
    public static let `default` = FrameSampling.uniform(count: 16)
    /// 0.1: FFmpeg's scdet filter's default threshold (10 %).
    public static let defaultSceneThreshold = 0.1

    /// Refuses parameters that sample nothing or cannot be compared.
    func validate() throws(VideoError) {
        switch self {
        case .uniform(let count):
            guard count > 0 else { throw .badSampling("uniform sampling needs a count of at least 1 (\(count) given)") }
        case .interval(let seconds):
            guard seconds.isFinite, seconds > 0 else {
                throw .badSampling("interval sampling needs a positive, finite number of seconds (\(seconds) given)")
            }
        case .scenes(let threshold, let maxFrames):
            guard threshold.isFinite, threshold >= 0, threshold <= 1 else {
                throw .badSampling("the scene threshold must be in 0...1 (\(threshold) given)")
            }
            guard maxFrames > 0 else { throw .badSampling("scene sampling needs maxFrames of at least 1 (\(maxFrames) given)") }
        }
    }

    /// How many frames the sampling hands over for `duration` seconds (for scenes, at most).
    func frameCount(duration: Double) -> Int {
        switch self {
        case .uniform(let count): return count
        case .interval(let seconds):
            let d = max(duration, 0)
            let estimate = (d / seconds - 0.5).rounded(.up)
            guard estimate < Double(Int.max / 4) else { return Int.max / 4 }
            var n = max(0, Int(estimate))
            while n > 0 && (Double(n - 1) + 0.5) * seconds >= d { n -= 1 }  // the count of k with (k + ½)·s < d
            while (Double(n) + 0.5) * seconds < d { n += 1 }
            return max(1, n)
        case .scenes(_, let maxFrames): return maxFrames
        }
    }

    /// The times to sample in a video of `duration` seconds, ascending; nil for scenes. Call
    /// after `validate` and after checking `frameCount` against the limit.
    func times(duration: Double) -> [Double]? {
        let d = max(duration, 0)
        switch self {
        case .uniform(let count):
            return (0..<count).map { d * (Double($0) + 0.5) / Double(count) }
        case .interval(let seconds):
            guard (0.5 * seconds) < d else { return [d / 2] }
            return (0..<frameCount(duration: d)).map { (Double($0) + 0.5) * seconds }
        case .scenes:
            return nil
        }
    }
}
