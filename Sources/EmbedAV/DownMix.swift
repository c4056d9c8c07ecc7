import CFFmpeg

/// One channel from many: the mean of the channels, sample by sample, in `Float`.
///
/// Decoded integer samples become `Float` the way libswresample converts them (u8: (x − 128)/128,
/// s16: x/2^15, s32: x/2^31, s64: x/2^63; each a multiplication by a power of two, so exact
/// after the one rounding of the integer to `Float`): a mono file gives the samples
/// `ffmpeg -f f32le` writes, and for two channels (a + b) × 0.5 equals FFmpeg's
/// `pan=mono|c0=0.5*c0+0.5*c1` bit for bit.
enum DownMix {
    /// The frame's channel mean into `mono` (resized to the frame's sample count). Returns false
    /// when a sample (or the mean) is NaN or infinite: float PCM can hold any bit pattern.
    static func mono(_ frame: UnsafePointer<AVFrame>, into mono: inout [Float]) -> Bool {
        let count = Int(frame.pointee.nb_samples), channels = Int(frame.pointee.ch_layout.nb_channels)
        guard count > 0, channels > 0, let data = frame.pointee.extended_data else { mono.removeAll(keepingCapacity: true); return true }
        if mono.count != count { mono = [Float](repeating: 0, count: count) }
        let format = frame.pointee.format
        let planar = av_sample_fmt_is_planar(AVSampleFormat(rawValue: format)) != 0
        return mono.withUnsafeMutableBufferPointer { out in
            switch AVSampleFormat(rawValue: format) {
            case AV_SAMPLE_FMT_U8, AV_SAMPLE_FMT_U8P:
                return mix(data, planar, channels, out) { (x: UInt8) in Float(Int32(x) - 128) * (1 / 128) }
            case AV_SAMPLE_FMT_S16, AV_SAMPLE_FMT_S16P:
                return mix(data, planar, channels, out) { (x: Int16) in Float(x) * (1 / 32_768) }
            case AV_SAMPLE_FMT_S32, AV_SAMPLE_FMT_S32P:
                return mix(data, planar, channels, out) { (x: Int32) in Float(x) * (1 / 2_147_483_648) }
            case AV_SAMPLE_FMT_S64, AV_SAMPLE_FMT_S64P:
                return mix(data, planar, channels, out) { (x: Int64) in Float(x) * (1 / 9_223_372_036_854_775_808) }
            case AV_SAMPLE_FMT_FLT, AV_SAMPLE_FMT_FLTP:
                return mix(data, planar, channels, out) { (x: Float) in x }
            case AV_SAMPLE_FMT_DBL, AV_SAMPLE_FMT_DBLP:
                return mix(data, planar, channels, out) { (x: Double) in Float(x) }
            default:
                return false  // no decoder EmbedAV opens produces another format
            }
        }
    }

    /// Interleaved `Float` samples (frames of `channels`) into their channel mean. Returns false
    /// on a NaN or infinite sample.
    static func mono(interleaved: UnsafeBufferPointer<Float>, channels: Int, into out: UnsafeMutableBufferPointer<Float>) -> Bool {
        guard let base = interleaved.baseAddress else { return true }
        var finite = true
        for i in 0..<out.count {
            var sum: Float = 0
            for c in 0..<channels { sum += base[i * channels + c] }
            let mean = channels == 1 ? sum : (channels == 2 ? sum * 0.5 : sum / Float(channels))
            finite = finite && mean.isFinite
            out[i] = mean
        }
        return finite
    }

    /// The mean over `channels` planes (planar) or interleaved samples (packed) of type `T`.
    @inline(__always)
    private static func mix<T>(_ data: UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>, _ planar: Bool, _ channels: Int,
                               _ out: UnsafeMutableBufferPointer<Float>, _ convert: (T) -> Float) -> Bool {
        var finite = true
        let count = out.count
        if channels == 1 {
            let p = UnsafeRawPointer(data[0]!).assumingMemoryBound(to: T.self)
            for i in 0..<count {
                let v = convert(p[i])
                finite = finite && v.isFinite
                out[i] = v
            }
        } else if planar {
            for i in 0..<count { out[i] = 0 }
            for c in 0..<channels {
                let p = UnsafeRawPointer(data[c]!).assumingMemoryBound(to: T.self)
                for i in 0..<count { out[i] += convert(p[i]) }
            }
            for i in 0..<count {
                let v = channels == 2 ? out[i] * 0.5 : out[i] / Float(channels)
                finite = finite && v.isFinite
                out[i] = v
            }
        } else {
            let p = UnsafeRawPointer(data[0]!).assumingMemoryBound(to: T.self)
            for i in 0..<count {
                var sum: Float = 0
                for c in 0..<channels { sum += convert(p[i * channels + c]) }
                let v = channels == 2 ? sum * 0.5 : sum / Float(channels)
                finite = finite && v.isFinite
                out[i] = v
            }
        }
        return finite
    }
}
