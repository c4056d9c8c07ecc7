import CFFmpeg

/// A container opened from memory by libavformat, with its first decodable audio stream chosen.
///
/// Before any demuxer runs on the bytes, FFmpeg's probe names the format, which must be one of
/// `AudioFormats.containers` and agree with the declared MIME type. The context then opens only
/// through that demuxer, with `format_whitelist` and `codec_whitelist` set to EmbedAV's lists,
/// an empty `protocol_whitelist`, and an `io_open` callback that refuses every nested open (a
/// demuxer can never reach a file or URL named inside the bytes). Streams other than the chosen
/// one are discarded before `avformat_find_stream_info`, so no video parser or decoder sees them.
struct Demuxer: ~Copyable {
    let container: AudioFormats.Container
    let context: UnsafeMutablePointer<AVFormatContext>
    let stream: UnsafeMutablePointer<AVStream>
    let codec: UnsafePointer<AVCodec>
    /// The duration the header declares (before FFmpeg estimates any), in seconds, if it does.
    let declaredSeconds: Double?
    /// Whether the container's own structure shows the bytes are all there (MP4 boxes, Ogg's
    /// last page, a Matroska Segment of known size): the audio ending early is then damage,
    /// not a cut.
    let structurallyComplete: Bool
    let messages: FFmpegMessages
    private let input: MemoryInput

    init(bytes: UnsafeRawBufferPointer, mimeType: String?) throws(AudioError) {
        _ = FFmpeg.setUp
        let input = try MemoryInput(bytes)
        var probed: UnsafePointer<AVInputFormat>? = nil
        let score = av_probe_input_buffer2(input.context, &probed, nil, nil, 0, 0)
        guard score >= 0, let probed else {
            if score == FFmpeg.outOfMemory { throw .resourceFailure("probing the format") }
            throw .unrecognized(declared: mimeType, prefix: Array(bytes.prefix(8)))
        }
        let name = String(cString: probed.pointee.name)
        guard let container = AudioFormats.container(demuxer: name) else {
            let long = probed.pointee.long_name.map { String(cString: $0) } ?? name
            throw .unsupportedFormat(long, declared: mimeType)
        }
        try AudioFormats.check(declared: mimeType, found: container)
        let complete: Bool
        switch container.demuxer {  // what EmbedAV reads itself first: see each type
        case "wav": try WAVHeader.check(bytes); complete = false
        case "mov": complete = try MP4Boxes.checkComplete(bytes)
        case "ogg": try OggPages.checkComplete(bytes); complete = true
        case "matroska": complete = try MatroskaSegment.checkComplete(bytes)
        default: complete = false
        }

        let messages = FFmpegMessages()
        guard let allocated = avformat_alloc_context() else { throw .resourceFailure("avformat_alloc_context") }
        allocated.pointee.pb = input.context
        allocated.pointee.flags |= AVFMT_FLAG_CUSTOM_IO
        allocated.pointee.opaque = messages.opaque
        allocated.pointee.max_streams = 64
        allocated.pointee.io_open = { _, _, _, _, _ in embedd_averror_eperm() }
        let settings = [("format_whitelist", AudioFormats.demuxerWhitelist),
                        ("codec_whitelist", AudioFormats.decoderWhitelist),
                        ("protocol_whitelist", "")]
        for (key, value) in settings where av_opt_set(allocated, key, value, 0) < 0 {
            avformat_free_context(allocated)
            throw .resourceFailure("setting \(key)")
        }
        var opening: UnsafeMutablePointer<AVFormatContext>? = allocated
        let opened = avformat_open_input(&opening, nil, probed, nil)  // frees the context on failure
        guard opened >= 0, let context = opening else {
            throw Self.failure(opened, container: container, messages: messages, input: input, complete: complete, doing: "reading the header")
        }
        // From here on the context is closed by deinit, or by `abandon` if init throws.
        func abandon(_ error: AudioError) -> AudioError {
            var closing: UnsafeMutablePointer<AVFormatContext>? = context
            avformat_close_input(&closing)
            return error
        }

        let streams = UnsafeBufferPointer(start: context.pointee.streams, count: Int(context.pointee.nb_streams))
        var chosen: UnsafeMutablePointer<AVStream>? = nil
        var refused: String? = nil
        for case let stream? in streams where stream.pointee.codecpar.pointee.codec_type == AVMEDIA_TYPE_AUDIO {
            if Self.decoder(stream.pointee.codecpar) != nil {
                chosen = stream
                break
            }
            refused = refused ?? Self.codecName(stream.pointee.codecpar)
        }
        guard let stream = chosen else {
            if let refused { throw abandon(.unsupportedCodec(container: container.label, codec: refused)) }
            throw abandon(.noAudioStream(container: container.label))
        }
        for case let other? in streams where other != stream { other.pointee.discard = AVDISCARD_ALL }

        // What the header said (the stream's duration, else the container's: Matroska's Info),
        // before avformat_find_stream_info fills gaps with estimates from the bit rate and
        // file size, which a truncated file makes short.
        let duration = stream.pointee.duration, base = stream.pointee.time_base
        let whole = context.pointee.duration
        let declared: Double?
        if duration != FFmpeg.noTimestamp, duration > 0, base.num > 0, base.den > 0 {
            declared = Double(duration) * Double(base.num) / Double(base.den)
        } else if whole != FFmpeg.noTimestamp, whole > 0 {
            declared = Double(whole) / Double(AV_TIME_BASE)
        } else {
            declared = nil
        }

        let info = avformat_find_stream_info(context, nil)
        guard info >= 0 else {
            throw abandon(Self.failure(info, container: container, messages: messages, input: input, complete: complete,
                                       doing: "reading the stream parameters"))
        }
        // Reading packets may change the codec: FFmpeg probes the data of a 16-bit PCM WAV
        // stream for the compressed formats S/PDIF recorders wrap as PCM (MP3, AC-3, DTS).
        guard let codec = Self.decoder(stream.pointee.codecpar) else {
            throw abandon(.unsupportedCodec(container: container.label, codec: Self.codecName(stream.pointee.codecpar)))
        }
        let parameters = stream.pointee.codecpar.pointee
        guard AudioLimits.channelCounts.contains(Int(parameters.ch_layout.nb_channels)) else {
            throw abandon(.badChannelCount(container: container.label, count: Int(parameters.ch_layout.nb_channels)))
        }
        guard AudioLimits.sampleRates.contains(Int(parameters.sample_rate)) else {
            throw abandon(.badSampleRate(container: container.label, rate: Int(parameters.sample_rate)))
        }

        self.declaredSeconds = declared
        self.structurallyComplete = complete
        self.input = input
        self.messages = messages
        self.container = container
        self.context = context
        self.stream = stream
        self.codec = codec
    }

    /// FFmpeg's decoder for the stream's codec, when it is on EmbedAV's list.
    static func decoder(_ parameters: UnsafePointer<AVCodecParameters>) -> UnsafePointer<AVCodec>? {
        guard let codec = avcodec_find_decoder(parameters.pointee.codec_id),
              AudioFormats.decoders.contains(String(cString: codec.pointee.name)) else { return nil }
        return codec
    }

    /// "adpcm_ima_wav"; "unknown (tag 0x0055)" for a codec FFmpeg does not know.
    static func codecName(_ parameters: UnsafePointer<AVCodecParameters>) -> String {
        let id = parameters.pointee.codec_id
        guard id == AV_CODEC_ID_NONE else { return String(cString: avcodec_get_name(id)) }
        let tag = parameters.pointee.codec_tag
        let hex = String(tag, radix: 16)
        return "unknown (tag 0x" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex + ")"
    }

    deinit {
        var closing: UnsafeMutablePointer<AVFormatContext>? = context
        avformat_close_input(&closing)  // the custom AVIOContext is freed by MemoryInput, after this
    }

    /// Whether the demuxer has asked for bytes past the end of the input.
    var reachedEnd: Bool { avio_feof(input.context) != 0 }

    /// `failure(_:container:messages:input:complete:doing:)` for this demuxer.
    func failure(_ code: Int32, doing: String) -> AudioError {
        Self.failure(code, container: container, messages: messages, input: input, complete: structurallyComplete, doing: doing)
    }

    /// An FFmpeg error code as an `AudioError`: running out of bytes is a truncated file (unless
    /// the container's structure showed them `complete`), out of memory a resource failure,
    /// anything else a corrupt file (with FFmpeg's logged reason).
    static func failure(_ code: Int32, container: AudioFormats.Container, messages: FFmpegMessages,
                        input: MemoryInput, complete: Bool, doing: String) -> AudioError {
        let reason = messages.take() ?? FFmpeg.describe(code)
        if code == FFmpeg.outOfMemory { return .resourceFailure("\(doing) of the \(container.label) file") }
        if !complete && (code == FFmpeg.eof || avio_feof(input.context) != 0) {
            return .truncated(container: container.label, detail: "the data ends while \(doing) (\(reason))")
        }
        return .corrupt(container: container.label, detail: "\(doing): \(reason)")
    }
}
