import CFFmpeg

/// A container opened by libavformat (from memory or a descriptor, `MediaInput`), with its best
/// decodable audio stream chosen: the one FFmpeg's `av_find_best_stream` ranks first (the
/// default-flagged track, then the most channels) when its codec is on EmbedAV's list, else the
/// first that is. Video streams (a film's picture track) are ignored.
///
/// Before any demuxer runs on the bytes, FFmpeg's probe names the format, which must be one of
/// `AudioFormats.containers` and agree with the declared MIME type. The context is then opened by
/// `FormatOpener` (that demuxer only, EmbedAV's audio decoder list, no protocols, no nested
/// opens). Streams other than the chosen one are discarded before `avformat_find_stream_info`,
/// so no video parser or decoder sees them; in the containers that declare streams only as their
/// packets come (MPEG-TS, MPEG-PS, FLV) probing comes first, and no video decoder is allowed.
struct Demuxer: ~Copyable {
    let container: AudioFormats.Container
    let context: UnsafeMutablePointer<AVFormatContext>
    let stream: UnsafeMutablePointer<AVStream>
    let codec: UnsafePointer<AVCodec>
    /// The duration the header declares (before FFmpeg estimates any), in seconds, if it does:
    /// the audio stream's own, else (in a file without pictures) the container's.
    let declaredSeconds: Double?
    /// Whether the container's own structure shows the bytes are all there (MP4 boxes, Ogg's
    /// last page, a Matroska Segment of known size): the audio ending early is then damage,
    /// not a cut.
    let structurallyComplete: Bool
    let messages: FFmpegMessages
    private let input: MediaInput

    init(input: MediaInput, mimeType: String?) throws(AudioError) {
        _ = FFmpeg.setUp
        let probed: UnsafePointer<AVInputFormat>
        switch FormatOpener.probe(input) {
        case .success(let format): probed = format
        case .failure(let unrecognized):
            if unrecognized.code == FFmpeg.outOfMemory { throw .resourceFailure("probing the format") }
            if let failure = input.readFailure { throw .unreadable("\(failure)") }
            throw .unrecognized(declared: mimeType, prefix: input.bytes(at: 0, count: 8))
        }
        guard let container = AudioFormats.container(demuxer: FormatOpener.name(probed)) else {
            throw .unsupportedFormat(FormatOpener.longName(probed), declared: mimeType)
        }
        try AudioFormats.check(declared: mimeType, found: container)
        if container.demuxer == "wav" { try WAVHeader.check(input) }
        let complete: Bool
        do throws(Truncation) {
            complete = try FormatOpener.checkComplete(input, demuxer: container.demuxer)
        } catch {
            throw .truncated(container: error.container, detail: error.detail)
        }
        if let failure = input.readFailure { throw .unreadable("\(failure)") }

        let messages = FFmpegMessages()
        let context: UnsafeMutablePointer<AVFormatContext>
        do throws(FormatOpener.Failure) {
            context = try FormatOpener.open(input, format: probed, demuxers: AudioFormats.demuxerWhitelist,
                                            decoders: AudioFormats.decoderWhitelist, messages: messages)
        } catch {
            switch error {
            case .resource(let what): throw .resourceFailure(what)
            case .open(let code):
                throw Self.failure(code, container: container, messages: messages, input: input, complete: complete, doing: "reading the header")
            }
        }
        // From here on the context is closed by deinit, or by `abandon` if init throws.
        func abandon(_ error: AudioError) -> AudioError {
            var closing: UnsafeMutablePointer<AVFormatContext>? = context
            avformat_close_input(&closing)
            return error
        }

        // MPEG-TS, MPEG-PS and FLV declare their streams only as packets come: probe first there
        // (the video decoders are not on the list, so no picture is decoded), then choose.
        let lateStreams = context.pointee.ctx_flags & AVFMTCTX_NOHEADER != 0
        if lateStreams {
            let info = avformat_find_stream_info(context, nil)
            guard info >= 0 else {
                throw abandon(Self.failure(info, container: container, messages: messages, input: input, complete: complete,
                                           doing: "reading the stream parameters"))
            }
        }
        let streams = FormatOpener.streams(context)
        let audio = streams.compactMap { $0 }.filter { $0.pointee.codecpar.pointee.codec_type == AVMEDIA_TYPE_AUDIO }
        let best = av_find_best_stream(context, AVMEDIA_TYPE_AUDIO, -1, -1, nil, 0)
        let ranked = audio.filter { $0.pointee.index == best } + audio.filter { $0.pointee.index != best }
        guard let stream = ranked.first(where: { Self.decoder($0.pointee.codecpar) != nil }) else {
            if let refused = ranked.first { throw abandon(.unsupportedCodec(container: container.label, codec: Self.codecName(refused.pointee.codecpar))) }
            throw abandon(.noAudioStream(container: container.label))
        }
        for case let other? in streams where other != stream { other.pointee.discard = AVDISCARD_ALL }
        let pictures = streams.contains { s in
            guard let s else { return false }
            return s.pointee.codecpar.pointee.codec_type == AVMEDIA_TYPE_VIDEO && s.pointee.disposition & AV_DISPOSITION_ATTACHED_PIC == 0
        }

        // What the header said (the stream's duration, else the container's: Matroska's Info),
        // before avformat_find_stream_info fills gaps with estimates from the bit rate and
        // file size, which a truncated file makes short. In a video the container's duration is
        // the longest track's, and a sound track may well end before the picture does.
        let declared = lateStreams ? nil : FormatOpener.seconds(stream) ?? (pictures ? nil : FormatOpener.seconds(context))

        if !lateStreams {
            let info = avformat_find_stream_info(context, nil)
            guard info >= 0 else {
                throw abandon(Self.failure(info, container: container, messages: messages, input: input, complete: complete,
                                           doing: "reading the stream parameters"))
            }
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
        avformat_close_input(&closing)  // the custom AVIOContext is freed by MediaInput, after this
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
                        input: MediaInput, complete: Bool, doing: String) -> AudioError {
        let reason = messages.take() ?? FFmpeg.describe(code)
        if code == FFmpeg.outOfMemory { return .resourceFailure("\(doing) of the \(container.label) file") }
        if let failure = input.readFailure { return .unreadable("\(doing): \(failure)") }
        if !complete && (code == FFmpeg.eof || avio_feof(input.context) != 0) {
            return .truncated(container: container.label, detail: "the data ends while \(doing) (\(reason))")
        }
        return .corrupt(container: container.label, detail: "\(doing): \(reason)")
    }
}
