import CFFmpeg
import Synchronization

/// FFmpeg's process-wide set-up and its error text.
enum FFmpeg {
    static let eof = embedd_averror_eof()
    static let again = embedd_averror_eagain()
    static let invalidData = embedd_averror_invaliddata()
    static let outOfMemory = embedd_averror_enomem()
    static let noTimestamp = embedd_av_nopts_value()
    /// 256 MiB: an 8K RGBA video frame is 141 MB; an hour of audio's MP4 index a few MB.
    static let maxAllocation = 256 << 20

    /// Done once per process before EmbedAV's first FFmpeg call (a Swift static is initialised
    /// exactly once, thread-safely): FFmpeg's log goes to a callback that writes nothing to
    /// standard error and keeps the error-level messages of EmbedAV's own contexts as the
    /// details of its errors (see `FFmpegMessages`). The level is set to quiet too, for the
    /// code in FFmpeg that checks it before formatting anything.
    ///
    /// FFmpeg's largest single allocation is lowered from 2 GiB to `maxAllocation`: demuxers
    /// size some tables from header counts, and this bounds what a lying header can ask for.
    static let setUp: Void = {
        av_max_alloc(maxAllocation)
        av_log_set_level(AV_LOG_QUIET)
        av_log_set_callback { context, level, format, arguments in
            guard level <= AV_LOG_ERROR, let context, let format, let arguments,
                  let messages = FFmpegMessages.owner(of: context) else { return }
            var line = [CChar](repeating: 0, count: 256)
            var printPrefix: Int32 = 0  // no "[wav @ 0x…]" prefix
            let count = av_log_format_line2(context, level, format, arguments, &line, Int32(line.count), &printPrefix)
            guard count > 0 else { return }
            messages.record(FFmpeg.string(line))
        }
    }()

    /// av_strerror's text for an FFmpeg error code ("Invalid data found when processing input").
    static func describe(_ code: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: 128)
        guard av_strerror(code, &buffer, buffer.count) == 0 else { return "FFmpeg error \(code)" }
        return string(buffer)
    }

    /// The text before the first NUL of a C character buffer.
    static func string(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// The last error FFmpeg logged about one decode's contexts, so an error can say "moov atom not
/// found" rather than only "Invalid data found when processing input". A context points at its
/// owner through its `opaque` user-data field (AVFormatContext and AVCodecContext have one);
/// the log callback recognises the two context classes by their `AVClass`.
///
/// Thread-safe (`last` behind a mutex): a video decoder's frame and slice threads log from their
/// own threads, through copies of the codec context that share its `opaque`. The decoder's
/// context is freed (its threads joined) before its owner goes. `live` holds the address of
/// every instance alive, so an `opaque` pointer set by other code than EmbedAV's is never taken
/// for one.
final class FFmpegMessages: Sendable {
    private let lastMessage = Mutex<String?>(nil)
    private static let live = Mutex<Set<UInt>>([])

    init() {
        let key = UInt(bitPattern: Unmanaged.passUnretained(self).toOpaque())
        _ = Self.live.withLock { $0.insert(key) }
    }

    deinit {
        let key = UInt(bitPattern: Unmanaged.passUnretained(self).toOpaque())
        _ = Self.live.withLock { $0.remove(key) }
    }

    var opaque: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }

    /// The last message recorded.
    var last: String? { lastMessage.withLock { $0 } }

    func record(_ line: String) {
        var text = Substring(line)
        while let end = text.last, end == "\n" || end == " " || end == "." { text = text.dropLast() }
        if !text.isEmpty { lastMessage.withLock { $0 = String(text) } }
    }

    /// `last` as " (FFmpeg: …)", or "".
    var suffix: String { last.map { " (FFmpeg: \($0))" } ?? "" }

    /// Consumes the recorded message: the next error starts clean.
    func take() -> String? {
        lastMessage.withLock { last in
            defer { last = nil }
            return last
        }
    }

    /// The owner of a context FFmpeg logs about, when it is one of EmbedAV's. Contexts FFmpeg
    /// creates for itself (the stream decoders inside avformat_find_stream_info) have a null
    /// `opaque` and are ignored.
    static func owner(of context: UnsafeMutableRawPointer) -> FFmpegMessages? {
        guard let avClass = context.load(as: UnsafePointer<AVClass>?.self) else { return nil }
        let opaque: UnsafeMutableRawPointer?
        if avClass == avformat_get_class() {
            opaque = context.assumingMemoryBound(to: AVFormatContext.self).pointee.opaque
        } else if avClass == avcodec_get_class() {
            opaque = context.assumingMemoryBound(to: AVCodecContext.self).pointee.opaque
        } else {
            return nil
        }
        guard let opaque, live.withLock({ $0.contains(UInt(bitPattern: opaque)) }) else { return nil }
        return Unmanaged<FFmpegMessages>.fromOpaque(opaque).takeUnretainedValue()
    }
}
