/// Why a video could not be opened or its frames decoded. Every case names the problem in words a
/// user can act on (`description`); nothing in EmbedAV traps on hostile input, it throws one of
/// these. The input's fault unless noted: a plugin answers INVALID_ARGUMENT, TOO_LARGE for the
/// limits, CANCELLED, DEADLINE_EXCEEDED and RESOURCE for the cases so marked.
public enum VideoError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Zero bytes were given.
    case emptyInput
    /// The input is larger than `VideoLimits.maxInputBytes`.
    case tooManyBytes(count: Int64, limit: Int64)
    /// FFmpeg recognises no format in the bytes (not a video at all). `declared` is the caller's
    /// MIME type, `prefix` the first bytes (at most 8), shown in the message.
    case notAVideo(declared: String?, prefix: [UInt8])
    /// FFmpeg recognises a format EmbedAV does not open as video (WAV, MP3, ASF, a PNG): its name.
    case unsupportedContainer(String, declared: String?)
    /// The declared MIME type names another container (or another kind of media) than the bytes are.
    case mislabelled(declared: String, found: String)
    /// The container holds no picture track: a sound-only file (`hasAudio`), or one of only
    /// subtitles, data or a cover picture.
    case noVideoStream(container: String, hasAudio: Bool)
    /// The video stream's codec is not one EmbedAV decodes: FFmpeg's name of it.
    case unsupportedCodec(container: String, codec: String)
    /// The picture is larger than `VideoLimits.maxPixels` (as the header or a decoded frame says).
    case tooLarge(width: Int, height: Int, limit: Int)
    /// The video is longer than `VideoLimits.maxSeconds`, as its header declares (refused before decoding).
    case tooLong(seconds: Double, limit: Double)
    /// The container gives no duration, so frames cannot be spread over it (a stream cut from a
    /// broadcast without timestamps); `.scenes` sampling needs none.
    case unknownDuration(container: String)
    /// The sampling asks for more frames than `VideoLimits.maxFrames` (TOO_LARGE).
    case tooManyFrames(requested: Int, limit: Int)
    /// The sampling's parameters are not usable: a count or interval of zero, a NaN threshold.
    case badSampling(String)
    /// Decoding took longer than `VideoLimits.maxDecodeSeconds` of wall time (DEADLINE_EXCEEDED).
    case decodeTimeout(seconds: Double, limit: Double)
    /// The caller's `shouldStop` asked to stop (CANCELLED).
    case cancelled
    /// The data ends before the video does: a box or Segment running past the end of the file,
    /// or the frames ending long before the duration the header declares.
    case truncated(container: String, detail: String)
    /// The data is damaged or malformed; `detail` says where and what FFmpeg reported.
    case corrupt(container: String, detail: String)
    /// The descriptor could not be read (`pread` failed: an I/O error, a closed descriptor). Not the input's fault.
    case unreadable(String)
    /// FFmpeg ran out of memory or refused a set-up EmbedAV had already checked (RESOURCE). Not the input's fault.
    case resourceFailure(String)

    public var description: String {
        switch self {
        case .emptyInput:
            return "empty input: zero bytes is not a video"
        case .tooManyBytes(let count, let limit):
            return "video file is \(count) bytes; the limit is \(limit)"
        case .notAVideo(let declared, let prefix):
            let shown = AudioError.describe(prefix: prefix)
            if let declared, !declared.isEmpty {
                return "declared \(declared) but not a recognisable video file (\(shown)); \(VideoFormats.supportedList) are decoded"
            }
            return "not a recognisable video file (\(shown)); \(VideoFormats.supportedList) are decoded"
        case .unsupportedContainer(let name, let declared):
            let what = declared.map { $0.isEmpty ? "" : " (declared \($0))" } ?? ""
            return "unsupported video format: the bytes are \(name)\(what); \(VideoFormats.supportedList) are decoded"
        case .mislabelled(let declared, let found):
            return "mislabelled video: declared \(declared) but the bytes are \(found)"
        case .noVideoStream(let container, let hasAudio):
            return hasAudio ? "the \(container) file has sound but no picture: it is audio, not video"
                            : "the \(container) file has no video stream"
        case .unsupportedCodec(let container, let codec):
            return "unsupported video codec \(codec) in the \(container) file; \(VideoFormats.codecList) are decoded"
        case .tooLarge(let width, let height, let limit):
            return "the video is \(width)x\(height) (\(width * height) pixels); the limit is \(limit) pixels"
        case .tooLong(let seconds, let limit):
            return "the video is \(AudioError.format(seconds)) s long (as its header declares); the limit is \(AudioError.format(limit)) s"
        case .unknownDuration(let container):
            return "the \(container) file declares no duration, and none can be estimated: frames cannot be spread over it (scene sampling can)"
        case .tooManyFrames(let requested, let limit):
            return "the sampling asks for \(requested) frames; the limit is \(limit) per video"
        case .badSampling(let detail):
            return "invalid frame sampling: \(detail)"
        case .decodeTimeout(let seconds, let limit):
            return "decoding the video took \(AudioError.format(seconds)) s; the limit is \(AudioError.format(limit)) s"
        case .cancelled:
            return "video decoding was cancelled"
        case .truncated(let container, let detail):
            return "truncated \(container) file: \(detail)"
        case .corrupt(let container, let detail):
            return "corrupt \(container) file: \(detail)"
        case .unreadable(let detail):
            return "the video file could not be read: \(detail)"
        case .resourceFailure(let detail):
            return "video decoding failed for lack of resources: \(detail)"
        }
    }
}
