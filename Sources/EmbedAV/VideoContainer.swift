import CFFmpeg

/// A video container opened by libavformat through `MediaInput` (memory or a descriptor), its
/// best video stream chosen and every limit the headers allow checked, before any frame of it
/// is decoded.
///
/// In order: the byte count; FFmpeg's probe of the format against `VideoFormats` and the declared
/// MIME type (a sound-only format is `noVideoStream`); EmbedAV's own reading of an MP4's boxes
/// or a Matroska Segment for a cut file; the header (`FormatOpener`: that demuxer only, the video
/// and audio decoders only, no protocols, no nested opens); the picture sizes and durations it
/// declares; then `avformat_find_stream_info`, with `max_pixels` handed to its probing decoders;
/// the stream: the video stream FFmpeg's `av_find_best_stream` ranks first (cover pictures are
/// not video) whose codec is on the list; the same checks on what probing found. Streams other
/// than the chosen one are discarded only then, as the ffmpeg command line reads them all: the
/// container's start time, the origin of every frame time, is the earliest of all its streams'.
///
/// Owns the format context (closed in `deinit`, before `MediaInput` frees its I/O context); used
/// by one thread.
final class VideoContainer {
    let input: MediaInput
    let messages: FFmpegMessages
    let context: UnsafeMutablePointer<AVFormatContext>
    let stream: UnsafeMutablePointer<AVStream>
    let codec: UnsafePointer<AVCodec>
    let label: String
    /// Whether the container's structure showed all its bytes are there (an MP4's boxes, a
    /// Matroska Segment of known size).
    let structurallyComplete: Bool
    let info: VideoInfo
    /// Whether the video stream declares its own duration (an AVI's frame count, an MP4's track
    /// length), rather than the container's (FLV, Matroska: the longest of its streams).
    let streamDeclaresDuration: Bool
    /// The `-ss` clock's origin: the container's start time, in microseconds (0 when unknown).
    let startMicroseconds: Int64
    /// Whether FFmpeg's index of the stream lists only true keyframes (not MPEG-TS and MPEG-PS,
    /// where its timestamp search adds every packet it reads as one).
    let keyframeIndex: Bool
    /// ffmpeg's "dts heuristic": a container that seeks by decoding time and a stream with
    /// reordered frames get their seek target 3/23 s early, as the command line does.
    let seeksEarly: Bool

    init(_ source: MediaSource, mimeType: String?, limits: VideoLimits) throws(VideoError) {
        _ = FFmpeg.setUp
        guard source.count > 0 else { throw .emptyInput }
        guard source.count <= limits.maxInputBytes else { throw .tooManyBytes(count: source.count, limit: limits.maxInputBytes) }
        guard let input = MediaInput(source) else { throw .resourceFailure("avio_alloc_context") }
        let probed: UnsafePointer<AVInputFormat>
        switch FormatOpener.probe(input) {
        case .success(let format): probed = format
        case .failure(let unrecognized):
            if unrecognized.code == FFmpeg.outOfMemory { throw .resourceFailure("probing the format") }
            if let failure = input.readFailure { throw .unreadable("\(failure)") }
            throw .notAVideo(declared: mimeType, prefix: input.bytes(at: 0, count: 8))
        }
        let demuxer = FormatOpener.name(probed)
        guard let label = VideoFormats.label(demuxer: demuxer) else {
            if let audio = AudioFormats.container(demuxer: demuxer) { throw .noVideoStream(container: audio.label, hasAudio: true) }
            throw .unsupportedContainer(FormatOpener.longName(probed), declared: mimeType)
        }
        try VideoFormats.check(declared: mimeType, found: label)
        let complete: Bool
        do throws(Truncation) {
            complete = try FormatOpener.checkComplete(input, demuxer: demuxer)
        } catch {
            throw .truncated(container: error.container, detail: error.detail)
        }
        if let failure = input.readFailure { throw .unreadable("\(failure)") }

        let messages = FFmpegMessages()
        let context: UnsafeMutablePointer<AVFormatContext>
        do throws(FormatOpener.Failure) {
            context = try FormatOpener.open(input, format: probed, demuxers: VideoFormats.demuxerWhitelist,
                                            decoders: VideoFormats.decoderWhitelist, messages: messages)
        } catch {
            switch error {
            case .resource(let what): throw .resourceFailure(what)
            case .open(let code):
                throw Self.failure(code, label: label, messages: messages, input: input, complete: complete, doing: "reading the header")
            }
        }
        // From here on the context is closed by deinit, or by `abandon` if init throws.
        func abandon(_ error: VideoError) -> VideoError {
            var closing: UnsafeMutablePointer<AVFormatContext>? = context
            avformat_close_input(&closing)
            return error
        }

        // What the header declares, before FFmpeg probes any packet (some containers, FLV and
        // MPEG-PS, declare their streams only as their packets come: checked after probing).
        do throws(VideoError) {
            for stream in FormatOpener.streams(context).compactMap({ $0 })
            where stream.pointee.codecpar.pointee.codec_type == AVMEDIA_TYPE_VIDEO {
                try Self.checkSize(stream.pointee.codecpar, limits: limits)
            }
            let declared = FormatOpener.streams(context).compactMap { $0.flatMap { FormatOpener.seconds($0) } }
                + [FormatOpener.seconds(context)].compactMap { $0 }
            if let longest = declared.max(), longest > limits.maxSeconds { throw .tooLong(seconds: longest, limit: limits.maxSeconds) }
        } catch {
            throw abandon(error)
        }

        // The length in frames the header declares (an AVI's frame count), as seconds at its
        // frame rate, to compare with the duration probing finds in the data.
        var declaredSeconds: [Int32: Double] = [:]
        for stream in FormatOpener.streams(context).compactMap({ $0 }) {
            let frames = stream.pointee.nb_frames, rate = stream.pointee.avg_frame_rate
            if frames > 0, rate.num > 0, rate.den > 0 {
                declaredSeconds[stream.pointee.index] = Double(frames) * Double(rate.den) / Double(rate.num)
            }
        }

        // Probing decodes a few frames of every stream: bound their size too.
        var options = [OpaquePointer?](repeating: nil, count: Int(context.pointee.nb_streams))
        for i in options.indices { av_dict_set(&options[i], "max_pixels", "\(min(limits.maxPixels, Int(Int32.max)))", 0) }
        let found = options.withUnsafeMutableBufferPointer { avformat_find_stream_info(context, $0.baseAddress) }
        for i in options.indices { av_dict_free(&options[i]) }
        guard found >= 0 else {
            throw abandon(Self.failure(found, label: label, messages: messages, input: input, complete: complete,
                                       doing: "reading the stream parameters"))
        }

        let streams = FormatOpener.streams(context).compactMap { $0 }
        let hasAudio = streams.contains { $0.pointee.codecpar.pointee.codec_type == AVMEDIA_TYPE_AUDIO }
        let videos = streams.filter {
            $0.pointee.codecpar.pointee.codec_type == AVMEDIA_TYPE_VIDEO && $0.pointee.disposition & AV_DISPOSITION_ATTACHED_PIC == 0
        }
        let best = av_find_best_stream(context, AVMEDIA_TYPE_VIDEO, -1, -1, nil, 0)
        let ranked = videos.filter { $0.pointee.index == best } + videos.filter { $0.pointee.index != best }
        guard let stream = ranked.first(where: { Self.decoder($0.pointee.codecpar) != nil }),
              let codec = Self.decoder(stream.pointee.codecpar) else {
            if let refused = ranked.first { throw abandon(.unsupportedCodec(container: label, codec: Demuxer.codecName(refused.pointee.codecpar))) }
            // Not a single stream of any kind: the index (an MP4's moov) is damaged, not a file of subtitles.
            if streams.isEmpty {
                let reason = messages.take().map { " (\($0))" } ?? ""
                throw abandon(.corrupt(container: label, detail: "its header describes no stream at all\(reason)"))
            }
            throw abandon(.noVideoStream(container: label, hasAudio: hasAudio))
        }
        let parameters = stream.pointee.codecpar.pointee
        guard parameters.width > 0, parameters.height > 0 else {
            let reason = messages.take().map { " (\($0))" } ?? ""
            throw abandon(.corrupt(container: label, detail: "no picture size could be found in the video stream\(reason)"))
        }
        do throws(VideoError) { try Self.checkSize(stream.pointee.codecpar, limits: limits) } catch { throw abandon(error) }

        // The -ss clock: 0 is the container's start. The video runs to its stream's end, or to
        // the container's when the stream declares no duration.
        let start = context.pointee.start_time
        let startMicroseconds = start == FFmpeg.noTimestamp ? 0 : start
        let base = stream.pointee.time_base
        var duration: Double? = nil
        if let own = FormatOpener.seconds(stream), base.num > 0, base.den > 0 {
            let first = stream.pointee.start_time == FFmpeg.noTimestamp ? 0 : stream.pointee.start_time
            let end = Double(first) * Double(base.num) / Double(base.den) + own - Double(startMicroseconds) / 1e6
            if end > 0, end.isFinite { duration = end }
        }
        // An AVI's header counts its frames; without its index at the end (a cut file) FFmpeg
        // measures the duration in the data instead, and the two disagree.
        if !complete, let declared = declaredSeconds[stream.pointee.index], let measured = FormatOpener.seconds(stream),
           declared > measured * 1.1 + 0.5 {
            throw abandon(.truncated(container: label, detail: "the header declares \(AudioError.format(declared)) s of video; "
                                     + "the data holds \(AudioError.format(measured)) s"))
        }
        streamDeclaresDuration = duration != nil
        duration = duration ?? FormatOpener.seconds(context)
        guard let duration else { throw abandon(.unknownDuration(container: label)) }
        guard duration <= limits.maxSeconds else { throw abandon(.tooLong(seconds: duration, limit: limits.maxSeconds)) }

        let orientation = Orientation(matrix: Orientation.matrix(of: stream))
        let rate = av_guess_frame_rate(context, stream, nil)
        let width = Int(parameters.width), height = Int(parameters.height)
        info = VideoInfo(container: label, codec: String(cString: avcodec_get_name(parameters.codec_id)),
                         width: orientation.swapsSides ? height : width, height: orientation.swapsSides ? width : height,
                         duration: duration, frameRate: rate.num > 0 && rate.den > 0 ? Double(rate.num) / Double(rate.den) : nil,
                         hasAudio: hasAudio, rotation: orientation.degrees)
        seeksEarly = probed.pointee.flags & AVFMT_SEEK_TO_PTS == 0 && streams.contains { $0.pointee.codecpar.pointee.video_delay > 0 }
        for other in streams where other != stream { other.pointee.discard = AVDISCARD_ALL }

        self.keyframeIndex = demuxer != "mpegts" && demuxer != "mpeg"
        self.startMicroseconds = startMicroseconds
        self.structurallyComplete = complete
        self.input = input
        self.messages = messages
        self.context = context
        self.stream = stream
        self.codec = codec
        self.label = label
    }

    deinit {
        var closing: UnsafeMutablePointer<AVFormatContext>? = context
        avformat_close_input(&closing)  // the custom AVIOContext is freed by MediaInput, after this
    }

    /// FFmpeg's decoder for the stream's codec, when it is on EmbedAV's list.
    static func decoder(_ parameters: UnsafePointer<AVCodecParameters>) -> UnsafePointer<AVCodec>? {
        guard let codec = avcodec_find_decoder(parameters.pointee.codec_id),
              VideoFormats.decoders.contains(String(cString: codec.pointee.name)) else { return nil }
        return codec
    }

    /// Refuses a declared picture larger than the limit (a size of 0 is unknown yet, not refused).
    static func checkSize(_ parameters: UnsafePointer<AVCodecParameters>, limits: VideoLimits) throws(VideoError) {
        let width = Int(parameters.pointee.width), height = Int(parameters.pointee.height)
        guard width >= 0, height >= 0, width.multipliedReportingOverflow(by: height).partialValue <= limits.maxPixels,
              width <= 1 << 16, height <= 1 << 16 else {
            throw .tooLarge(width: width, height: height, limit: limits.maxPixels)
        }
    }

    /// Whether the demuxer has asked for bytes past the end of the input.
    var reachedEnd: Bool { avio_feof(input.context) != 0 }

    /// An FFmpeg error code as a `VideoError`: running out of bytes is a truncated file (unless
    /// the container's structure showed them complete), a failing descriptor unreadable, out of
    /// memory a resource failure, anything else a corrupt file (with FFmpeg's logged reason).
    static func failure(_ code: Int32, label: String, messages: FFmpegMessages, input: MediaInput, complete: Bool,
                        doing: String) -> VideoError {
        let reason = messages.take() ?? FFmpeg.describe(code)
        if code == FFmpeg.outOfMemory { return .resourceFailure("\(doing) of the \(label) file") }
        if let failure = input.readFailure { return .unreadable("\(doing): \(failure)") }
        if !complete && (code == FFmpeg.eof || avio_feof(input.context) != 0) {
            return .truncated(container: label, detail: "the data ends while \(doing) (\(reason))")
        }
        return .corrupt(container: label, detail: "\(doing): \(reason)")
    }
}
