@preconcurrency import Glibc
import EmbedAV

/// The video plugin's load options (`options:` of a model in embedd.yaml). Unknown keys are
/// refused, naming the list.
///
/// | key | values | default |
/// |---|---|---|
/// | `frames_model` | the loaded model (CLIP) that embeds the frames; the video model joins its space | required |
/// | `audio_model` | the loaded model (Whisper) that embeds the sound track, read by the daemon: the sound vector goes to the sound collection (docs/video.md) | none |
/// | `sampling` | `uniform` (a fixed number of frames spread evenly), `interval` (one frame every N seconds), `scenes` (the first frame of every scene) | `uniform` |
/// | `frames` | frames of `uniform` sampling | `16` |
/// | `interval` | seconds between frames of `interval` sampling | `2` |
/// | `scene_threshold` | `scenes`: the score (0…1, FFmpeg's `scdet` score: the change of the mean absolute luma difference between frames) above which a frame starts a scene | `0.1` (scdet's default) |
/// | `segment_seconds` | window length of the segments (`--segments`): one vector per window, from the frames sampled in it | `10` |
/// | `segment_frames` | frames sampled per segment window, evenly | `2` |
/// | `max_seconds` | longest video accepted (from the header, then while decoding) | `14400` (4 h) |
/// | `max_pixels` | largest width × height accepted | `35389440` (8192 × 4320) |
/// | `max_frames` | most frames sampled from one video | `4096` |
/// | `max_decode_seconds` | wall-clock budget for decoding one video | `900` |
/// | `max_input_bytes` | largest video passed as bytes (open files have no limit but `max_seconds`) | `1073741824` (1 GiB) |
/// | `decode_threads` | FFmpeg's decoding threads; 0 = one per online core (FFmpeg's own choice, one more than the cores, measured slower: each seek refills a deeper frame-thread pipeline; bench/NOTES.md, issue 22) | `0` |
/// | `frame_batch` | frames per call to the frames model | `8` |
struct VideoOptions: Sendable {
    var framesModel = ""
    var audioModel: String? = nil
    var sampling: FrameSampling = .uniform(count: 16)
    var samplingName = "uniform"
    var frames = 16
    var interval: Double = 2
    var sceneThreshold: Double = FrameSampling.defaultSceneThreshold
    var segmentSeconds: Double = 10
    var segmentFrames = 2
    var maxSeconds: Double = 14_400
    var maxPixels = 8192 * 4320
    var maxFrames = 4096
    var maxDecodeSeconds: Double = 900
    var maxInputBytes = 1 << 30
    var decodeThreads = 0
    var frameBatch = 8

    static let keys = ["frames_model", "audio_model", "sampling", "frames", "interval", "scene_threshold", "segment_seconds",
                       "segment_frames", "max_seconds", "max_pixels", "max_frames", "max_decode_seconds", "max_input_bytes",
                       "decode_threads", "frame_batch"]

    struct Problem: Error { let message: String }

    init(_ pairs: [(key: String, value: String)]) throws(Problem) {
        for (key, value) in pairs {
            func int(_ range: ClosedRange<Int>) throws(Problem) -> Int {
                guard let v = Int(value), range.contains(v) else {
                    throw Problem(message: "option \(key): '\(value)' is not an integer in \(range.lowerBound)...\(range.upperBound)")
                }
                return v
            }
            func number(_ range: ClosedRange<Double>) throws(Problem) -> Double {
                guard let v = Double(value), v.isFinite, range.contains(v) else {
                    throw Problem(message: "option \(key): '\(value)' is not a number in \(range.lowerBound)...\(range.upperBound)")
                }
                return v
            }
            switch key {
            case "frames_model": framesModel = value
            case "audio_model": audioModel = value.isEmpty ? nil : value
            case "sampling":
                guard ["uniform", "interval", "scenes"].contains(value) else {
                    throw Problem(message: "option sampling: '\(value)' is not uniform, interval or scenes")
                }
                samplingName = value
            case "frames": frames = try int(1...4096)
            case "interval": interval = try number(0.04...3600)
            case "scene_threshold": sceneThreshold = try number(0.001...1)
            case "segment_seconds": segmentSeconds = try number(0.5...3600)
            case "segment_frames": segmentFrames = try int(1...64)
            case "max_seconds": maxSeconds = try number(1...1_000_000)
            case "max_pixels": maxPixels = try int(1...1 << 30)
            case "max_frames": maxFrames = try int(1...100_000)
            case "max_decode_seconds": maxDecodeSeconds = try number(1...86_400)
            case "max_input_bytes": maxInputBytes = try int(1...1 << 34)
            case "decode_threads": decodeThreads = try int(0...64)
            case "frame_batch": frameBatch = try int(1...256)
            default:
                throw Problem(message: "unknown option '\(key)' (video plugin options: \(Self.keys.joined(separator: ", ")))")
            }
        }
        guard !framesModel.isEmpty else {
            throw Problem(message: "option frames_model is required: the name of the loaded CLIP model that embeds the frames")
        }
        switch samplingName {
        case "interval": sampling = .interval(seconds: interval)
        case "scenes": sampling = .scenes(threshold: sceneThreshold, maxFrames: maxFrames)
        default: sampling = .uniform(count: frames)
        }
        if case .uniform(let n) = sampling, n > maxFrames {
            throw Problem(message: "option frames \(n) is more than max_frames \(maxFrames)")
        }
    }

    /// The decoder's thread count: `decode_threads`, or one per online core.
    var threads: Int { decodeThreads > 0 ? decodeThreads : max(1, min(16, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))) }

    /// The decoder's limits.
    var limits: VideoLimits {
        var l = VideoLimits()
        l.maxSeconds = maxSeconds
        l.maxPixels = maxPixels
        l.maxFrames = maxFrames
        l.maxDecodeSeconds = maxDecodeSeconds
        return l
    }

    /// The sampling of segment windows: `segment_frames` frames per `segment_seconds`, evenly
    /// (centred in equal spans), so every window of the video has its frames.
    var segmentSampling: FrameSampling { .interval(seconds: segmentSeconds / Double(segmentFrames)) }
}
