import CFFmpeg

/// libavcodec's decoder for the demuxer's chosen audio stream, with a frame to receive into.
/// Single-threaded (`thread_count = 1`): audio decodes far faster than real time, and the caller
/// decodes many files in parallel instead.
struct StreamDecoder: ~Copyable {
    let context: UnsafeMutablePointer<AVCodecContext>
    let frame: UnsafeMutablePointer<AVFrame>

    init(_ demuxer: borrowing Demuxer) throws(AudioError) {
        let label = demuxer.container.label
        guard let context = avcodec_alloc_context3(demuxer.codec) else { throw .resourceFailure("avcodec_alloc_context3") }
        func abandon(_ error: AudioError) -> AudioError {
            var freeing: UnsafeMutablePointer<AVCodecContext>? = context
            avcodec_free_context(&freeing)
            return error
        }
        guard avcodec_parameters_to_context(context, demuxer.stream.pointee.codecpar) >= 0 else {
            throw abandon(.resourceFailure("avcodec_parameters_to_context"))
        }
        context.pointee.pkt_timebase = demuxer.stream.pointee.time_base
        context.pointee.thread_count = 1
        context.pointee.opaque = demuxer.messages.opaque
        guard av_opt_set(context, "codec_whitelist", AudioFormats.decoderWhitelist, 0) >= 0 else {
            throw abandon(.resourceFailure("setting codec_whitelist"))
        }
        let opened = avcodec_open2(context, demuxer.codec, nil)
        guard opened >= 0 else {
            if opened == FFmpeg.outOfMemory { throw abandon(.resourceFailure("avcodec_open2")) }
            let reason = demuxer.messages.take() ?? FFmpeg.describe(opened)
            let name = String(cString: demuxer.codec.pointee.name)
            throw abandon(.corrupt(container: label, detail: "the \(name) decoder refuses the stream's parameters: \(reason)"))
        }
        guard let frame = av_frame_alloc() else { throw abandon(.resourceFailure("av_frame_alloc")) }
        self.context = context
        self.frame = frame
    }

    deinit {
        var frame: UnsafeMutablePointer<AVFrame>? = self.frame
        av_frame_free(&frame)
        var context: UnsafeMutablePointer<AVCodecContext>? = self.context
        avcodec_free_context(&context)
    }

    /// `avcodec_send_packet`; nil flushes.
    func send(_ packet: UnsafePointer<AVPacket>?) -> Int32 { avcodec_send_packet(context, packet) }

    /// `avcodec_receive_frame` into `frame`.
    func receive() -> Int32 { avcodec_receive_frame(context, frame) }
}
