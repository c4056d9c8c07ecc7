import CFFmpeg

/// libswresample with its soxr engine, one `Float` channel in and out. Used by one thread at a
/// time (one decode or one PCM input).
///
/// Precision 20 bits is soxr's "high quality" recipe (SOXR_HQ), and swresample's default for the
/// engine: a stop-band rejection of about 120 dB, below the noise floor of any 16-bit recording
/// and of the float32 samples the encoder sees. It is the recipe librosa resamples with by default
/// (`res_type="soxr_hq"`), which is how the Hugging Face `datasets` audio pipeline feeds
/// `WhisperFeatureExtractor`, so vectors of resampled files stay comparable with that ecosystem.
/// Precision 28 (soxr's "very high quality", computed in double) changes the result by less than
/// the float32 rounding of the samples it is fed.
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
