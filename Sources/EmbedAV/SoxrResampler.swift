import CFFmpeg

/// libswresample with its soxr engine, one `Float` channel in and out. Used by one thread at a
/// time (one decode or one PCM input).
///
/// Precision 20 bits is swresample's default for the engine and libsoxr's "high quality" recipe:
/// the output is bit-identical to libsoxr's own `SOXR_HQ` (`soxr_oneshot`, float32; checked on the
/// test speech), the quality python-soxr calls "HQ" and librosa's default `res_type="soxr_hq"`
/// uses, so resampled vectors stay comparable with Python pipelines built on them. Its ~120 dB
/// stop-band is below the noise floor of 16-bit recordings. Precision 28 (`SOXR_VHQ`, computed
/// in double, so slower) moves speech samples by at most 5e-5 (97 dB SNR).
final class SoxrResampler {
    /// `precision` option of swresample's soxr engine, in bits.
    static let precision: Double = 20

    private let context: OpaquePointer  // SwrContext

    init(from sourceRate: Int, to targetRate: Int) throws(AudioError) {
        var monoOut = AVChannelLayout(), monoIn = AVChannelLayout()
        av_channel_layout_default(&monoOut, 1)
        av_channel_layout_default(&monoIn, 1)
        var allocated: OpaquePointer? = nil
        guard swr_alloc_set_opts2(&allocated, &monoOut, AV_SAMPLE_FMT_FLT, Int32(targetRate),
                                  &monoIn, AV_SAMPLE_FMT_FLT, Int32(sourceRate), 0, nil) >= 0,
              let context = allocated else { throw .resourceFailure("swr_alloc_set_opts2") }
        self.context = context
        let raw = UnsafeMutableRawPointer(context)
        guard av_opt_set_int(raw, "resampler", Int64(SWR_ENGINE_SOXR.rawValue), 0) >= 0,
              av_opt_set_double(raw, "precision", Self.precision, 0) >= 0 else {
            throw .resourceFailure("setting swresample's soxr engine (is FFmpeg built with libsoxr?)")
        }
        let started = swr_init(context)
        guard started >= 0 else {
            throw .resourceFailure("swr_init from \(sourceRate) to \(targetRate) Hz: \(FFmpeg.describe(started))")
        }
    }

    deinit {
        var freeing: OpaquePointer? = context
        swr_free(&freeing)
    }

    /// Resamples `input` (any length), appending what is ready to `output`.
    func push(_ input: UnsafeBufferPointer<Float>, into output: inout [Float]) throws(AudioError) {
        var start = 0
        while start < input.count {  // in slices whose sample count fits swresample's Int32
            let n = min(input.count - start, 1 << 20)
            try convert(input.baseAddress! + start, n, into: &output)
            start += n
        }
    }

    /// Drains the resampler's delay line (after the last input).
    func flush(into output: inout [Float]) throws(AudioError) {
        while true {
            let before = output.count
            try convert(nil, 0, into: &output)
            if output.count == before { return }
        }
    }

    private func convert(_ input: UnsafePointer<Float>?, _ count: Int, into output: inout [Float]) throws(AudioError) {
        let room = Int(swr_get_out_samples(context, Int32(count)))
        guard room > 0 else { return }
        let old = output.count
        output.append(contentsOf: repeatElement(0, count: room))
        let made = output.withUnsafeMutableBufferPointer { out -> Int32 in
            var outPlane: UnsafeMutablePointer<UInt8>? = UnsafeMutableRawPointer(out.baseAddress! + old).assumingMemoryBound(to: UInt8.self)
            guard let input else { return swr_convert(context, &outPlane, Int32(room), nil, 0) }
            var inPlane: UnsafePointer<UInt8>? = UnsafeRawPointer(input).assumingMemoryBound(to: UInt8.self)
            return swr_convert(context, &outPlane, Int32(room), &inPlane, Int32(count))
        }
        output.removeLast(room - max(Int(made), 0))
        guard made >= 0 else { throw .resourceFailure("swr_convert: \(FFmpeg.describe(made))") }
    }
}
