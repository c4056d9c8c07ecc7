import CFFmpeg

/// What the audio and video demuxers share: FFmpeg's probe of the input, then opening it through
/// the one demuxer the probe named, fenced in. The context gets `format_whitelist` and
/// `codec_whitelist` set to the caller's lists, an empty `protocol_whitelist`, at most 64
/// streams, and an `io_open` callback that refuses every nested open (a demuxer can never reach
/// a file or URL named inside the bytes: HLS, concat, a QuickTime reference movie).
enum FormatOpener {
    enum Failure: Error {
        /// FFmpeg could not allocate or configure the context (not the input's fault).
        case resource(String)
        /// `avformat_open_input`'s error code (the context is already freed).
        case open(Int32)
    }

    /// FFmpeg's error code for a probe that recognised nothing.
    struct Unrecognized: Error { let code: Int32 }

    /// The demuxer FFmpeg's probe picks for the input (reading up to 1 MiB).
    static func probe(_ input: MediaInput) -> Result<UnsafePointer<AVInputFormat>, Unrecognized> {
        var probed: UnsafePointer<AVInputFormat>? = nil
        let score = av_probe_input_buffer2(input.context, &probed, nil, nil, 0, 0)
        guard score >= 0, let probed else { return .failure(Unrecognized(code: score < 0 ? score : FFmpeg.invalidData)) }
        return .success(probed)
    }

    /// Opens `input` through `format` and reads its header.
    static func open(_ input: MediaInput, format: UnsafePointer<AVInputFormat>, demuxers: String, decoders: String,
                     messages: FFmpegMessages) throws(Failure) -> UnsafeMutablePointer<AVFormatContext> {
        guard let allocated = avformat_alloc_context() else { throw .resource("avformat_alloc_context") }
        allocated.pointee.pb = input.context
        allocated.pointee.flags |= AVFMT_FLAG_CUSTOM_IO
        allocated.pointee.opaque = messages.opaque
        allocated.pointee.max_streams = 64
        allocated.pointee.io_open = { _, _, _, _, _ in embedd_averror_eperm() }
        let settings = [("format_whitelist", demuxers), ("codec_whitelist", decoders), ("protocol_whitelist", "")]
        for (key, value) in settings where av_opt_set(allocated, key, value, 0) < 0 {
            avformat_free_context(allocated)
            throw .resource("setting \(key)")
        }
        var opening: UnsafeMutablePointer<AVFormatContext>? = allocated
        let opened = avformat_open_input(&opening, nil, format, nil)  // frees the context on failure
        guard opened >= 0, let context = opening else { throw .open(opened) }
        return context
    }

    /// The first name in FFmpeg's demuxer name ("mov" of "mov,mp4,m4a,3gp,3g2,mj2").
    /// What EmbedAV reads itself before FFmpeg opens a file of demuxer `demuxer`: whether its
    /// structure shows every byte is there (MP4's boxes, Matroska's Segment size, Ogg's last
    /// page), throwing where it shows a cut; false for containers whose structure cannot tell.
    static func checkComplete(_ input: MediaInput, demuxer: String) throws(Truncation) -> Bool {
        switch demuxer {
        case "mov": return try MP4Boxes.checkComplete(input)
        case "ogg": try OggPages.checkComplete(input); return true
        case "matroska": return try MatroskaSegment.checkComplete(input)
        default: return false
        }
    }

    static func name(_ format: UnsafePointer<AVInputFormat>) -> String {
        let name = String(cString: format.pointee.name)
        return name.split(separator: ",").first.map(String.init) ?? name
    }

    /// FFmpeg's long name of the format ("QuickTime / MOV").
    static func longName(_ format: UnsafePointer<AVInputFormat>) -> String {
        format.pointee.long_name.map { String(cString: $0) } ?? name(format)
    }

    /// A stream's duration in seconds, when its header gives one.
    static func seconds(_ stream: UnsafePointer<AVStream>) -> Double? {
        let duration = stream.pointee.duration, base = stream.pointee.time_base
        guard duration != FFmpeg.noTimestamp, duration > 0, base.num > 0, base.den > 0 else { return nil }
        return Double(duration) * Double(base.num) / Double(base.den)
    }

    /// The container's duration in seconds, when known.
    static func seconds(_ context: UnsafePointer<AVFormatContext>) -> Double? {
        let whole = context.pointee.duration
        guard whole != FFmpeg.noTimestamp, whole > 0 else { return nil }
        return Double(whole) / Double(AV_TIME_BASE)
    }

    /// The context's streams.
    static func streams(_ context: UnsafePointer<AVFormatContext>) -> UnsafeBufferPointer<UnsafeMutablePointer<AVStream>?> {
        UnsafeBufferPointer(start: context.pointee.streams, count: Int(context.pointee.nb_streams))
    }
}
