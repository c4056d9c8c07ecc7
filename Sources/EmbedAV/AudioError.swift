/// Why audio could not be decoded or resampled. Every case names the problem in words a user can
/// act on (`description`); nothing in EmbedAV traps on hostile input, it throws one of these.
/// Every case but `resourceFailure` and `unreadable` is the input's fault (a plugin answers INVALID_ARGUMENT).
public enum AudioError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Zero bytes (or zero PCM samples) were given.
    case emptyInput
    /// The encoded input is larger than `AudioLimits.maxInputBytes`.
    case tooManyBytes(count: Int, limit: Int)
    /// FFmpeg recognises no format in the bytes. `declared` is the caller's MIME type,
    /// `prefix` the first bytes (at most 8), shown in the message.
    case unrecognized(declared: String?, prefix: [UInt8])
    /// FFmpeg recognises a format EmbedAV does not open (Sun AU, CAF, ASF, ...): its name.
    case unsupportedFormat(String, declared: String?)
    /// The declared MIME type names another container than the bytes are (see `AudioFormats`).
    case mislabelled(declared: String, found: String)
    /// The container holds no audio stream (a video-only MP4).
    case noAudioStream(container: String)
    /// The audio stream's codec is not one EmbedAV decodes: FFmpeg's name of it.
    case unsupportedCodec(container: String, codec: String)
    /// The header or a decoded frame has a channel count outside `AudioLimits.channelCounts`.
    case badChannelCount(container: String, count: Int)
    /// The header or a decoded frame has a sample rate outside `AudioLimits.sampleRates`.
    case badSampleRate(container: String, rate: Int)
    /// The audio is longer than `AudioLimits.maxSeconds`: as the header declares it
    /// (`declared`, refused before decoding), or as decoded so far (decoding stopped there).
    case tooLong(seconds: Double, limit: Double, declared: Bool)
    /// The data ends before the audio does (a cut download, a partial write): `detail` says where.
    case truncated(container: String, detail: String)
    /// The data is damaged or malformed; `detail` says where and what FFmpeg reported.
    case corrupt(container: String, detail: String)
    /// Raw PCM input that cannot be audio (sample count not a multiple of the channel count,
    /// a NaN or infinite sample).
    case invalidPCM(String)
    /// The descriptor could not be read (`pread` failed: an I/O error, a closed descriptor).
    case unreadable(String)
    /// FFmpeg ran out of memory or refused a set-up EmbedAV had already checked: not the input's fault.
    case resourceFailure(String)

    public var description: String {
        switch self {
        case .emptyInput:
            return "empty input: zero bytes is not audio"
        case .tooManyBytes(let count, let limit):
            return "audio file is \(count) bytes; the limit is \(limit)"
        case .unrecognized(let declared, let prefix):
            let shown = Self.describe(prefix: prefix)
            if let declared, !declared.isEmpty {
                return "declared \(declared) but not a recognisable audio file (\(shown)); \(AudioFormats.supportedList) are decoded"
            }
            return "not a recognisable audio file (\(shown)); \(AudioFormats.supportedList) are decoded"
        case .unsupportedFormat(let name, let declared):
            let what = declared.map { $0.isEmpty ? "" : " (declared \($0))" } ?? ""
            return "unsupported audio format: the bytes are \(name)\(what); \(AudioFormats.supportedList) are decoded"
        case .mislabelled(let declared, let found):
            return "mislabelled audio: declared \(declared) but the bytes are \(found)"
        case .noAudioStream(let container):
            return "the \(container) file has no audio stream"
        case .unsupportedCodec(let container, let codec):
            return "unsupported audio codec \(codec) in the \(container) file; \(AudioFormats.codecList) are decoded"
        case .badChannelCount(let container, let count):
            let range = AudioLimits.channelCounts
            return "the \(container) audio declares \(count) channels; \(range.lowerBound) to \(range.upperBound) are accepted"
        case .badSampleRate(let container, let rate):
            let range = AudioLimits.sampleRates
            return "the \(container) audio declares a sample rate of \(rate) Hz; \(range.lowerBound) to \(range.upperBound) Hz are accepted"
        case .tooLong(let seconds, let limit, let declared):
            if declared {
                return "audio is \(Self.format(seconds)) s long (as its header declares); the limit is \(Self.format(limit)) s"
            }
            return "audio is longer than the limit of \(Self.format(limit)) s (decoding stopped at \(Self.format(seconds)) s)"
        case .truncated(let container, let detail):
            return "truncated \(container) file: \(detail)"
        case .corrupt(let container, let detail):
            return "corrupt \(container) file: \(detail)"
        case .invalidPCM(let detail):
            return "invalid PCM input: \(detail)"
        case .unreadable(let detail):
            return "the audio file could not be read: \(detail)"
        case .resourceFailure(let detail):
            return "audio decoding failed for lack of resources: \(detail)"
        }
    }

    /// Seconds with at most 3 decimals ("7.1", "0.025"), without Foundation.
    static func format(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "\(seconds)" }
        guard abs(seconds) < 1e12 else { return "\(Int64(seconds.rounded()))" }
        let ms = Int64((abs(seconds) * 1000).rounded())
        var text = (seconds < 0 && ms > 0 ? "-" : "") + "\(ms / 1000)"
        var fraction = ms % 1000
        if fraction > 0 {
            var digits = 3
            while fraction % 10 == 0 { fraction /= 10; digits -= 1 }
            let s = "\(fraction)"
            text += "." + String(repeating: "0", count: digits - s.count) + s
        }
        return text
    }

    /// "starts with "hello wo"" for text, hex bytes otherwise.
    static func describe(prefix: [UInt8]) -> String {
        let p = Array(prefix.prefix(8))
        guard !p.isEmpty else { return "no bytes" }
        if p.allSatisfy({ (0x20..<0x7F).contains($0) }) {
            return "starts with \"" + String(decoding: p, as: UTF8.self) + "\""
        }
        let hex: [Character] = Array("0123456789abcdef")
        return "starts with " + p.map { String([hex[Int($0 >> 4)], hex[Int($0 & 15)]]) }.joined(separator: " ")
    }
}
