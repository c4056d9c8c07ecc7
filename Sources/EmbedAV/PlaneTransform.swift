import CFFmpeg

/// Turns a decoded frame the way libavfilter's `transpose`, `hflip` and `vflip` filters do, plane
/// by plane on the samples themselves, before any colour conversion: the ffmpeg command line's
/// autorotate runs them ahead of its conversion to RGB, and converting first would not give the
/// same pixels (chroma siting is not symmetric). Each plane is moved in steps of its largest
/// pixel (`av_image_fill_max_pixsteps`: 1 byte for 8-bit planes, 2 for 10-bit, 3 for RGB24),
/// with chroma planes `ceil(size >> subsampling)` large, as in the filters.
///
/// A transpose needs equal horizontal and vertical subsampling (4:2:0, 4:4:4), as the filter's
/// format list does; `canTranspose` says whether a format qualifies (a 4:2:2 frame is converted
/// to RGB24 first and turned then, as the command line's negotiation does it).
enum PlaneTransform {
    /// Whether `transpose` takes frames of `format` (vf_transpose's format list).
    static func canTranspose(_ format: AVPixelFormat) -> Bool {
        guard let desc = av_pix_fmt_desc_get(format) else { return false }
        let excluded = UInt64(AV_PIX_FMT_FLAG_PAL | AV_PIX_FMT_FLAG_HWACCEL | AV_PIX_FMT_FLAG_BITSTREAM)
        return desc.pointee.flags & excluded == 0 && desc.pointee.log2_chroma_w == desc.pointee.log2_chroma_h
    }

    /// Whether `hflip` takes frames of `format` (vf_hflip's format list).
    static func canFlip(_ format: AVPixelFormat) -> Bool {
        guard let desc = av_pix_fmt_desc_get(format) else { return false }
        let excluded = UInt64(AV_PIX_FMT_FLAG_HWACCEL | AV_PIX_FMT_FLAG_BITSTREAM)
        let packedSubsampled = desc.pointee.log2_chroma_w != desc.pointee.log2_chroma_h
            && desc.pointee.comp.0.plane == desc.pointee.comp.1.plane
        return desc.pointee.flags & excluded == 0 && !packedSubsampled
            && desc.pointee.flags & UInt64(AV_PIX_FMT_FLAG_BAYER) == 0
    }

    /// The planes of `frame`'s format: (count, pixel step per plane, horizontal and vertical
    /// chroma subsampling).
    private static func layout(_ frame: UnsafePointer<AVFrame>) -> (planes: Int, steps: [Int32], hsub: Int32, vsub: Int32)? {
        guard let desc = av_pix_fmt_desc_get(AVPixelFormat(frame.pointee.format)) else { return nil }
        var steps: (Int32, Int32, Int32, Int32) = (0, 0, 0, 0)
        withUnsafeMutablePointer(to: &steps) {
            $0.withMemoryRebound(to: Int32.self, capacity: 4) { av_image_fill_max_pixsteps($0, nil, desc) }
        }
        var planes = 0
        let data = frame.pointee.data, lines = frame.pointee.linesize
        let present = [data.0 != nil && lines.0 != 0, data.1 != nil && lines.1 != 0, data.2 != nil && lines.2 != 0, data.3 != nil && lines.3 != 0]
        while planes < 4 && present[planes] { planes += 1 }
        return (planes, [steps.0, steps.1, steps.2, steps.3], Int32(desc.pointee.log2_chroma_w), Int32(desc.pointee.log2_chroma_h))
    }

    /// A new frame of the same format, `width` × `height`, with FFmpeg's aligned buffers.
    private static func blank(like frame: UnsafePointer<AVFrame>, width: Int32, height: Int32) -> UnsafeMutablePointer<AVFrame>? {
        guard let out = av_frame_alloc() else { return nil }
        out.pointee.format = frame.pointee.format
        out.pointee.width = width
        out.pointee.height = height
        guard av_frame_get_buffer(out, 0) >= 0, av_frame_copy_props(out, frame) >= 0 else {
            var freeing: UnsafeMutablePointer<AVFrame>? = out
            av_frame_free(&freeing)
            return nil
        }
        return out
    }

    private static func plane(_ frame: UnsafePointer<AVFrame>, _ p: Int) -> (UnsafeMutablePointer<UInt8>, Int) {
        let data = frame.pointee.data, lines = frame.pointee.linesize
        switch p {
        case 0: return (data.0!, Int(lines.0))
        case 1: return (data.1!, Int(lines.1))
        case 2: return (data.2!, Int(lines.2))
        default: return (data.3!, Int(lines.3))
        }
    }

    /// `transpose=dir` of `frame` into a new frame (width and height exchanged); nil when out of memory.
    static func transpose(_ frame: UnsafePointer<AVFrame>, _ dir: Orientation.Transpose) -> UnsafeMutablePointer<AVFrame>? {
        guard let (planes, steps, hsub, vsub) = layout(frame),
              let out = blank(like: frame, width: frame.pointee.height, height: frame.pointee.width) else { return nil }
        for p in 0..<planes {
            let chroma = p == 1 || p == 2
            let inh = Int(ceilShift(frame.pointee.height, chroma ? vsub : 0))
            let outw = Int(ceilShift(out.pointee.width, chroma ? hsub : 0))
            let outh = Int(ceilShift(out.pointee.height, chroma ? vsub : 0))
            let step = Int(steps[p])
            var (src, srcLine) = plane(frame, p)
            var (dst, dstLine) = plane(UnsafePointer(out), p)
            if dir.rawValue & 1 != 0 {  // read the source bottom up
                src += srcLine * (inh - 1)
                srcLine = -srcLine
            }
            if dir.rawValue & 2 != 0 {  // write the result bottom up
                dst += dstLine * (outh - 1)
                dstLine = -dstLine
            }
            // Result row y, column x takes source row x, column y.
            for y in 0..<outh {
                let row = dst + y * dstLine
                for x in 0..<outw {
                    (row + x * step).update(from: src + x * srcLine + y * step, count: step)
                }
            }
        }
        return out
    }

    /// `hflip` of `frame` into a new frame; nil when out of memory.
    static func mirror(_ frame: UnsafePointer<AVFrame>) -> UnsafeMutablePointer<AVFrame>? {
        guard let (planes, steps, hsub, vsub) = layout(frame),
              let out = blank(like: frame, width: frame.pointee.width, height: frame.pointee.height) else { return nil }
        for p in 0..<planes {
            let chroma = p == 1 || p == 2
            let width = Int(ceilShift(frame.pointee.width, chroma ? hsub : 0))
            let height = Int(ceilShift(frame.pointee.height, chroma ? vsub : 0))
            let step = Int(steps[p])
            let (src, srcLine) = plane(frame, p)
            let (dst, dstLine) = plane(UnsafePointer(out), p)
            for y in 0..<height {
                let from = src + y * srcLine, to = dst + y * dstLine
                for x in 0..<width { (to + x * step).update(from: from + (width - 1 - x) * step, count: step) }
            }
        }
        return out
    }

    /// `vflip` of `frame` in place, as the filter does it: each plane's pointer moved to its last
    /// row and its line size negated (no samples move).
    static func flipVertically(_ frame: UnsafeMutablePointer<AVFrame>) {
        guard let (planes, _, _, vsub) = layout(UnsafePointer(frame)) else { return }
        for p in 0..<planes {
            let height = Int(ceilShift(frame.pointee.height, p == 1 || p == 2 ? vsub : 0))
            switch p {
            case 0: frame.pointee.data.0! += Int(frame.pointee.linesize.0) * (height - 1); frame.pointee.linesize.0 = -frame.pointee.linesize.0
            case 1: frame.pointee.data.1! += Int(frame.pointee.linesize.1) * (height - 1); frame.pointee.linesize.1 = -frame.pointee.linesize.1
            case 2: frame.pointee.data.2! += Int(frame.pointee.linesize.2) * (height - 1); frame.pointee.linesize.2 = -frame.pointee.linesize.2
            default: frame.pointee.data.3! += Int(frame.pointee.linesize.3) * (height - 1); frame.pointee.linesize.3 = -frame.pointee.linesize.3
            }
        }
    }

    /// AV_CEIL_RSHIFT.
    private static func ceilShift(_ a: Int32, _ b: Int32) -> Int32 { -((-a) >> b) }
}
