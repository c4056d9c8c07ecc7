import CFFmpeg

/// Decoded frames to packed RGB24, pixel for pixel what `ffmpeg -i FILE -pix_fmt rgb24 -f rawvideo`
/// writes (FFmpeg 5.1): the autorotate filters first (`Orientation`, `PlaneTransform`), then the
/// conversion by the scale filter the command line inserts, whose libswscale set-up is copied
/// here from `vf_scale.c`: no flags (so swscale's default, bicubic), the default scaler
/// parameters, the source range taken from the frame when it states one, MPEG-2's vertical
/// chroma siting (128/256) for 4:2:0 planar input, then, per frame, the colour matrix the
/// frame's colour space names (BT.601 when it names none) and its range. The size is kept:
/// the command line does not rescale for a non-square pixel aspect ratio either.
///
/// Owns its swscale contexts (one at a time, remade when the frames' size, format or range
/// changes); used by one thread.
final class FrameConverter {
    private var context: OpaquePointer? = nil
    private var key: Key? = nil
    private let threads: Int32

    private struct Key: Equatable {
        let width: Int32, height: Int32, format: Int32, range: UInt32
    }

    /// `threads`: swscale's slice threads (1: none; the decoder has the cores).
    init(threads: Int32 = 1) { self.threads = threads }

    deinit { sws_freeContext(context) }

    /// The frame turned as `orientation` says and converted to RGB24, at `time`. Throws
    /// `resourceFailure` when FFmpeg cannot allocate, `corrupt` for a frame swscale refuses.
    func rgb(_ frame: UnsafeMutablePointer<AVFrame>, orientation: Orientation, time: Double,
             container: String) throws(VideoError) -> VideoFrame {
        var turned: UnsafeMutablePointer<AVFrame>? = nil
        defer { av_frame_free(&turned) }
        var source = frame
        let format = AVPixelFormat(frame.pointee.format)
        switch orientation {
        case .none:
            break
        case .transpose(let dir):
            guard PlaneTransform.canTranspose(format) else {
                // vf_transpose refuses 4:2:2 and the like: the command line's format negotiation
                // then converts to the output's RGB24 ahead of it, and so does this.
                let upright = try convert(frame, container: container)
                return try Self.transposeRGB(upright, dir, time: time)
            }
            guard let t = PlaneTransform.transpose(frame, dir) else { throw .resourceFailure("allocating a turned frame") }
            turned = t
            source = t
        case .flip(let horizontal, let vertical):
            guard PlaneTransform.canFlip(format) else { break }
            if horizontal {
                guard let t = PlaneTransform.mirror(frame) else { throw .resourceFailure("allocating a mirrored frame") }
                turned = t
                source = t
            }
            if vertical {
                if turned == nil {  // flip a reference, never the decoder's frame
                    guard let t = av_frame_clone(frame) else { throw .resourceFailure("av_frame_clone") }
                    turned = t
                    source = t
                }
                PlaneTransform.flipVertically(source)
            }
        }
        let (width, height, rgb) = try convert(source, container: container)
        return VideoFrame(time: time, width: width, height: height, rgb: rgb)
    }

    /// libswscale's conversion of `frame` to RGB24 rows without padding.
    private func convert(_ frame: UnsafeMutablePointer<AVFrame>, container: String) throws(VideoError) -> (Int, Int, [UInt8]) {
        let f = frame.pointee
        let range = f.color_range
        let wanted = Key(width: f.width, height: f.height, format: f.format, range: range.rawValue)
        if wanted != key {
            sws_freeContext(context)
            context = nil
            key = nil
            guard let made = makeContext(frame) else {
                throw .corrupt(container: container, detail: "libswscale cannot convert a \(f.width)x\(f.height) \(Self.formatName(f.format)) frame to RGB")
            }
            context = made
            key = wanted
        }
        // vf_scale's per-frame colour set-up (in_color_matrix "auto", no out_color_matrix).
        var inverse: UnsafeMutablePointer<Int32>? = nil, table: UnsafeMutablePointer<Int32>? = nil
        var sourceFull: Int32 = 0, destinationFull: Int32 = 0, brightness: Int32 = 0, contrast: Int32 = 0, saturation: Int32 = 0
        sws_getColorspaceDetails(context, &inverse, &sourceFull, &table, &destinationFull, &brightness, &contrast, &saturation)
        var space = Int32(f.colorspace.rawValue)
        if space < 1 || space > 10 || space == 8 { space = Int32(AVCOL_SPC_BT470BG.rawValue) }
        let coefficients = sws_getCoefficients(space)
        if range != AVCOL_RANGE_UNSPECIFIED { sourceFull = range == AVCOL_RANGE_JPEG ? 1 : 0 }
        _ = sws_setColorspaceDetails(context, coefficients, sourceFull, coefficients, destinationFull, brightness, contrast, saturation)

        guard let out = av_frame_alloc() else { throw .resourceFailure("av_frame_alloc") }
        var freeing: UnsafeMutablePointer<AVFrame>? = out
        defer { av_frame_free(&freeing) }
        out.pointee.format = AV_PIX_FMT_RGB24.rawValue
        out.pointee.width = f.width
        out.pointee.height = f.height
        guard av_frame_get_buffer(out, 0) >= 0 else { throw .resourceFailure("allocating an RGB frame") }
        let scaled = sws_scale_frame(context, out, frame)
        guard scaled >= 0 else {
            if scaled == FFmpeg.outOfMemory { throw .resourceFailure("sws_scale_frame") }
            throw .corrupt(container: container, detail: "libswscale refuses a \(f.width)x\(f.height) frame: \(FFmpeg.describe(scaled))")
        }
        let width = Int(f.width), height = Int(f.height), row = width * 3
        let line = Int(out.pointee.linesize.0)
        let base = UnsafePointer(out.pointee.data.0!)
        let rgb = [UInt8](unsafeUninitializedCapacity: row * height) { buffer, count in
            for y in 0..<height {
                UnsafeMutableRawPointer(buffer.baseAddress! + y * row).copyMemory(from: base + y * line, byteCount: row)
            }
            count = row * height
        }
        return (width, height, rgb)
    }

    /// vf_scale's `config_props` for the auto-inserted conversion, as far as it concerns a
    /// same-size conversion to RGB24.
    private func makeContext(_ frame: UnsafeMutablePointer<AVFrame>) -> OpaquePointer? {
        guard let s = sws_alloc_context() else { return nil }
        let f = frame.pointee
        let settings: [(String, Int64)] = [
            ("srcw", Int64(f.width)), ("srch", Int64(f.height)), ("src_format", Int64(f.format)),
            ("dstw", Int64(f.width)), ("dsth", Int64(f.height)), ("dst_format", Int64(AV_PIX_FMT_RGB24.rawValue)),
            ("sws_flags", 0), ("param0", Int64(SWS_PARAM_DEFAULT)), ("param1", Int64(SWS_PARAM_DEFAULT)),
            ("threads", Int64(threads)),
        ]
        var ok = settings.allSatisfy { av_opt_set_int(UnsafeMutableRawPointer(s), $0.0, $0.1, 0) >= 0 }
        if f.color_range != AVCOL_RANGE_UNSPECIFIED {
            ok = ok && av_opt_set_int(UnsafeMutableRawPointer(s), "src_range", f.color_range == AVCOL_RANGE_JPEG ? 1 : 0, 0) >= 0
        }
        // MPEG-2 chroma siting for 4:2:0 planar input (vf_scale: "XXX: support other 4:2:0 pixel formats").
        let vertical: Int64 = f.format == AV_PIX_FMT_YUV420P.rawValue ? 128 : -513
        ok = ok && av_opt_set_int(UnsafeMutableRawPointer(s), "src_h_chr_pos", -513, 0) >= 0
            && av_opt_set_int(UnsafeMutableRawPointer(s), "src_v_chr_pos", vertical, 0) >= 0
            && av_opt_set_int(UnsafeMutableRawPointer(s), "dst_h_chr_pos", -513, 0) >= 0
            && av_opt_set_int(UnsafeMutableRawPointer(s), "dst_v_chr_pos", -513, 0) >= 0
        guard ok, sws_init_context(s, nil, nil) >= 0 else {
            sws_freeContext(s)
            return nil
        }
        return s
    }

    /// A packed RGB24 picture transposed as vf_transpose would (pixel step 3).
    private static func transposeRGB(_ picture: (Int, Int, [UInt8]), _ dir: Orientation.Transpose,
                                     time: Double) throws(VideoError) -> VideoFrame {
        let (w, h, rgb) = picture
        let outw = h, outh = w
        var out = [UInt8](repeating: 0, count: rgb.count)
        for y in 0..<outh {
            let dy = dir.rawValue & 2 != 0 ? outh - 1 - y : y
            for x in 0..<outw {
                let sy = dir.rawValue & 1 != 0 ? h - 1 - x : x  // source row x (bottom up for dir & 1), column y
                let from = (sy * w + y) * 3, to = (dy * outw + x) * 3
                out[to] = rgb[from]; out[to + 1] = rgb[from + 1]; out[to + 2] = rgb[from + 2]
            }
        }
        return VideoFrame(time: time, width: outw, height: outh, rgb: out)
    }

    static func formatName(_ format: Int32) -> String {
        av_get_pix_fmt_name(AVPixelFormat(format)).map { String(cString: $0) } ?? "format \(format)"
    }
}
