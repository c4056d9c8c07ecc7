import CFFmpeg

/// libavcodec's decoder for a video stream, with FFmpeg's frame and slice threading
/// (`thread_count` from the caller; 0 lets FFmpeg pick one thread per core and one more, as the
/// ffmpeg command line does) and the pixel limit handed to the decoder itself (`max_pixels`), so
/// a lying bitstream cannot make it allocate a larger picture than the header check allowed.
///
/// Owns the codec context and a frame to receive into. The decoder's worker threads log through
/// the shared `FFmpegMessages`, which is thread-safe; `deinit` joins them.
final class VideoDecoder {
    let context: UnsafeMutablePointer<AVCodecContext>
    let frame: UnsafeMutablePointer<AVFrame>

    init(stream: UnsafePointer<AVStream>, codec: UnsafePointer<AVCodec>, threads: Int, maxPixels: Int,
         messages: FFmpegMessages, container: String) throws(VideoError) {
        guard let context = avcodec_alloc_context3(codec) else { throw .resourceFailure("avcodec_alloc_context3") }
        func abandon(_ error: VideoError) -> VideoError {
            var freeing: UnsafeMutablePointer<AVCodecContext>? = context
            avcodec_free_context(&freeing)
            return error
        }
        guard avcodec_parameters_to_context(context, stream.pointee.codecpar) >= 0 else {
            throw abandon(.resourceFailure("avcodec_parameters_to_context"))
        }
        context.pointee.pkt_timebase = stream.pointee.time_base
        context.pointee.thread_count = Int32(clamping: max(0, threads))
        context.pointee.thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE
        context.pointee.opaque = messages.opaque
        guard av_opt_set(context, "codec_whitelist", VideoFormats.decoderWhitelist, 0) >= 0,
              av_opt_set_int(context, "max_pixels", Int64(min(maxPixels, Int(Int32.max))), 0) >= 0 else {
            throw abandon(.resourceFailure("setting the decoder's options"))
        }
        let opened = avcodec_open2(context, codec, nil)
        guard opened >= 0 else {
            if opened == FFmpeg.outOfMemory { throw abandon(.resourceFailure("avcodec_open2")) }
            let reason = messages.take() ?? FFmpeg.describe(opened)
            let name = String(cString: codec.pointee.name)
            throw abandon(.corrupt(container: container, detail: "the \(name) decoder refuses the stream's parameters: \(reason)"))
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

    /// `avcodec_send_packet`; nil starts draining.
    func send(_ packet: UnsafePointer<AVPacket>?) -> Int32 { avcodec_send_packet(context, packet) }

    /// `avcodec_receive_frame` into `frame`.
    func receive() -> Int32 { avcodec_receive_frame(context, frame) }

    /// Forgets every frame in flight (after a seek, or to decode again after draining).
    func flush() { avcodec_flush_buffers(context) }
}
